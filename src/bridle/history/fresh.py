"""Bring the index up to date before a query, within a small time budget.

The first query on a machine builds the whole index (with a progress callback,
which the CLI turns into a bar). After that, each query does only cheap checks:
it stats the directories where new session files appear (their mtimes were
recorded by the last full scan) and the files written recently ("hot": changed
within `hot_window` when last read, i.e. the sessions a user just left). A new
file, or a change to a file the index had to skip, means a full refresh now,
under `budget_s`; a grown hot file is read from its offset. Once `interval` has passed since the last full scan, the query
answers from the index as it is and starts a detached `python -m
bridle.history.fresh` to stat everything in the background, so a search never
waits for a walk over ten thousand files. `BRIDLE_HISTORY_SCAN_INTERVAL=0`
makes every query do that walk itself instead, and `BRIDLE_HISTORY_BACKGROUND=0`
never starts a background process (tests use both).
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Callable, Mapping

DEFAULT_INTERVAL = 30.0
DEFAULT_BUDGET = 2.0
HOT_WINDOW = 3600.0

Progress = Callable[[int, int], None]


class Freshness:
    """When to scan: `interval` between full scans, `budget_s` for a synchronous
    one, `hot_window` for recent files, `background` to allow a detached scan."""

    __slots__ = ("background", "budget_s", "hot_window", "interval")

    def __init__(
        self,
        interval: float = DEFAULT_INTERVAL,
        budget_s: float = DEFAULT_BUDGET,
        hot_window: float = HOT_WINDOW,
        background: bool = True,
    ):
        self.interval, self.budget_s, self.hot_window, self.background = (
            interval,
            budget_s,
            hot_window,
            background,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Freshness:
        raw = env.get("BRIDLE_HISTORY_SCAN_INTERVAL")
        try:
            interval = float(raw) if raw else DEFAULT_INTERVAL
        except ValueError:
            interval = DEFAULT_INTERVAL
        return cls(interval=interval, background=env.get("BRIDLE_HISTORY_BACKGROUND", "1") != "0")


def ensure_fresh(
    db: sqlite3.Connection,
    env: Mapping[str, str],
    policy: Freshness,
    *,
    clock: Callable[[], float] = time.time,
    first_progress: Callable[[], Progress | None] | None = None,
) -> str:
    """Returns what it did: "first", "full", "hot", "background" or "none"."""
    meta = dict(
        db.execute(
            "SELECT key, value FROM history_meta"
            " WHERE key IN ('last_scan', 'bg', 'bridle_event_id', 'bridle_updated', 'bridle_count')"
        )
    )
    now = clock()
    if "last_scan" not in meta:
        _full(db, env, clock, None, first_progress() if first_progress else None)
        return "first"
    stale = now - float(meta["last_scan"]) >= policy.interval
    if policy.interval <= 0 or _dirs_changed(db) or _skipped_changed(db):
        _full(db, env, clock, policy.budget_s, None)
        return "full"
    did = "none"
    changed = _changed_hot_files(db, now - policy.hot_window)
    if changed or _own_sessions_changed(db, meta):
        from bridle.history.index import SessionIndex

        SessionIndex(db, clock=clock).refresh([], only=changed)
        did = "hot"
    if stale and policy.background and now - float(meta.get("bg", 0)) >= policy.interval:
        db.execute("INSERT OR REPLACE INTO history_meta (key, value) VALUES ('bg', ?)", (str(now),))
        _spawn(env)
        did = "background"
    return did


def _full(
    db: sqlite3.Connection,
    env: Mapping[str, str],
    clock: Callable[[], float],
    budget_s: float | None,
    progress: Progress | None,
) -> None:
    from bridle.history.index import SessionIndex
    from bridle.history.roots import all_roots

    SessionIndex(db, clock=clock).refresh(all_roots(env), budget_s=budget_s, progress=progress)


def _dirs_changed(db: sqlite3.Connection) -> bool:
    for path, mtime_ns in db.execute("SELECT path, mtime_ns FROM history_watch"):
        try:
            if os.stat(path).st_mtime_ns != mtime_ns:
                return True
        except OSError:
            if mtime_ns:
                return True
    return False


def _skipped_changed(db: sqlite3.Connection) -> bool:
    """A file the index could not read has changed (repaired, or grown): read it again."""
    for path, inode, size, mtime_ns in db.execute(
        "SELECT path, inode, size, mtime_ns FROM history_skipped"
    ):
        try:
            st = os.stat(path)
        except OSError:
            return True  # gone: a full scan forgets it
        if (st.st_ino, st.st_size, st.st_mtime_ns) != (inode, size, mtime_ns):
            return True
    return False


def _own_sessions_changed(db: sqlite3.Connection, meta: dict[str, str]) -> bool:
    """bridle's own sessions live in this database: new events or updated rows?"""
    try:
        event = db.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
        updated, count = db.execute(
            "SELECT coalesce(max(updated_at), ''), count(*) FROM sessions"
        ).fetchone()
    except sqlite3.OperationalError:
        return False  # the session store's tables are not there
    return (
        int(event) > int(meta.get("bridle_event_id", 0))
        or str(updated) > meta.get("bridle_updated", "")
        or str(count) != meta.get("bridle_count", "0")
    )


def _changed_hot_files(db: sqlite3.Connection, since: float) -> list[str]:
    changed = []
    for path, inode, size, mtime_ns in db.execute(
        "SELECT path, inode, size, mtime_ns FROM history_files WHERE mtime_ns > ?",
        (int(since * 1e9),),
    ):
        try:
            st = os.stat(path)
        except OSError:
            continue  # gone: the next full scan removes it
        if (st.st_ino, st.st_size, st.st_mtime_ns) != (inode, size, mtime_ns):
            changed.append(path)
    return changed


def _spawn(env: Mapping[str, str]) -> None:
    import subprocess

    subprocess.Popen(
        [sys.executable, "-m", "bridle.history.fresh"],
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )


def main() -> None:
    """The background full scan: stat every session file, read what changed."""
    from bridle.config.paths import database_path
    from bridle.store.db import open_db

    db = open_db(database_path())
    try:
        _full(db, os.environ, time.time, None, None)
    finally:
        db.close()


if __name__ == "__main__":
    main()
