"""A turn ends through one exit: whatever it queued (closing tool results, an
account switch, the reason it stopped) is written in one commit, also when the
front end stops reading or the model client raises something unexpected. And
the dispatcher's public API (`decide`, `interrupt`, `set_mode`) is what the
loop and front ends use instead of reaching into its fields."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bridle.core.errors import ConfigError, QuotaExceeded
from bridle.core.messages import ModelRequest, ToolUsePart
from bridle.core.stream import (
    MessageStart,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallStart,
    UsageUpdate,
)
from bridle.engine import events as ev
from bridle.engine.dispatch import Dispatcher
from bridle.engine.loop import Engine, EngineLimits, ModelBinding
from bridle.engine.setup import StoreSink
from bridle.mock.function_model import FunctionModel, ScriptedModel, final, tool_call
from bridle.policy.engine import PermissionPolicy
from bridle.store.db import open_db
from bridle.store.sessions import SessionStore
from bridle.tools.base import ToolContext
from bridle.tools.registry import builtin_tools


def binding(client: Any, name: str = "fake/m") -> ModelBinding:
    return ModelBinding(
        name=name, provider="fake", model="m", wire="fake", client=client,
        cost=lambda u: 0.005 * u.output_tokens,
    )  # fmt: skip


def make(
    cwd: Path,
    client: Any,
    *,
    mode: str = "bypassPermissions",
    headless: bool = True,
    rotate: Any = None,
    limits: EngineLimits | None = None,
) -> tuple[Engine, SessionStore]:
    store = SessionStore(open_db(cwd.parent / "bridle.db"))
    record = store.create("fake/m", "fake", str(cwd))
    tools = builtin_tools()
    policy = PermissionPolicy(
        mode=mode, allow=[], ask=[], deny=[], project_root=cwd, extra_roots=[],
        home=cwd.parent, headless=headless,
    )  # fmt: skip
    ctx = ToolContext(cwd=cwd, session_id=record.id, output_dir=cwd.parent / "out")
    engine = Engine(
        binding=binding(client),
        dispatcher=Dispatcher({t.name: t for t in tools}, ctx, policy),
        system="test",
        tool_specs=[t.spec() for t in tools],
        session_id=record.id,
        sink=StoreSink(store, record.id),
        limits=limits,
        rotate_account=rotate,
    )
    return engine, store


def system_events(store: SessionStore, session_id: str) -> list[dict[str, Any]]:
    return [e.payload for e in store.events(session_id) if e.kind == "system"]


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    d = tmp_path / "work"
    d.mkdir()
    return d


def test_the_reason_a_turn_stopped_is_saved_with_its_kind(cwd: Path) -> None:
    n = {"i": 0}

    def fn(req: ModelRequest) -> Any:
        n["i"] += 1
        return tool_call("Glob", {"pattern": f"x{n['i']}"}, f"c{n['i']}")

    engine, store = make(cwd, FunctionModel(fn), limits=EngineLimits(max_cost_usd=0.25))
    result = list(engine.send(ev.UserTurn("go")))[-1]
    assert isinstance(result, ev.TurnResult) and result.error_kind == "max_budget"
    assert system_events(store, engine.session_id) == [
        {
            "type": "error",
            "kind": "max_budget",
            "message": "Reached the budget of $0.2500 (spent $0.3000)",
        }
    ]
    # The calls that were not run are answered in the same, last write.
    history = store.rebuild_messages(engine.session_id)
    last_calls = {p.id for p in history[-2].parts if isinstance(p, ToolUsePart)}
    assert last_calls == {"c3"}
    assert [p.tool_use_id for p in history[-1].parts] == ["c3"]  # type: ignore[attr-defined]


class QuotaThenBadURL:
    """The first account's quota is gone; the next account's client is misconfigured."""

    def stream(self, request: ModelRequest) -> Iterator[StreamEvent]:
        raise QuotaExceeded("quota gone", provider="fake", status=429)
        yield  # pragma: no cover


class BadURL:
    def stream(self, request: ModelRequest) -> Iterator[StreamEvent]:
        raise ConfigError("base_url 'ftp://x' is not a usable http(s) URL", key="base_url")
        yield  # pragma: no cover


def test_an_unexpected_error_still_saves_what_the_turn_queued(cwd: Path) -> None:
    engine, store = make(cwd, QuotaThenBadURL(), rotate=lambda: ("work", binding(BadURL())))
    seen: list[ev.Event] = []
    with pytest.raises(ConfigError):
        for event in engine.send(ev.UserTurn("go")):
            seen.append(event)
    assert [e.code for e in seen if isinstance(e, ev.Notice)] == ["account_switch"]
    saved = system_events(store, engine.session_id)
    assert [(s["type"], s["account"]) for s in saved] == [("account_switch", "work")]


def test_a_front_end_that_stops_reading_loses_nothing_queued(cwd: Path) -> None:
    engine, store = make(
        cwd, QuotaThenBadURL(), rotate=lambda: ("work", binding(ScriptedModel([final("hi")])))
    )
    turn = engine.send(ev.UserTurn("go"))
    for event in turn:
        if isinstance(event, ev.Notice):
            break
    turn.close()  # type: ignore[attr-defined]
    saved = system_events(store, engine.session_id)
    assert [s["type"] for s in saved] == ["account_switch"]


# ------------------------------------------------------------- dispatcher API


def test_decide_answers_a_pending_permission_request(cwd: Path) -> None:
    model = ScriptedModel([tool_call("Bash", {"command": "touch made"}, "b1"), final("ok")])
    engine, _ = make(cwd, model, mode="default", headless=False)
    for event in engine.send(ev.UserTurn("go")):
        if isinstance(event, ev.PermissionRequest):
            engine.dispatcher.decide(ev.ApprovalDecision(event.call.id, allow=True))
    assert (cwd / "made").exists()


def test_interrupt_leaves_calls_not_yet_started_unrun(cwd: Path) -> None:
    calls = [ToolUsePart(f"w{i}", "Write", {"file_path": str(cwd / f"f{i}"), "content": "x"})
             for i in range(2)]  # fmt: skip
    engine, _ = make(cwd, ScriptedModel([final("unused")]))
    dispatcher = engine.dispatcher
    gen = dispatcher.run(calls)
    started = next(gen)
    assert isinstance(started, ev.ToolStarted) and started.call.id == "w0"
    dispatcher.interrupt()
    assert dispatcher.interrupted
    rest = list(gen)
    finished = [e for e in rest if isinstance(e, ev.ToolFinished)]
    assert [f.result.text for f in finished] == ["not run: the user interrupted the turn"] * 2
    assert not (cwd / "f0").exists()


def interrupted_at(engine: Engine, prompt: str, when: Callable[[ev.Event], bool]) -> Any:
    """Run a turn, sending the Interrupt op (as a front end would) after the first
    event `when` picks; the turn's last event."""
    events = []
    for event in engine.send(ev.UserTurn(prompt)):
        events.append(event)
        if when(event):
            list(engine.send(ev.Interrupt()))
    return events[-1]


