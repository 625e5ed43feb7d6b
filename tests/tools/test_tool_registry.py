"""The built-in tool set, argument validation and coercion, TodoWrite, output
capping and auto-verify."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from bridle.core.errors import ToolError
from bridle.core.messages import ImagePart, TextPart
from bridle.tools.base import ToolContext, ToolOutput
from bridle.tools.output import cap_output, cap_text
from bridle.tools.registry import (
    builtin_tools,
    coerce_args,
    find_tool,
    unknown_tool_message,
    validate_args,
)
from bridle.tools.todo_write import TodoWrite
from bridle.tools.verify import verify_files

TOOLS = builtin_tools()


def tool(name: str) -> Any:
    found = find_tool(TOOLS, name)
    assert found is not None
    return found


def test_the_tool_set_has_claude_code_names_and_a_small_footprint() -> None:
    assert [t.name for t in TOOLS] == [
        "Bash", "Read", "Edit", "MultiEdit", "Write", "Glob", "Grep", "LS",
        "WebFetch", "TodoWrite", "ApplyPatch",
    ]  # fmt: skip
    specs = [
        {"name": s.name, "description": s.description, "input_schema": s.input_schema}
        for s in (t.spec() for t in TOOLS)
    ]
    # The whole first request must stay under 20 KB; tools get at most 8 KB of it.
    assert len(json.dumps(specs)) < 8_000
    read_only = {t.name for t in TOOLS if t.read_only}
    assert read_only == {"Read", "Glob", "Grep", "LS", "WebFetch", "TodoWrite"}
    assert {t.name for t in TOOLS if t.concurrency_safe} == read_only - {"TodoWrite"}


@pytest.mark.parametrize(
    ("name", "args", "errors"),
    [
        ("Read", {"file_path": "a"}, []),
        ("Read", {}, ["file_path: required but missing"]),
        ("Read", {"file_path": 3}, ["file_path: expected string, got int"]),
        ("Read", {"file_path": "a", "offset": 0}, ["offset: must be at least 1"]),
        ("Read", {"file_path": "a", "offset": True}, ["offset: expected integer, got bool"]),
        (
            "Read",
            {"file_path": "a", "path": "b"},
            ["path: unknown parameter (allowed: file_path, offset, limit)"],
        ),
        ("Bash", {"command": "ls", "timeout": 700000}, ["timeout: must be at most 600000"]),
        (
            "Grep",
            {"pattern": "x", "output_mode": "lines"},
            ['output_mode: "lines" is not one of "content", "files_with_matches", "count"'],
        ),
        ("Grep", {"pattern": "x", "-C": 2, "-i": True}, []),
        ("MultiEdit", {"file_path": "f", "edits": []}, ["edits: needs at least 1 item(s)"]),
        (
            "MultiEdit",
            {"file_path": "f", "edits": [{"old_string": "a"}]},
            ["edits[0].new_string: required but missing"],
        ),
        ("MultiEdit", {"file_path": "f", "edits": ["a"]}, ["edits[0]: expected object, got str"]),
        (
            "TodoWrite",
            {"todos": [{"content": "x", "status": "done"}]},
            ['todos[0].status: "done" is not one of "pending", "in_progress", "completed"'],
        ),
        ("LS", {"ignore": "x"}, ["ignore: expected array, got str"]),
        ("LS", [], ["arguments must be a JSON object, got list"]),
    ],
)
def test_validate_args(name: str, args: Any, errors: list[str]) -> None:
    assert validate_args(tool(name), args) == errors


def test_coerce_args_repairs_unambiguous_slips() -> None:
    assert coerce_args(tool("Read"), {"file_path": "a", "offset": "10", "limit": 5.0}) == {
        "file_path": "a", "offset": 10, "limit": 5,
    }  # fmt: skip
    assert coerce_args(tool("Grep"), {"pattern": "1", "-i": "true", "-n": "no"}) == {
        "pattern": "1", "-i": True, "-n": "no",
    }  # fmt: skip
    edits = [{"old_string": "a", "new_string": "b"}]
    assert (
        coerce_args(tool("MultiEdit"), {"file_path": "f", "edits": json.dumps(edits)})["edits"]
        == edits
    )


def test_unknown_tool_message_suggests_the_right_name() -> None:
    assert unknown_tool_message("read", TOOLS).startswith(
        "No tool named 'read'. Did you mean Read? Available tools: Bash, Read,"
    )
    assert find_tool(TOOLS, "Nope") is None


def test_todo_write_validates_and_stores(tmp_path: Path) -> None:
    ctx = ToolContext(cwd=tmp_path)
    todos = [
        {"content": "Run tests", "status": "completed", "activeForm": "Running tests"},
        {"content": "Fix mean()", "status": "in_progress"},
        {"content": "Re-run tests", "status": "pending"},
    ]
    out = TodoWrite().run({"todos": todos}, ctx)
    assert out.content[0].text == (
        "Todos saved: 1 completed, 1 in progress, 1 pending.\n"
        "[x] Run tests\n[>] Fix mean()\n[ ] Re-run tests"
    )
    assert ctx.todos == todos
    with pytest.raises(ToolError, match=r"todo 1 has empty content"):
        TodoWrite().run({"todos": [{"content": " ", "status": "pending"}]}, ctx)
    assert ctx.todos == todos
    assert TodoWrite().run({"todos": []}, ctx).content[0].text == "Todo list cleared."


def test_cap_text_keeps_head_and_tail_and_saves_everything(tmp_path: Path) -> None:
    ctx = ToolContext(cwd=tmp_path, output_dir=tmp_path / "out")
    text = "".join(f"line {i}\n" for i in range(10_000))
    capped = cap_text(text, ctx, label="t", limit=1_000)
    head, note_and_tail = capped.split("\n[... ", 1)
    assert text.startswith(head) and len(capped) < 1_400
    tail = note_and_tail.split("]\n", 1)[1]
    assert text.endswith(tail)
    saved = Path(note_and_tail.split("saved to ", 1)[1].split(" — ", 1)[0])
    assert saved.read_text() == text and saved.parent == tmp_path / "out"
    first_hidden = int(note_and_tail.split("offset=", 1)[1].split(" ", 1)[0])
    assert text.split("\n")[first_hidden - 1] == f"line {head.count(chr(10))}"
    assert cap_text("short", ctx) == "short"


def test_cap_output_keeps_images(tmp_path: Path) -> None:
    ctx = ToolContext(cwd=tmp_path, output_dir=tmp_path / "out")
    img = ImagePart("image/png", "AAAA")
    out = cap_output(ToolOutput([TextPart("x" * 40_000), img]), ctx)
    assert out.content[1] == img and len(out.content[0].text) < 31_000  # type: ignore[union-attr]


def test_verify_defaults_and_custom_rules(tmp_path: Path) -> None:
    ctx = ToolContext(cwd=tmp_path)
    files = {"ok.py": "x = 1\n", "bad.json": '{"a": }', "bad.sh": "if then\n", "notes.txt": "hi"}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    paths = [str(tmp_path / n) for n in files]
    report = verify_files(paths, ctx)
    assert report.startswith(
        "Verify failed for bad.json (json):\ninvalid JSON: Expecting value: line 1 column 7 (char 6)\n"
        "Verify failed for bad.sh (bash):\n`bash -n "
    )
    assert "syntax error" in report and "ok.py" not in report
    assert (
        verify_files([str(tmp_path / "ok.py"), str(tmp_path / "notes.txt")], ctx)
        == "Verify OK: ok.py (python syntax)"
    )
    ctx.verify = {"*.txt": "grep -q hello {file}"}
    assert verify_files([str(tmp_path / "notes.txt")], ctx) == (
        f"Verify failed for notes.txt (grep):\n`grep -q hello {tmp_path / 'notes.txt'}` exited with 1"
    )
    ctx.verify = {}
    assert verify_files(paths, ctx) == ""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH")
def test_verify_checks_javascript_with_node(tmp_path: Path) -> None:
    ctx = ToolContext(cwd=tmp_path)
    (tmp_path / "a.js").write_text("function (\n")
    assert verify_files([str(tmp_path / "a.js")], ctx).startswith(
        "Verify failed for a.js (node):\n`node --check "
    )
