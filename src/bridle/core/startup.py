"""Start-up of a `bridle` process: the compile caches installed, and the cyclic
garbage collector held back while the program loads.

Loading bridle and its libraries allocates some seventy thousand objects that live
as long as the process (modules, classes, functions); with Python's default
threshold the collector runs a hundred young collections over them, which cost
about a tenth of the interactive app's launch, and finds nothing to free. `begin`
raises the first generation's threshold (the collector still runs, rarely, so a
command that never calls `done` stays bounded), and `done`, once the program is
loaded (the app's first screen drawn, a session opened by `engine.setup`, a
server about to serve), moves what was loaded out of the collector's sight (`gc.freeze`) and
restores the thresholds. Objects frozen stay freed by reference counting; only
cycles among them would outlive the process's need of them.
"""

from __future__ import annotations

import gc

# Young objects allowed before a collection while loading; Python's default is 700.
LOADING_THRESHOLD = 100_000

_saved: tuple[int, ...] | None = None


def begin() -> None:
    """Install the compile caches and hold the collector back (once per process)."""
    global _saved
    if _saved is not None:
        return
    from bridle.core.pycache import install

    install()
    _saved = gc.get_threshold()
    gc.set_threshold(max(LOADING_THRESHOLD, _saved[0]), *_saved[1:])


def done() -> None:
    """The program is loaded: freeze it out of the collector's sight and restore the
    thresholds `begin` changed. Harmless to call more than once, or without `begin`."""
    global _saved
    if _saved is None:
        return
    gc.freeze()
    gc.set_threshold(*_saved)
    _saved = None
