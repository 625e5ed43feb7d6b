"""Stopping a model call that waits on the network, from another thread.

An interrupt flag is only seen between two chunks of an answer, and a model call
can wait long with none: the model thinking before its first byte, a silent
stretch, a wait before a retry. The engine runs each model call inside a
`CancelScope` (`within`, for the thread that runs the call); the HTTP transport
attaches the socket of each exchange it opens there (`attach`), and `cancel()`,
from any thread, shuts those sockets down, so a read blocked on one returns at
once, and shuts any socket attached later as it comes; a wait before a retry
(`sleep`) ends too. The client does not retry a call whose scope was cancelled
(`cancelled()`). A call outside any scope
(compaction's summary, a hook's model call) is not affected. The socket is only
shut down, never closed, here: its owner closes it as always.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import socket

_local = threading.local()


class CancelScope:
    """The sockets one model call reads from, and whether it was cancelled."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._woken = threading.Event()
        self.cancelled = False

    def attach(self, sock: socket.socket) -> None:
        with self._lock:
            if not self.cancelled:
                self._sockets.add(sock)
                return
        _shut(sock)

    def detach(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)

    def cancel(self) -> None:
        """Safe from any thread, and more than once."""
        with self._lock:
            self.cancelled = True
            sockets, self._sockets = list(self._sockets), set()
        self._woken.set()
        for sock in sockets:
            _shut(sock)


def current() -> CancelScope | None:
    """The scope of the model call this thread runs, if any."""
    scope: CancelScope | None = getattr(_local, "scope", None)
    return scope


def cancelled() -> bool:
    scope = current()
    return scope is not None and scope.cancelled


def sleep(seconds: float) -> None:
    """`time.sleep`, cut short when this thread's scope is cancelled (a wait
    before a retry)."""
    scope = current()
    if scope is None:
        time.sleep(seconds)
    else:
        scope._woken.wait(seconds)


@contextmanager
def within(scope: CancelScope) -> Iterator[CancelScope]:
    """Run this thread's model call in `scope`."""
    outer = current()
    _local.scope = scope
    try:
        yield scope
    finally:
        _local.scope = outer


def _shut(sock: socket.socket) -> None:
    import socket

    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed, or never connected
        pass
