"""bridle's own sessions: create, append events, look up, fork, delete, rebuild.

`SessionStore` wraps one connection from `store.db.open_db`. Appends sit on the
agent's hot path, so each batch is one `BEGIN IMMEDIATE` transaction with
constant SQL (sqlite3 caches the prepared statements) and compact JSON; the
engine writes a turn's events, usage and cost in one `append_many` call. Event
payloads are described in `store.conversation`, which also folds them back
into messages. The clock and the id factory are passed in so tests can pin
them. This module does not render sessions (`store.export`) nor index other
tools' sessions (`history/`).
"""

from __future__ import annotations

import builtins
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from bridle.core import jsontext
from bridle.core.errors import UserError
from bridle.core.messages import Message, Usage
from bridle.store.conversation import (
    EVENT_KINDS,
    USER,
    Event,
    decode_message,
    fold_messages,
    repair_history,
    title_from,
)
from bridle.store.db import write_transaction

# Lone surrogates (a file name that is not UTF-8) are stored as `\udcXX` escapes.
_dumps = jsontext.dumps

_EDITABLE = frozenset({"title", "status", "model", "provider", "git_branch", "account"})


@dataclass(slots=True)
class SessionRecord:
    """One row of the `sessions` table: the session's metadata and its running totals."""

    id: str
    title: str | None
    model: str
    provider: str
    cwd: str
    git_branch: str | None
    created_at: str
    updated_at: str
    parent_id: str | None
    status: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    cost_usd: float
    turns: int
    tool: str
    account: str | None

    @property
    def usage(self) -> Usage:
        return Usage(
            self.input_tokens,
            self.output_tokens,
            self.cache_read_tokens,
            self.cache_write_tokens,
            self.reasoning_tokens,
        )

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


_COLUMNS = ", ".join(f.name for f in fields(SessionRecord))


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return str(uuid.uuid4())


