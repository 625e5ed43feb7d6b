"""Importing another tool's session into bridle: messages, mapped tools, valid pairing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bridle.core.messages import TextPart, ToolResultPart, ToolUsePart
from bridle.history.convert import import_session, map_tool, read_conversation
from bridle.store.db import open_db
from bridle.store.sessions import SessionStore

from .helpers import FIXTURES, install

REAL = {
    "claude": ["Bash", "Bash", "Read", "Edit", "Bash"],
    "codex": ["Bash", "Bash", "Bash", "ApplyPatch", "Bash"],
    "gemini": ["Glob", "Bash", "Read", "Edit", "Bash"],
    "copilot": ["Glob", "Bash", "Read", "Edit", "Bash"],
}


def session_paths(tool: str) -> list[Path]:
    root = FIXTURES / tool / "real" / "input"
    return sorted(
        p
        for p in root.rglob("*")
        if p.name.endswith((".jsonl", ".json")) and p.name != "projects.json"
    )


@pytest.mark.parametrize("tool", sorted(REAL))
def test_real_sessions_become_paired_bridle_messages(tool: str) -> None:
    messages = read_conversation(tool, session_paths(tool))
    assert (
        messages[0].role == "user"
        and messages[0].text == "Fix the failing average test; the magic word is walrusbanjo"
    )
    assert messages[-1].role == "assistant"
    assert messages[-1].text.endswith("All 3 tests pass now.")
    assert [u.name for m in messages for u in m.tool_uses] == REAL[tool]
    # Every call is answered by the very next message, in order, with real output.
    for i, m in enumerate(messages):
        assert m.role == ("user" if i % 2 == 0 else "assistant")
        if m.tool_uses:
            answers = messages[i + 1].tool_results
            assert [r.tool_use_id for r in answers] == [u.id for u in m.tool_uses]
            assert all(r.text and "interrupted" not in r.text for r in answers)
    edits = [u.input for m in messages for u in m.tool_uses if u.name in ("Edit", "ApplyPatch")]
    assert len(edits) == 1 and edits[0] is not None
    assert "len(values)" in str(edits[0])


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("exec_command", {"cmd": "ls -la", "workdir": "/x"}, ("Bash", {"command": "ls -la"})),
        (
            "shell",
            {"command": ["bash", "-lc", "make test"]},
            ("Bash", {"command": "bash -lc 'make test'"}),
        ),
        ("view", {"path": "/a.py"}, ("Read", {"file_path": "/a.py"})),
        (
            "edit",
            {"path": "/a.py", "old_str": "x", "new_str": "y"},
            ("Edit", {"file_path": "/a.py", "old_string": "x", "new_string": "y"}),
        ),
        (
            "replace",
            {"file_path": "/a", "instruction": "i", "old_string": "x", "new_string": "y"},
            ("Edit", {"file_path": "/a", "old_string": "x", "new_string": "y"}),
        ),
        (
            "exec_command",
            {"cmd": "apply_patch <<'P'\n*** Begin Patch\n*** End Patch\nP"},
            ("ApplyPatch", {"input": "*** Begin Patch\n*** End Patch\n"}),
        ),
        ("mcp__srv__tool", {"q": 1}, ("mcp__srv__tool", {"q": 1})),
    ],
)
def test_tool_mapping(
    name: str, args: dict[str, object], expected: tuple[str, dict[str, object]]
) -> None:
    assert map_tool(name, args) == expected


def test_parallel_calls_written_one_record_each_stay_paired() -> None:
    # Claude writes each content block of one response as its own record.
    messages = read_conversation(
        "claude",
        [
            FIXTURES
            / "claude"
            / "basic"
            / "input"
            / ".claude"
            / "projects"
            / "-home-ada-src-parser"
            / "7f3c2a10-5b6d-4e8f-9a01-23456789abcd.jsonl"
        ],
    )
    assert [type(p).__name__ for p in messages[1].parts] == ["TextPart", "ToolUsePart"]
    assert isinstance(messages[2].parts[0], ToolResultPart) and messages[2].parts[0].is_error


def test_import_session_writes_a_new_bridle_session(tmp_path: Path) -> None:
    install(FIXTURES / "codex" / "real", tmp_path)
    db = open_db(Path(os.environ["BRIDLE_HOME"]) / "bridle.db")
    env = {"HOME": str(tmp_path), "BRIDLE_HISTORY_BACKGROUND": "0"}
    new_id = import_session(db, "codex:01a233e3", model="mock/default", provider="mock", env=env)
    store = SessionStore(db)
    record = store.get(new_id)
    assert (record.title, record.cwd, record.git_branch) == (
        "Fix the failing average test; the magic word is walrusbanjo (from codex)",
        "/home/ada/src/buggy-project",
        "main",
    )
    rebuilt = store.rebuild_messages(new_id)
    assert rebuilt == read_conversation("codex", session_paths("codex"))
    assert isinstance(rebuilt[1].parts[1], ToolUsePart) and isinstance(
        rebuilt[0].parts[0], TextPart
    )
    with pytest.raises(
        Exception, match="no Claude Code, Codex, Gemini CLI or Copilot CLI session matches"
    ):
        import_session(db, "claude:ffff", model="mock/default", provider="mock", env=env)


def test_sessions_import_command(tmp_path: Path) -> None:
    import subprocess
    import sys

    install(FIXTURES / "gemini" / "real", tmp_path)
    env = {**os.environ, "HOME": str(tmp_path), "BRIDLE_HISTORY_BACKGROUND": "0"}
    out = subprocess.run(
        [sys.executable, "-m", "bridle", "sessions", "import", "gemini:f02e90f0", "--model", "deepseek/deepseek-chat"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    new_id = out.stdout.strip()
    record = SessionStore(open_db(Path(os.environ["BRIDLE_HOME"]) / "bridle.db")).get(new_id)
    assert (record.model, record.provider, record.cwd) == (
        "deepseek/deepseek-chat",
        "deepseek",
        "/home/ada/src/buggy-project",
    )
    assert (
        out.stderr
        == f'imported gemini:f02e90f0-4acb-4935-838b-42fcd8ceace8; continue with: bridle -r {new_id[:8]} -p "what next"\n'
    )
