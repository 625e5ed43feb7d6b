"""A real HTTP server on 127.0.0.1 (port 0) for wire tests: it answers each POST
with the next scripted `Reply`, body written in the given chunks, and can stall
(send headers and some bytes, then nothing) to exercise the idle timeout. It
records every request. Standard library only; stopped with `close()`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    content_type: str = "text/event-stream"
    chunks: list[bytes] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    # Send this many chunks, then go silent until the server is closed.
    stall_after: int | None = None


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes


class LoopbackServer:
    def __init__(self, replies: list[Reply] | Callable[[Seen], Reply]) -> None:
        self.seen: list[Seen] = []
        self._replies = replies
        self._release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                seen = Seen(
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                server.seen.append(seen)
                reply = server._next(seen)
                self.send_response(reply.status)
                self.send_header("content-type", reply.content_type)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                for i, chunk in enumerate(reply.chunks):
                    if reply.stall_after is not None and i >= reply.stall_after:
                        break
                    self.wfile.write(chunk)
                    self.wfile.flush()
                if reply.stall_after is not None:
                    self.wfile.flush()
                    server._release.wait(30)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def _next(self, seen: Seen) -> Reply:
        if callable(self._replies):
            return self._replies(seen)
        return self._replies.pop(0)

    def close(self) -> None:
        self._release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
