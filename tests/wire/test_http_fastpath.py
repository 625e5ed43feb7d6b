"""`ModelClient`'s stdlib transport (`wire/transport.py`) against real loopback servers.

A raw socket server answers with exactly scripted bytes, so framing (chunked,
Content-Length, close-delimited), compression, keep-alive, servers that close
between requests, stalls and cuts are what the test says. Every answer is also
decoded through the httpx path, and every failure is raised by both paths, and
the results are compared whole: the two transports must be indistinguishable
except in speed. A subprocess checks that a full `bridle -p` run never imports
httpx, and the existing wire and e2e suites are run again with httpx forced.
"""

from __future__ import annotations

import gzip
import json
import os
import select
import socket
import ssl
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from bridle.core.errors import BridleError, ConfigError, ConnectionFailed
from bridle.core.messages import Message, ModelRequest, ModelResponse, TextPart
from bridle.core.stream import RetryScheduled, TextDelta
from bridle.wire.client import ModelClient
from bridle.wire.endpoint import Endpoint
from bridle.wire.transport import HttpxTransport, StdlibTransport, proxy_applies

ROOT = Path(__file__).resolve().parents[2]
REQ = ModelRequest("claude-x", [Message("user", [TextPart("hi")])])
FIRST = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1",'
    b'"model":"claude-x","usage":{"input_tokens":5,"output_tokens":1}}}\n\n'
    b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
    b'"content_block":{"type":"text","text":""}}\n\n'
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"text_delta","text":"Hello"}}\n\n'
)
REST = (
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"text_delta","text":" there"}}\n\n'
    b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},'
    b'"usage":{"output_tokens":2}}\n\n'
    b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
)
SSE = FIRST + REST
WHOLE = json.dumps(
    {
        "id": "msg_2",
        "type": "message",
        "model": "claude-x",
        "content": [{"type": "text", "text": "Hello there"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 5, "output_tokens": 2},
    }
).encode()

# A self-signed certificate for 127.0.0.1 and localhost, valid 2020-2120, made for
# these tests with the `cryptography` package (CA:TRUE, SKI/AKI, so strict
# OpenSSL verification accepts it as its own root).
CERT = b"""-----BEGIN CERTIFICATE-----
MIIBwTCCAWegAwIBAgIUGg53cKWe9TEhHAUfOcWSy8VN11UwCgYIKoZIzj0EAwIw
HzEdMBsGA1UEAwwUYnJpZGxlLXRlc3QtbG9vcGJhY2swIBcNMjAwMTAxMDAwMDAw
WhgPMjEyMDAxMDEwMDAwMDBaMB8xHTAbBgNVBAMMFGJyaWRsZS10ZXN0LWxvb3Bi
YWNrMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEOVoOhPGIyeQGk2uAlw9GX2pw
lrJ14RKrNqiDVjqA2dJ0plDkPfQC3HkuH3IyrXEoL12V/2HQgSA9tpza7jV7qKN/
MH0wGgYDVR0RBBMwEYcEfwAAAYIJbG9jYWxob3N0MA8GA1UdEwEB/wQFMAMBAf8w
DgYDVR0PAQH/BAQDAgKEMB0GA1UdDgQWBBQ7zZlbliGk+TGjhNIgiXQV3d2sTDAf
BgNVHSMEGDAWgBQ7zZlbliGk+TGjhNIgiXQV3d2sTDAKBggqhkjOPQQDAgNIADBF
AiEAr/GhUOu1slEhJGysItRUawvd/t/neGDCBx1HmG0ue5wCIBuABXOU4FoEaIlc
/azgfIUR/DL1QxIVvwf2d9flpNoj
-----END CERTIFICATE-----
"""
KEY = b"""-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg30Vp9SmuzHXisWpC
TLdItSDqiYFpLbvCFE+dYzgbw2KhRANCAAQ5Wg6E8YjJ5AaTa4CXD0ZfanCWsnXh
Eqs2qINWOoDZ0nSmUOQ99ALceS4fcjKtcSgvXZX/YdCBID22nNruNXuo
-----END PRIVATE KEY-----
"""


@dataclass
class Answer:
    """Raw bytes for one request, written piece by piece."""

    pieces: list[bytes]
    close: bool = False  # close the connection after the pieces
    stall_after: int | None = None  # write this many pieces, then go silent
    gate: threading.Event | None = None  # wait for it before the second piece


@dataclass
class Request:
    connection: int
    head: str
    body: bytes


@dataclass
class RawServer:
    """A loopback server (port 0) answering each request with the next `Answer`.
    It numbers connections, records which one carried each request, and notes
    which connections the client closed and which it closed itself."""

    answers: list[Answer]
    tls: ssl.SSLContext | None = None
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    closed: dict[int, str] = field(default_factory=dict)  # connection -> "client"/"server"

    def __post_init__(self) -> None:
        self._release = threading.Event()
        self._closing = threading.Condition()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def wait_closed(self, connection: int) -> str:
        """Who closed `connection` ("client" or "server"), once it is closed."""
        with self._closing:
            self._closing.wait_for(lambda: connection in self.closed, timeout=10)
        return self.closed.get(connection, "nobody (still open)")

    def _accept(self) -> None:
        self._listener.settimeout(0.05)  # so that `close` is noticed
        while not self._release.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(None)
            self.connections += 1
            args = (sock, self.connections)
            threading.Thread(target=self._serve, args=args, daemon=True).start()

    def _serve(self, sock: socket.socket, number: int) -> None:
        try:
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_side=True)
            self._answer(sock, number)
        except OSError:
            pass
        finally:
            sock.close()
            with self._closing:
                self.closed.setdefault(number, "server")
                self._closing.notify_all()

    def _answer(self, sock: socket.socket, number: int) -> None:
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                data = sock.recv(65536)
                if not data:
                    with self._closing:
                        self.closed[number] = "client"
                        self._closing.notify_all()
                    self._release.wait(30)
                    return
                buf += data
            head, _, buf = buf.partition(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            fields = dict(line.lower().split(": ", 1) for line in lines[1:])
            length = int(fields.get("content-length", "0"))
            while len(buf) < length:
                buf += sock.recv(65536)
            self.requests.append(Request(number, head.decode(), buf[:length]))
            buf = buf[length:]
            answer = self.answers.pop(0)
            for i, piece in enumerate(answer.pieces):
                if i == answer.stall_after:
                    self._stall(sock, number)
                    return
                if i == 1 and answer.gate is not None:
                    answer.gate.wait(10)
                sock.sendall(piece)
            if answer.close:
                return

    def _stall(self, sock: socket.socket, number: int) -> None:
        """Send nothing more, but notice when the client gives up and closes."""
        while not self._release.is_set():
            if select.select([sock], [], [], 0.05)[0] and not sock.recv(65536):
                with self._closing:
                    self.closed[number] = "client"
                    self._closing.notify_all()
                return

    def close(self) -> None:
        self._release.set()
        self._thread.join(5)
        self._listener.close()

    def __enter__(self) -> RawServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def head(status: str, *fields: str, version: str = "HTTP/1.1") -> bytes:
    return "\r\n".join([f"{version} {status}", *fields, "", ""]).encode()


def sized(body: bytes = SSE, *fields: str, ctype: str = "text/event-stream") -> bytes:
    return head("200 OK", f"content-type: {ctype}", f"content-length: {len(body)}", *fields) + body


def frame(data: bytes) -> bytes:
    """One chunk of a chunked body, with an extension a parser must skip."""
    return b"%x;ext=1\r\n%s\r\n" % (len(data), data)


CHUNKED_HEAD = head("200 OK", "content-type: text/event-stream", "transfer-encoding: chunked")
SIZED_HEAD = head("200 OK", "content-type: text/event-stream", "content-length: 9999")


def chunked(body: bytes = SSE, size: int = 97) -> bytes:
    framed = b"".join(frame(body[i : i + size]) for i in range(0, len(body), size))
    return CHUNKED_HEAD + framed + b"0\r\nx-trailer: 1\r\n\r\n"


def endpoint(url: str, *, max_retries: int = 4, idle_timeout: float = 120.0) -> Endpoint:
    return Endpoint(
        "acme",
        "anthropic-messages",
        url,
        "claude-x",
        api_key="k",
        max_retries=max_retries,
        idle_timeout=idle_timeout,
    )


def stdlib(ep: Endpoint, **env: str) -> ModelClient:
    return ModelClient(ep, sleep=lambda _: None, env={"BRIDLE_HTTP_CLIENT": "stdlib", **env})


def via_httpx(body: bytes, *fields: str) -> ModelResponse:
    """The same body and headers decoded by the httpx path."""
    headers = [tuple(f.split(": ", 1)) for f in fields]
    response = httpx.Response(200, headers=headers, content=body)
    ep = endpoint("http://model.test")
    transport = HttpxTransport(transport=httpx.MockTransport(lambda _: response))
    with ModelClient(ep, transport=transport) as client:
        return client.complete(REQ)


SSE_TYPE = "content-type: text/event-stream"
FRAMINGS = {
    "content-length": (sized(), SSE, SSE_TYPE),
    "chunked": (chunked(), SSE, SSE_TYPE),
    "chunked-one-byte-chunks": (chunked(size=1), SSE, SSE_TYPE),
    "until-close": (head("200 OK", SSE_TYPE, version="HTTP/1.0") + SSE, SSE, SSE_TYPE),
    "json": (sized(WHOLE, ctype="application/json"), WHOLE, "content-type: application/json"),
}


@pytest.mark.parametrize("name", FRAMINGS)
def test_every_framing_decodes_as_the_httpx_path_decodes_it(name: str) -> None:
    raw, body, ctype = FRAMINGS[name]
    reuse = name != "until-close"
    # Written in two pieces cut mid-event, so the reads see a split.
    answers = [Answer([raw[:300], raw[300:]], close=not reuse) for _ in range(3)]
    with RawServer(answers) as server:
        with stdlib(endpoint(server.url)) as client:
            got = [client.complete(REQ) for _ in range(3)]
    assert got == [via_httpx(body, ctype)] * 3
    assert got[0].text == "Hello there"
    # Kept alive, one connection carries all three; closed each time, three do.
    assert [r.connection for r in server.requests] == ([1, 1, 1] if reuse else [1, 2, 3])


def test_the_request_on_the_wire() -> None:
    with RawServer([Answer([sized()])]) as server:
        with stdlib(endpoint(server.url + "/api")) as client:
            client.complete(REQ)
    [seen] = server.requests
    lines = seen.head.split("\r\n")
    assert lines[0] == "POST /api/v1/messages HTTP/1.1"
    fields = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
    assert fields["host"] == server.url.removeprefix("http://")
    assert fields["accept-encoding"] == "identity"
    assert fields["user-agent"].startswith("bridle/")
    assert fields["x-api-key"] == "k"
    assert fields["content-length"] == str(len(seen.body))
    assert json.loads(seen.body)["model"] == "claude-x"


def raw_deflate(data: bytes) -> bytes:
    return zlib.compress(data)[2:-4]  # without the zlib wrapping, as some servers send it


@pytest.mark.parametrize(
    ("coding", "encode"),
    [("gzip", gzip.compress), ("deflate", zlib.compress), ("deflate", raw_deflate)],
    ids=["gzip", "deflate-zlib", "deflate-raw"],
)
def test_a_compressed_answer_is_inflated(coding: str, encode: Callable[[bytes], bytes]) -> None:
    packed = encode(SSE)
    raw = sized(packed, f"content-encoding: {coding}")
    with RawServer([Answer([raw[:150], raw[150:]])]) as server:
        with stdlib(endpoint(server.url)) as client:
            got = client.complete(REQ)
    assert got == via_httpx(packed, SSE_TYPE, f"content-encoding: {coding}")
    assert got.text == "Hello there"


def test_events_are_yielded_as_they_arrive() -> None:
    # The server sends the rest only once the client has shown the first text: a
    # transport that waited for the whole body would stall until the idle timeout.
    gate = threading.Event()
    answer = Answer([CHUNKED_HEAD + frame(FIRST), frame(REST) + b"0\r\n\r\n"], gate=gate)
    texts = []
    with RawServer([answer]) as server:
        with stdlib(endpoint(server.url, idle_timeout=10.0)) as client:
            for ev in client.stream(REQ):
                if isinstance(ev, TextDelta):
                    texts.append(ev.text)
                    gate.set()
    assert texts == ["Hello", " there"]


def test_a_server_closing_between_requests_is_reconnected_transparently() -> None:
    # The first answer does not say it closes; the server closes anyway.
    with RawServer([Answer([sized()], close=True), Answer([sized()])]) as server:
        with ModelClient(endpoint(server.url), env={}) as client:
            first = list(client.stream(REQ))
            assert server.wait_closed(1) == "server"
            second = list(client.stream(REQ))
    assert first == second
    assert [ev.text for ev in first if isinstance(ev, TextDelta)] == ["Hello", " there"]
    assert [r.connection for r in server.requests] == [1, 2]
    # Nothing failed, so nothing was retried.
    assert not any(isinstance(ev, RetryScheduled) for ev in first + second)


def test_a_dead_connection_is_replaced_before_the_body_goes_out() -> None:
    # Our side of the idle connection can no longer send, yet nothing is readable
    # on it, so only the write shows it is dead: the request goes out once, anew.
    with RawServer([Answer([sized()]), Answer([sized()])]) as server:
        with ModelClient(endpoint(server.url), env={}) as client:
            client.complete(REQ)
            transport = client.transport
            assert isinstance(transport, StdlibTransport)
            [[idle]] = transport._idle.values()  # the one kept-alive connection
            idle.sock.shutdown(socket.SHUT_WR)
            events = list(client.stream(REQ))
    assert [ev.text for ev in events if isinstance(ev, TextDelta)] == ["Hello", " there"]
    assert [r.connection for r in server.requests] == [1, 2]
    assert not any(isinstance(ev, RetryScheduled) for ev in events)


def test_an_abandoned_stream_closes_its_connection() -> None:
    answers = [Answer([SIZED_HEAD + FIRST, REST], stall_after=1), Answer([sized()])]
    with RawServer(answers) as server:
        with stdlib(endpoint(server.url)) as client:
            events = client.stream(REQ)
            assert any(isinstance(ev, TextDelta) for ev in events)
            events.close()  # type: ignore[attr-defined]
            assert server.wait_closed(1) == "client"
            assert client.complete(REQ).text == "Hello there"
    assert [r.connection for r in server.requests] == [1, 2]


@pytest.mark.parametrize(
    "answer",
    [
        Answer([SIZED_HEAD + SSE, b"never sent"], stall_after=1),  # 9999 bytes promised
        Answer([CHUNKED_HEAD + frame(SSE), b"0\r\n\r\n"], stall_after=1),  # no last chunk
    ],
    ids=["content-length", "chunked"],
)
def test_a_body_that_outlives_its_message_is_not_waited_for(answer: Answer) -> None:
    # The message is complete, but its body is not: the answer is returned and
    # the connection, not reusable, is closed (the next request opens another).
    with RawServer([answer, Answer([sized()])]) as server:
        with stdlib(endpoint(server.url, idle_timeout=60.0)) as client:
            assert client.complete(REQ).text == "Hello there"
            assert server.wait_closed(1) == "client"
            assert client.complete(REQ).text == "Hello there"
    assert [r.connection for r in server.requests] == [1, 2]


def test_close_closes_the_kept_alive_connection() -> None:
    with RawServer([Answer([sized()])]) as server:
        client = stdlib(endpoint(server.url))
        client.complete(REQ)
        assert server.closed == {}
        client.close()
        assert server.wait_closed(1) == "client"


def tls_server_context(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_bytes(CERT)
    key.write_bytes(KEY)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    return tls, cert


def test_https_verifies_with_ssl_cert_file_and_keeps_one_connection(tmp_path: Path) -> None:
    tls, cert = tls_server_context(tmp_path)
    with RawServer([Answer([sized()]), Answer([chunked()])], tls=tls) as server:
        with stdlib(endpoint(server.url), SSL_CERT_FILE=str(cert)) as client:
            assert [client.complete(REQ).text for _ in range(2)] == ["Hello there"] * 2
    assert [r.connection for r in server.requests] == [1, 1]


def test_openssl_is_loaded_by_the_first_https_request_not_by_plain_http(tmp_path: Path) -> None:
    tls, cert = tls_server_context(tmp_path)
    code = (
        "import os, sys\n"
        "from bridle.core.messages import Message, ModelRequest, TextPart\n"
        "from bridle.wire.client import ModelClient\n"
        "from bridle.wire.endpoint import Endpoint\n"
        "req = ModelRequest('claude-x', [Message('user', [TextPart('hi')])])\n"
        "for url in sys.argv[1:]:\n"
        "    ep = Endpoint('acme', 'anthropic-messages', url, 'claude-x', api_key='k')\n"
        "    with ModelClient(ep, env={'SSL_CERT_FILE': os.environ['SSL_CERT_FILE']}) as client:\n"
        "        print(client.complete(req).text, '_ssl' in sys.modules)\n"
        "import http.client, urllib.request\n"  # both whole for anyone else in the process
        "print(http.client.ssl.CERT_REQUIRED, hasattr(urllib.request, 'HTTPSHandler'))\n"
    )
    with (
        RawServer([Answer([sized()])]) as plain,
        RawServer([Answer([sized()])], tls=tls) as secure,
    ):
        done = subprocess.run(
            [sys.executable, "-c", code, plain.url, secure.url],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "SSL_CERT_FILE": str(cert)},
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Hello there False",
        "Hello there True",
        "2 True",  # ssl.CERT_REQUIRED
    ]


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # nothing listens on it now


RATE_LIMITED = b'{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}'
FAILURES: dict[str, tuple[str, Answer | None]] = {
    "refused": ("ConnectionFailed", None),
    "unsupported-scheme": ("ConfigError", None),
    "stall-before-head": ("StreamTimeout", Answer([b"HTTP/1.1 200 OK\r\n"], stall_after=0)),
    "stall-mid-stream": ("StreamTimeout", Answer([SIZED_HEAD + FIRST, REST], stall_after=1)),
    "cut-content-length": ("ConnectionFailed", Answer([SIZED_HEAD + FIRST], close=True)),
    "cut-chunked": (
        "ConnectionFailed",
        Answer([CHUNKED_HEAD + frame(FIRST) + b"40\r\nabc"], close=True),
    ),
    "disconnect-before-answer": ("ConnectionFailed", Answer([], close=True)),
    "bad-gzip": (
        "ConnectionFailed",
        Answer([sized(b"not gzip at all", "content-encoding: gzip")]),
    ),
    "rate-limited": (
        "RateLimitError",
        Answer(
            [
                head(
                    "429 Too Many Requests",
                    "content-type: application/json",
                    f"content-length: {len(RATE_LIMITED)}",
                    "retry-after: 3600",
                )
                + RATE_LIMITED
            ]
        ),
    ),
    "untrusted-certificate": ("ConnectionFailed", Answer([sized()])),
}


def failure(name: str, transport: str, tmp_path: Path) -> tuple[str, str]:
    """(error class, message with the port made neutral) for one failure."""
    answer = FAILURES[name][1]
    tls = tls_server_context(tmp_path)[0] if name == "untrusted-certificate" else None
    with RawServer([answer] if answer else [], tls=tls) as server:
        url = server.url
        if name == "refused":
            url = f"http://127.0.0.1:{unused_port()}"
        elif name == "unsupported-scheme":
            url = "ftp://models.example"
        client = ModelClient(
            endpoint(url, max_retries=0, idle_timeout=0.3), env={"BRIDLE_HTTP_CLIENT": transport}
        )
        with client, pytest.raises(BridleError) as info:
            client.complete(REQ)
    port = str(urlsplit(url).port)
    return type(info.value).__name__, str(info.value).replace(port, "PORT")


@pytest.mark.parametrize("name", FAILURES)
def test_failures_read_the_same_on_both_paths(name: str, tmp_path: Path) -> None:
    fast = failure(name, "stdlib", tmp_path)
    assert fast == failure(name, "httpx", tmp_path)
    assert fast[0] == FAILURES[name][0]


def test_failure_messages_name_the_provider_and_the_fix(tmp_path: Path) -> None:
    fix = "(check base_url, e.g. ACME_BASE_URL, and the network)"
    url = "http://127.0.0.1:PORT/v1/messages"
    assert failure("refused", "stdlib", tmp_path)[1] == (
        f"acme: cannot talk to {url}: [Errno 111] Connection refused {fix}"
    )
    assert failure("cut-content-length", "stdlib", tmp_path)[1] == (
        f"acme: cannot talk to {url}: peer closed connection without sending complete "
        f"message body (received {len(FIRST)} bytes, expected 9999) {fix}"
    )
    assert failure("cut-chunked", "stdlib", tmp_path)[1] == (
        f"acme: cannot talk to {url}: peer closed connection without sending complete "
        f"message body (incomplete chunked read) {fix}"
    )
    assert failure("stall-mid-stream", "stdlib", tmp_path)[1] == (
        f"acme: no data from {url} for 0.3s (the provider stalled; a model that thinks "
        "silently for longer needs a larger idle_timeout)"
    )


def test_a_malformed_status_line_is_a_connection_failure_on_both_paths() -> None:
    # Each parser words the complaint its own way; what the user gets is the same.
    for transport in ("stdlib", "httpx"):
        with RawServer([Answer([b"HTTP/1.1 2xx Fine\r\n\r\n"], close=True)]) as server:
            client = ModelClient(
                endpoint(server.url, max_retries=0), env={"BRIDLE_HTTP_CLIENT": transport}
            )
            with client, pytest.raises(ConnectionFailed) as info:
                client.complete(REQ)
        assert str(info.value).startswith(f"acme: cannot talk to {server.url}/v1/messages: ")
        assert "2xx Fine" in str(info.value)


@pytest.mark.parametrize(
    ("env", "scheme", "expected"),
    [
        ({}, "https", False),
        ({"HTTPS_PROXY": "http://p:3128"}, "https", True),
        ({"https_proxy": "http://p:3128"}, "http", False),
        ({"HTTP_PROXY": "p:3128"}, "http", True),
        ({"ALL_PROXY": "socks5://p:1080"}, "http", True),
        ({"all_proxy": "socks5://p:1080"}, "https", True),
        ({"HTTPS_PROXY": "http://p:3128", "https_proxy": ""}, "https", False),
        ({"HTTP_PROXY": "http://p:3128", "REQUEST_METHOD": "GET"}, "http", False),
        ({"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "*"}, "https", False),
        ({"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "localhost,.internal"}, "https", True),
        ({"NO_PROXY": "localhost"}, "https", False),
        ({"FTP_PROXY": "http://p:3128"}, "https", False),
    ],
)
def test_when_a_proxy_applies(env: dict[str, str], scheme: str, expected: bool) -> None:
    assert proxy_applies(scheme, env) is expected


def test_a_proxy_in_the_environment_sends_the_request_through_httpx(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with RawServer([Answer([sized()])]) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        with ModelClient(endpoint("http://model.test")) as client:
            assert client.complete(REQ).text == "Hello there"
    [seen] = proxy.requests
    # A client names the absolute URL only when it talks to a proxy.
    assert seen.head.startswith("POST http://model.test/v1/messages HTTP/1.1\r\n")


def test_no_proxy_star_keeps_the_stdlib_path(monkeypatch: pytest.MonkeyPatch) -> None:
    with RawServer([]) as proxy, RawServer([Answer([sized()])]) as origin:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "*")
        with ModelClient(endpoint(origin.url)) as client:
            assert client.complete(REQ).text == "Hello there"
    assert proxy.requests == []
    [seen] = origin.requests
    assert seen.head.startswith("POST /v1/messages HTTP/1.1\r\n")
    assert "\r\nAccept-Encoding: identity\r\n" in seen.head


def test_bridle_http_client_picks_the_transport() -> None:
    with RawServer([Answer([sized()]), Answer([sized()])]) as server:
        for transport in ("httpx", "stdlib"):
            env = {"BRIDLE_HTTP_CLIENT": transport}
            with ModelClient(endpoint(server.url), env=env) as client:
                client.complete(REQ)
        bad = ModelClient(endpoint(server.url), env={"BRIDLE_HTTP_CLIENT": "curl"})
        with pytest.raises(ConfigError) as info:
            bad.complete(REQ)
    # httpx asks for compressed answers; the stdlib path asks for none.
    asked = [r.head.lower().split("accept-encoding: ")[1].split("\r\n")[0] for r in server.requests]
    assert asked[0] != "identity"
    assert asked[1] == "identity"
    assert str(info.value) == (
        "BRIDLE_HTTP_CLIENT: 'curl' is not an HTTP client bridle has; use 'stdlib' "
        "(the default) or 'httpx', or unset it"
    )


def test_a_headless_run_never_imports_httpx(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    example = ROOT / "examples" / "buggy-project"
    for name in ("stats.py", "test_stats.py", "README.md"):
        (repo / name).write_bytes((example / name).read_bytes())
    modules = tmp_path / "modules.json"
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.pop("BRIDLE_HTTP_CLIENT", None)
    env["BRIDLE_MOCK_SCENARIO"] = str(example / "scenario.json")
    code = (
        "import atexit, json, runpy, sys\n"
        "def dump():\n"
        f"    with open({str(modules)!r}, 'w') as f:\n"
        "        json.dump(sorted(sys.modules), f)\n"
        "atexit.register(dump)\n"
        "sys.argv = ['bridle', '-p', 'fix the bug', '--model', 'mock/anthropic',"
        " '--dangerously-skip-permissions']\n"
        "runpy.run_module('bridle', run_name='__main__', alter_sys=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "All 3 tests pass" in done.stdout
    assert "len(values) + 1" not in (repo / "stats.py").read_text()  # the fix was applied
    loaded = set(json.loads(modules.read_text()))
    assert "http.client" in loaded  # the model was called over HTTP, the stdlib way
    assert "bridle.wire.transport" in loaded
    assert "bridle.mock.server" in loaded  # by way of the in-process mock server
    assert {m.split(".")[0] for m in loaded} & {"httpx", "httpcore", "h11", "certifi"} == set()
    assert "encodings.idna" not in loaded  # host names go to the resolver as bytes


@pytest.mark.slow
def test_the_wire_and_e2e_suites_pass_with_httpx_forced() -> None:
    env = dict(os.environ, BRIDLE_HTTP_CLIENT="httpx")
    done = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
            "tests/wire", "--ignore", "tests/wire/test_http_fastpath.py",
            "tests/e2e/test_traffic_through_mock.py", "tests/e2e/test_headless.py",
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    assert " passed" in done.stdout.splitlines()[-1]
