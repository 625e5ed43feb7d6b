"""Canonical ops mapped onto each client's tool vocabulary, table-driven: every
(vocabulary, op) pair gives one whole expected tool call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bridle.mock.scenario import Turn
from bridle.mock.vocab import NoToolError, ToolCall, plan_call

BRIDLE = ["Read", "Write", "Edit", "Bash", "Grep", "Glob", "LS"]
CLAUDE_CODE = ["Read", "Write", "Edit", "Bash", "Agent", "WebFetch"]
CODEX = ["exec_command", "write_stdin", "view_image"]
GEMINI = [
    "read_file",
    "write_file",
    "replace",
    "run_shell_command",
    "grep_search",
    "glob",
    "list_directory",
]
COPILOT = ["view", "create", "edit", "bash", "grep", "glob", "task"]
BRIDLE_PATCH = ["Read", "Write", "ApplyPatch", "Bash"]

OPS = {
    "read": Turn("read", {"path": "stats.py"}),
    "write": Turn("write", {"path": "new.txt", "content": "hello\n"}),
    "edit": Turn("edit", {"path": "stats.py", "old": "(len(values) + 1)", "new": "len(values)"}),
    "bash": Turn("bash", {"command": "python3 -m unittest -q"}),
    "grep": Turn("grep", {"pattern": "def mean", "path": "src"}),
    "glob": Turn("glob", {"pattern": "**/*.py"}),
}

PATCH = "*** Begin Patch\n*** Update File: stats.py\n@@\n-    return sum(values) / (len(values) + 1)\n+    return sum(values) / len(values)\n*** End Patch"
ADD = "*** Begin Patch\n*** Add File: new.txt\n+hello\n*** End Patch"
RUN = "Run python3 -m unittest -q"
FIND = "find . -path ./.git -prune -o -type f -name '*.py' -print"
GREP = "grep -rn -- 'def mean' src"


def table(cwd: str) -> list[tuple[str, list[str], str, ToolCall]]:
    f = f"{cwd}/stats.py"
    n = f"{cwd}/new.txt"
    wd = {"workdir": cwd}
    return [
        ("bridle", BRIDLE, "read", ToolCall("Read", {"file_path": f})),
        ("bridle", BRIDLE, "write", ToolCall("Write", {"file_path": n, "content": "hello\n"})),
        (
            "bridle",
            BRIDLE,
            "edit",
            ToolCall(
                "Edit",
                {"file_path": f, "old_string": "(len(values) + 1)", "new_string": "len(values)"},
            ),
        ),
        (
            "bridle",
            BRIDLE,
            "bash",
            ToolCall("Bash", {"command": "python3 -m unittest -q", "description": RUN}),
        ),
        ("bridle", BRIDLE, "grep", ToolCall("Grep", {"pattern": "def mean", "path": "src"})),
        ("bridle", BRIDLE, "glob", ToolCall("Glob", {"pattern": "**/*.py"})),
        ("bridle-patch", BRIDLE_PATCH, "edit", ToolCall("ApplyPatch", {"input": PATCH})),
        ("claude-code", CLAUDE_CODE, "read", ToolCall("Read", {"file_path": f})),
        (
            "claude-code",
            CLAUDE_CODE,
            "grep",
            ToolCall("Bash", {"command": GREP, "description": "Run " + GREP}),
        ),
        (
            "claude-code",
            CLAUDE_CODE,
            "glob",
            ToolCall("Bash", {"command": FIND, "description": "Run " + FIND}),
        ),
        ("codex", CODEX, "read", ToolCall("exec_command", {"cmd": "cat -n stats.py", **wd})),
        (
            "codex",
            CODEX,
            "write",
            ToolCall("exec_command", {"cmd": f"apply_patch <<'PATCH'\n{ADD}\nPATCH", **wd}),
        ),
        (
            "codex",
            CODEX,
            "edit",
            ToolCall("exec_command", {"cmd": f"apply_patch <<'PATCH'\n{PATCH}\nPATCH", **wd}),
        ),
        ("codex", CODEX, "bash", ToolCall("exec_command", {"cmd": "python3 -m unittest -q", **wd})),
        ("codex", CODEX, "grep", ToolCall("exec_command", {"cmd": GREP, **wd})),
        ("codex", CODEX, "glob", ToolCall("exec_command", {"cmd": FIND, **wd})),
        ("gemini", GEMINI, "read", ToolCall("read_file", {"file_path": f})),
        ("gemini", GEMINI, "write", ToolCall("write_file", {"file_path": n, "content": "hello\n"})),
        (
            "gemini",
            GEMINI,
            "edit",
            ToolCall(
                "replace",
                {
                    "file_path": f,
                    "instruction": "Replace '(len(values) + 1)' with 'len(values)'.",
                    "old_string": "(len(values) + 1)",
                    "new_string": "len(values)",
                },
            ),
        ),
        (
            "gemini",
            GEMINI,
            "bash",
            ToolCall(
                "run_shell_command", {"command": "python3 -m unittest -q", "description": RUN}
            ),
        ),
        (
            "gemini",
            GEMINI,
            "grep",
            ToolCall("grep_search", {"pattern": "def mean", "dir_path": "src"}),
        ),
        ("gemini", GEMINI, "glob", ToolCall("glob", {"pattern": "**/*.py"})),
        ("copilot", COPILOT, "read", ToolCall("view", {"path": f})),
        ("copilot", COPILOT, "write", ToolCall("create", {"path": n, "file_text": "hello\n"})),
        (
            "copilot",
            COPILOT,
            "edit",
            ToolCall("edit", {"path": f, "old_str": "(len(values) + 1)", "new_str": "len(values)"}),
        ),
        (
            "copilot",
            COPILOT,
            "bash",
            ToolCall(
                "bash", {"command": "python3 -m unittest -q", "description": RUN, "mode": "sync"}
            ),
        ),
        ("copilot", COPILOT, "grep", ToolCall("grep", {"pattern": "def mean", "path": "src"})),
        ("copilot", COPILOT, "glob", ToolCall("glob", {"pattern": "**/*.py"})),
    ]


def _tools(names: list[str]) -> dict[str, dict[str, Any]]:
    tools: dict[str, dict[str, Any]] = {n: {"type": "object", "properties": {}} for n in names}
    if "grep_search" in tools:
        tools["grep_search"] = {"type": "object", "properties": {"pattern": {}, "dir_path": {}}}
    return tools


@pytest.mark.parametrize(
    "row", range(len(table("/x"))), ids=[f"{v}-{op}" for v, _, op, _ in table("/x")]
)
def test_op_maps_onto_client_tool(tmp_path: Path, row: int) -> None:
    (tmp_path / "stats.py").write_text(
        "def mean(values):\n    return sum(values) / (len(values) + 1)\n"
    )
    _, names, op, expected = table(str(tmp_path))[row]
    assert plan_call(OPS[op], _tools(names), str(tmp_path)) == expected


def test_paths_stay_relative_without_a_known_cwd() -> None:
    assert plan_call(OPS["read"], _tools(BRIDLE), None) == ToolCall(
        "Read", {"file_path": "stats.py"}
    )


def test_copilot_create_does_not_overwrite_an_existing_file(tmp_path: Path) -> None:
    (tmp_path / "new.txt").write_text("old\n")
    call = plan_call(OPS["write"], _tools(COPILOT), str(tmp_path))
    assert call == ToolCall(
        "bash",
        {
            "command": "cat > new.txt <<'BRIDLE_EOF'\nhello\nBRIDLE_EOF",
            "description": "Run cat > new.txt <<'BRIDLE_EOF'\nhello\nBRIDLE_EOF",
            "mode": "sync",
        },
    )


def test_required_fields_of_the_offered_schema_are_filled() -> None:
    schema = {
        "type": "object",
        "properties": {
            "command": {},
            "timeout_ms": {"type": "integer"},
            "mode": {"enum": ["async", "sync"]},
        },
        "required": ["command", "timeout_ms", "mode"],
    }
    call = plan_call(OPS["bash"], {"bash": schema}, None)
    assert call == ToolCall(
        "bash",
        {"command": "python3 -m unittest -q", "description": RUN, "mode": "sync", "timeout_ms": 0},
    )


def test_shell_fallback_edit_really_edits(tmp_path: Path) -> None:
    import subprocess

    (tmp_path / "stats.py").write_text(
        "def mean(values):\n    return sum(values) / (len(values) + 1)\n"
    )
    call = plan_call(OPS["edit"], _tools(["Bash"]), str(tmp_path))
    subprocess.run(call.arguments["command"], shell=True, cwd=tmp_path, check=True)
    assert (
        tmp_path / "stats.py"
    ).read_text() == "def mean(values):\n    return sum(values) / len(values)\n"


def test_no_usable_tool_is_an_error_naming_what_was_offered() -> None:
    with pytest.raises(
        NoToolError, match=r"no tool for op 'read' \(offered: TodoWrite, WebFetch\)"
    ):
        plan_call(OPS["read"], _tools(["WebFetch", "TodoWrite"]), None)
