"""Keep the history index current: find session files, read only what was appended.

A refresh lists every root's session files (resolving the symlinked shared dirs
so a file reached through two accounts is read once and visible to both), stats
each one, and compares (inode, size, mtime) with what it stored. An unchanged
file costs one `stat`. A grown file is read from its stored offset, only up to
its last newline; a replaced or truncated file, or one its importer asks to
re-read (a Gemini rewind), is dropped from the index and read again. Files that
vanished take their text with them, and a session left without files leaves the
index (stars survive: they are keyed by tool and id). Text goes into bounded
chunks, inserted with `executemany` in transactions of a few megabytes, and the
FTS5 rows are added with one `INSERT … SELECT` per transaction. A time budget
stops a refresh between files; the next one carries on. Searching is
`history.search`'s job, not this module's.
"""

from __future__ import annotations

import importlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from bridle.history.lines import read_batches
from bridle.history.records import (
    ASSISTANT,
    TITLE_CUSTOM,
    TITLE_PROMPT,
    TOOL,
    USER,
    Entry,
    Parsed,
    parse_time,
)
from bridle.history.roots import MARKERS, Root

CHUNK_CHARS = 200_000
COMMIT_BYTES = 16 << 20
PREVIEW = 4
PREVIEW_CHARS = 500

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class RefreshStats:
    files: int = 0
    read: int = 0
    bytes: int = 0
    removed: int = 0
    complete: bool = True


@dataclass(slots=True)
class _Found:
    tool: str
    path: str
    access: dict[str, str]  # account -> config dir


def importer(tool: str) -> ModuleType:
    return importlib.import_module(f"bridle.history.{tool}")


