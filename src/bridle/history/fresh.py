"""Bring the index up to date before a query, within a small time budget.

The first query on a machine builds the whole index (with a progress callback,
which the CLI turns into a bar). After that, a full listing and stat of every
session file runs at most every `interval` seconds, stopped by `budget_s`
(the next query carries on). In between, only the files written recently
("hot": changed within `hot_window` seconds when last read) are stat-ed, which
catches the session a user just left; this costs a handful of `stat` calls and
imports nothing heavy unless one of them changed.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

DEFAULT_INTERVAL = 30.0
DEFAULT_BUDGET = 0.5
HOT_WINDOW = 3600.0


@dataclass(slots=True)
class Freshness:
    interval: float = DEFAULT_INTERVAL
    budget_s: float = DEFAULT_BUDGET
    hot_window: float = HOT_WINDOW

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Freshness:
        """`BRIDLE_HISTORY_SCAN_INTERVAL` (seconds; 0 scans before every query)."""
        raw = env.get("BRIDLE_HISTORY_SCAN_INTERVAL")
        try:
            interval = float(raw) if raw else DEFAULT_INTERVAL
        except ValueError:
            interval = DEFAULT_INTERVAL
        return cls(interval=interval)


def ensure_fresh(
    db: sqlite3.Connection,
    env: Mapping[str, str],
    policy: Freshness,
    *,
    clock: Callable[[], float] = time.time,
    first_progress: Callable[[], Callable[[int, int], None] | None] | None = None,
) -> None:
    row = db.execute("SELECT value FROM history_meta WHERE key = 'last_scan'").fetchone()
    now = clock()
    if row is not None and now - float(row[0]) < policy.interval:
        changed = _changed_hot_files(db, now - policy.hot_window)
        if changed:
            from bridle.history.index import SessionIndex

            SessionIndex(db, clock=clock).refresh([], only=changed)
        return
    from bridle.history.index import SessionIndex
    from bridle.history.roots import all_roots

    roots = all_roots(env)
    if row is None:
        progress = first_progress() if first_progress else None
        SessionIndex(db, clock=clock).refresh(roots, progress=progress)
    else:
        SessionIndex(db, clock=clock).refresh(roots, budget_s=policy.budget_s)


def _changed_hot_files(db: sqlite3.Connection, since: float) -> list[str]:
    changed = []
    for path, inode, size, mtime_ns in db.execute(
        "SELECT path, inode, size, mtime_ns FROM history_files WHERE mtime_ns > ? AND tool != 'bridle'",
        (int(since * 1e9),),
    ):
        try:
            st = os.stat(path)
        except OSError:
            continue  # gone: the next full scan removes it
        if (st.st_ino, st.st_size, st.st_mtime_ns) != (inode, size, mtime_ns):
            changed.append(path)
    return changed
