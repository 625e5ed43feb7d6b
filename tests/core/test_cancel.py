"""`core.cancel`: a scope shuts the sockets attached to it (a read blocked on one
returns), shuts a socket attached after it was cancelled, cuts a wait short, and
is only seen by the thread that runs inside it. Real sockets (a socketpair)."""

from __future__ import annotations

import socket
import threading

from bridle.core import cancel


def test_cancel_returns_a_blocked_read_and_shuts_later_sockets() -> None:
    a, b = socket.socketpair()
    late, other = socket.socketpair()
    try:
        scope = cancel.CancelScope()
        scope.attach(a)
        got: list[bytes] = []
        reader = threading.Thread(target=lambda: got.append(a.recv(10)))
        reader.start()
        reader.join(0.2)
        assert reader.is_alive()  # blocked: nothing was sent
        scope.cancel()
        reader.join(30)
        assert got == [b""] and scope.cancelled
        scope.attach(late)  # the retry after a cancel gets nowhere
        assert late.recv(10) == b""
        scope.cancel()  # twice is harmless
    finally:
        for s in (a, b, late, other):
            s.close()


def test_a_detached_socket_is_left_alone() -> None:
    a, b = socket.socketpair()
    try:
        scope = cancel.CancelScope()
        scope.attach(a)
        scope.detach(a)
        scope.cancel()
        b.sendall(b"still open")
        assert a.recv(10) == b"still open"
    finally:
        a.close()
        b.close()


def test_the_scope_is_the_running_threads_and_cuts_its_waits_short() -> None:
    scope = cancel.CancelScope()
    seen: list[object] = []
    assert cancel.current() is None and not cancel.cancelled()
    with cancel.within(scope):
        assert cancel.current() is scope
        other = threading.Thread(target=lambda: seen.append(cancel.current()))
        other.start()
        other.join()
        threading.Timer(0.05, scope.cancel).start()
        cancel.sleep(600)  # returns when the scope is cancelled
        assert cancel.cancelled()
    assert seen == [None] and cancel.current() is None
    cancel.sleep(0)  # outside a scope: time.sleep
