"""How a turn ends when the model call fails, over real HTTP on loopback: an
exhausted quota switches account after ONE request (no back-offs on the dead
account), a request longer than the window ends with kind "context_window", a
refused connection is not sent again by the loop (the client already retried
it), and every ending carries its `error_kind`."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from wire.loopback import LoopbackServer, Reply

from bridle.core.errors import ConnectionFailed
from bridle.core.messages import ModelRequest, ModelResponse, StopReason
from bridle.core.stream import StreamEvent, TextDelta
from bridle.engine import events as ev
from bridle.engine.dispatch import Dispatcher
from bridle.engine.loop import Engine, EngineLimits, ModelBinding
from bridle.engine.setup import StoreSink
from bridle.mock.function_model import FunctionModel, final, response_events, tool_call
from bridle.policy.engine import PermissionPolicy
from bridle.store.db import open_db
from bridle.store.sessions import SessionStore
from bridle.tools.base import ToolContext
from bridle.tools.registry import builtin_tools
from bridle.wire.client import ModelClient
from bridle.wire.endpoint import Endpoint


def chat_stream(text: str) -> bytes:
    chunks = [
        {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"content": text}}]},
        {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    ]
    return b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks) + b"data: [DONE]\n\n"


def chat_error(status: int, error: dict[str, Any]) -> Reply:
    return Reply(status, "application/json", [json.dumps({"error": error}).encode()])


QUOTA = {
    "message": "You exceeded your current quota, please check your plan and billing details.",
    "type": "insufficient_quota",
    "param": None,
    "code": "insufficient_quota",
}
WINDOW = {
    "message": "This model's maximum context length is 128000 tokens. However, your messages "
    "resulted in 130511 tokens. Please reduce the length of the messages.",
    "type": "invalid_request_error",
    "param": "messages",
    "code": "context_length_exceeded",
}


class Counting:
    """A model client that counts how often the loop asks it for a stream."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def stream(self, request: ModelRequest) -> Iterator[StreamEvent]:
        self.calls += 1
        return self.inner.stream(request)


def http_binding(base_url: str, name: str = "gw/m", max_retries: int = 4) -> ModelBinding:
    endpoint = Endpoint("gw", "openai-chat", base_url, "m", api_key="k", max_retries=max_retries)
    client = ModelClient(endpoint, sleep=lambda _: None, rng=lambda: 0.5)
    return ModelBinding(
        name=name, provider="gw", model="m", wire="openai-chat", client=Counting(client),
        cost=lambda u: 0.0,
    )  # fmt: skip


def make_engine(
    cwd: Path,
    binding: ModelBinding,
    *,
    rotate: Any = None,
    limits: EngineLimits | None = None,
    price: float = 0.0,
) -> Engine:
    store = SessionStore(open_db(cwd.parent / "bridle.db"))
    record = store.create(binding.name, binding.provider, str(cwd))
    tools = builtin_tools()
    policy = PermissionPolicy(
        mode="bypassPermissions", allow=[], ask=[], deny=[], project_root=cwd, extra_roots=[],
        home=cwd.parent, headless=True,
    )  # fmt: skip
    ctx = ToolContext(cwd=cwd, session_id=record.id, output_dir=cwd.parent / "out")
    if price:
        binding.cost = lambda u: price * u.output_tokens
    return Engine(
        binding=binding,
        dispatcher=Dispatcher({t.name: t for t in tools}, ctx, policy),
        system="test",
        tool_specs=[t.spec() for t in tools],
        session_id=record.id,
        sink=StoreSink(store, record.id),
        limits=limits,
        rotate_account=rotate,
    )


def run(engine: Engine) -> tuple[list[ev.Event], ev.TurnResult]:
    events = list(engine.send(ev.UserTurn("go")))
    result = events[-1]
    assert isinstance(result, ev.TurnResult)
    return events, result


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    d = tmp_path / "work"
    d.mkdir()
    return d


