"""Standard-library plumbing under `transport.StdlibTransport`, imported with the
first request: `http.client` connections opened with the host as bytes, the idle
check before a connection is reused, the one place `http.client`, socket and TLS
exceptions become `TransportError`s (in httpx's words where the two differ, so both
transports read the same), the TLS context, and content decoding for a server that
compresses although asked not to. It speaks no HTTP itself: `http.client` does.
"""

from __future__ import annotations

import os
import select
import socket
import sys
import types
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from bridle.wire.transport import ReadTimeout, TransportError, WriteTimeout

if TYPE_CHECKING:
    import ssl


class _DeferredSSL(types.ModuleType):
    """What `http.client` holds as `ssl` when it was imported before `ssl`: every
    attribute read is answered by the real module, imported then. `http.client`
    imports `ssl` at once but reads it only in an HTTPS connection, and loading
    OpenSSL costs a plain-HTTP run (a local model server, the mock) about 5 ms and
    3.5 MB of resident memory."""

    def __getattr__(self, name: str) -> Any:
        import ssl

        if ssl is self:  # only if an import in the window below got the stand-in
            raise AttributeError(name)
        return getattr(ssl, name)


def _import_http_client() -> None:
    if "http.client" in sys.modules or "ssl" in sys.modules:
        return
    import _imp

    stand_in = _DeferredSSL("ssl")
    # Under the import lock: no other thread's `import ssl` sees the stand-in.
    _imp.acquire_lock()
    try:
        sys.modules["ssl"] = stand_in
        try:
            import http.client  # noqa: F401
        finally:
            if sys.modules.get("ssl") is stand_in:
                del sys.modules["ssl"]
    finally:
        _imp.release_lock()


_import_http_client()
import http.client  # noqa: E402

CUT = "peer closed connection without sending complete message body"


def open_socket(conn: http.client.HTTPConnection) -> socket.socket:
    """The connection's socket, with the host given as bytes (`transport` made it
    ASCII): a str host is encoded with the idna codec, whose import alone costs a
    process ~5 ms."""
    address = (conn.host.encode(), conn.port)
    sock = socket.create_connection(address, conn.timeout)  # type: ignore[arg-type]
    # The head and a small body go out in one write, a large body may not: never
    # let Nagle hold its tail back for a delayed ACK.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class PlainConnection(http.client.HTTPConnection):
    # Sent with the head in one write: `http.client` writes them apart, which
    # costs the server a second wakeup (and a small request a second segment).
    body = b""

    def connect(self) -> None:
        self.sock = open_socket(self)

    def send(self, data: Any) -> None:
        if self.body:
            data, self.body = bytes(data) + self.body, b""
        super().send(data)


class TLSConnection(PlainConnection, http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, timeout: float, context: ssl.SSLContext):
        http.client.HTTPSConnection.__init__(self, host, port, timeout=timeout, context=context)
        self.tls = context

    def connect(self) -> None:
        # The handshake runs under the connect timeout; the name as bytes, as above.
        name = self.host.encode()
        self.sock = self.tls.wrap_socket(open_socket(self), server_hostname=name)


def send_request(
    conn: http.client.HTTPConnection,
    method: str,
    target: str,
    body: bytes,
    fields: dict[str, str],
    read_timeout: float,
) -> None:
    """Write the request on an open connection; the socket then waits at most
    `read_timeout` for each write and read."""
    assert conn.sock is not None and isinstance(conn, PlainConnection)
    conn.sock.settimeout(read_timeout)
    conn.body = body  # goes out with the head
    try:
        conn.request(method, target, headers={**fields, "Content-Length": str(len(body))})
    except TimeoutError as e:
        conn.close()
        raise WriteTimeout(str(e) or "timed out") from e
    except (ValueError, UnicodeEncodeError) as e:
        conn.close()
        # Not in the words of `e`, which quote the value (often a key).
        raise TransportError(
            "a header cannot be sent: HTTP headers cannot carry line breaks or characters "
            "outside Latin-1"
        ) from e


def idle_and_open(conn: http.client.HTTPConnection) -> bool:
    """Nothing to read on an idle connection: the server has not closed it (EOF or
    a reset would make it readable) nor sent anything unasked."""
    sock = conn.sock
    if sock is None or getattr(sock, "pending", lambda: 0)():
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


@contextmanager
def translated_errors() -> Iterator[None]:
    """The one place `http.client`, socket and TLS exceptions become ours, in
    httpx's words where the two differ, so both transports read the same."""
    try:
        yield
    except TransportError:
        raise
    except TimeoutError as e:
        raise ReadTimeout(str(e) or "timed out") from e
    except http.client.RemoteDisconnected as e:
        raise TransportError("Server disconnected without sending a response.") from e
    except http.client.IncompleteRead as e:
        raise TransportError(f"{CUT} (incomplete chunked read)") from e
    except http.client.BadStatusLine as e:
        raise TransportError(f"malformed status line {str(e.args[0]).strip()!r}") from e
    except (OSError, http.client.HTTPException) as e:
        raise TransportError(str(e) or type(e).__name__) from e


def tls_context(env: Mapping[str, str]) -> ssl.SSLContext:
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
                raise TransportError(
                    f"cannot load CA certificates from {name}={value!r}: {e}"
                ) from e
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


def decoded(chunks: Iterator[bytes], coding: str) -> Iterator[bytes]:
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
        raise TransportError(str(e)) from e


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
