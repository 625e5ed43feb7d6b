"""Retry behaviour of `ModelClient`: which failures are retried, how long it
waits (server hints first, else exponential backoff with jitter), that each
retry is announced by a `RetryScheduled` event, that a stream is only retried
before it has shown anything, and the idle timeout. Answers come from a
`MockTransport` through the client's default code path; sleeps go to a
recorder, so no test waits on a clock; the idle timeout and a refused
connection use real loopback sockets."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from bridle.core.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigError,
    ConnectionFailed,
    NotFoundError,
    OverloadedError,
    RateLimitError,
    ServerError,
    StreamError,
    StreamTimeout,
)
from bridle.core.messages import Message, ModelRequest, ModelResponse, TextPart
from bridle.core.stream import RetryScheduled, StreamEvent, TextDelta
from bridle.wire._assembler import Assembler
from bridle.wire.client import ModelClient
from bridle.wire.endpoint import Endpoint
from bridle.wire.transport import MockTransport, Reply, Request, TransportError

from .loopback import LoopbackServer
from .loopback import Reply as Scripted

REQ = ModelRequest("claude-x", [Message("user", [TextPart("hi")])])

# A minimal, complete Anthropic stream saying "Hello".
MESSAGE_START = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","model":"claude-x",'
    b'"usage":{"input_tokens":5,"output_tokens":1}}}\n\n'
)
HELLO = (
    MESSAGE_START + b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
    b'"content_block":{"type":"text","text":""}}\n\n'
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"text_delta","text":"Hello"}}\n\n'
    b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},'
    b'"usage":{"output_tokens":2}}\n\n'
    b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
)
SSE = {"content-type": "text/event-stream"}


class Recorder:
    """Records the client's sleeps, and the `RetryScheduled` events of the calls
    made through `complete`: (attempt, delay, reason)."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.observed: list[tuple[int, float, str]] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def complete(self, client: ModelClient) -> ModelResponse:
        asm = Assembler(client.endpoint.wire, client.endpoint.provider)
        for ev in client.stream(REQ):
            if isinstance(ev, RetryScheduled):
                # Announced before the wait, so a front end can show it meanwhile.
                assert len(self.sleeps) == len(self.observed)
                self.observed.append((ev.attempt, ev.delay, ev.reason))
            asm.feed(ev)
        return asm.result()


Answer = Reply | Callable[[Request], Reply]


def make_client(
    responses: list[Answer],
    rec: Recorder,
    *,
    wire: str = "anthropic-messages",
    max_retries: int = 4,
    rng: float = 0.5,
    clock: float = 1_700_000_000.0,
) -> tuple[ModelClient, list[Request]]:
    sent: list[Request] = []

    def handler(request: Request) -> Reply:
        sent.append(request)
        r = responses.pop(0)
        return r(request) if callable(r) else r

    endpoint = Endpoint(
        "acme", wire, "http://model.test", "claude-x", api_key="k", max_retries=max_retries
    )
    client = ModelClient(
        endpoint,
        transport=MockTransport(handler),
        sleep=rec.sleep,
        rng=lambda: rng,
        clock=lambda: clock,
    )
    return client, sent


JSON = {"content-type": "application/json"}


# Each answer is a function, so one can be listed twice (a body is read once).
def answer(status: int, doc: Any, headers: dict[str, str] | None = None) -> Answer:
    return lambda _: Reply(status, {**JSON, **(headers or {})}, [json.dumps(doc).encode()])


def error(status: int, etype: str, headers: dict[str, str] | None = None) -> Answer:
    body = {"type": "error", "error": {"type": etype, "message": f"{etype} happened"}}
    return answer(status, body, headers)


def ok() -> Answer:
    return lambda _: Reply(200, SSE, [HELLO])


def test_retry_after_seconds_is_honoured() -> None:
    rec = Recorder()
    client, sent = make_client([error(429, "rate_limit_error", {"retry-after": "2"}), ok()], rec)
    assert rec.complete(client).text == "Hello"
    assert rec.sleeps == [2.0]
    assert rec.observed == [
        (
            1,
            2.0,
            "acme: HTTP 429 rate_limit_error: rate_limit_error happened"
            " (rate limit or quota: wait, or switch account with --account)",
        )
    ]
    assert len(sent) == 2


def test_retry_after_ms_wins_over_retry_after() -> None:
    rec = Recorder()
    headers = {"retry-after-ms": "1500", "retry-after": "9"}
    client, _ = make_client([error(429, "rate_limit_error", headers), ok()], rec)
    assert client.complete(REQ).text == "Hello"
    assert rec.sleeps == [1.5]


