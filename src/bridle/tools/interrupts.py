"""Ctrl-C and SIGTERM that wait for a child process to be started and recorded.

A signal handler that raises (KeyboardInterrupt, the headless run's Terminated)
can strike between the moment a child is forked and the moment its caller holds
the `Popen` object; the child then runs on with nobody left to kill its process
group. The headless front end installs handlers that `deliver` the exception:
raised at once, unless the main thread is inside `held()` (starting a child),
in which case it is raised when the block ends, where the caller can already
kill what it started. Outside the main thread `held()` does nothing, since
Python runs signal handlers only there.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_depth = 0
_pending: list[BaseException] = []


def deliver(exc: BaseException) -> None:
    """Raise `exc` now, or when the main thread leaves `held()`. Call it from a
    signal handler."""
    if _depth:
        _pending.append(exc)
        return
    raise exc


@contextmanager
def held() -> Iterator[None]:
    """Defer delivered signals until the block ends (then the first is raised,
    chained to any exception the block raised)."""
    global _depth
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if not _depth and _pending:
            first = _pending[0]
            _pending.clear()
            raise first
