"""SessionStore against a real SQLite file: create, append, rebuild, look up, fork, delete."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from store_checks import assert_provider_valid

from bridle.core.errors import UserError
from bridle.core.messages import (
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
    INTERRUPTED_TEXT,
    compaction_event,
    response_event,
    system_event,
    tool_results_event,
    user_event,
)
from bridle.store.db import open_db
from bridle.store.sessions import SessionStore


def ticking_clock(start: datetime) -> Callable[[], datetime]:
    counter = itertools.count()
    return lambda: start + timedelta(seconds=next(counter))


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    ids = (f"{n:08x}-0000-4000-8000-000000000000" for n in itertools.count(0xA0))
    return SessionStore(
        open_db(tmp_path / "bridle.db"),
        now=ticking_clock(datetime(2026, 5, 1, 12, 0, tzinfo=UTC)),
        new_id=lambda: next(ids),
    )


def read_call(call_id: str, path: str) -> ModelResponse:
    return ModelResponse(
        parts=[
            ThinkingPart("look first", signature="sig=="),
            TextPart("Reading it."),
            ToolUsePart(call_id, "Read", {"file_path": path}),
        ],
        stop_reason=StopReason.TOOL_USE,
        usage=Usage(input_tokens=100, output_tokens=20, cache_read_tokens=5),
        raw_stop_reason="tool_use",
        id="msg_1",
        model="m-1",
    )


def result(call_id: str, text: str, is_error: bool = False) -> Message:
    return Message("user", [ToolResultPart(call_id, [TextPart(text)], is_error=is_error)])


def test_create_and_get_round_trip(store: SessionStore) -> None:
    rec = store.create("deepseek-chat", "deepseek", "/work/p", git_branch="main")
    assert rec.to_dict() == {
        "id": "000000a0-0000-4000-8000-000000000000",
        "title": None,
        "model": "deepseek-chat",
        "provider": "deepseek",
        "cwd": "/work/p",
        "git_branch": "main",
        "created_at": "2026-05-01T12:00:00.000Z",
        "updated_at": "2026-05-01T12:00:00.000Z",
        "parent_id": None,
        "status": "active",
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "reasoning_tokens": 0,
        "cost_usd": 0.0,
        "turns": 0,
        "tool": "bridle",
        "account": None,
    }
    assert store.get(rec.id) == rec


def test_default_ids_are_uuid4(tmp_path: Path) -> None:
    import uuid

    rec = SessionStore(open_db(tmp_path / "bridle.db")).create("m", "p", "/x")
    assert uuid.UUID(rec.id).version == 4 and str(uuid.UUID(rec.id)) == rec.id


def test_append_rebuild_round_trip_with_tool_calls(store: SessionStore) -> None:
    sid = store.create("m-1", "mock", "/p").id
    prompt = Message("user", [TextPart("Fix the failing test\nin tests/")])
    first = read_call("call_1", "a.py")
    final = ModelResponse([TextPart("Done.")], StopReason.END_TURN, Usage(50, 5))
    seqs = store.append_many(
        sid,
        [user_event(prompt), response_event(first)],
        usage=first.usage,
        cost_usd=0.25,
        turns=1,
    )
    assert seqs == [1, 2]
    assert store.append(sid, *tool_results_event(result("call_1", "print(1)"))) == 3
    assert store.append(sid, *system_event("model_switch", model="m-2")) == 4
    store.append_many(sid, [response_event(final)], usage=final.usage, cost_usd=0.5, turns=1)

    assert store.rebuild_messages(sid) == [
        prompt,
        first.to_message(),
        result("call_1", "print(1)"),
        final.to_message(),
    ]
    rec = store.get(sid)
    assert (rec.title, rec.turns, rec.cost_usd) == ("Fix the failing test", 2, 0.75)
    assert rec.usage == Usage(input_tokens=150, output_tokens=25, cache_read_tokens=5)
    assert rec.updated_at == "2026-05-01T12:00:04.000Z"
    events = store.events(sid)
    assert [(e.seq, e.kind) for e in events] == [
        (1, "user"),
        (2, "assistant"),
        (3, "tool_result"),
        (4, "system"),
        (5, "assistant"),
    ]
    assert events[1].payload == {
        "message": {
            "role": "assistant",
            "content": [
                {"type": "thinking", "text": "look first", "signature": "sig=="},
                {"type": "text", "text": "Reading it."},
                {
                    "type": "tool_use",
                    "id": "call_1",
                    "name": "Read",
                    "input": {"file_path": "a.py"},
                },
            ],
        },
        "usage": {"input_tokens": 100, "output_tokens": 20, "cache_read_tokens": 5},
        "stop_reason": "tool_use",
        "raw_stop_reason": "tool_use",
        "id": "msg_1",
        "model": "m-1",
    }
    assert events[3].payload == {"type": "model_switch", "model": "m-2"}


def test_payload_is_stored_as_compact_json(store: SessionStore) -> None:
    sid = store.create("m", "p", "/p").id
    store.append(sid, *user_event(Message("user", [TextPart("héllo")])))
    raw = store.conn.execute("SELECT payload FROM events").fetchone()[0]
    assert raw == '{"role":"user","content":[{"type":"text","text":"héllo"}]}'


def test_title_is_kept_once_set(store: SessionStore) -> None:
    sid = store.create("m", "p", "/p", title="Given title").id
    store.append(sid, *user_event(Message("user", [TextPart("other words")])))
    assert store.get(sid).title == "Given title"
    long_sid = store.create("m", "p", "/p").id
    store.append(long_sid, *user_event(Message("user", [TextPart("\n  word " * 40)])))
    assert store.get(long_sid).title == "word"
    wide = store.create("m", "p", "/p").id
    store.append(wide, *user_event(Message("user", [TextPart("x" * 200)])))
    assert store.get(wide).title == "x" * 79 + "…"


def test_interrupted_tool_call_resumes_with_synthetic_result(store: SessionStore) -> None:
    sid = store.create("m", "p", "/p").id
    multi = ModelResponse(
        [
            ToolUsePart("a", "Bash", {"command": "make"}),
            ToolUsePart("b", "Read", {"file_path": "x"}),
        ],
        StopReason.TOOL_USE,
    )
    store.append_many(sid, [user_event(Message("user", [TextPart("go")])), response_event(multi)])
    store.append(sid, *tool_results_event(result("b", "contents")))  # "a" never finished
    history = store.rebuild_messages(sid)
    assert history[-1] == Message(
        "user",
        [
            ToolResultPart("a", [TextPart(INTERRUPTED_TEXT)], is_error=True),
            ToolResultPart("b", [TextPart("contents")]),
        ],
    )
    # Resuming appends a new prompt to the same session; the history stays valid.
    store.append(sid, *user_event(Message("user", [TextPart("continue")])))
    history = store.rebuild_messages(sid)
    assert history[-1].parts[-1] == TextPart("continue")
    assert_provider_valid(history)


def test_compaction_restarts_the_history(store: SessionStore) -> None:
    sid = store.create("m", "p", "/p").id
    store.append(sid, *user_event(Message("user", [TextPart("old")])))
    summary = [Message("user", [TextPart("Summary of earlier work")])]
    store.append(sid, *compaction_event(summary, tokens_before=9000))
    store.append(sid, *user_event(Message("user", [TextPart("next")])))
    assert store.rebuild_messages(sid) == [
        Message("user", [TextPart("Summary of earlier work"), TextPart("next")])
    ]


def test_get_by_unique_prefix(store: SessionStore) -> None:
    a = store.create("m", "p", "/p")
    assert store.get(a.id[:4]) == a
    assert store.get(f"  {a.id[:8]} ") == a


def test_get_ambiguous_prefix_lists_candidates(store: SessionStore) -> None:
    a = store.create("m", "p", "/p", title="first")
    b = store.create("m", "p", "/p", title="second")
    with pytest.raises(UserError) as info:
        store.get("000000a")
    message = str(info.value)
    assert "ambiguous" in message
    assert (
        f"{a.id}  {a.updated_at}  first" in message and f"{b.id}  {b.updated_at}  second" in message
    )
    assert store.get(a.id) == a  # an exact id always wins


@pytest.mark.parametrize("key", ["ffff", "000000a0-0000-4000-8000-0000000000001", "%", "_"])
def test_get_missing_says_how_to_find_ids(store: SessionStore, key: str) -> None:
    store.create("m", "p", "/p")
    with pytest.raises(UserError, match=r"no session matches .*bridle sessions list"):
        store.get(key)


def test_get_empty_prefix(store: SessionStore) -> None:
    with pytest.raises(UserError, match="no session id given"):
        store.get(" ")


def test_latest_for_cwd_and_list(store: SessionStore) -> None:
    a = store.create("m", "p", "/p")
    b = store.create("m", "p", "/p")
    other = store.create("m", "p", "/q")
    assert store.latest_for_cwd("/p") == b
    store.append(a.id, *user_event(Message("user", [TextPart("again")])))
    assert store.latest_for_cwd("/p") == store.get(a.id)
    assert store.latest_for_cwd("/nowhere") is None
    assert [r.id for r in store.list()] == [a.id, other.id, b.id]
    assert [r.id for r in store.list(cwd="/p")] == [a.id, b.id]
    assert [r.id for r in store.list(limit=1)] == [a.id]


def test_fork_copies_history_under_a_new_id(store: SessionStore) -> None:
    src = store.create("m", "p", "/p", git_branch="dev")
    store.append_many(
        src.id,
        [user_event(Message("user", [TextPart("go")])), response_event(read_call("c1", "a"))],
        usage=Usage(10, 2),
        cost_usd=1.0,
        turns=1,
    )
    store.append(src.id, *tool_results_event(result("c1", "data")))
    fork = store.fork(src.id)
    assert fork.id != src.id
    assert (fork.parent_id, fork.title, fork.git_branch, fork.turns, fork.cost_usd) == (
        src.id,
        "go",
        "dev",
        0,
        0.0,
    )
    assert store.rebuild_messages(fork.id) == store.rebuild_messages(src.id)
    assert [(e.seq, e.kind, e.payload) for e in store.events(fork.id)] == [
        (e.seq, e.kind, e.payload) for e in store.events(src.id)
    ]
    # The two logs now grow apart.
    store.append(fork.id, *user_event(Message("user", [TextPart("only in fork")])))
    assert len(store.events(fork.id)) == 4 and len(store.events(src.id)) == 3


def test_delete_removes_session_and_events_and_orphans_forks(store: SessionStore) -> None:
    src = store.create("m", "p", "/p")
    store.append(src.id, *user_event(Message("user", [TextPart("go")])))
    fork = store.fork(src.id)
    store.delete(src.id)
    with pytest.raises(UserError, match="no session"):
        store.get(src.id)
    assert store.events(src.id) == []
    assert store.conn.execute(
        "SELECT COUNT(*) FROM events WHERE session_id = ?", (src.id,)
    ).fetchone() == (0,)
    assert store.get(fork.id).parent_id is None
    assert len(store.events(fork.id)) == 1
    with pytest.raises(UserError, match="no session"):
        store.delete(src.id)


def test_update_and_totals(store: SessionStore) -> None:
    sid = store.create("m", "p", "/p").id
    rec = store.update(sid, status="completed", model="m-2", title="Renamed")
    assert (rec.status, rec.model, rec.title) == ("completed", "m-2", "Renamed")
    store.update_totals(sid, Usage(1, 2, 3, 4, 5), cost_usd=0.5, turns=2)
    store.update_totals(sid, cost_usd=0.25)
    rec = store.get(sid)
    assert (rec.usage, rec.cost_usd, rec.turns) == (Usage(1, 2, 3, 4, 5), 0.75, 2)
    with pytest.raises(ValueError, match="cwd"):
        store.update(sid, cwd="/elsewhere")


def test_writes_to_a_missing_session_fail_cleanly(store: SessionStore) -> None:
    with pytest.raises(UserError, match="no session 'nope'"):
        store.append("nope", *user_event(Message("user", [TextPart("x")])))
    with pytest.raises(UserError, match="no session"):
        store.update_totals("nope", cost_usd=1)
    with pytest.raises(UserError, match="no session"):
        store.fork("nope")
    assert not store.conn.in_transaction
    assert store.conn.execute("SELECT COUNT(*) FROM events").fetchone() == (0,)


def test_unknown_event_kind_is_refused(store: SessionStore) -> None:
    sid = store.create("m", "p", "/p").id
    with pytest.raises(ValueError, match="unknown event kind 'note'"):
        store.append(sid, "note", {})
    assert store.events(sid) == []


def test_tool_call_with_unparsed_arguments_round_trips(store: SessionStore) -> None:
    sid = store.create("m", "p", "/p").id
    cut_off = ModelResponse(
        [ToolUsePart("t1", "Bash", None, raw_arguments='{"comm')], StopReason.MAX_TOKENS
    )
    store.append_many(sid, [user_event(Message("user", [TextPart("go")])), response_event(cut_off)])
    # As written by `message_to_dict` alone, which drops the None input.
    store.append(
        sid,
        "assistant",
        {
            "message": {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t2", "name": "LS"}],
            }
        },
    )
    interrupted = [TextPart(INTERRUPTED_TEXT)]
    assert store.rebuild_messages(sid) == [
        Message("user", [TextPart("go")]),
        Message("assistant", [ToolUsePart("t1", "Bash", None, raw_arguments='{"comm')]),
        Message("user", [ToolResultPart("t1", interrupted, is_error=True)]),
        Message("assistant", [ToolUsePart("t2", "LS", None)]),
        Message("user", [ToolResultPart("t2", interrupted, is_error=True)]),
    ]