def test_retry_after_http_date() -> None:
    rec = Recorder()
    # The fake clock is 2023-11-14 22:13:20 UTC; the server asks for 22:13:27.
    headers = {"retry-after": "Tue, 14 Nov 2023 22:13:27 GMT"}
    client, _ = make_client([error(503, "overloaded_error", headers), ok()], rec)
    assert client.complete(REQ).text == "Hello"
    assert rec.sleeps == [7.0]


def test_gemini_retry_info_in_body() -> None:
    rec = Recorder()
    body = {
        "error": {
            "code": 429,
            "message": "Resource has been exhausted (e.g. check quota).",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "26s"},
            ],
        }
    }
    gemini_ok = Reply(
        200,
        SSE,
        [
            b'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hi"}]},'
            b'"finishReason":"STOP"}]}\r\n\r\n'
        ],
    )
    client, sent = make_client([answer(429, body), gemini_ok], rec, wire="gemini")
    assert rec.complete(client).text == "Hi"
    assert rec.sleeps == [26.0]
    [(attempt, delay, reason)] = rec.observed
    assert (attempt, delay) == (1, 26.0)
    assert reason.startswith("acme: HTTP 429 RESOURCE_EXHAUSTED: Resource has been exhausted")
    paths = [urlsplit(r.url).path for r in sent]
    assert paths == ["/v1beta/models/claude-x:streamGenerateContent"] * 2


REJECTED = (
    "the provider rejected the request: change what the message names, or pick another --model"
)
BAD_KEY = "check the API key: `bridle models` shows which keys are set"


@pytest.mark.parametrize(
    ("status", "etype", "cls", "fix"),
    [
        (400, "invalid_request_error", BadRequestError, REJECTED),
        (401, "authentication_error", AuthenticationError, BAD_KEY),
        (403, "permission_error", AuthenticationError, BAD_KEY),
        (
            404,
            "not_found_error",
            NotFoundError,
            "check the model name and base_url: `bridle models` lists them",
        ),
        (422, "invalid_request_error", BadRequestError, REJECTED),
    ],
)
def test_client_errors_are_never_retried(status: int, etype: str, cls: type, fix: str) -> None:
    rec = Recorder()
    client, sent = make_client([error(status, etype, {"retry-after": "1"}), ok()], rec)
    with pytest.raises(cls) as info:
        client.complete(REQ)
    assert len(sent) == 1
    assert rec.sleeps == []
    assert str(info.value) == f"acme: HTTP {status} {etype}: {etype} happened ({fix})"
    assert info.value.status == status


@pytest.mark.parametrize(
    ("status", "etype", "cls", "fix"),
    [
        (408, "timeout", ServerError, "the provider failed"),
        (429, "rate_limit_error", RateLimitError, "rate limit or quota: wait"),
        (500, "api_error", ServerError, "the provider failed"),
        (502, "api_error", ServerError, "the provider failed"),
        (503, "api_error", ServerError, "the provider failed"),
        (504, "api_error", ServerError, "the provider failed"),
        (529, "overloaded_error", OverloadedError, "the provider is overloaded"),
    ],
)
def test_final_retryable_failure_is_typed_and_names_the_fix(
    status: int, etype: str, cls: type, fix: str
) -> None:
    rec = Recorder()
    client, sent = make_client([error(status, etype)] * 2, rec, max_retries=1)
    with pytest.raises(cls) as info:
        client.complete(REQ)
    assert len(sent) == 2
    rest = {
        "the provider failed": ": try again later, or pick another --model",
        "the provider is overloaded": ": try again later, or pick another --model",
        "rate limit or quota: wait": ", or switch account with --account",
    }[fix]
    assert str(info.value) == (
        f"acme: HTTP {status} {etype}: {etype} happened (gave up after 2 attempts) ({fix}{rest})"
    )
    assert (info.value.provider, info.value.status) == ("acme", status)


