"""Retry behaviour of `ModelClient`: which failures are retried, how long it
waits (server hints first, else exponential backoff with jitter), that a stream
is only retried before it has shown anything, and the idle timeout. Sleeps go
to a recorder, so no test waits on a clock; the idle timeout uses a real
loopback server that stalls."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from bridle.core.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigError,
    ConnectionFailed,
    NotFoundError,
    OverloadedError,
    ProviderError,
    RateLimitError,
    ServerError,
    StreamError,
    StreamTimeout,
)
from bridle.core.messages import Message, ModelRequest, TextPart
from bridle.core.stream import StreamEvent, TextDelta
from bridle.wire.client import ModelClient
from bridle.wire.endpoint import Endpoint

from .loopback import LoopbackServer, Reply

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
    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.observed: list[tuple[int, float, str]] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def observe(self, attempt: int, delay: float, error: ProviderError) -> None:
        self.observed.append((attempt, delay, type(error).__name__))


def make_client(
    responses: list[Callable[[httpx.Request], httpx.Response]] | list[httpx.Response],
    rec: Recorder,
    *,
    wire: str = "anthropic-messages",
    max_retries: int = 4,
    rng: float = 0.5,
    clock: float = 1_700_000_000.0,
) -> tuple[ModelClient, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        r = responses.pop(0)
        return r(request) if callable(r) else r

    endpoint = Endpoint(
        "acme", wire, "http://model.test", "claude-x", api_key="k", max_retries=max_retries
    )
    client = ModelClient(
        endpoint,
        transport=httpx.MockTransport(handler),
        sleep=rec.sleep,
        rng=lambda: rng,
        clock=lambda: clock,
        retry_observer=rec.observe,
    )
    return client, sent


def error(status: int, etype: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"type": "error", "error": {"type": etype, "message": f"{etype} happened"}}
    return httpx.Response(status, json=body, headers=headers or {})


def ok() -> httpx.Response:
    return httpx.Response(200, content=HELLO, headers=SSE)


def test_retry_after_seconds_is_honoured() -> None:
    rec = Recorder()
    client, sent = make_client([error(429, "rate_limit_error", {"retry-after": "2"}), ok()], rec)
    assert client.complete(REQ).text == "Hello"
    assert rec.sleeps == [2.0]
    assert rec.observed == [(1, 2.0, "RateLimitError")]
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
    gemini_ok = httpx.Response(
        200,
        content=b'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hi"}]},'
        b'"finishReason":"STOP"}]}\r\n\r\n',
        headers=SSE,
    )
    client, sent = make_client([httpx.Response(429, json=body), gemini_ok], rec, wire="gemini")
    assert client.complete(REQ).text == "Hi"
    assert rec.sleeps == [26.0]
    assert rec.observed == [(1, 26.0, "RateLimitError")]
    assert [r.url.path for r in sent] == ["/v1beta/models/claude-x:streamGenerateContent"] * 2


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
    assert client.complete(REQ).text == "Hello"
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


class CutStream(httpx.SyncByteStream):
    """Sends `data`, then fails like a dropped connection."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __iter__(self) -> Iterator[bytes]:
        yield self.data
        raise httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body"
        )


def cut(data: bytes) -> httpx.Response:
    return httpx.Response(200, stream=CutStream(data), headers=SSE)


def test_stream_cut_before_first_event_is_retried() -> None:
    rec = Recorder()
    # message_start is not content: nothing was shown, so trying again is safe.
    client, sent = make_client([cut(MESSAGE_START[:40]), cut(MESSAGE_START), ok()], rec)
    events = list(client.stream(REQ))
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hello"]
    assert len(sent) == 3
    assert [name for _, _, name in rec.observed] == ["ConnectionFailed", "ConnectionFailed"]


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
    truncated = httpx.Response(200, content=MESSAGE_START, headers=SSE)
    client, sent = make_client([truncated, ok()], rec)
    assert client.complete(REQ).text == "Hello"
    assert len(sent) == 2


def test_in_stream_overloaded_error_before_content_is_retried() -> None:
    rec = Recorder()
    overloaded = MESSAGE_START + (
        b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
    )
    client, sent = make_client([httpx.Response(200, content=overloaded, headers=SSE), ok()], rec)
    assert client.complete(REQ).text == "Hello"
    assert rec.observed == [(1, rec.sleeps[0], "StreamError")]
    assert len(sent) == 2


def test_in_stream_error_after_content_raises_stream_error() -> None:
    rec = Recorder()
    at = HELLO.index(b"event: content_block_stop")
    body = HELLO[:at] + (
        b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
    )
    client, sent = make_client([httpx.Response(200, content=body, headers=SSE), ok()], rec)
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
    client, sent = make_client([httpx.Response(200, json=doc)], rec)
    resp = client.complete(REQ)
    assert json.loads(sent[0].content)["stream"] is True
    assert (resp.text, resp.raw_stop_reason, resp.usage.input_tokens) == ("Whole", "end_turn", 3)


def test_connection_refused_is_retried_then_named() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens on the port now.
    rec = Recorder()
    endpoint = Endpoint("my-gw", "openai-chat", f"http://127.0.0.1:{port}/v1", "m", max_retries=2)
    client = ModelClient(endpoint, sleep=rec.sleep, rng=lambda: 0.5, retry_observer=rec.observe)
    with pytest.raises(ConnectionFailed) as info:
        client.complete(REQ)
    assert rec.sleeps == [0.375, 0.75]
    message = str(info.value)
    assert message.startswith(f"my-gw: cannot talk to http://127.0.0.1:{port}/v1/chat/completions")
    # The variable named is one resolution reads: a '-' in the name becomes '_'.
    assert "check base_url, e.g. MY_GW_BASE_URL, and the network" in message
    assert message.endswith("(gave up after 3 attempts)")


def test_idle_timeout_is_retried_on_a_stalled_stream() -> None:
    stalled = Reply(chunks=[MESSAGE_START, HELLO], stall_after=1)
    with LoopbackServer([stalled, Reply(chunks=[HELLO])]) as server:
        rec = Recorder()
        endpoint = Endpoint("acme", "anthropic-messages", server.base_url, "m", idle_timeout=0.2)
        client = ModelClient(endpoint, sleep=rec.sleep, rng=lambda: 0.5, retry_observer=rec.observe)
        resp = client.complete(REQ)
        client.close()
    assert resp.text == "Hello"
    assert rec.observed == [(1, 0.375, "StreamTimeout")]
    assert len(server.seen) == 2


def test_idle_timeout_after_content_raises_stream_timeout() -> None:
    at = HELLO.index(b"event: content_block_stop")
    stalled = Reply(chunks=[HELLO[:at], HELLO[at:]], stall_after=1)
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
        [httpx.Response(500, text="<html>bad gateway</html>")], rec, max_retries=0
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
