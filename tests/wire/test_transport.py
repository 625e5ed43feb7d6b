"""The public `Transport` seam (`wire/transport.py`): `StdlibTransport`,
`HttpxTransport` and `MockTransport` send the same request and hand back the same
`Reply`, fail with the same `TransportError` classes and words, and plug into
`ModelClient`. Also: `RetryScheduled` reaches a stream's reader, a header HTTP
cannot carry is refused before anything is sent (without showing the key), and
importing the client loads no HTTP library until a request is made."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest

from bridle.core.errors import ConfigError, ConnectionFailed
from bridle.core.messages import Message, ModelRequest, TextPart
from bridle.core.stream import RetryScheduled, TextDelta
from bridle.wire._assembler import Assembler
from bridle.wire.client import ModelClient
from bridle.wire.endpoint import Endpoint
from bridle.wire.transport import (
    Headers,
    HttpxTransport,
    InvalidURL,
    MockTransport,
    ReadTimeout,
    Reply,
    Request,
    StdlibTransport,
    Timeout,
    Transport,
    TransportError,
)

from .test_http_fastpath import (
    CHUNKED_HEAD,
    FIRST,
    Answer,
    RawServer,
    frame,
    head,
    unused_port,
)

REQ = ModelRequest("claude-x", [Message("user", [TextPart("hi")])])
QUICK = Timeout(connect=5.0, read=5.0)
KINDS = ["stdlib", "httpx", "mock"]


def real(kind: str) -> Transport:
    return StdlibTransport(env={}) if kind == "stdlib" else HttpxTransport(verify=False)


def exchange(
    kind: str, answer: Answer, mock_reply: Callable[[Request], Reply]
) -> tuple[Reply, bytes, dict[str, str], str, bytes]:
    """(reply, its body, request headers, request target, request body) for one
    POST through `kind`: the real ones to a raw server, the mock to its handler."""
    url_path = "/v1/x?q=a%20b"
    body = b'{"a":1}'
    headers = {"X-Api-Key": "k-1", "Content-Type": "application/json"}
    if kind == "mock":
        seen: list[Request] = []

        def handler(request: Request) -> Reply:
            seen.append(request)
            return mock_reply(request)

        transport: Transport = MockTransport(handler)
        with transport.send("POST", "http://model.test" + url_path, headers, body, QUICK) as r:
            got = b"".join(r.chunks)
        [req] = seen
        parts = urlsplit(req.url)
        return r, got, dict(req.headers), f"{parts.path}?{parts.query}", req.body
    with RawServer([answer]) as server:
        transport = real(kind)
        with transport.send("POST", server.url + url_path, headers, body, QUICK) as r:
            got = b"".join(r.chunks)
        transport.close()
    [seen_raw] = server.requests
    request_line, *lines = seen_raw.head.split("\r\n")
    fields = dict(line.lower().split(": ", 1) for line in lines)
    return r, got, fields, request_line.split(" ")[1], seen_raw.body


@pytest.mark.parametrize("kind", KINDS)
def test_every_transport_sends_and_streams_alike(kind: str) -> None:
    answer = Answer(
        [
            head(
                "201 Created",
                "content-type: text/event-stream",
                "X-Thing: a",
                "x-thing: b",
                "transfer-encoding: chunked",
            )
            + frame(b"one"),
            frame(b"two") + b"0\r\n\r\n",
        ]
    )
    pairs = [("content-type", "text/event-stream"), ("X-Thing", "a"), ("x-thing", "b")]
    reply, body, fields, target, sent = exchange(
        kind, answer, lambda _: Reply(201, pairs, [b"one", b"two"])
    )
    assert (reply.status, body) == (201, b"onetwo")
    # Case-insensitive, a repeated field joined as httpx joins it.
    assert reply.headers["X-THING"] == "a, b"
    assert reply.headers.get("Content-Type") == "text/event-stream"
    assert target == "/v1/x?q=a%20b"
    assert sent == b'{"a":1}'
    assert fields["x-api-key"] == "k-1"
    assert fields["user-agent"].startswith("bridle/")
    if kind != "mock":
        assert fields["content-length"] == "7"


@pytest.mark.parametrize("kind", ["stdlib", "httpx"])
def test_a_stall_is_a_read_timeout_before_and_after_the_head(kind: str) -> None:
    short = Timeout(connect=5.0, read=0.2)
    with RawServer([Answer([b"HTTP/1.1 200 OK\r\n"], stall_after=0)]) as server:
        transport = real(kind)
        with pytest.raises(ReadTimeout):
            transport.send("POST", server.url, {}, b"", short)
        transport.close()
    answer = Answer([CHUNKED_HEAD + frame(FIRST), b"never"], stall_after=1)
    with RawServer([answer]) as server:
        transport = real(kind)
        with transport.send("POST", server.url, {}, b"", short) as reply:
            assert next(reply.chunks) == FIRST
            with pytest.raises(ReadTimeout):
                next(reply.chunks)
        transport.close()
        assert server.wait_closed(1) == "client"


@pytest.mark.parametrize("kind", ["stdlib", "httpx"])
def test_refused_and_unusable_urls_fail_alike(kind: str) -> None:
    transport = real(kind)
    with pytest.raises(TransportError) as refused:
        transport.send("POST", f"http://127.0.0.1:{unused_port()}/", {}, b"", QUICK)
    assert type(refused.value) is TransportError
    assert str(refused.value) == "[Errno 111] Connection refused"
    with pytest.raises(InvalidURL) as bad:
        transport.send("POST", "ftp://models.example/", {}, b"", QUICK)
    assert str(bad.value) == "Request URL has an unsupported protocol 'ftp://'."
    transport.close()


def test_an_unread_reply_closes_its_connection_and_a_read_one_is_reused() -> None:
    answers = [Answer([CHUNKED_HEAD + frame(FIRST), b"never"], stall_after=1)]
    answers += [Answer([head("200 OK", "content-length: 2") + b"ok"]) for _ in range(2)]
    with RawServer(answers) as server:
        transport = StdlibTransport(env={})
        with transport.send("POST", server.url, {}, b"", QUICK) as reply:
            assert next(reply.chunks) == FIRST  # and the rest is never read
        assert server.wait_closed(1) == "client"
        for _ in range(2):
            with transport.send("POST", server.url, {}, b"", QUICK) as reply:
                assert b"".join(reply.chunks) == b"ok"
        transport.close()
        assert server.wait_closed(2) == "client"
    assert [r.connection for r in server.requests] == [1, 2, 2]


def test_reply_closes_once_and_headers_fold_case() -> None:
    closed: list[int] = []
    reply = Reply(200, {"A": "1"}, iter([b"x"]), on_close=lambda: closed.append(1))
    with reply:
        pass
    reply.close()
    assert closed == [1]
    headers = Headers([("Set-Thing", "1"), ("set-thing", "2"), ("Other", "x")])
    assert dict(headers) == {"set-thing": "1, 2", "other": "x"}
    assert "SET-THING" in headers and "missing" not in headers


ENDPOINT = Endpoint("acme", "anthropic-messages", "http://model.test", "claude-x", api_key="k")


def mock_client(
    handler: Callable[[Request], Reply], sleep: Callable[[float], None] = lambda _: None
) -> ModelClient:
    return ModelClient(ENDPOINT, transport=MockTransport(handler), sleep=sleep, rng=lambda: 0.5)


def sse(*texts: str) -> bytes:
    events = [
        {"type": "message_start", "message": {"id": "m", "model": "claude-x", "usage": {}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        *(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}}
            for t in texts
        ),
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {}},
        {"type": "message_stop"},
    ]
    return b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)


def test_model_client_runs_on_a_mock_transport() -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Reply:
        seen.append(request)
        return Reply(200, {"content-type": "text/event-stream"}, [sse("Hel", "lo")])

    with mock_client(handler) as client:
        assert client.complete(REQ).text == "Hello"
    [request] = seen
    assert (request.method, request.url) == ("POST", "http://model.test/v1/messages")
    assert request.headers["x-api-key"] == "k"
    assert (request.json()["model"], request.json()["stream"]) == ("claude-x", True)
    assert request.timeout == Timeout(ENDPOINT.connect_timeout, ENDPOINT.idle_timeout)


def test_retries_are_stream_events_read_before_the_wait() -> None:
    answers = iter(
        [
            Reply(529, {"content-type": "application/json"}, [b'{"type":"error","error":'
                  b'{"type":"overloaded_error","message":"busy"}}']),
            Reply(200, {"content-type": "text/event-stream"}, [sse("ok")]),
        ]
    )  # fmt: skip
    log: list[str] = []
    client = mock_client(lambda _: next(answers), sleep=lambda s: log.append(f"sleep {s}"))
    asm = Assembler("anthropic-messages", "acme")
    for ev in client.stream(REQ):
        if isinstance(ev, RetryScheduled):
            log.append(f"retry {ev.attempt} after {ev.delay}: {ev.reason}")
        elif isinstance(ev, TextDelta):
            log.append(f"text {ev.text}")
        asm.feed(ev)  # the assembler lets the retry event pass
    assert log == [
        "retry 1 after 0.375: acme: HTTP 529 overloaded_error: busy"
        " (the provider is overloaded: try again later, or pick another --model)",
        "sleep 0.375",
        "text ok",
    ]
    assert asm.result().text == "ok"


def test_a_mock_handler_can_cut_a_stream() -> None:
    def cut(_: Request) -> Reply:
        def chunks() -> Iterator[bytes]:
            yield sse("partial")[:200]
            raise TransportError("peer closed connection without sending complete message body")

        return Reply(200, {"content-type": "text/event-stream"}, chunks())

    with mock_client(cut) as client, pytest.raises(ConnectionFailed) as info:
        client.complete(REQ)
    assert "peer closed connection" in str(info.value)
    assert str(info.value).endswith("(gave up after 5 attempts)")


def test_a_header_http_cannot_carry_is_refused_before_sending() -> None:
    sent: list[Request] = []
    ep = Endpoint(
        "acme", "anthropic-messages", "http://model.test", "claude-x", api_key="sk-secret\n"
    )
    client = ModelClient(ep, transport=MockTransport(lambda r: sent.append(r) or Reply(500)))
    with pytest.raises(ConfigError) as info:
        client.complete(REQ)
    assert sent == []
    assert "sk-secret" not in str(info.value)
    assert str(info.value).startswith(
        "providers.acme: the 'x-api-key' header for acme cannot be sent: it holds a line break"
    )


def test_close_closes_only_the_transport_the_client_opened() -> None:
    given = MockTransport(lambda _: Reply(200))
    with ModelClient(Endpoint("acme", "openai-chat", "http://x.test", "m"), transport=given):
        pass
    assert given.closed is False


def test_importing_the_client_loads_no_http_library() -> None:
    code = (
        "import sys, bridle.wire.client\n"
        "print(sorted(m for m in ('http.client', 'ssl', 'httpx', 'email.parser')"
        " if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_stdlib_default_is_chosen_without_a_proxy() -> None:
    ep = Endpoint("acme", "openai-chat", "http://127.0.0.1:9/v1", "m")
    assert isinstance(ModelClient(ep, env={}).transport, StdlibTransport)
    proxied = ModelClient(ep, env={"HTTP_PROXY": "http://proxy.test:3128"})
    assert isinstance(proxied.transport, HttpxTransport)
    proxied.close()