@pytest.mark.parametrize(
    ("status", "etype"),
    [
        (408, "timeout"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (502, "api_error"),
        (503, "api_error"),
        (504, "api_error"),
        (529, "overloaded_error"),
    ],
)
def test_transient_statuses_are_retried_with_backoff(status: int, etype: str) -> None:
    rec = Recorder()
    client, sent = make_client([error(status, etype), error(status, etype), ok()], rec, rng=1.0)
    assert rec.complete(client).text == "Hello"
    # rng=1.0 takes the top of the jitter band: 0.5s then 1s.
    assert rec.sleeps == [0.5, 1.0]
    assert [a for a, _, _ in rec.observed] == [1, 2]
    assert len(sent) == 3


def test_jitter_scales_the_backoff() -> None:
    rec = Recorder()
    client, _ = make_client([error(500, "api_error")] * 3 + [ok()], rec, rng=0.0)
    client.complete(REQ)
    assert rec.sleeps == [0.25, 0.5, 1.0]


def test_final_failure_names_provider_status_and_attempts() -> None:
    rec = Recorder()
    client, sent = make_client([error(529, "overloaded_error")] * 3, rec, max_retries=2)
    with pytest.raises(OverloadedError) as info:
        client.complete(REQ)
    assert len(sent) == 3
    assert str(info.value) == (
        "acme: HTTP 529 overloaded_error: overloaded_error happened (gave up after 3 attempts)"
        " (the provider is overloaded: try again later, or pick another --model)"
    )
    assert info.value.status == 529


def test_rate_limit_final_error_says_how_to_fix() -> None:
    rec = Recorder()
    client, _ = make_client([error(429, "rate_limit_error")], rec, max_retries=0)
    with pytest.raises(RateLimitError) as info:
        client.complete(REQ)
    assert "switch account with --account" in str(info.value)


def test_a_wait_longer_than_max_retry_wait_is_not_waited_for() -> None:
    rec = Recorder()
    client, sent = make_client([error(429, "rate_limit_error", {"retry-after": "3600"}), ok()], rec)
    with pytest.raises(RateLimitError) as info:
        client.complete(REQ)
    assert len(sent) == 1
    assert rec.sleeps == []
    assert info.value.retry_after == 3600.0


def cut(data: bytes) -> Reply:
    """Sends `data`, then fails like a dropped connection."""

    def chunks() -> Iterator[bytes]:
        yield data
        raise TransportError("peer closed connection without sending complete message body")

    return Reply(200, SSE, chunks())


def test_stream_cut_before_first_event_is_retried() -> None:
    rec = Recorder()
    # message_start is not content: nothing was shown, so trying again is safe.
    client, sent = make_client([cut(MESSAGE_START[:40]), cut(MESSAGE_START), ok()], rec)
    events = list(client.stream(REQ))
    broke = (
        "acme: cannot talk to http://model.test/v1/messages: peer closed connection without "
        "sending complete message body (check base_url, e.g. ACME_BASE_URL, and the network)"
    )
    # The retries come first; nothing of the broken attempts was yielded.
    assert events[:2] == [RetryScheduled(1, 0.375, broke), RetryScheduled(2, 0.75, broke)]
    assert not any(isinstance(e, RetryScheduled) for e in events[2:])
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hello"]
    assert len(sent) == 3


def test_stream_cut_after_content_raises_without_repeating_output() -> None:
    rec = Recorder()
    at = HELLO.index(b"event: content_block_stop")
    client, sent = make_client([cut(HELLO[:at]), ok()], rec)
    seen: list[StreamEvent] = []
    with pytest.raises(ConnectionFailed):
        for ev in client.stream(REQ):
            seen.append(ev)
    assert [e.text for e in seen if isinstance(e, TextDelta)] == ["Hello"]
    assert len(sent) == 1
    assert rec.sleeps == []


def test_stream_that_ends_early_without_error_is_retried() -> None:
    rec = Recorder()
    truncated = Reply(200, SSE, [MESSAGE_START])
    client, sent = make_client([truncated, ok()], rec)
    assert rec.complete(client).text == "Hello"
    assert rec.observed == [
        (
            1,
            0.375,
            "acme: the answer from http://model.test/v1/messages ended before the response "
            "was complete (connection cut); it is retried when nothing had been shown yet",
        )
    ]
    assert len(sent) == 2


def test_in_stream_overloaded_error_before_content_is_retried() -> None:
    rec = Recorder()
    overloaded = MESSAGE_START + (
        b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
    )
    client, sent = make_client([Reply(200, SSE, [overloaded]), ok()], rec)
    assert rec.complete(client).text == "Hello"
    assert rec.observed == [
        (
            1,
            rec.sleeps[0],
            "acme: error overloaded_error: Overloaded"
            " (the provider is overloaded: try again later, or pick another --model)",
        )
    ]
    assert len(sent) == 2


def test_in_stream_error_after_content_raises_stream_error() -> None:
    rec = Recorder()
    at = HELLO.index(b"event: content_block_stop")
    body = HELLO[:at] + (
        b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
    )
    client, sent = make_client([Reply(200, SSE, [body]), ok()], rec)
    with pytest.raises(StreamError) as info:
        client.complete(REQ)
    assert str(info.value) == (
        "acme: error overloaded_error: Overloaded"
        " (the provider is overloaded: try again later, or pick another --model)"
    )
    assert len(sent) == 1


def test_json_answer_to_a_streaming_request_is_parsed_whole() -> None:
    rec = Recorder()
    doc: dict[str, Any] = {
        "id": "msg_2",
        "type": "message",
        "model": "claude-x",
        "content": [{"type": "text", "text": "Whole"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 3, "output_tokens": 1},
    }
    client, sent = make_client([answer(200, doc)], rec)
    resp = client.complete(REQ)
    assert sent[0].json()["stream"] is True
    assert (resp.text, resp.raw_stop_reason, resp.usage.input_tokens) == ("Whole", "end_turn", 3)


def test_connection_refused_is_retried_then_named() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens on the port now.
    rec = Recorder()
    endpoint = Endpoint("my-gw", "openai-chat", f"http://127.0.0.1:{port}/v1", "m", max_retries=2)
    client = ModelClient(endpoint, sleep=rec.sleep, rng=lambda: 0.5)
    with pytest.raises(ConnectionFailed) as info:
        rec.complete(client)
    assert rec.sleeps == [0.375, 0.75]
    assert [(a, d) for a, d, _ in rec.observed] == [(1, 0.375), (2, 0.75)]
    message = str(info.value)
    assert message.startswith(f"my-gw: cannot talk to http://127.0.0.1:{port}/v1/chat/completions")
    # The variable named is one resolution reads: a '-' in the name becomes '_'.
    assert "check base_url, e.g. MY_GW_BASE_URL, and the network" in message
    assert message.endswith("(gave up after 3 attempts)")


def test_idle_timeout_is_retried_on_a_stalled_stream() -> None:
    stalled = Scripted(chunks=[MESSAGE_START, HELLO], stall_after=1)
    with LoopbackServer([stalled, Scripted(chunks=[HELLO])]) as server:
        rec = Recorder()
        endpoint = Endpoint("acme", "anthropic-messages", server.base_url, "m", idle_timeout=0.2)
        client = ModelClient(endpoint, sleep=rec.sleep, rng=lambda: 0.5)
        resp = rec.complete(client)
        client.close()
    assert resp.text == "Hello"
    assert rec.observed == [
        (
            1,
            0.375,
            f"acme: no data from {server.base_url}/v1/messages for 0.2s (the provider stalled; "
            "a model that thinks silently for longer needs a larger idle_timeout)",
        )
    ]
    assert len(server.seen) == 2


def test_idle_timeout_after_content_raises_stream_timeout() -> None:
    at = HELLO.index(b"event: content_block_stop")
    stalled = Scripted(chunks=[HELLO[:at], HELLO[at:]], stall_after=1)
    with LoopbackServer([stalled]) as server:
        rec = Recorder()
        endpoint = Endpoint("acme", "anthropic-messages", server.base_url, "m", idle_timeout=0.2)
        client = ModelClient(endpoint, sleep=rec.sleep)
        with pytest.raises(StreamTimeout) as info:
            client.complete(REQ)
        client.close()
    assert str(info.value).startswith(f"acme: no data from {server.base_url}/v1/messages for 0.2s")
    assert rec.sleeps == []


def test_server_error_class_for_plain_500() -> None:
    rec = Recorder()
    client, _ = make_client(
        [Reply(500, {"content-type": "text/html"}, [b"<html>bad gateway</html>"])],
        rec,
        max_retries=0,
    )
    with pytest.raises(ServerError) as info:
        client.complete(REQ)
    assert str(info.value) == (
        "acme: HTTP 500: <html>bad gateway</html>"
        " (the provider failed: try again later, or pick another --model)"
    )


def test_unusable_base_url_is_a_config_error_not_retried() -> None:
    rec = Recorder()
    endpoint = Endpoint("acme", "openai-chat", "ftp://models.example/v1", "m")
    client = ModelClient(endpoint, sleep=rec.sleep)
    with pytest.raises(ConfigError) as info:
        client.complete(REQ)
    assert str(info.value).startswith(
        "providers.acme.base_url: base_url 'ftp://models.example/v1' for acme is not a usable http(s) URL"
    )
    assert rec.sleeps == []
