"""`engine.cli_stream`: the shapes the real CLIs' e2e runs do not reach against the
mock (a Codex file change reported only when done, a failed turn, a failed
Copilot run, output that is not the CLI's JSON), read into bridle's event kinds."""

from __future__ import annotations

import json
from typing import Any

from bridle.engine.cli_stream import CliStream, call_line


def feed(tool: str, *docs: dict[str, Any] | str) -> tuple[CliStream, list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []
    stream = CliStream(tool, lambda kind, **f: seen.append((kind, f)))
    for doc in docs:
        stream.line((doc if isinstance(doc, str) else json.dumps(doc)) + "\n")
    return stream, seen


def test_a_codex_file_change_seen_only_when_done_is_a_call_and_its_result() -> None:
    change = {"id": "i1", "type": "file_change", "status": "completed",
              "changes": [{"path": "stats.py", "kind": "update"}]}  # fmt: skip
    _, seen = feed("codex", {"type": "item.completed", "item": change})
    assert [k for k, _ in seen] == ["assistant_message", "tool_finished"]
    assert call_line(seen[0][1]["tool_calls"][0]) == "file_change stats.py"
    assert seen[1][1]["is_error"] is False


def test_a_failed_codex_turn_is_an_error_with_its_message() -> None:
    stream, _ = feed(
        "codex", {"type": "turn.started"},
        {"type": "turn.failed", "error": {"message": "model overloaded"}},
    )  # fmt: skip
    assert stream.is_error and stream.errors == ["model overloaded"] and stream.turns == 1


def test_a_failed_copilot_run_and_plain_output_lines() -> None:
    stream, seen = feed("copilot", "warming up", {"type": "result", "exitCode": 1})
    assert stream.is_error
    assert seen == [("agent_output", {"cli": "copilot", "text": "warming up"})]
    assert stream.answer() == "warming up"  # no words of its own: what it printed


def test_gemini_text_streamed_in_pieces_is_one_message_and_the_answer() -> None:
    piece = {"type": "message", "role": "assistant", "delta": True}
    stream, seen = feed(
        "gemini", {**piece, "content": "mean() is "}, {**piece, "content": "on line 4."},
        {"type": "result", "status": "success"},
    )  # fmt: skip
    assert [f["text"] for k, f in seen if k == "assistant_message"] == ["mean() is on line 4."]
    assert stream.answer() == "mean() is on line 4." and not stream.is_error
