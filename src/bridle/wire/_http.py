"""A lean HTTP/1.1 client on the standard library: `ModelClient`'s default transport.

`HTTPClient.send` POSTs a body and streams the answer back as (status, headers,
byte chunks). Connections are kept alive and reused per origin; an idle one is
checked for a server-side close before reuse, and one that proves dead before any
byte of the body went out is replaced once, transparently. TLS is set up only for
https, with the system's certificates (or SSL_CERT_FILE / SSL_CERT_DIR, read as
httpx reads them). Bodies are framed by chunked encoding, Content-Length or the
connection closing, and are read as they arrive; gzip/deflate is undone when a
server compresses despite `Accept-Encoding: identity`. Failures are raised as the
small exception tree below, named and split like httpx's, so that `client.py`
maps both transports at one boundary into the same messages. Deliberately absent:
proxies (`proxy_applies` tells the caller to use httpx instead), redirects,
cookies, auth, HTTP/2 and pipelining.
"""

from __future__ import annotations

import os
import re
import select
import socket
import sys
import threading
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from bridle import __version__

if TYPE_CHECKING:
    import ssl

USER_AGENT = f"bridle/{__version__}"
_READ_SIZE = 65536  # one recv: returns whatever has arrived, up to this much
_MAX_HEAD = 100 * 1024  # httpcore's limit for a response head
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})(?: [^\r\n]*)?")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEX = b"0123456789abcdefABCDEF"
_URL_SAFE = "/:@!$&'()*+,;=%~"  # RFC 3986 pchar and "/"; "%" keeps escapes as sent
_CUT = "peer closed connection without sending complete message body"
_FRAMING_GRACE = 0.5  # seconds to wait for the end of a body whose message is complete

Origin = tuple[str, str, int]  # scheme, host, port


class TransportError(Exception):
    """The exchange failed below HTTP semantics (httpx.RequestError's counterpart)."""


class TimeoutException(TransportError):
    pass


class ConnectTimeout(TimeoutException):
    pass


class ReadTimeout(TimeoutException):
    pass


class WriteTimeout(TimeoutException):
    pass


class ConnectError(TransportError):
    pass


class ReadError(TransportError):
    pass


class WriteError(TransportError):
    pass


class RemoteProtocolError(TransportError):
    pass


class LocalProtocolError(TransportError):
    pass


class DecodingError(TransportError):
    pass


class UnsupportedProtocol(TransportError):
    pass


class InvalidURL(TransportError):
    pass


class _Unsent(Exception):
    """A reused connection failed before any byte of the body left: the server
    cannot have acted on the request, so it may go out again on a new one."""


class Headers(Mapping[str, str]):
    """Response headers, looked up case-insensitively; a repeated header's values
    are joined with ", "."""

    __slots__ = ("_items",)

    def __init__(self, items: dict[str, str]) -> None:
        self._items = items  # keys lower-cased

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


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


