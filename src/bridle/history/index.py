"""Keep the history index current: find session files, read only what was appended.

A refresh lists every root's session files (resolving the symlinked shared dirs
so a file reached through two accounts is read once and visible to both), stats
each one, and compares (inode, size, mtime) with what it stored. An unchanged
file costs one `stat`. A grown file is read from its stored offset, only up to
its last newline; a replaced or truncated file, or one its importer asks to
re-read (a Gemini rewind), is dropped from the index and read again. Files that
vanished take their text with them, and a session left without files leaves the
index (stars survive: they are keyed by tool and id). A time budget stops a
refresh between files; the next one carries on. Writing rows and FTS5 text is
`history.writer`'s job, searching `history.search`'s.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridle.history.records import Entry
from bridle.history.roots import MARKERS, Root
from bridle.history.state import FoundFile, display_path, skip
from bridle.history.state import meta as _meta
from bridle.history.state import set_meta as _set_meta
from bridle.history.writer import IndexWriter, batches, importer

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class RefreshStats:
    """What one refresh did: files seen, read and dropped, and whether it finished in its
    time budget."""

    files: int = 0
    read: int = 0
    bytes: int = 0
    removed: int = 0
    complete: bool = True
    # (path, reason) of files this refresh could not read; the rest is indexed.
    skipped: list[tuple[str, str]] = field(default_factory=list)


def discover(roots: list[Root]) -> dict[str, FoundFile]:
    """Every session file under `roots`, keyed by its resolved path."""
    found: dict[str, FoundFile] = {}
    for root in roots:
        marker = os.path.join(root.path, MARKERS[root.tool])
        real_marker = os.path.realpath(marker)
        real_root = os.path.realpath(root.path)
        prefix, root_prefix = marker + os.sep, str(root.path) + os.sep
        cut, root_cut = len(prefix), len(root_prefix)
        # One access dict per root, shared by its files until a second root sees one.
        access = {root.account: str(root.path)}
        plain = real_marker == marker and real_root == str(root.path)  # no symlink to resolve
        for path in importer(root.tool).discover(root.path):
            if plain:
                key = path
            elif path.startswith(prefix):
                key = real_marker + os.sep + path[cut:]
            else:
                key = real_root + os.sep + path[root_cut:]
            entry = found.get(key)
            if entry is None:
                found[key] = FoundFile(root.tool, path, access)
            elif root.account not in entry.access:
                entry.access = {**entry.access, **access}
    return found


def watch_snapshot(roots: list[Root]) -> dict[str, int]:
    """mtime of every directory where a new session file would appear."""
    out: dict[str, int] = {}
    for root in roots:
        for d in importer(root.tool).watch_dirs(root.path):
            try:
                out[d] = os.stat(d).st_mtime_ns
            except OSError:
                out[d] = 0
    return out


class SessionIndex:
    """The index in one SQLite connection (from `store.db.open_db`)."""

    def __init__(self, db: sqlite3.Connection, *, clock: Callable[[], float] = time.time):
        self.db = db
        self.clock = clock

    # -- refresh ---------------------------------------------------------------

    def refresh(
        self,
        roots: list[Root],
        *,
        budget_s: float | None = None,
        progress: Progress | None = None,
        only: list[str] | None = None,
    ) -> RefreshStats:
        """Bring the index up to date with the files under `roots`. With `only`
        (resolved paths), stat just those files and skip the listing."""
        start = self.clock()
        stats = RefreshStats()
        # Directory mtimes are taken before listing, so a file created meanwhile
        # changes a watched mtime and is picked up next time.
        watched = watch_snapshot(roots) if only is None else {}
        known = {
            row[1]: row
            for row in self.db.execute(
                "SELECT id, path, tool, session, mtime_ns, size, inode, offset FROM history_files"
            )
        }
        found = discover(roots) if only is None else {}
        if only is not None:
            for key in only:
                row = known.get(key)
                if row is not None:
                    found[key] = FoundFile(row[2], key, {})
        bad = {
            row[0]: row[1:]
            for row in self.db.execute("SELECT path, inode, size, mtime_ns FROM history_skipped")
        }
        todo: list[tuple[str, FoundFile, os.stat_result]] = []
        total = 0
        for key, f in found.items():
            try:
                st = os.stat(f.path)
            except OSError:
                continue
            if bad and bad.get(display_path(key)) == (st.st_ino, st.st_size, st.st_mtime_ns):
                continue  # could not be read, and has not changed since
            row = known.get(key)
            if (
                row is not None
                and row[4] == st.st_mtime_ns
                and row[5] == st.st_size
                and row[6] == st.st_ino
            ):
                continue
            todo.append((key, f, st))
            total += max(0, st.st_size - (row[7] if row is not None and row[6] == st.st_ino else 0))
        stats.files = len(found)
        # Oldest first, so chunk ids follow time (search ranks a very common word
        # among its newest chunks); session indexes rename sessions, so they go last.
        todo.sort(key=lambda t: (t[1].path.endswith("session_index.jsonl"), t[2].st_mtime_ns, t[0]))
        writer = IndexWriter(self.db)
        try:
            if only is None:
                gone = [known[k][0] for k in known.keys() - found.keys() if known[k][2] != "bridle"]
                stats.removed = writer.forget(gone)
                vanished = bad.keys() - {display_path(k) for k in found} if bad else set()
                if vanished:
                    writer.begin()
                    self.db.executemany(
                        "DELETE FROM history_skipped WHERE path = ?", [(p,) for p in vanished]
                    )
                # Which account sees which file changes only when the roots do (an
                # account added, removed, or its dirs relinked): then re-check them all.
                signature = repr(sorted((r.tool, str(r.path), r.account) for r in roots))
                if signature != self.meta("roots"):
                    writer.sync_access(found, known)
                    self.set_meta("roots", signature)
            writer.close()  # what came before the files stands if one of them fails
            done = 0
            queue = deque(todo)
            uncommitted: list[tuple[str, FoundFile, os.stat_result]] = []
            while queue:
                if budget_s is not None and self.clock() - start > budget_s:
                    stats.complete = False
                    break
                item = queue.popleft()
                key, f, st = item
                commits = writer.commits
                try:
                    nbytes = writer.read_file(key, f, st)
                except Exception as e:
                    if _database_trouble(e):
                        raise
                    # One bad file must not take the history down: undo what the
                    # open transaction wrote, skip the file and say why, and read
                    # again the files that transaction held.
                    writer.rollback()
                    if writer.commits != commits:
                        uncommitted = []
                    reason = f"{type(e).__name__}: {e}"[:300]
                    writer.begin()
                    skip(self.db, key, st, reason)
                    writer.close()
                    stats.skipped.append((display_path(key), reason))
                    queue.extendleft(reversed(uncommitted))
                    uncommitted = []
                    continue
                # A commit inside this read leaves only its own rest uncommitted.
                uncommitted = [item] if writer.commits != commits else [*uncommitted, item]
                if bad:
                    self.db.execute(
                        "DELETE FROM history_skipped WHERE path = ?", (display_path(key),)
                    )
                stats.bytes += nbytes
                stats.read += 1
                done = stats.bytes
                if progress is not None:
                    progress(min(done, total), total)
            if progress is not None and stats.complete and done < total:
                # Half-written last lines are left for later: the bar still ends full.
                progress(total, total)
            writer.sync_bridle()
            writer.retry_renames()
        finally:
            writer.close()
        if stats.complete and only is None:
            self.set_meta("last_scan", str(self.clock()))
            # One transaction: two refreshes finishing at once must not interleave
            # their DELETE and INSERT (a duplicate path would fail the second).
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.execute("DELETE FROM history_watch")
                # A directory whose name is not UTF-8 cannot be stored: the periodic
                # full scan still finds new files in it.
                self.db.executemany(
                    "INSERT OR REPLACE INTO history_watch (path, mtime_ns) VALUES (?, ?)",
                    [(p, m) for p, m in watched.items() if display_path(p) == p],
                )
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        return stats

    def hot_files(self, within_s: float) -> list[str]:
        """Files modified within the last `within_s` seconds when last read."""
        since = int((self.clock() - within_s) * 1e9)
        return [
            r[0]
            for r in self.db.execute("SELECT path FROM history_files WHERE mtime_ns > ?", (since,))
        ]

    def meta(self, key: str) -> str | None:
        return _meta(self.db, key)

    def set_meta(self, key: str, value: str) -> None:
        _set_meta(self.db, key, value)

    def clear(self) -> None:
        """Forget every indexed file and session (stars stay), for a full rebuild."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for table in (
                "history_access",
                "history_files",
                "history_chunks",
                "history_sessions",
                "history_skipped",
            ):
                self.db.execute(f"DELETE FROM {table} WHERE 1")
            self.db.execute("INSERT INTO history_fts(history_fts) VALUES ('delete-all')")
            self.db.execute("DELETE FROM history_meta WHERE key = 'last_scan'")
            self.db.execute("DELETE FROM history_watch")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")


def read_entries(tool: str, path: Path) -> list[Entry]:
    """Every entry of one session file, read from the start (for show and export).
    A file that cannot be read to its end gives what was read before the trouble."""
    module = importer(tool)
    entries: list[Entry] = []
    try:
        rewrites = getattr(module, "rewrites", None)
        whole = bool(rewrites and rewrites(path))
        state: dict[str, Any] = {"restarted": True}
        for lines, _ in batches(path, 0, whole):
            entries.extend(module.parse(lines, state, path).entries)
    except Exception:  # the index skipped such a file and said why
        pass
    return entries


def _database_trouble(e: Exception) -> bool:
    """A locked, full, read-only or damaged database: not the session file's fault."""
    return isinstance(e, sqlite3.OperationalError) or type(e) is sqlite3.DatabaseError
