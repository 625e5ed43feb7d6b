"""A small HTTP/1.1 server on asyncio streams, made for misbehaving on purpose.

It parses requests (Content-Length or chunked bodies, gzip/deflate/zstd
`content-encoding`, `Expect: 100-continue`), keeps connections alive, and gives a
handler a `Response` that can answer whole, stream chunk by chunk, stall, or cut
the connection mid-body. It runs an event loop on a background thread so tests
and the CLI share one implementation. It knows nothing about LLM wires; routing
and scripts live in `mock.server`. Not a general web server: no TLS, no pipelining
guarantees beyond sequential keep-alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import socket
import threading
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

from bridle.core.errors import UserError

_REASONS = {529: "Overloaded"}


@dataclass(slots=True)
class Request:
    """One parsed HTTP request: header names lower-cased, the body de-chunked and decompressed."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.target).query))


class BadRequest(Exception):
    pass


class Response:
    """One response on a connection: `send` whole, or `start` + `write` + `end`."""

    def __init__(self, writer: asyncio.StreamWriter, head_only: bool = False):
        self._writer = writer
        self._chunked = False
        self._head_only = head_only
        self.started = False
        self.broken = False

    def _head(self, status: int, headers: dict[str, str]) -> bytes:
        reason = _REASONS.get(status) or (
            HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        )
        lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        head = {"content-type": content_type, "content-length": str(len(body)), **(headers or {})}
        self.started = True
        self._writer.write(self._head(status, head) + (b"" if self._head_only else body))
        await self._drain()

    async def start(
        self,
        status: int,
        content_type: str,
        headers: dict[str, str] | None = None,
        length: int | None = None,
    ) -> None:
        """Send the head of a streamed (chunked) or fixed-length body."""
        head = {"content-type": content_type, "cache-control": "no-cache", **(headers or {})}
        if length is None:
            head["transfer-encoding"] = "chunked"
            self._chunked = True
        else:
            head["content-length"] = str(length)
        self.started = True
        self._writer.write(self._head(status, head))
        await self._drain()

    async def write(self, data: bytes) -> None:
        if not data or self.broken:
            return
        self._writer.write(b"%x\r\n%s\r\n" % (len(data), data) if self._chunked else data)
        await self._drain()

    async def end(self) -> None:
        if self._chunked and not self.broken:
            self._writer.write(b"0\r\n\r\n")
            await self._drain()

    def cut(self) -> None:
        """Drop the connection without finishing the body (a reset, as proxies do)."""
        self.broken = True
        transport = self._writer.transport
        with contextlib.suppress(Exception):
            transport.abort()

    async def stall(self, seconds: float) -> None:
        """Send nothing for `seconds`, or until the client hangs up."""
        self.broken = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline and not self._writer.transport.is_closing():
            await asyncio.sleep(min(0.2, max(0.0, deadline - loop.time())))
        self.cut()

    async def _drain(self) -> None:
        try:
            await self._writer.drain()
        except (ConnectionError, RuntimeError):
            self.broken = True


Handler = Callable[[Request, Response], Awaitable[None]]


async def _read_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    except asyncio.LimitOverrunError as e:
        raise BadRequest("request head too large") from e
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, _version = lines[0].split(" ", 2)
    except ValueError as e:
        raise BadRequest(f"bad request line {lines[0]!r}") from e
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(parts)
    else:
        body = await reader.readexactly(int(headers.get("content-length") or 0))
    return Request(
        method.upper(), target, headers, _decode(body, headers.get("content-encoding", ""))
    )


def _decode(body: bytes, encoding: str) -> bytes:
    encoding = encoding.lower().strip()
    if not body or encoding in ("", "identity"):
        return body
    try:
        if encoding in ("gzip", "x-gzip"):
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            return zlib.decompress(body)
        if encoding == "zstd":
            import zstandard

            return zstandard.ZstdDecompressor().decompressobj().decompress(body)
    except Exception as e:
        raise BadRequest(f"cannot decode {encoding} request body: {e}") from e
    raise BadRequest(f"unsupported content-encoding {encoding!r}")


def _bind_fix(e: BaseException) -> str:
    """Why a listening socket could not be opened, and what to pass instead."""
    if isinstance(e, OverflowError):
        return "the port must be 0-65535; pass --port 0 for a free one"
    if isinstance(e, socket.gaierror):
        return f"unknown host ({e.strerror}); use --host 127.0.0.1"
    if isinstance(e, OSError) and e.errno == errno.EADDRINUSE:
        return "the port is already in use; pick another with --port, or --port 0 for a free one"
    if isinstance(e, OSError) and e.errno == errno.EADDRNOTAVAIL:
        return (
            "no local interface has this address; "
            "use --host 127.0.0.1 (or another address of this machine)"
        )
    if isinstance(e, OSError) and e.errno == errno.EACCES:
        return "permission denied (ports below 1024 need privileges); use a port above 1024"
    reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
    return f"{reason}; check --host and --port"


class HttpServer:
    """Serve `handler` on a background event loop; `start()` returns the port."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0):
        self.handler, self.host, self.port = handler, host, port
        self.loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[asyncio.Task[None]] = set()

    def start(self) -> int:
        """Bind and serve; a bind that fails is a `UserError` naming the cause and the fix."""
        loop = asyncio.new_event_loop()
        try:
            self._server = loop.run_until_complete(
                asyncio.start_server(
                    self._serve, self.host, self.port, limit=8 * 1024 * 1024, backlog=512
                )
            )
        except (OSError, OverflowError) as e:
            loop.close()
            raise UserError(f"cannot listen on {self.host}:{self.port}: {_bind_fix(e)}") from e
        self.loop = loop
        self.port = self._server.sockets[0].getsockname()[1]
        self._thread = threading.Thread(
            target=loop.run_forever, name=f"bridle-mock-{self.port}", daemon=True
        )
        self._thread.start()
        return self.port

    def stop(self) -> None:
        loop = self.loop
        if loop is None or self._thread is None:
            return

        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for task in list(self._conns):
                task.cancel()
            await asyncio.gather(*self._conns, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout=10)
        loop.close()
        self.loop = self._thread = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        try:
            while True:
                try:
                    request = await _read_request(reader, writer)
                except BadRequest as e:
                    await Response(writer).send(
                        400,
                        json.dumps({"error": {"message": f"bridle mock: {e}"}}).encode(),
                        headers={"connection": "close"},
                    )
                    break
                except (asyncio.IncompleteReadError, ConnectionError, ValueError):
                    break
                if request is None:
                    break
                response = Response(writer, head_only=request.method == "HEAD")
                await self.handler(request, response)
                if response.broken or request.headers.get("connection", "").lower() == "close":
                    break
        except asyncio.CancelledError:
            pass
        finally:
            self._conns.discard(task)
            with contextlib.suppress(Exception):
                writer.close()
