"""Compaction's steps on their own: token estimates, the window and threshold,
clearing old tool outputs to stubs naming the saved file, the summary request,
rebuilding a conversation that every provider accepts, and the guard that stops
a compaction that frees too little or repeats."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from bridle.core.errors import ContextWindowExceeded
from bridle.core.messages import Message, ModelRequest, TextPart, ToolResultPart, ToolUsePart
from bridle.engine.compaction import (
    STUB_PREFIX,
    SUMMARY_HEADER,
    CompactionFailed,
    Window,
    check_freed,
    clear_tool_outputs,
    compact_instructions,
    rebuild,
    request_tokens,
    summary_request,
)


def exchange(i: int, size: int) -> list[Message]:
    call = ToolUsePart(f"t{i}", "Bash", {"command": f"cat big{i}.log"})
    result = ToolResultPart(f"t{i}", [TextPart(f"line {i}\n" * (size // 7))])
    return [Message("assistant", [call]), Message("user", [result])]


def session(n: int, size: int = 40_000, prompts: int = 1) -> list[Message]:
    out = [Message("user", [TextPart(f"prompt {p}")]) for p in range(prompts)]
    out = [out[0]]
    for i in range(n):
        out += exchange(i, size)
    return out


def paired(messages: list[Message]) -> None:
    """What every provider requires of a conversation."""
    assert messages and messages[0].role == "user"
    for a, b in itertools.pairwise(messages):
        assert a.role != b.role, "roles alternate"
    for i, m in enumerate(messages):
        assert m.parts, "no empty message"
        calls = [p.id for p in m.tool_uses]
        if calls:
            assert [r.tool_use_id for r in messages[i + 1].tool_results] == calls
        for r in m.tool_results:
            assert r.tool_use_id in [p.id for p in messages[i - 1].tool_uses]


def test_window_threshold() -> None:
    assert Window.for_model(200_000, 32_000) == Window(200_000, 158_000)
    assert Window.for_model(16_000, 4_000).threshold == 10_000
    assert Window.for_model(16_000, 32_000).threshold == 10_000  # output capped at 1/4
    assert Window.for_model(200_000, 32_000, threshold=50_000).threshold == 50_000
    assert Window.for_model(200_000, 32_000, percent=80).threshold == 160_000
    assert Window.for_model(4_000, 8_000).threshold == 2_500


def test_clearing_keeps_the_newest_outputs_and_names_the_saved_file(tmp_path: Path) -> None:
    messages = session(10, size=40_000)  # ~10k tokens per output
    saved: dict[str, str] = {}

    def save(tool_use_id: str, text: str) -> Path:
        path = tmp_path / f"{tool_use_id}.txt"
        path.write_text(text)
        saved[tool_use_id] = text
        return path

    before = request_tokens(messages)
    done = clear_tool_outputs(messages, save, keep_tokens=40_000)
    after = request_tokens(done.messages)
    assert done.cleared == 6 and sorted(saved) == [f"t{i}" for i in range(6)]
    assert before - after == pytest.approx(done.freed_tokens, rel=0.01)
    stub = done.messages[2].parts[0]
    assert isinstance(stub, ToolResultPart) and stub.text.startswith(STUB_PREFIX)
    assert str(tmp_path / "t0.txt") in stub.text
    assert (tmp_path / "t0.txt").read_text() == messages[2].tool_results[0].text
    newest = done.messages[-1].tool_results[0]
    assert newest.text == messages[-1].tool_results[0].text  # kept verbatim
    paired(done.messages)
    assert messages[2].tool_results[0].text.startswith("line 0")  # input untouched
    again = clear_tool_outputs(done.messages, save, keep_tokens=40_000)
    assert again.cleared == 0  # stubs are not cleared twice


def test_summary_request_asks_without_breaking_pairs() -> None:
    messages = session(2, size=700)
    req = ModelRequest(model="m", messages=messages, system="sys", tools=[], max_tokens=32_000)
    ask = summary_request(req, focus="the parser bug", instructions="Keep test names.")
    paired(ask.messages)
    last = ask.messages[-1]
    assert last.role == "user" and last.tool_results  # the ask joins the results message
    text = last.text
    assert "Goal" in text and "Errors" in text and "Do not call any tool" in text
    assert "Focus the summary on: the parser bug" in text and "Keep test names." in text
    assert ask.max_tokens == 8192 and ask.system == "sys"


def test_rebuild_keeps_prompts_extras_and_the_newest_whole_exchanges() -> None:
    messages = [Message("user", [TextPart("fix the parser; never touch setup.py")])]
    messages += exchange(0, 7000)
    messages += [Message("assistant", [TextPart("done with step 1")])]
    messages += [Message("user", [TextPart("now the lexer")])]
    for i in range(1, 6):
        messages += exchange(i, 7000)  # ~1,750 tokens each
    out = rebuild(messages, "GOAL: parser", budget_tokens=4000, keep=["Todo list:\n[ ] lexer"])
    paired(out)
    head = out[0].text
    assert head.startswith(SUMMARY_HEADER) and "GOAL: parser" in head
    assert "<user_message>\nfix the parser; never touch setup.py\n</user_message>" in head
    assert "<user_message>\nnow the lexer\n</user_message>" in head
    assert "Todo list:\n[ ] lexer" in head
    calls = [p.id for m in out for p in m.tool_uses]
    assert calls == ["t4", "t5"]  # the newest exchanges that fit, whole
    assert request_tokens(out) < 4500 < request_tokens(messages) / 2


def test_rebuild_with_nothing_that_fits_is_still_valid() -> None:
    out = rebuild(session(3, size=70_000), "S", budget_tokens=10)
    paired(out)
    assert len(out) == 1 and "S" in out[0].text


def test_a_compaction_that_frees_too_little_or_repeats_fails_clearly() -> None:
    window = Window(10_000, 8_000)
    check_freed(20_000, 5_000, window, repeated=False)
    with pytest.raises(CompactionFailed, match="freed too little \\(20,000 -> 7,900 tokens"):
        check_freed(20_000, 7_900, window, repeated=False)
    with pytest.raises(ContextWindowExceeded, match="compacted just before"):
        check_freed(20_000, 1_000, window, repeated=True)
    err = CompactionFailed("x")
    assert err.kind == "context_window" and not err.retryable


def test_compact_instructions_section() -> None:
    text = "# Project\nrules\n\n## Compact Instructions\nKeep the API list.\nAnd errors.\n\n## Other\nx"
    assert compact_instructions(text) == "Keep the API list.\nAnd errors."
    assert compact_instructions("# Project\nno section") is None


def test_a_cleared_event_folds_back_to_the_stubbed_conversation() -> None:
    from bridle.store.conversation import Event, cleared_event, fold_messages, message_to_dict

    messages = session(2, size=700)
    kind, payload = cleared_event({"t0": "[stub t0]"}, step="clear")
    assert "messages" not in payload
    events = [
        Event("s", i, "2026", k, p)
        for i, (k, p) in enumerate(
            [
                ("user", message_to_dict(messages[0])),
                ("assistant", {"message": message_to_dict(messages[1])}),
                ("tool_result", message_to_dict(messages[2])),
                (kind, payload),
            ]
        )
    ]
    folded = fold_messages(events)
    assert folded[2].tool_results[0].text == "[stub t0]"
    assert folded[0].text == messages[0].text and len(folded) == 3