class HTTPClient:
    """POSTs over kept-alive connections. Safe to share between threads: each
    exchange holds its own connection, and idle ones wait in a per-origin stack."""

    def __init__(
        self, *, connect_timeout: float, read_timeout: float, env: Mapping[str, str]
    ) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout  # per read and per write, like httpx's
        self._env = env
        self._tls: ssl.SSLContext | None = None
        self._idle: dict[Origin, list[_Connection]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        """Close idle connections; one still streaming closes when its body ends."""
        with self._lock:
            self._closed = True
            idle = [c for stack in self._idle.values() for c in stack]
            self._idle.clear()
        for conn in idle:
            conn.close()

    @contextmanager
    def send(
        self, url: str, headers: Mapping[str, str], content: bytes
    ) -> Iterator[tuple[int, Headers, Iterator[bytes]]]:
        """One POST. Yields the status, the headers and the body's chunks as they
        arrive. The connection goes back for reuse only if the body was read to
        its end and the server keeps it open; otherwise (an abandoned stream, an
        error) it is closed, so it is never reused mid-message."""
        origin, target, host = _split_url(url)
        head = _request_head(target, host, headers, len(content))
        conn = self._open(origin, head + content, len(head))
        body: _Body | None = None
        try:
            status, reply_headers, body = _read_response(conn)
            raw = chunks = iter(body)
            coding = reply_headers.get("content-encoding")
            if coding:
                chunks = _decoded(raw, coding)
            yield status, reply_headers, chunks
            if not body.done and body.keep_alive:
                # The caller stopped at the wire's end marker; the body's framing
                # (a chunked body's last chunk) usually follows at once. Read it
                # to reuse the connection, but do not wait on a server that lags.
                conn.sock.settimeout(min(self.read_timeout, _FRAMING_GRACE))
                left = _READ_SIZE  # nor on one that keeps talking
                try:
                    for piece in raw:
                        left -= len(piece)
                        if left < 0:
                            break
                except TransportError:
                    pass
                conn.sock.settimeout(self.read_timeout)
        finally:
            if body is not None and body.done and body.keep_alive:
                self._release(conn)
            else:
                conn.close()

    def _open(self, origin: Origin, data: bytes, head_len: int) -> _Connection:
        """A connection with the request written to it."""
        conn = self._reusable(origin)
        if conn is not None:
            try:
                conn.write(data, head_len)
                return conn
            except _Unsent:
                conn.close()
        conn = self._connect(origin)
        try:
            conn.write(data, head_len)
        except BaseException:
            conn.close()
            raise
        return conn

    def _reusable(self, origin: Origin) -> _Connection | None:
        while True:
            with self._lock:
                stack = self._idle.get(origin)
                conn = stack.pop() if stack else None
            if conn is None:
                return None
            if conn.idle_and_open():
                conn.reused = True
                return conn
            conn.close()  # the server closed it while it waited

    def _release(self, conn: _Connection) -> None:
        with self._lock:
            if not self._closed:
                self._idle.setdefault(conn.origin, []).append(conn)
                return
        conn.close()

    def _connect(self, origin: Origin) -> _Connection:
        scheme, host, port = origin
        # As bytes (`_split_url` made the host ASCII): a str host would be encoded
        # with the idna codec, whose import alone costs a process ~5 ms.
        name = host.encode("ascii")
        try:
            sock = socket.create_connection(
                (name, port),  # type: ignore[arg-type]  # getaddrinfo takes bytes too
                timeout=self.connect_timeout,
            )
        except TimeoutError as e:
            raise ConnectTimeout(str(e) or "timed out") from e
        except OSError as e:
            raise ConnectError(str(e)) from e
        try:
            # The head and a small body go out in one write, but a large body may
            # not: never let Nagle hold its tail back for a delayed ACK.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                # The handshake runs under the connect timeout.
                sock = self._tls_context().wrap_socket(sock, server_hostname=name)
            sock.settimeout(self.read_timeout)
        except BaseException as e:
            sock.close()
            if isinstance(e, TimeoutError):
                raise ConnectTimeout(str(e) or "timed out") from e
            if isinstance(e, OSError):
                raise ConnectError(str(e)) from e
            raise
        return _Connection(sock, origin)

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = _tls_context(self._env)
        return self._tls


def _tls_context(env: Mapping[str, str]) -> ssl.SSLContext:
    """The system's default context; SSL_CERT_FILE, else SSL_CERT_DIR, replaces its
    store as it does for httpx. A system without a CA store gets certifi's bundle,
    httpx's own, when it is installed."""
    import ssl

    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        value = env.get(name)
        if value:
            try:
                if name == "SSL_CERT_FILE":
                    return ssl.create_default_context(cafile=value)
                return ssl.create_default_context(capath=value)
            except OSError as e:
                raise ConnectError(f"cannot load CA certificates from {name}={value!r}: {e}") from e
    ctx = ssl.create_default_context()
    paths = ssl.get_default_verify_paths()
    if paths.cafile is None and not _has_entries(paths.capath):
        try:
            import certifi
        except ImportError:
            return ctx
        ctx.load_verify_locations(cafile=certifi.where())
    return ctx


def _has_entries(directory: str | None) -> bool:
    if directory is None:
        return False
    try:
        with os.scandir(directory) as it:
            return any(True for _ in it)
    except OSError:
        return False


class _Connection:
    """One socket to one origin, and bytes read from it but not yet consumed."""

    __slots__ = ("buf", "origin", "reused", "sock")

    def __init__(self, sock: socket.socket, origin: Origin) -> None:
        self.sock = sock
        self.origin = origin
        self.buf = bytearray()
        self.reused = False

    def idle_and_open(self) -> bool:
        """Nothing to read on an idle connection: the server has not closed it
        (EOF or a reset would make it readable) nor sent anything unasked."""
        if self.buf or getattr(self.sock, "pending", lambda: 0)():
            return False
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def write(self, data: bytes, head_len: int) -> None:
        view = memoryview(data)
        sent = 0
        try:
            while sent < len(data):
                sent += self.sock.send(view[sent:])
        except TimeoutError as e:
            raise WriteTimeout(str(e) or "timed out") from e
        except OSError as e:
            if self.reused and sent <= head_len:
                raise _Unsent from e
            raise WriteError(str(e)) from e

    def fill(self) -> bool:
        """Read once more into `buf`; False at the end of the stream."""
        try:
            data = self.sock.recv(_READ_SIZE)
        except TimeoutError as e:
            raise ReadTimeout(str(e) or "timed out") from e
        except OSError as e:
            raise ReadError(str(e)) from e
        self.buf += data
        return bool(data)

    def take(self, limit: int) -> bytes:
        piece = bytes(self.buf[:limit])
        del self.buf[:limit]
        return piece

    def line(self) -> bytes:
        """The next line (chunk sizes, trailers), without its line end."""
        while True:
            end = self.buf.find(b"\n")
            if end >= 0:
                return self.take(end + 1).rstrip(b"\r\n")
            if len(self.buf) > _MAX_HEAD:
                raise RemoteProtocolError("a chunk header line is longer than 100 KB")
            if not self.fill():
                raise RemoteProtocolError(f"{_CUT} (incomplete chunked read)")

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def _split_url(url: str) -> tuple[Origin, str, str]:
    """(origin, request target, Host header) for an absolute http(s) URL, refused
    in httpx's words when it is not one."""
    try:
        parts = urlsplit(url)
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError as e:
        raise InvalidURL(str(e)) from e
    if scheme not in ("http", "https") and "://" in url:
        raise UnsupportedProtocol(f"Request URL has an unsupported protocol '{scheme}://'.")
    if scheme not in ("http", "https") or not host:
        raise UnsupportedProtocol("Request URL is missing an 'http://' or 'https://' protocol.")
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    default = 443 if scheme == "https" else 80
    host_header = f"[{host}]" if ":" in host else host
    if port is not None and port != default:
        host_header += f":{port}"
    target = quote(parts.path or "/", safe=_URL_SAFE)
    if parts.query:
        target += "?" + quote(parts.query, safe=_URL_SAFE + "?")
    return (scheme, host, port or default), target, host_header


def _request_head(target: str, host: str, headers: Mapping[str, str], length: int) -> bytes:
    fields = {
        "host": ("Host", host),
        "accept": ("Accept", "*/*"),
        # Answers stay uncompressed (nothing to inflate on the hot path); a server
        # that compresses anyway is still understood (see `_decoded`).
        "accept-encoding": ("Accept-Encoding", "identity"),
        "connection": ("Connection", "keep-alive"),
        "user-agent": ("User-Agent", USER_AGENT),
    }
    for name, value in headers.items():
        fields[name.lower()] = (name, value)
    fields.pop("transfer-encoding", None)
    fields["content-length"] = ("Content-Length", str(length))
    lines = [f"POST {target} HTTP/1.1"]
    for name, value in fields.values():
        if not _TOKEN.fullmatch(name) or "\r" in value or "\n" in value or "\0" in value:
            raise LocalProtocolError(
                f"header {name!r} cannot be sent (a line break or a character not allowed "
                "in a header); fix it in the provider's headers or key"
            )
        lines.append(f"{name}: {value}")
    try:
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    except UnicodeEncodeError as e:
        raise LocalProtocolError(
            f"a header holds {e.object[e.start : e.end]!r}, which HTTP headers cannot "
            "carry; fix it in the provider's headers or key"
        ) from e


class _Body:
    """One response body, framed by its headers, read as it arrives. `done` turns
    true once it was read to its end."""

    __slots__ = ("chunked", "conn", "done", "keep_alive", "length")

    def __init__(
        self, conn: _Connection, *, chunked: bool, length: int | None, keep_alive: bool
    ) -> None:
        self.conn = conn
        self.chunked = chunked
        self.length = length  # None with chunked, or when the close ends it
        self.keep_alive = keep_alive
        self.done = False

    def __iter__(self) -> Iterator[bytes]:
        if self.chunked:
            yield from self._chunked()
        elif self.length is not None:
            yield from self._sized(self.length)
        else:
            yield from self._until_close()
        self.done = True

    def _sized(self, length: int) -> Iterator[bytes]:
        conn, left = self.conn, length
        while left:
            if not conn.buf and not conn.fill():
                got = length - left
                raise RemoteProtocolError(f"{_CUT} (received {got} bytes, expected {length})")
            piece = conn.take(left)
            left -= len(piece)
            yield piece

    def _chunked(self) -> Iterator[bytes]:
        conn = self.conn
        while True:
            line = conn.line()
            size_field = line.split(b";", 1)[0].strip()
            if not size_field or size_field.strip(_HEX):
                raise RemoteProtocolError(f"malformed chunk size line {line[:40]!r}")
            left = int(size_field, 16)
            if left == 0:
                break
            while left:
                if not conn.buf and not conn.fill():
                    raise RemoteProtocolError(f"{_CUT} (incomplete chunked read)")
                piece = conn.take(left)
                left -= len(piece)
                yield piece
            if conn.line():
                raise RemoteProtocolError("chunk data is not followed by a line end")
        while conn.line():  # trailer fields, unused
            pass

    def _until_close(self) -> Iterator[bytes]:
        conn = self.conn
        if conn.buf:
            yield conn.take(len(conn.buf))
        while conn.fill():
            yield conn.take(len(conn.buf))


def _read_response(conn: _Connection) -> tuple[int, Headers, _Body]:
    """The status and headers of the final answer (interim 1xx ones are skipped),
    and its body, not yet read."""
    while True:
        found = _HEAD_END.search(conn.buf)
        while found is None:
            if len(conn.buf) > _MAX_HEAD:
                raise RemoteProtocolError("the response head is longer than 100 KB")
            if not conn.fill():
                raise RemoteProtocolError("Server disconnected without sending a response.")
            found = _HEAD_END.search(conn.buf)
        head = conn.take(found.end())[: found.start()]
        status_line, *lines = head.split(b"\n")
        matched = _STATUS_LINE.fullmatch(status_line.rstrip(b"\r"))
        if matched is None:
            raise RemoteProtocolError(f"malformed status line {status_line[:80]!r}")
        status = int(matched.group(2))
        if not (100 <= status < 200 and status != 101):
            break
    headers = _parse_headers(lines)
    tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
    keep_alive = "close" not in tokens if matched.group(1) == b"1" else "keep-alive" in tokens
    coding = headers.get("transfer-encoding")
    chunked, length = False, None
    if status in (204, 304):
        length = 0
    elif coding:
        chunked = coding.rsplit(",", 1)[-1].strip().lower() == "chunked"
    elif "content-length" in headers:
        values = {v.strip() for v in headers["content-length"].split(",")}
        if len(values) != 1 or not next(iter(values)).isdigit():
            raise RemoteProtocolError(f"bad Content-Length {headers['content-length']!r}")
        length = int(values.pop())
    keep_alive = keep_alive and (chunked or length is not None)
    return status, headers, _Body(conn, chunked=chunked, length=length, keep_alive=keep_alive)


def _parse_headers(lines: list[bytes]) -> Headers:
    items: dict[str, str] = {}
    last = None
    for raw in lines:
        line = raw.rstrip(b"\r").decode("latin-1")
        if line[:1] in (" ", "\t") and last is not None:  # obsolete line folding
            items[last] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep or not _TOKEN.fullmatch(name):
            raise RemoteProtocolError(f"malformed header line {line[:80]!r}")
        last = name.lower()
        value = value.strip()
        items[last] = f"{items[last]}, {value}" if last in items else value
    return Headers(items)


def _decoded(chunks: Iterator[bytes], coding: str) -> Iterator[bytes]:
    """The body with its content codings undone, last applied first. Codings other
    than gzip and deflate pass through as they are, as httpx passes them."""
    decoders: list[_Inflater] = []
    for name in reversed(coding.lower().split(",")):
        name = name.strip()
        if name in ("gzip", "x-gzip"):
            decoders.append(_Inflater(zlib.MAX_WBITS | 16))
        elif name == "deflate":
            decoders.append(_Inflater(zlib.MAX_WBITS, raw_fallback=True))
    if not decoders:
        yield from chunks
        return
    try:
        for chunk in chunks:
            for d in decoders:
                chunk = d.decompress(chunk)
            if chunk:
                yield chunk
        tail = b""
        for d in decoders:
            tail = d.decompress(tail) + d.flush()
        if tail:
            yield tail
    except zlib.error as e:
        raise DecodingError(str(e)) from e


class _Inflater:
    """A zlib decompressor; for deflate, servers send the RFC's zlib wrapping or a
    raw stream, so a first chunk that fails as one is tried as the other."""

    __slots__ = ("_obj", "_raw_fallback")

    def __init__(self, wbits: int, *, raw_fallback: bool = False) -> None:
        self._obj = zlib.decompressobj(wbits)
        self._raw_fallback = raw_fallback

    def decompress(self, data: bytes) -> bytes:
        if not data:
            return b""
        if self._raw_fallback:
            self._raw_fallback = False
            try:
                return self._obj.decompress(data)
            except zlib.error:
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._obj.decompress(data)

    def flush(self) -> bytes:
        return self._obj.flush()