def test_exhausted_quota_rotates_the_account_after_one_request(cwd: Path) -> None:
    dead = LoopbackServer(lambda _: chat_error(429, QUOTA))
    alive = LoopbackServer(lambda _: Reply(200, chunks=[chat_stream("done on work")]))
    try:
        switched = http_binding(alive.base_url, "gw/m")
        engine = make_engine(cwd, http_binding(dead.base_url), rotate=lambda: ("work", switched))
        events, result = run(engine)
    finally:
        dead.close()
        alive.close()
    # One request to the account whose quota is gone, none of the four back-offs.
    assert (len(dead.seen), len(alive.seen)) == (1, 1)
    assert (result.subtype, result.result, result.error_kind) == ("success", "done on work", None)
    notices = [e for e in events if isinstance(e, ev.Notice)]
    assert [(n.code, n.text) for n in notices] == [
        ("account_switch", "quota used up; continuing under account work")
    ]
    assert not any(isinstance(e, ev.Retrying) for e in events)


def test_exhausted_quota_without_another_account_ends_with_kind_quota(cwd: Path) -> None:
    dead = LoopbackServer(lambda _: chat_error(429, QUOTA))
    try:
        _, result = run(make_engine(cwd, http_binding(dead.base_url)))
    finally:
        dead.close()
    assert len(dead.seen) == 1
    assert (result.subtype, result.error_kind, result.exit_code) == (
        "error_during_execution",
        "quota",
        75,
    )
    assert "add credit or raise the quota" in result.errors[0]


def test_context_window_error_has_its_kind(cwd: Path) -> None:
    srv = LoopbackServer(lambda _: chat_error(400, WINDOW))
    try:
        _, result = run(make_engine(cwd, http_binding(srv.base_url)))
    finally:
        srv.close()
    assert len(srv.seen) == 1
    assert (result.subtype, result.error_kind, result.exit_code) == (
        "error_during_execution",
        "context_window",
        1,
    )
    assert "maximum context length is 128000 tokens" in result.errors[0]