class SessionStore:
    """Sessions in one SQLite connection. Not thread-safe: one store per thread."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        now: Callable[[], datetime] = _utc_now,
        new_id: Callable[[], str] = _new_id,
    ):
        self.conn = conn
        self._now = now
        self._new_id = new_id

    def _timestamp(self) -> str:
        return self._now().astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    # -- sessions ---------------------------------------------------------------

    def create(
        self,
        model: str,
        provider: str,
        cwd: str,
        title: str | None = None,
        git_branch: str | None = None,
        parent_id: str | None = None,
        *,
        account: str | None = None,
        session_id: str | None = None,
    ) -> SessionRecord:
        """A new session, with `session_id` when given (a `UsageError` if it is taken)."""
        sid, ts = session_id or self._new_id(), self._timestamp()
        with write_transaction(self.conn):
            self._refuse_taken(session_id)
            self.conn.execute(
                "INSERT INTO sessions (id, title, model, provider, cwd, git_branch, created_at,"
                " updated_at, parent_id, account) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sid, title, model, provider, str(cwd), git_branch, ts, ts, parent_id, account),
            )
        return self._by_id(sid)

    def get(self, id_or_prefix: str) -> SessionRecord:
        """The session with this id, or the only one whose id starts with it."""
        key = id_or_prefix.strip()
        if not key:
            raise UserError(
                "no session id given: pass an id or a prefix from `bridle sessions list`"
            )
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM sessions WHERE id = ?", (key,)).fetchone()
        if row:
            return SessionRecord(*row)
        # A range scan on the primary key; LIKE would treat `_` and `%` as wildcards.
        upper = key[:-1] + chr(ord(key[-1]) + 1)
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM sessions WHERE id >= ? AND id < ? ORDER BY updated_at DESC"
            " LIMIT 11",
            (key, upper),
        ).fetchall()
        if len(rows) == 1:
            return SessionRecord(*rows[0])
        if not rows:
            raise UserError(
                f"no session matches {key!r}: `bridle sessions list` shows the ids, "
                f"and `bridle -c` resumes the latest session in this directory"
            )
        shown = "\n".join(
            f"  {r.id}  {r.updated_at}  {r.title or '(untitled)'}"
            for r in (SessionRecord(*row) for row in rows[:10])
        )
        more = "\n  …and more" if len(rows) > 10 else ""
        raise UserError(
            f"session id prefix {key!r} is ambiguous; it matches:\n{shown}{more}\n"
            f"Give more characters of the id."
        )

    def latest_for_cwd(self, cwd: str) -> SessionRecord | None:
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM sessions WHERE cwd = ? AND status != 'subagent'"
            " ORDER BY updated_at DESC, rowid DESC LIMIT 1",
            (str(cwd),),
        ).fetchone()
        return SessionRecord(*row) if row else None

    def latest_within(self, root: str) -> SessionRecord | None:
        """The latest session whose cwd is `root` or any directory under it (a
        subagent's session is part of its parent's, never the latest)."""
        root = str(root).rstrip("/") or "/"
        prefix = root if root == "/" else root + "/"
        # `/` sorts just before `0`: the range is every path under `prefix`.
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM sessions WHERE (cwd = ? OR (cwd >= ? AND cwd < ?))"
            " AND status != 'subagent' ORDER BY updated_at DESC, rowid DESC LIMIT 1",
            (root, prefix, prefix[:-1] + "0"),
        ).fetchone()
        return SessionRecord(*row) if row else None

    def list(self, cwd: str | None = None, limit: int = 50) -> builtins.list[SessionRecord]:
        """Sessions, most recently updated first, optionally only those in `cwd`."""
        if cwd is None:
            sql = f"SELECT {_COLUMNS} FROM sessions ORDER BY updated_at DESC, rowid DESC LIMIT ?"
            args: tuple[Any, ...] = (limit,)
        else:
            sql = (
                f"SELECT {_COLUMNS} FROM sessions WHERE cwd = ?"
                " ORDER BY updated_at DESC, rowid DESC LIMIT ?"
            )
            args = (str(cwd), limit)
        return [SessionRecord(*row) for row in self.conn.execute(sql, args)]

    def children(self, session_id: str) -> builtins.list[SessionRecord]:
        """The sessions whose parent this is (forks and subagents), oldest first."""
        sql = f"SELECT {_COLUMNS} FROM sessions WHERE parent_id = ? ORDER BY created_at, rowid"
        return [SessionRecord(*row) for row in self.conn.execute(sql, (session_id,))]

    def update(self, session_id: str, **changes: str | None) -> SessionRecord:
        """Set metadata: any of title, status, model, provider, git_branch, account."""
        unknown = set(changes) - _EDITABLE
        if unknown:
            raise ValueError(f"cannot update session fields {sorted(unknown)}")
        if changes:
            assignments = ", ".join(f"{name} = ?" for name in changes)
            with write_transaction(self.conn):
                cur = self.conn.execute(
                    f"UPDATE sessions SET {assignments}, updated_at = ? WHERE id = ?",
                    (*changes.values(), self._timestamp(), session_id),
                )
                if cur.rowcount == 0:
                    raise _missing(session_id)
        return self._by_id(session_id)

    def update_totals(
        self, session_id: str, usage: Usage | None = None, cost_usd: float = 0.0, turns: int = 0
    ) -> None:
        """Add a usage, cost and turn-count delta to the session's running totals."""
        with write_transaction(self.conn):
            self._add_totals(session_id, None, usage, cost_usd, turns)

    def delete(self, session_id: str) -> None:
        """Delete a session and its events. Forks of it stay, with no parent."""
        with write_transaction(self.conn):
            cur = self.conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
            if cur.rowcount == 0:
                raise _missing(session_id)

    def fork(
        self, session_id: str, new_id: str | None = None, upto: int | None = None
    ) -> SessionRecord:
        """A new session (new id, or `new_id`; zero totals) whose history is a copy
        of this one's (only its events up to seq `upto`, when given)."""
        src = self._by_id(session_id)
        sid, ts = new_id or self._new_id(), self._timestamp()
        with write_transaction(self.conn):
            self._refuse_taken(new_id)
            self.conn.execute(
                "INSERT INTO sessions (id, title, model, provider, cwd, git_branch, created_at,"
                " updated_at, parent_id, account) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sid, src.title, src.model, src.provider, src.cwd, src.git_branch, ts, ts,
                 src.id, src.account),
            )  # fmt: skip
            self.conn.execute(
                "INSERT INTO events (session_id, seq, ts, kind, payload)"
                " SELECT ?, seq, ts, kind, payload FROM events WHERE session_id = ?"
                " AND seq <= ? ORDER BY seq",
                (sid, src.id, upto if upto is not None else 2**62),
            )
        return self._by_id(sid)

    # -- events -----------------------------------------------------------------

    def append(self, session_id: str, kind: str, payload: dict[str, Any]) -> int:
        """Append one event; returns its seq."""
        return self.append_many(session_id, [(kind, payload)])[0]

    def append_many(
        self,
        session_id: str,
        events: Iterable[tuple[str, dict[str, Any]]],
        *,
        usage: Usage | None = None,
        cost_usd: float = 0.0,
        turns: int = 0,
    ) -> builtins.list[int]:
        """Append events (and optionally a totals delta) in one transaction; returns
        their seqs. The first user event of an untitled session titles it."""
        batch = builtins.list(events)
        for kind, _ in batch:
            if kind not in EVENT_KINDS:
                raise ValueError(
                    f"unknown event kind {kind!r}; expected one of {sorted(EVENT_KINDS)}"
                )
        ts = self._timestamp()
        encoded = [(kind, _dumps(payload)) for kind, payload in batch]
        title = next(
            (title_from(decode_message(p)) for k, p in batch if k == USER),
            None,
        )
        with write_transaction(self.conn):
            self._add_totals(session_id, title, usage, cost_usd, turns, ts)
            last = self.conn.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM events WHERE session_id = ?", (session_id,)
            ).fetchone()[0]
            seqs = builtins.list(range(last + 1, last + 1 + len(encoded)))
            self.conn.executemany(
                "INSERT INTO events (session_id, seq, ts, kind, payload) VALUES (?, ?, ?, ?, ?)",
                [(session_id, seq, ts, k, p) for seq, (k, p) in zip(seqs, encoded, strict=True)],
            )
        return seqs

    def events(self, session_id: str) -> builtins.list[Event]:
        rows = self.conn.execute(
            "SELECT seq, ts, kind, payload FROM events WHERE session_id = ? ORDER BY seq",
            (session_id,),
        )
        return [Event(session_id, seq, ts, kind, json.loads(p)) for seq, ts, kind, p in rows]

    def rebuild_messages(self, session_id: str) -> builtins.list[Message]:
        """The conversation to send on resume: folded from the events and repaired
        so that it is valid for every provider even after a crash."""
        return repair_history(fold_messages(self.events(session_id)))

    # -- internals --------------------------------------------------------------

    def _refuse_taken(self, session_id: str | None) -> None:
        if session_id is None:
            return
        row = self.conn.execute(
            "SELECT title, cwd FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        if row is not None:
            from bridle.core.errors import UsageError

            title = " ".join((row[0] or "untitled").split())[:60]
            raise UsageError(
                f'session id {session_id} is already in use ("{title}" in {row[1]}); '
                f"continue it with -r {session_id}, or pass a new UUID"
            )

    def _by_id(self, session_id: str) -> SessionRecord:
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        if row is None:
            raise _missing(session_id)
        return SessionRecord(*row)

    def _add_totals(
        self,
        session_id: str,
        title: str | None,
        usage: Usage | None,
        cost_usd: float,
        turns: int,
        ts: str | None = None,
    ) -> None:
        u = usage or Usage()
        cur = self.conn.execute(
            "UPDATE sessions SET title = COALESCE(title, ?), updated_at = ?,"
            " input_tokens = input_tokens + ?, output_tokens = output_tokens + ?,"
            " cache_read_tokens = cache_read_tokens + ?, cache_write_tokens = cache_write_tokens + ?,"
            " reasoning_tokens = reasoning_tokens + ?, cost_usd = cost_usd + ?, turns = turns + ?"
            " WHERE id = ?",
            (title, ts or self._timestamp(), u.input_tokens, u.output_tokens,
             u.cache_read_tokens, u.cache_write_tokens, u.reasoning_tokens, cost_usd, turns,
             session_id),
        )  # fmt: skip
        if cur.rowcount == 0:
            raise _missing(session_id)


def _missing(session_id: str) -> UserError:
    return UserError(f"no session {session_id!r}: `bridle sessions list` shows the ids")