def discover(roots: list[Root]) -> dict[str, _Found]:
    """Every session file under `roots`, keyed by its resolved path."""
    found: dict[str, _Found] = {}
    for root in roots:
        marker = os.path.join(root.path, MARKERS[root.tool])
        real_marker = os.path.realpath(marker)
        real_root = os.path.realpath(root.path)
        prefix, root_prefix = marker + os.sep, str(root.path) + os.sep
        cut, root_cut = len(prefix), len(root_prefix)
        # One access dict per root, shared by its files until a second root sees one.
        access = {root.account: str(root.path)}
        for path in importer(root.tool).discover(root.path):
            if path.startswith(prefix):
                key = real_marker + os.sep + path[cut:]
            else:
                key = real_root + os.sep + path[root_cut:]
            entry = found.get(key)
            if entry is None:
                found[key] = _Found(root.tool, path, access)
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
                "SELECT id, path, tool, session, inode, size, mtime_ns, offset FROM history_files"
            )
        }
        found = discover(roots) if only is None else {}
        if only is not None:
            for key in only:
                row = known.get(key)
                if row is not None:
                    found[key] = _Found(row[2], key, {})
        todo: list[tuple[str, _Found, os.stat_result]] = []
        total = 0
        for key, f in found.items():
            try:
                st = os.stat(f.path)
            except OSError:
                continue
            row = known.get(key)
            if row is not None and (row[4], row[5], row[6]) == (
                st.st_ino,
                st.st_size,
                st.st_mtime_ns,
            ):
                continue
            todo.append((key, f, st))
            total += max(0, st.st_size - (row[7] if row is not None and row[4] == st.st_ino else 0))
        stats.files = len(found)
        # Session indexes rename sessions, so they go after the sessions they name.
        todo.sort(key=lambda t: t[1].path.endswith("session_index.jsonl"))
        writer = _Writer(self.db)
        try:
            if only is None:
                gone = [known[k][0] for k in known.keys() - found.keys() if known[k][2] != "bridle"]
                stats.removed = writer.forget(gone)
                # Which account sees which file changes only when the roots do (an
                # account added, removed, or its dirs relinked): then re-check them all.
                signature = repr(sorted((r.tool, str(r.path), r.account) for r in roots))
                if signature != self.meta("roots"):
                    writer.sync_access(found, known)
                    self.set_meta("roots", signature)
            done = 0
            for key, f, st in todo:
                if budget_s is not None and self.clock() - start > budget_s:
                    stats.complete = False
                    break
                stats.bytes += writer.read_file(key, f, st)
                stats.read += 1
                done = stats.bytes
                if progress is not None:
                    progress(min(done, total), total)
            writer.sync_bridle(self)
        finally:
            writer.close()
        if stats.complete and only is None:
            self.set_meta("last_scan", str(self.clock()))
            self.db.execute("DELETE FROM history_watch")
            self.db.executemany(
                "INSERT INTO history_watch (path, mtime_ns) VALUES (?, ?)", watched.items()
            )
        return stats

    def hot_files(self, within_s: float) -> list[str]:
        """Files modified within the last `within_s` seconds when last read."""
        since = int((self.clock() - within_s) * 1e9)
        return [
            r[0]
            for r in self.db.execute("SELECT path FROM history_files WHERE mtime_ns > ?", (since,))
        ]

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM history_meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO history_meta (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def clear(self) -> None:
        """Forget every indexed file and session (stars stay), for a full rebuild."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for table in ("history_access", "history_files", "history_chunks", "history_sessions"):
                self.db.execute(f"DELETE FROM {table} WHERE 1")
            self.db.execute("INSERT INTO history_fts(history_fts) VALUES ('delete-all')")
            self.db.execute("DELETE FROM history_meta WHERE key = 'last_scan'")
            self.db.execute("DELETE FROM history_watch")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")


class _Writer:
    """Batches index writes into transactions of about COMMIT_BYTES read."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db
        self.sessions: dict[tuple[str, str], dict[str, Any]] = {}
        self.dirty: set[tuple[str, str]] = set()
        self.chunks: list[tuple[int, int, float | None, str, str, str]] = []
        self.pending = 0
        self.open = False

    def begin(self) -> None:
        if not self.open:
            self.db.execute("BEGIN IMMEDIATE")
            self.open = True

    def close(self) -> None:
        if self.open:
            self.flush()
            self.db.execute("COMMIT")
            self.open = False

    def flush(self) -> None:
        if self.chunks:
            low = self.db.execute("SELECT coalesce(max(id), 0) FROM history_chunks").fetchone()[0]
            self.db.executemany(
                "INSERT INTO history_chunks (session, file, ts, user, assistant, tool) VALUES (?, ?, ?, ?, ?, ?)",
                self.chunks,
            )
            self.db.execute(
                "INSERT INTO history_fts (rowid, user, assistant, tool)"
                " SELECT id, user, assistant, tool FROM history_chunks WHERE id > ?",
                (low,),
            )
            self.chunks.clear()
        for key in self.dirty:
            s = self.sessions[key]
            self.db.execute(
                "UPDATE history_sessions SET title = ?, title_rank = ?, cwd = ?, branch = ?, model = ?,"
                " created = ?, updated = ?, entries = ?, head = ?, tail = ? WHERE id = ?",
                (
                    s["title"],
                    s["title_rank"],
                    s["cwd"],
                    s["branch"],
                    s["model"],
                    s["created"],
                    s["updated"],
                    s["entries"],
                    json.dumps(s["head"]),
                    json.dumps(s["tail"]),
                    s["id"],
                ),
            )
            if s.pop("retitled", False):
                self._drop_chunks("file = 0 AND session = ?", (s["id"],))
                self.chunks.append((s["id"], 0, s["updated"], s["title"] or "", "", ""))
        self.dirty.clear()
        if self.chunks:
            self.flush()

    def commit(self) -> None:
        self.close()
        self.pending = 0
        # Session rows are re-read after each commit: another process may have written.
        self.sessions.clear()
        self.begin()

    # -- files -------------------------------------------------------------------

    def forget(self, file_ids: list[int]) -> int:
        if not file_ids:
            return 0
        self.begin()
        for fid in file_ids:
            self._drop_chunks("file = ?", (fid,))
            self.db.execute("DELETE FROM history_access WHERE file = ?", (fid,))
            self.db.execute("DELETE FROM history_files WHERE id = ?", (fid,))
        orphans = [
            r[0]
            for r in self.db.execute(
                "SELECT id FROM history_sessions WHERE tool != 'bridle' AND id NOT IN"
                " (SELECT session FROM history_files WHERE session IS NOT NULL)"
            )
        ]
        for sid in orphans:
            self._drop_chunks("session = ?", (sid,))
            self.db.execute("DELETE FROM history_sessions WHERE id = ?", (sid,))
        return len(file_ids)

    def sync_access(self, found: dict[str, _Found], known: dict[str, tuple[Any, ...]]) -> None:
        stored: dict[int, dict[str, str]] = {}
        for fid, account, config_dir in self.db.execute(
            "SELECT file, account, config_dir FROM history_access"
        ):
            stored.setdefault(fid, {})[account] = config_dir
        for key, f in found.items():
            row = known.get(key)
            if row is not None and stored.get(row[0], {}) != f.access:
                self.begin()
                self._set_access(row[0], f.access)

    def _set_access(self, fid: int, access: dict[str, str]) -> None:
        self.db.execute("DELETE FROM history_access WHERE file = ?", (fid,))
        self.db.executemany(
            "INSERT INTO history_access (file, account, config_dir) VALUES (?, ?, ?)",
            [(fid, a, d) for a, d in access.items()],
        )

    def _drop_chunks(self, where: str, args: tuple[Any, ...]) -> None:
        self.db.execute(
            "INSERT INTO history_fts (history_fts, rowid, user, assistant, tool)"
            f" SELECT 'delete', id, user, assistant, tool FROM history_chunks WHERE {where}",
            args,
        )
        self.db.execute(f"DELETE FROM history_chunks WHERE {where}", args)

    def read_file(self, key: str, f: _Found, st: os.stat_result) -> int:
        """Index what was appended to one file; returns the bytes read."""
        module = importer(f.tool)
        path = Path(f.path)
        rewrites = getattr(module, "rewrites", None)
        whole = bool(rewrites and rewrites(path))
        self.begin()
        # Read the file's row under the write lock: another bridle process (a
        # background scan, a second search) may have indexed it since we listed.
        row = self.db.execute(
            "SELECT id, inode, size, mtime_ns, session, offset, state FROM history_files WHERE path = ?",
            (key,),
        ).fetchone()
        if row is not None and tuple(row[1:4]) == (st.st_ino, st.st_size, st.st_mtime_ns):
            return 0
        if row is None:
            fid = self.db.execute(
                "INSERT INTO history_files (path, tool) VALUES (?, ?) RETURNING id", (key, f.tool)
            ).fetchone()[0]
            self._set_access(fid, f.access)
            offset, state, session = 0, {}, None
        else:
            fid, session, offset, state = row[0], row[4], row[5], json.loads(row[6])
            if whole or row[1] != st.st_ino or st.st_size < offset:
                self.flush()
                self._drop_chunks("file = ?", (fid,))
                offset, state = 0, {}
        nbytes = 0
        while True:
            restarted = False
            try:
                for lines, end in _batches(path, offset, whole):
                    parsed = module.parse(lines, state, path)
                    if parsed.restart:
                        self.flush()
                        self._drop_chunks("file = ?", (fid,))
                        offset, state, restarted = 0, {"restarted": True}, True
                        break
                    nbytes += end - offset
                    self.pending += end - offset
                    offset = end
                    session = self._apply(f.tool, fid, parsed, session)
                    if self.pending >= COMMIT_BYTES:
                        self._save_file(fid, session, offset, state, None)
                        self.commit()
            except OSError:
                break  # deleted or unreadable mid-read: what was read stands
            if not restarted:
                break
        self._save_file(fid, session, offset, state, st)
        if self.pending >= COMMIT_BYTES:
            self.commit()
        return nbytes

    def _save_file(
        self,
        fid: int,
        session: int | None,
        offset: int,
        state: dict[str, Any],
        st: os.stat_result | None,
    ) -> None:
        self.db.execute(
            "UPDATE history_files SET session = ?, offset = ?, state = ? WHERE id = ?",
            (session, offset, json.dumps(state), fid),
        )
        if st is not None:
            self.db.execute(
                "UPDATE history_files SET inode = ?, size = ?, mtime_ns = ? WHERE id = ?",
                (st.st_ino, st.st_size, st.st_mtime_ns, fid),
            )

    def sync_bridle(self, index: SessionIndex) -> None:
        """Index bridle's own sessions from the `sessions`/`events` tables, incrementally."""
        from bridle.history import bridle as own

        if not own.has_tables(self.db):
            return
        self.begin()
        since = index.meta("bridle_updated") or ""
        for row in own.changed_sessions(self.db, since):
            s = self._session("bridle", row["id"], create=True)
            assert s is not None
            self.dirty.add(("bridle", row["id"]))
            if row["title"]:
                _retitle(s, row["title"], TITLE_CUSTOM)
            s["cwd"], s["branch"], s["model"] = row["cwd"], row["branch"], row["model"]
            s["created"], s["updated"] = parse_time(row["created"]), parse_time(row["updated"])
            fid = self._bridle_file(row["id"], s["id"])
            self._set_access(fid, {row["account"] or "": ""})
            since = max(since, row["updated"])
        index.set_meta("bridle_updated", since)
        after = int(index.meta("bridle_event_id") or 0)
        while batch := own.new_events(self.db, after):
            by_session: dict[str, list[Entry]] = {}
            for event_id, sid, ts, kind, payload in batch:
                by_session.setdefault(sid, []).extend(own.event_entries(kind, payload, ts))
                after = event_id
            for sid, entries in by_session.items():
                s = self._session("bridle", sid, create=True)
                assert s is not None
                parsed = Parsed(session_id=sid, entries=entries)
                if entries and not s["title"]:
                    first = next((e.text for e in entries if e.role == USER), None)
                    parsed.offer_title(first, TITLE_PROMPT)
                self._apply("bridle", self._bridle_file(sid, s["id"]), parsed, s["id"])
            index.set_meta("bridle_event_id", str(after))
        index.set_meta(
            "bridle_count", str(self.db.execute("SELECT count(*) FROM sessions").fetchone()[0])
        )
        gone = [
            r[0]
            for r in self.db.execute(
                "SELECT f.id FROM history_files f WHERE f.tool = 'bridle'"
                " AND substr(f.path, 8) NOT IN (SELECT id FROM sessions)"
            )
        ]
        if gone:
            self.forget(gone)
            dead = "tool = 'bridle' AND sid NOT IN (SELECT id FROM sessions)"
            self._drop_chunks(f"session IN (SELECT id FROM history_sessions WHERE {dead})", ())
            self.db.execute(f"DELETE FROM history_sessions WHERE {dead}")

    def _bridle_file(self, sid: str, session: int) -> int:
        path = "bridle:" + sid
        row = self.db.execute("SELECT id FROM history_files WHERE path = ?", (path,)).fetchone()
        if row is not None:
            return int(row[0])
        return int(
            self.db.execute(
                "INSERT INTO history_files (path, tool, session) VALUES (?, 'bridle', ?) RETURNING id",
                (path, session),
            ).fetchone()[0]
        )

    # -- sessions ----------------------------------------------------------------

    def _apply(self, tool: str, fid: int, parsed: Parsed, session: int | None) -> int | None:
        for sid, title in parsed.renames:
            s = self._session(tool, sid, create=False)
            if s is not None:
                _retitle(s, title, TITLE_CUSTOM)
                self.dirty.add((tool, sid))
        if parsed.session_id is None:
            return session
        quiet = not parsed.entries and parsed.title is None and session is None
        if quiet and self._session(tool, parsed.session_id, create=False) is None:
            return None  # snapshots only, so far: not a session
        s = self._session(tool, parsed.session_id, create=True)
        assert s is not None
        self.dirty.add((tool, parsed.session_id))
        if parsed.title:
            _retitle(s, parsed.title, parsed.title_rank)
        for field in ("cwd", "branch", "model"):
            value = getattr(parsed, field)
            if value:
                s[field] = value
        if parsed.created is not None:
            s["created"] = (
                parsed.created if s["created"] is None else min(s["created"], parsed.created)
            )
        if parsed.updated is not None:
            s["updated"] = (
                parsed.updated if s["updated"] is None else max(s["updated"], parsed.updated)
            )
        if parsed.entries:
            s["entries"] += len(parsed.entries)
            if not parsed.sidechain:
                talk = [[e.role, e.text[:PREVIEW_CHARS]] for e in parsed.entries if e.role != TOOL]
                if len(s["head"]) < PREVIEW:
                    s["head"] = (s["head"] + talk)[:PREVIEW]
                s["tail"] = (s["tail"] + talk)[-PREVIEW:]
            self._add_chunks(s["id"], fid, parsed.entries)
        return int(s["id"])

    def _session(self, tool: str, sid: str, *, create: bool) -> dict[str, Any] | None:
        key = (tool, sid)
        s = self.sessions.get(key)
        if s is not None:
            return s
        row = self.db.execute(
            "SELECT id, title, title_rank, cwd, branch, model, created, updated, entries, head, tail"
            " FROM history_sessions WHERE tool = ? AND sid = ?",
            key,
        ).fetchone()
        if row is None:
            if not create:
                return None
            sid_row = self.db.execute(
                "INSERT INTO history_sessions (tool, sid) VALUES (?, ?) RETURNING id", key
            ).fetchone()
            row = (sid_row[0], None, 0, None, None, None, None, None, 0, "[]", "[]")
        names = (
            "id",
            "title",
            "title_rank",
            "cwd",
            "branch",
            "model",
            "created",
            "updated",
            "entries",
        )
        s = dict(zip(names, row[:9], strict=True))
        s["head"], s["tail"] = json.loads(row[9]), json.loads(row[10])
        self.sessions[key] = s
        return s

    def _add_chunks(self, session: int, fid: int, entries: list[Entry]) -> None:
        cols: dict[str, list[str]] = {USER: [], ASSISTANT: [], TOOL: []}
        size = 0
        ts: float | None = None
        for i, e in enumerate(entries):
            cols[e.role].append(e.text)
            size += len(e.text)
            ts = e.ts or ts
            if size >= CHUNK_CHARS or i == len(entries) - 1:
                user, assistant, tool = ("\n".join(cols[r]) for r in (USER, ASSISTANT, TOOL))
                self.chunks.append((session, fid, ts, user, assistant, tool))
                cols = {USER: [], ASSISTANT: [], TOOL: []}
                size = 0


def _retitle(s: dict[str, Any], title: str, rank: int) -> None:
    if rank > s["title_rank"] or (rank == s["title_rank"] and rank >= 2 and title != s["title"]):
        s["title"], s["title_rank"], s["retitled"] = title, rank, True


def read_entries(tool: str, path: Path) -> list[Entry]:
    """Every entry of one session file, read from the start (for show and export)."""
    module = importer(tool)
    rewrites = getattr(module, "rewrites", None)
    whole = bool(rewrites and rewrites(path))
    state: dict[str, Any] = {"restarted": True}
    entries: list[Entry] = []
    try:
        for lines, _ in _batches(path, 0, whole):
            entries.extend(module.parse(lines, state, path).entries)
    except OSError:
        pass
    return entries


def _batches(path: Path, offset: int, whole: bool) -> Iterator[tuple[list[str], int]]:
    if whole:
        data = path.read_bytes()
        yield [data.decode("utf-8", "replace")], len(data)
    else:
        yield from read_batches(path, offset)
