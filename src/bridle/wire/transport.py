"""The HTTP seam under `ModelClient`: a `Transport` sends one request and hands back
a `Reply` whose body is read as it arrives.

Three transports share the protocol. `StdlibTransport`, the default, stands on the
standard library's `http.client` (HTTP/1.1 framing, chunking and keep-alive are its
job): it keeps idle connections per origin, drops one the server closed while it
waited, reopens once when a reused connection fails while the request is written,
and sets up TLS only for https, with the system's certificates or SSL_CERT_FILE /
SSL_CERT_DIR. `HttpxTransport` serves what it does not: proxies from the
environment, credentials in a URL, or BRIDLE_HTTP_CLIENT=httpx (`proxy_applies`
tells the caller when). `MockTransport` answers from a function in process, for
tests. Every transport raises the small `TransportError` tree below, so the client
maps failures at one boundary into the same messages whichever carried the request.
Answers stay uncompressed (`Accept-Encoding: identity`); a server that compresses
anyway is inflated for gzip and deflate. Deliberately absent: redirects, cookies,
auth, HTTP/2 and pipelining. Nothing heavy is imported until a request is sent.
`StdlibTransport` attaches each exchange's socket to the calling thread's
`core.cancel` scope, so an interrupt stops a read that waits on the model;
`HttpxTransport` does once the response's headers are in.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol
from urllib.parse import quote, urlsplit

from bridle import __version__
from bridle.core import cancel

if TYPE_CHECKING:
    import http.client
    import ssl

    import httpx

USER_AGENT = f"bridle/{__version__}"
_READ_SIZE = 65536  # one read returns whatever has arrived, up to this much
_URL_SAFE = "/:@!$&'()*+,;=%~"  # RFC 3986 pchar and "/"; "%" keeps escapes as sent
_FRAMING_GRACE = 0.5  # seconds to wait for the end of a body whose message is complete

Origin = tuple[str, str, int]  # scheme, host, port


class TransportError(Exception):
    """The exchange failed below HTTP semantics (refused, reset, cut, TLS, garbled)."""


class ConnectTimeout(TransportError):
    """No connection (or TLS handshake) within the connect timeout."""


class WriteTimeout(TransportError):
    """The request could not be written within the read timeout."""


class ReadTimeout(TransportError):
    """No byte of the answer arrived within the read (idle) timeout."""


class InvalidURL(TransportError):
    """The URL is not an absolute http(s) URL."""


class Timeout(NamedTuple):
    connect: float  # seconds to connect, TLS handshake included
    read: float  # seconds any one read or write may wait


class Headers(Mapping[str, str]):
    """Header fields looked up case-insensitively; a repeated field's values are
    joined with ", "."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items: dict[str, str] = {}
        for name, value in pairs:
            key = name.lower()
            old = self._items.get(key)
            self._items[key] = value if old is None else f"{old}, {value}"

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


class Reply:
    """An answer whose body is still arriving: `chunks` yields its bytes as they
    come. Close it (or use `with`) once done: a connection whose body was read to
    its end is kept for the next request, any other is closed."""

    __slots__ = ("_on_close", "chunks", "headers", "status")

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        chunks: Iterable[bytes] = (),
        *,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.status = status
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        self.chunks: Iterator[bytes] = iter(chunks)
        self._on_close = on_close

    def close(self) -> None:
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()

    def __enter__(self) -> Reply:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Transport(Protocol):
    """Sends requests; may be shared between threads. `send` raises
    `TransportError`s only, also while `Reply.chunks` is read."""

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: Timeout
    ) -> Reply: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Request:
    """What `MockTransport` hands its handler."""

    method: str
    url: str
    headers: Headers
    body: bytes
    timeout: Timeout

    def json(self) -> Any:
        return json.loads(self.body)


class MockTransport:
    """Answers each request with `handler(request)`, in process and without
    sockets, like httpx's MockTransport. A handler fails an exchange by raising a
    `TransportError`, or cuts a stream by raising one from its chunks."""

    def __init__(self, handler: Callable[[Request], Reply]) -> None:
        self.handler = handler
        self.closed = False

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: Timeout
    ) -> Reply:
        _split_url(url)  # refused as the real transports refuse it
        fields = Headers({"user-agent": USER_AGENT, **headers})
        return self.handler(Request(method, url, fields, body, timeout))

    def close(self) -> None:
        self.closed = True


