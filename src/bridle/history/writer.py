"""Write batches of parsed session text into the history index.

`IndexWriter` groups what a refresh reads into transactions of a few megabytes
(`BEGIN IMMEDIATE`, so concurrent bridle processes queue instead of failing):
session rows are merged in memory (title by source strength, cwd, branch,
model, times, preview) and written at each flush; text goes into bounded
chunks inserted with `executemany`, and their FTS5 rows are added with one
`INSERT … SELECT`. Deleting a file's text issues FTS5 'delete' rows before the
chunks go. It also syncs bridle's own sessions from the store's tables. Which
files to read, and from where, is `history.index`'s job.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
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
    clean,
    parse_time,
)
from bridle.history.state import FoundFile, meta, set_meta

CHUNK_CHARS = 200_000
COMMIT_BYTES = 16 << 20
PREVIEW = 4
PREVIEW_CHARS = 500


class IndexWriter:
    """Batches index writes into transactions of about COMMIT_BYTES read."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db
        self.sessions: dict[tuple[str, str], dict[str, Any]] = {}
        self.dirty: set[tuple[str, str]] = set()
        self.chunks: list[tuple[int, int, float | None, str, str, str]] = []
        self.pending = 0
        self.open = False
        # Renames of sessions not indexed yet, by the file that holds them.
        self.unnamed: dict[int, dict[str, str]] = {}
        self.commits = 0  # transactions committed so far

    def begin(self) -> None:
        if not self.open:
            self.db.execute("BEGIN IMMEDIATE")
            self.open = True

    def close(self) -> None:
        if self.open:
            self.flush()
            self.db.execute("COMMIT")
            self.open = False
            self.commits += 1

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

    def drop_session(self, tool: str, sid: str) -> bool:
        """Remove one session (its chunks, files and star) from the index."""
        row = self.db.execute(
            "SELECT id FROM history_sessions WHERE tool = ? AND sid = ?", (tool, sid)
        ).fetchone()
        if row is None:
            return False
        self.begin()
        self._drop_chunks("session = ?", (row[0],))
        files = [
            r[0]
            for r in self.db.execute("SELECT id FROM history_files WHERE session = ?", (row[0],))
        ]
        for fid in files:
            self.db.execute("DELETE FROM history_access WHERE file = ?", (fid,))
            self.db.execute("DELETE FROM history_files WHERE id = ?", (fid,))
        self.db.execute("DELETE FROM history_sessions WHERE id = ?", (row[0],))
        self.db.execute("DELETE FROM history_stars WHERE tool = ? AND sid = ?", (tool, sid))
        self.close()
        return True

    def sync_access(self, found: dict[str, FoundFile], known: dict[str, tuple[Any, ...]]) -> None:
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

    def rollback(self) -> None:
        """Undo everything since the last commit, after a file could not be read.
        The caller reads again the files that commit had not covered yet."""
        if self.open:
            self.db.execute("ROLLBACK")
            self.open = False
        self.chunks.clear()
        self.dirty.clear()
        self.sessions.clear()
        self.pending = 0
        if self.unnamed:
            # Renames held by files whose rows were rolled back come again when
            # those files are re-read (or not, for the file that failed).
            marks = ",".join("?" * len(self.unnamed))
            kept = {
                r[0]
                for r in self.db.execute(
                    f"SELECT id FROM history_files WHERE id IN ({marks})", list(self.unnamed)
                )
            }
            self.unnamed = {fid: v for fid, v in self.unnamed.items() if fid in kept}

    def read_file(self, key: str, f: FoundFile, st: os.stat_result) -> int:
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
                self._forget_text(fid, session, state)
                offset, state = 0, {}
        nbytes = 0
        while True:
            restarted = False
            try:
                for lines, end in batches(path, offset, whole):
                    saved = json.dumps(state)
                    parsed = module.parse(lines, state, path)
                    if parsed.restart:
                        self._forget_text(fid, session, json.loads(saved))
                        offset, state, restarted = 0, {"restarted": True}, True
                        break
                    applied = self._apply(f.tool, fid, parsed, session)
                    if applied is None and (parsed.session_id or parsed.title):
                        # Metadata but no message yet (a session just starting, or
                        # a Claude file opening with summaries): leave these lines
                        # unread, so the session is created with their cwd, branch,
                        # times and title once a message comes.
                        state = json.loads(saved)
                        break
                    session = applied
                    # Entries this file gave its session, to take back if it is re-read.
                    state["_n"] = state.get("_n", 0) + len(parsed.entries)
                    nbytes += end - offset
                    self.pending += end - offset
                    offset = end
                    if self.pending >= COMMIT_BYTES:
                        self._save_file(fid, session, offset, state, None)
                        self.commit()
            except FileNotFoundError:
                break  # deleted mid-read: what was read stands
            if not restarted:
                break
        self._save_file(fid, session, offset, state, st)
        if self.pending >= COMMIT_BYTES:
            self.commit()
        return nbytes

    def _forget_text(self, fid: int, session: int | None, state: dict[str, Any]) -> None:
        """Drop what a file contributed before it is read again from the start."""
        self.flush()
        self._drop_chunks("file = ?", (fid,))
        if session is None:
            return
        row = self.db.execute(
            "SELECT tool, sid FROM history_sessions WHERE id = ?", (session,)
        ).fetchone()
        s = self._session(row[0], row[1], create=False) if row else None
        if s is not None:
            s["entries"] = max(0, s["entries"] - int(state.get("_n", 0)))
            s["head"], s["tail"] = [], []
            self.dirty.add((row[0], row[1]))

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

    def sync_bridle(self) -> None:
        """Index bridle's own sessions from the `sessions`/`events` tables, incrementally."""
        from bridle.history import bridle as own

        if not own.has_tables(self.db):
            return
        self.begin()
        since = meta(self.db, "bridle_updated") or ""
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
        set_meta(self.db, "bridle_updated", since)
        after = int(meta(self.db, "bridle_event_id") or 0)
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
            set_meta(self.db, "bridle_event_id", str(after))
        set_meta(
            self.db,
            "bridle_count",
            str(self.db.execute("SELECT count(*) FROM sessions").fetchone()[0]),
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
            sid, title = clean(sid), clean(title)
            if not self._rename(tool, sid, title):
                self.unnamed.setdefault(fid, {})[sid] = title
        if parsed.session_id is None:
            return session
        parsed.session_id = clean(parsed.session_id)
        quiet = not parsed.entries and parsed.title is None and session is None
        if quiet and self._session(tool, parsed.session_id, create=False) is None:
            return None  # snapshots only, so far: not a session
        s = self._session(tool, parsed.session_id, create=True)
        assert s is not None
        self.dirty.add((tool, parsed.session_id))
        if parsed.title:
            _retitle(s, parsed.title, parsed.title_rank)
        # A subagent runs its own (often smaller) model: the session keeps the main one.
        for field in ("cwd", "branch") if parsed.sidechain else ("cwd", "branch", "model"):
            value = getattr(parsed, field)
            if value:
                s[field] = clean(value)
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

    def _rename(self, tool: str, sid: str, title: str) -> bool:
        s = self._session(tool, sid, create=False)
        if s is None:
            return False
        _retitle(s, title, TITLE_CUSTOM)
        self.dirty.add((tool, sid))
        return True

    def retry_renames(self) -> None:
        """Apply renames read before their session was indexed (kept in the
        state of the file that holds them, e.g. Codex's session_index.jsonl)."""
        if not self.unnamed and meta(self.db, "unnamed") != "1":
            return
        for fid, unnamed in self.unnamed.items():
            text = self.db.execute(
                "SELECT state FROM history_files WHERE id = ?", (fid,)
            ).fetchone()[0]
            state = json.loads(text)
            state.setdefault("unnamed", {}).update(unnamed)
            self.db.execute(
                "UPDATE history_files SET state = ? WHERE id = ?", (json.dumps(state), fid)
            )
        self.unnamed.clear()
        rows = self.db.execute(
            "SELECT id, tool, state FROM history_files WHERE state LIKE '%\"unnamed\"%'"
        ).fetchall()
        waiting = False
        for fid, tool, text in rows:
            state = json.loads(text)
            named = state.get("unnamed", {})
            left = {sid: t for sid, t in named.items() if not self._rename(tool, sid, t)}
            waiting = waiting or bool(left)
            if left != named:
                self.begin()
                state["unnamed"] = left
                self.db.execute(
                    "UPDATE history_files SET state = ? WHERE id = ?", (json.dumps(state), fid)
                )
        set_meta(self.db, "unnamed", "1" if waiting else "0")

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


def importer(tool: str) -> Any:
    import importlib

    return importlib.import_module(f"bridle.history.{tool}")


def batches(path: Path, offset: int, whole: bool) -> Iterator[tuple[list[str], int]]:
    if whole:
        data = path.read_bytes()
        yield [data.decode("utf-8", "replace")], len(data)
    else:
        yield from read_batches(path, offset)