def test_interrupt_op_ends_the_turn_and_the_next_turn_starts_clean(cwd: Path) -> None:
    model = ScriptedModel([tool_call("Glob", {"pattern": "*"}, "g1"), final("second")])
    engine, _ = make(cwd, model)
    result = interrupted_at(engine, "go", lambda e: isinstance(e, ev.AssistantMessage))
    assert isinstance(result, ev.TurnResult)
    assert (result.error_kind, result.exit_code) == ("interrupted", 130)
    again = list(engine.send(ev.UserTurn("go on")))[-1]
    assert isinstance(again, ev.TurnResult) and again.subtype == "success"
    assert not engine.dispatcher.interrupted


class Writing:
    """A model that thinks, writes and starts a tool call, one chunk at a time;
    `read` counts the chunks taken and `closed` says the stream was given back."""

    def __init__(self) -> None:
        self.read, self.closed = 0, False

    def stream(self, request: ModelRequest) -> Iterator[StreamEvent]:
        chunks: list[StreamEvent] = [
            MessageStart("msg_1", "m"),
            UsageUpdate(input_tokens=40),
            ThinkingDelta(0, "let me see"),
            TextDelta(1, "The mean "),
            TextDelta(1, "divides by one too many."),
            ToolCallStart(2, "call_1", "Read"),
            ToolCallDelta(2, '{"file_pa'),
            TextDelta(1, " never shown"),
        ]
        try:
            for chunk in chunks:
                self.read += 1
                yield chunk
        finally:
            self.closed = True


def test_an_interrupt_while_the_model_writes_ends_the_turn_and_keeps_its_text(cwd: Path) -> None:
    model = Writing()
    engine, store = make(cwd, model)
    result = interrupted_at(
        engine, "explain", lambda e: isinstance(e, ev.TextChunk) and e.text.startswith("divides")
    )
    assert isinstance(result, ev.TurnResult) and result.error_kind == "interrupted"
    assert model.closed and model.read == 5  # closed at the next chunk, not read to its end
    kept = engine.messages[-1]  # the text shown, without the thinking cut short
    assert kept.role == "assistant" and kept.text == "The mean divides by one too many."
    assert [type(p).__name__ for p in kept.parts] == ["TextPart"]
    saved = [e for e in store.events(engine.session_id) if e.kind == "assistant"]
    assert len(saved) == 1 and result.usage.input_tokens == 40
    again = list(engine.send(ev.UserTurn("go on")))[-1]  # the conversation carries on
    assert isinstance(again, ev.TurnResult)


def test_an_interrupt_before_any_text_keeps_nothing(cwd: Path) -> None:
    model = Writing()
    engine, _ = make(cwd, model)
    result = interrupted_at(engine, "explain", lambda e: isinstance(e, ev.ThinkingChunk))
    assert result.error_kind == "interrupted"
    assert model.read == 3 and engine.messages[-1].role == "user"


def test_set_mode_takes_names_and_aliases(cwd: Path) -> None:
    engine, store = make(cwd, ScriptedModel([final("ok")]))
    assert engine.dispatcher.set_mode("auto") == "acceptEdits"
    assert engine.dispatcher.mode == "acceptEdits"
    notice = list(engine.send(ev.SetPermissionMode("plan")))
    assert [(n.code, n.text) for n in notice] == [
        ("permission_mode", "permission mode set to plan")
    ]  # type: ignore[union-attr]
    assert engine.dispatcher.mode == "plan"
    with pytest.raises(ConfigError, match="unknown permission mode 'nope'"):
        engine.dispatcher.set_mode("nope")
    assert engine.dispatcher.mode == "plan"
    assert system_events(store, engine.session_id) == [{"type": "permission_mode", "mode": "plan"}]