class StdlibTransport:
    """`http.client` connections kept alive per origin; each exchange holds its
    own, and idle ones wait in a per-origin stack."""

    def __init__(self, *, env: Mapping[str, str] | None = None) -> None:
        self._env = os.environ if env is None else env
        self._tls: ssl.SSLContext | None = None
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        """Close idle connections; one still streaming closes when its reply does."""
        with self._lock:
            self._closed = True
            idle = [c for stack in self._idle.values() for c in stack]
            self._idle.clear()
        for conn in idle:
            conn.close()

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: Timeout
    ) -> Reply:
        from bridle.wire import _http

        origin, target = _split_url(url)
        named = {
            "accept": ("Accept", "*/*"),
            "accept-encoding": ("Accept-Encoding", "identity"),
            "user-agent": ("User-Agent", USER_AGENT),
        }
        for name, value in headers.items():
            if name.lower() not in ("host", "content-length", "transfer-encoding"):
                named[name.lower()] = (name, value)
        fields = dict(named.values())
        scope = cancel.current()  # an interrupt shuts the socket: a blocked read returns
        conn = self._reusable(origin)
        sock = None
        try:
            with _http.translated_errors():
                if conn is not None:
                    sock = _attach(scope, conn.sock)
                    try:
                        _http.send_request(conn, method, target, body, fields, timeout.read)
                    except ConnectionError:
                        # The server dropped the idle connection while the request was
                        # being written, so it cannot have acted on it: send it anew.
                        _detach(scope, sock)
                        conn.close()
                        conn = None
                if conn is None:
                    conn = self._connect(origin, timeout)
                    sock = _attach(scope, conn.sock)
                    _http.send_request(conn, method, target, body, fields, timeout.read)
                try:
                    resp = conn.getresponse()
                except BaseException:
                    conn.close()
                    raise
        except BaseException:
            _detach(scope, sock)
            raise
        exchange = _Exchange(self, origin, conn, resp, timeout)

        def done() -> None:
            _detach(scope, sock)
            exchange.close()

        return Reply(resp.status, resp.getheaders(), exchange.chunks(), on_close=done)

    def _reusable(self, origin: Origin) -> http.client.HTTPConnection | None:
        from bridle.wire import _http

        while True:
            with self._lock:
                stack = self._idle.get(origin)
                conn = stack.pop() if stack else None
            if conn is None or _http.idle_and_open(conn):
                return conn
            conn.close()  # the server closed it while it waited

    def _release(self, origin: Origin, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if not self._closed:
                self._idle.setdefault(origin, []).append(conn)
                return
        conn.close()

    def _connect(self, origin: Origin, timeout: Timeout) -> http.client.HTTPConnection:
        from bridle.wire import _http

        scheme, host, port = origin
        conn: http.client.HTTPConnection
        if scheme == "https":
            if self._tls is None:
                self._tls = _http.tls_context(self._env)
            conn = _http.TLSConnection(host, port, timeout=timeout.connect, context=self._tls)
        else:
            conn = _http.PlainConnection(host, port, timeout=timeout.connect)
        try:
            conn.connect()
        except TimeoutError as e:
            conn.close()
            raise ConnectTimeout(str(e) or "timed out") from e
        except BaseException:
            conn.close()
            raise
        return conn


def _attach(scope: cancel.CancelScope | None, sock: Any) -> Any:
    """`sock` joins the call's cancel scope, if it runs in one; returns `sock`."""
    if scope is not None and sock is not None:
        scope.attach(sock)
    return sock


def _detach(scope: cancel.CancelScope | None, sock: Any) -> None:
    if scope is not None and sock is not None:
        scope.detach(sock)


class _Exchange:
    """One response being read, and what happens to its connection after."""

    __slots__ = ("broken", "conn", "done", "origin", "resp", "timeout", "transport")

    def __init__(
        self,
        transport: StdlibTransport,
        origin: Origin,
        conn: http.client.HTTPConnection,
        resp: http.client.HTTPResponse,
        timeout: Timeout,
    ) -> None:
        self.transport, self.origin, self.conn = transport, origin, conn
        self.resp, self.timeout = resp, timeout
        self.done = self.broken = False

    def chunks(self) -> Iterator[bytes]:
        from bridle.wire import _http

        raw = self._raw()
        coding = self.resp.getheader("content-encoding")
        return _http.decoded(raw, coding) if coding else raw

    def _raw(self) -> Iterator[bytes]:
        from bridle.wire import _http

        resp = self.resp
        expected = resp.length
        try:
            with _http.translated_errors():
                while piece := resp.read1(_READ_SIZE):
                    yield piece
            if resp.length:  # `read1` ends a cut Content-Length body quietly
                got = (expected or 0) - resp.length
                raise TransportError(f"{_http.CUT} (received {got} bytes, expected {expected})")
        except TransportError:
            self.broken = True
            raise
        resp.close()
        self.done = True

    def close(self) -> None:
        conn, resp = self.conn, self.resp
        if not (self.done or self.broken or resp.will_close or conn.sock is None):
            # The caller stopped at the wire's end marker; the body's framing (a
            # chunked body's last chunk) usually follows at once. Read it to reuse
            # the connection, but do not wait on a server that lags or keeps talking.
            conn.sock.settimeout(min(self.timeout.read, _FRAMING_GRACE))
            try:
                left = _READ_SIZE
                while left > 0 and (piece := resp.read1(_READ_SIZE)):
                    left -= len(piece)
                if not resp.length and left > 0:
                    resp.close()
                    self.done = True
            except Exception:
                pass
        if self.done and not resp.will_close and conn.sock is not None:
            self.transport._release(self.origin, conn)
        else:
            resp.close()
            conn.close()


def _split_url(url: str) -> tuple[Origin, str]:
    """(origin, request target) for an absolute http(s) URL, refused in httpx's
    words when it is not one."""
    try:
        parts = urlsplit(url)
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError as e:
        raise InvalidURL(str(e)) from e
    if scheme not in ("http", "https") and "://" in url:
        raise InvalidURL(f"Request URL has an unsupported protocol '{scheme}://'.")
    if scheme not in ("http", "https") or not host:
        raise InvalidURL("Request URL is missing an 'http://' or 'https://' protocol.")
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    target = quote(parts.path or "/", safe=_URL_SAFE)
    if parts.query:
        target += "?" + quote(parts.query, safe=_URL_SAFE + "?")
    return (scheme, host, port or (443 if scheme == "https" else 80)), target


def proxy_applies(scheme: str, env: Mapping[str, str]) -> bool:
    """Whether httpx (which trusts the environment) would send a request for
    `scheme` through a proxy: `<scheme>_proxy` or `all_proxy` is set, read the way
    urllib reads them (lower case wins, an empty lower-case value unsets), and
    NO_PROXY is not `*`. Per-host NO_PROXY entries are left to httpx to apply."""
    proxies: dict[str, str] = {}
    for name, value in env.items():
        if value and name[-6:].lower() == "_proxy":
            proxies[name[:-6].lower()] = value
    if "REQUEST_METHOD" in env:  # CGI: HTTP_PROXY may come from a client header
        proxies.pop("http", None)
    for name, value in env.items():
        if name[-6:] == "_proxy":
            if value:
                proxies[name[:-6].lower()] = value
            else:
                proxies.pop(name[:-6].lower(), None)
    if not proxies and sys.platform in ("darwin", "win32"):
        import urllib.request  # system proxy settings, as httpx reads them there

        proxies = urllib.request.getproxies()
    if not (proxies.get(scheme) or proxies.get("all")):
        return False
    return "*" not in [h.strip() for h in proxies.get("no", "").split(",")]


class HttpxTransport:
    """httpx, for proxies (HTTP(S)_PROXY/ALL_PROXY with NO_PROXY, read by httpx
    from the environment), credentials in a URL, or by choice. `verify=False`
    skips loading the CA bundle (~25 ms) for clients that only talk plain http;
    `transport` is an httpx transport, for tests."""

    def __init__(self, *, verify: bool = True, transport: httpx.BaseTransport | None = None):
        import httpx

        self._client = httpx.Client(
            transport=transport, verify=verify, headers={"user-agent": USER_AGENT}
        )

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: Timeout
    ) -> Reply:
        import httpx

        limits = httpx.Timeout(
            connect=timeout.connect, read=timeout.read, write=timeout.read, pool=timeout.connect
        )
        with _httpx_errors():
            req = self._client.build_request(
                method, url, content=body, headers=dict(headers), timeout=limits
            )
            resp = self._client.send(req, stream=True)
        # Once the headers are in, the body's socket joins the call's cancel scope
        # (before them httpx gives no socket: an interrupt waits for the first chunk).
        scope = cancel.current()
        network = resp.extensions.get("network_stream")
        sock = _attach(scope, network.get_extra_info("socket") if network is not None else None)

        def done() -> None:
            _detach(scope, sock)
            resp.close()

        return Reply(resp.status_code, resp.headers.multi_items(), _httpx_body(resp), on_close=done)

    def close(self) -> None:
        self._client.close()


def _httpx_body(resp: httpx.Response) -> Iterator[bytes]:
    with _httpx_errors():
        yield from resp.iter_bytes()


@contextmanager
def _httpx_errors() -> Iterator[None]:
    """httpx's exceptions as ours, in their words."""
    import httpx

    try:
        yield
    except httpx.ReadTimeout as e:
        raise ReadTimeout(str(e)) from e
    except httpx.WriteTimeout as e:
        raise WriteTimeout(str(e)) from e
    except httpx.TimeoutException as e:
        raise ConnectTimeout(str(e)) from e
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as e:
        raise InvalidURL(str(e)) from e
    except httpx.RequestError as e:
        raise TransportError(str(e)) from e