def test_a_refused_connection_is_not_sent_again_by_the_loop(cwd: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens on the port now; the client's own retries are off.
    binding = http_binding(f"http://127.0.0.1:{port}/v1", max_retries=0)
    events, result = run(make_engine(cwd, binding))
    assert isinstance(binding.client, Counting) and binding.client.calls == 1
    assert not any(isinstance(e, ev.Retrying) for e in events)
    assert (result.subtype, result.error_kind) == ("error_during_execution", "network")
    assert "cannot talk to" in result.errors[0]


class Breaking:
    """Streams `response`, but the first `breaks` attempts fail with
    ConnectionFailed after `shown` events (0: before any content)."""

    def __init__(self, response: ModelResponse, breaks: int, shown: int) -> None:
        self.response, self.breaks, self.shown = response, breaks, shown
        self.calls = 0

    def stream(self, request: ModelRequest) -> Iterator[StreamEvent]:
        self.calls += 1
        events = list(response_events(self.response))
        if self.calls <= self.breaks:
            yield from events[: self.shown]
            raise ConnectionFailed("connection reset by peer", provider="fake")
        yield from events


def fake_binding(client: Any) -> ModelBinding:
    return ModelBinding(
        name="fake/m", provider="fake", model="m", wire="fake", client=client, cost=lambda u: 0.0
    )


def test_a_stream_cut_after_content_is_sent_again(cwd: Path) -> None:
    # MessageStart, then the text: the cut comes after content was shown.
    client = Breaking(final("whole answer"), breaks=1, shown=2)
    events, result = run(make_engine(cwd, fake_binding(client)))
    assert client.calls == 2
    retries = [e for e in events if isinstance(e, ev.Retrying)]
    assert len(retries) == 1 and "sending the request again" in retries[0].error
    chunks = [e.text for e in events if isinstance(e, ev.TextChunk)]
    assert chunks == ["whole answer", "whole answer"]
    assert (result.subtype, result.result) == ("success", "whole answer")


def test_a_stream_that_fails_before_content_is_not_sent_again(cwd: Path) -> None:
    # Only MessageStart came: the client's own retries own this failure.
    client = Breaking(final("never"), breaks=5, shown=1)
    events, result = run(make_engine(cwd, fake_binding(client)))
    assert client.calls == 1
    assert not any(isinstance(e, ev.Retrying) for e in events)
    assert (result.error_kind, result.errors) == ("network", ["fake: connection reset by peer"])


def test_retry_scheduled_by_the_client_becomes_a_retrying_event(cwd: Path) -> None:
    from bridle.core.stream import MessageStart, RetryScheduled

    class Retried:
        def stream(self, request: ModelRequest) -> Iterator[StreamEvent]:
            yield MessageStart("stale", "stale-model")
            yield RetryScheduled(1, 0.5, "gw: HTTP 529 overloaded_error: busy")
            yield from response_events(final("after the retry"))

    events, result = run(make_engine(cwd, fake_binding(Retried())))
    retries = [(e.attempt, e.delay, e.error) for e in events if isinstance(e, ev.Retrying)]
    assert retries == [(1, 0.5, "gw: HTTP 529 overloaded_error: busy")]
    message = next(e for e in events if isinstance(e, ev.AssistantMessage))
    # The assembler started over: nothing of the failed attempt is in the response.
    assert message.response.id is None and message.response.text == "after the retry"
    assert result.result == "after the retry"


def test_text_and_thinking_chunks_are_engine_events(cwd: Path) -> None:
    from bridle.core.messages import TextPart, ThinkingPart, Usage

    response = ModelResponse(
        [ThinkingPart("hmm"), TextPart("answer")], StopReason.END_TURN, Usage(1, 1)
    )
    client = FunctionModel(lambda _: response)
    events, _ = run(make_engine(cwd, fake_binding(client)))
    chunks = [(e.kind, e.text) for e in events if isinstance(e, ev.TextChunk | ev.ThinkingChunk)]
    assert chunks == [("thinking_chunk", "hmm"), ("text_chunk", "answer")]
    # The engine's events no longer share names with the wire's stream events.
    assert not hasattr(ev, "TextDelta") and not hasattr(ev, "ThinkingDelta")
    assert TextDelta is not ev.TextChunk


@pytest.mark.parametrize(
    ("limits", "price", "subtype", "kind"),
    [
        (EngineLimits(max_turns=2), 0.0, "error_max_turns", "max_turns"),
        (EngineLimits(max_cost_usd=0.25), 0.005, "error_max_budget_usd", "max_budget"),
    ],
)
def test_limits_end_with_their_kind(
    cwd: Path, limits: EngineLimits, price: float, subtype: str, kind: str
) -> None:
    n = {"i": 0}

    def fn(req: ModelRequest) -> ModelResponse:
        n["i"] += 1
        return tool_call("Glob", {"pattern": f"x{n['i']}"}, f"c{n['i']}")

    engine = make_engine(cwd, fake_binding(FunctionModel(fn)), limits=limits, price=price)
    _, result = run(engine)
    assert (result.subtype, result.error_kind, result.exit_code) == (subtype, kind, 1)


def test_loop_guard_and_success_kinds(cwd: Path) -> None:
    n = {"i": 0}

    def missing(req: ModelRequest) -> ModelResponse:
        n["i"] += 1
        return tool_call("Read", {"file_path": str(cwd / f"missing{n['i']}")}, f"c{n['i']}")

    _, stuck = run(make_engine(cwd, fake_binding(FunctionModel(missing))))
    assert (stuck.subtype, stuck.error_kind) == ("error_during_execution", "loop_guard")
    _, ok = run(make_engine(cwd, fake_binding(FunctionModel(lambda _: final("hi")))))
    assert (ok.subtype, ok.error_kind, ok.errors, ok.exit_code) == ("success", None, [], 0)


def test_a_recorded_in_stream_quota_error_is_not_retried(cwd: Path) -> None:
    """OpenAI reports `insufficient_quota` inside a 200 Responses stream (recorded
    traffic): no retries on that account, the turn ends with kind "quota"."""
    corpus = Path(__file__).resolve().parents[1] / "fixtures" / "provider-traffic"
    body = corpus / "openai-responses/vai-openai-responses-in-stream-error/response.body"
    srv = LoopbackServer(lambda _: Reply(200, chunks=[body.read_bytes()]))
    try:
        endpoint = Endpoint("openai", "openai-responses", srv.base_url, "m", api_key="k")
        client = ModelClient(endpoint, sleep=lambda _: None)
        b = ModelBinding(
            name="openai/m", provider="openai", model="m", wire="openai-responses",
            client=client, cost=lambda u: 0.0,
        )  # fmt: skip
        events, result = run(make_engine(cwd, b))
    finally:
        srv.close()
    assert len(srv.seen) == 1
    assert not any(isinstance(e, ev.Retrying) for e in events)
    assert (result.error_kind, result.exit_code) == ("quota", 75)
