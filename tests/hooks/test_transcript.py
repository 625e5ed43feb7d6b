"""The transcript hook scripts read is written as Claude Code writes its own, so
the same `jq` filters work on both (compared with a real Claude Code session file)."""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path

from bridle.core.messages import ImagePart, Message, TextPart, ToolResultPart, ToolUsePart
from bridle.hooks.transcript import TranscriptWriter

REAL = next(
    (Path(__file__).parent.parent / "fixtures" / "sessions" / "claude" / "real").rglob("*.jsonl")
)
COMMON = ["parentUuid", "isSidechain", "userType", "cwd", "sessionId", "version", "gitBranch"]


def _conversation() -> list[Message]:
    return [
        Message("user", [TextPart("Fix the test")]),
        Message(
            "assistant",
            [TextPart("Running it."), ToolUsePart("toolu_1", "Bash", {"command": "pytest -q"})],
        ),
        Message("user", [ToolResultPart("toolu_1", [TextPart("1 failed")], is_error=True)]),
        Message("assistant", [TextPart("Fixed \udce9 and done.")]),
    ]


def _lines(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n") and "\n\n" not in text
    return [json.loads(line) for line in text.splitlines()]


def test_shapes_match_a_real_claude_code_session(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    writer = TranscriptWriter(path, session_id="s1", cwd="/p", git_branch="main", model="m")
    writer.sync(_conversation())
    ours = _lines(path)
    real = [e for e in _lines(REAL) if e.get("type") in ("user", "assistant")]
    assert [e["type"] for e in ours] == ["user", "assistant", "assistant", "user", "assistant"]
    for mine in ours:
        theirs = next(e for e in real if e["type"] == mine["type"])
        assert set([*COMMON, "type", "message", "uuid", "timestamp"]) <= set(mine)
        assert set(mine["message"]) <= set(theirs["message"]) | {"content"}
        for key in COMMON:
            assert type(mine[key]) is type(theirs[key]) or None in (mine[key], theirs[key])
    assert ours[0]["parentUuid"] is None
    assert all(b["parentUuid"] == a["uuid"] for a, b in itertools.pairwise(ours))
    assert ours[0]["message"] == {"role": "user", "content": "Fix the test"}
    assert ours[1]["message"]["id"] == ours[2]["message"]["id"]
    assert ours[2]["message"]["content"] == [
        {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "pytest -q"}}
    ]
    assert ours[3]["message"]["content"] == [
        {"tool_use_id": "toolu_1", "type": "tool_result", "content": "1 failed", "is_error": True}
    ]
    assert ours[4]["message"]["content"][0]["text"] == "Fixed \udce9 and done."


def test_sync_appends_incrementally(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    writer = TranscriptWriter(path, session_id="s1", cwd="/p")
    conv = _conversation()
    writer.sync(conv[:1])
    writer.sync(conv[:1])
    assert len(_lines(path)) == 1
    writer.sync(conv)
    writer.append_system("PostToolUse hook error", subtype="hook")
    lines = _lines(path)
    assert len(lines) == 6 and lines[-1]["type"] == "system"
    assert lines[-1]["parentUuid"] == lines[-2]["uuid"]
    img = Message("user", [TextPart("see"), ImagePart("image/png", "aGk=")])
    writer.sync([*conv, img])
    assert _lines(path)[-1]["message"]["content"][1]["source"]["media_type"] == "image/png"


def test_jq_filters_written_for_claude_code_work(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    TranscriptWriter(path, session_id="s1", cwd="/p").sync(_conversation())
    query = 'select(.type == "assistant") | .message.content[] | select(.type == "text") | .text'
    for source in (path, REAL):
        done = subprocess.run(["jq", "-r", query, str(source)], capture_output=True, text=True)
        assert done.returncode == 0 and done.stdout.strip()
    ours = subprocess.run(["jq", "-r", query, str(path)], capture_output=True, text=True).stdout
    assert ours.splitlines()[0] == "Running it."
