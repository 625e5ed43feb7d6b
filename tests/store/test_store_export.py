"""Session export: whole-file golden comparisons for markdown and JSONL, and the
atomic, non-clobbering file write."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridle.core.errors import UserError
from bridle.core.messages import (
    ImagePart,
    Message,
    ModelResponse,
    StopReason,
    TextPart,
    ThinkingPart,
    ToolResultPart,
    ToolUsePart,
    Usage,
)
from bridle.store.conversation import (
    response_event,
    system_event,
    tool_results_event,
    user_event,
)
from bridle.store.db import open_db
from bridle.store.export import export_to_file, render, to_markdown
from bridle.store.sessions import SessionStore

GOLDEN = Path(__file__).parents[1] / "fixtures" / "store"


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    ticks = itertools.count()
    start = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    return SessionStore(
        open_db(tmp_path / "bridle.db"),
        now=lambda: start + timedelta(seconds=next(ticks)),
        new_id=lambda: "5e55a1d0-0000-4000-8000-0000000000e1",
    )


def scripted_session(store: SessionStore) -> str:
    sid = store.create("deepseek-chat", "deepseek", "/work/buggy-project", git_branch="main").id
    read = ModelResponse(
        [
            ThinkingPart("The test fails on add(); read the module.", signature="c2ln"),
            TextPart("Let me look at the code."),
            ToolUsePart("call_1", "Read", {"file_path": "calc.py"}),
        ],
        StopReason.TOOL_USE,
        Usage(1200, 40, cache_read_tokens=800),
    )
    source = "def add(a, b):\n    return a - b\n\n```nested fence```\n"
    store.append_many(
        sid,
        [
            user_event(Message("user", [TextPart("Fix the failing test in tests/test_calc.py")])),
            response_event(read),
        ],
        usage=read.usage,
        cost_usd=0.0021,
        turns=1,
    )
    store.append(
        sid, *tool_results_event(Message("user", [ToolResultPart("call_1", [TextPart(source)])]))
    )
    edit = ModelResponse(
        [
            ToolUsePart(
                "call_2",
                "Edit",
                {"file_path": "calc.py", "old_string": "a - b", "new_string": "a + b"},
            ),
            ToolUsePart("call_3", "Bash", None, raw_arguments='{"command": "pytest -'),
        ],
        StopReason.MAX_TOKENS,
        Usage(1300, 60),
    )
    store.append_many(sid, [response_event(edit)], usage=edit.usage, cost_usd=0.0023, turns=1)
    long_output = "".join(f"line {i}: collected\n" for i in range(400))
    store.append(
        sid,
        *tool_results_event(
            Message(
                "user",
                [
                    ToolResultPart("call_2", [TextPart(long_output)]),
                    ToolResultPart(
                        "call_3",
                        [
                            TextPart("invalid arguments: not valid JSON"),
                            ImagePart("image/png", "iVBORw0K"),
                        ],
                        is_error=True,
                    ),
                ],
            )
        ),
    )
    store.append(sid, *system_event("model_switch", model="deepseek-reasoner", reason="user"))
    final = ModelResponse(
        [TextPart("Fixed: `add` now adds. All tests pass.")], StopReason.END_TURN, Usage(1400, 12)
    )
    store.append_many(sid, [response_event(final)], usage=final.usage, cost_usd=0.0019, turns=1)
    return sid


@pytest.mark.parametrize("fmt,golden", [("markdown", "session.md"), ("jsonl", "session.jsonl")])
def test_export_matches_golden(store: SessionStore, fmt: str, golden: str) -> None:
    sid = scripted_session(store)
    assert render(store, sid[:8], fmt) == (GOLDEN / golden).read_text(encoding="utf-8")


def test_jsonl_keeps_every_event_unchanged(store: SessionStore) -> None:
    sid = scripted_session(store)
    lines = [json.loads(line) for line in render(store, sid, "jsonl").splitlines()]
    assert lines[0] == {"kind": "session", "seq": 0, "session": store.get(sid).to_dict()}
    assert [(x["seq"], x["kind"], x["payload"]) for x in lines[1:]] == [
        (e.seq, e.kind, e.payload) for e in store.events(sid)
    ]


def test_fence_outgrows_backticks_in_content(store: SessionStore) -> None:
    sid = store.create("m", "p", "/p").id
    store.append(sid, "assistant", {"message": {"role": "assistant", "content": [
        {"type": "tool_use", "id": "t", "name": "Write", "input": {"content": "`````"}}]}})  # fmt: skip
    store.append(
        sid, *tool_results_event(Message("user", [ToolResultPart("t", [TextPart("````x")])]))
    )
    text = to_markdown(store.get(sid), store.events(sid))
    assert '``````json\n{\n  "content": "`````"\n}\n``````' in text
    assert "`````\n````x\n`````" in text


def test_export_to_file_is_atomic_and_keeps_the_old_file(
    store: SessionStore, tmp_path: Path
) -> None:
    sid = scripted_session(store)
    out = tmp_path / "out" / "session.md"
    assert export_to_file(store, sid, out) == out
    assert out.read_text(encoding="utf-8") == render(store, sid, "markdown")
    out.write_text("my edits\n")
    out.chmod(0o640)
    with pytest.raises(UserError, match="already exists"):
        export_to_file(store, sid, out)
    assert out.read_text() == "my edits\n"
    export_to_file(store, sid, out, overwrite=True)
    assert (out.parent / "session.md.bak").read_text() == "my edits\n"
    assert out.read_text(encoding="utf-8") == render(store, sid, "markdown")
    assert out.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in out.parent.iterdir()) == ["session.md", "session.md.bak"]


def test_export_format_from_suffix_or_error(store: SessionStore, tmp_path: Path) -> None:
    sid = scripted_session(store)
    jsonl = export_to_file(store, sid, tmp_path / "s.jsonl")
    assert jsonl.read_text(encoding="utf-8") == render(store, sid, "jsonl")
    with pytest.raises(UserError, match=r"\.md or \.jsonl"):
        export_to_file(store, sid, tmp_path / "s.txt")
    with pytest.raises(UserError, match="unknown export format 'html'"):
        render(store, sid, "html")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bridle.db",
        "bridle.db-shm",
        "bridle.db-wal",
        "s.jsonl",
    ]


@pytest.mark.parametrize(
    ("model", "provider", "shown"),
    [
        ("mock/claude", "mock", "mock/claude"),  # the spec names the provider: once
        ("anthropic/claude-sonnet-4-5", "anthropic", "anthropic/claude-sonnet-4-5"),
        ("deepseek-chat", "deepseek", "deepseek/deepseek-chat"),  # a bare id gains it
        ("openrouter/openai/gpt-5", "openrouter", "openrouter/openai/gpt-5"),
    ],
)
def test_markdown_names_the_provider_once(
    store: SessionStore, model: str, provider: str, shown: str
) -> None:
    sid = store.create(model, provider, "/w").id
    md = render(store, sid, "markdown")
    assert [line for line in md.splitlines() if line.startswith("| Model |")] == [
        f"| Model | {shown} |"
    ]
