"""Schema of bridle's own sessions: the `sessions` table and its `events` log.

A session row holds what lists and pickers show (title, model, provider, cwd,
git branch, running token and cost totals); the conversation itself lives in
`events`, an append-only log keyed by `(session_id, seq)` whose payloads are
JSON text. Updating an event is refused by a trigger; deleting a session deletes
its events (the only way events go away). These migrations own the names
`m001`–`m099`; the history index (`schema_history.py`) starts at `m100`. Once
shipped a migration never changes: alter the schema with a new one.
"""

from __future__ import annotations

import sqlite3

from bridle.store.migrations import migration


@migration
def m001_sessions(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            title TEXT,
            model TEXT NOT NULL,
            provider TEXT NOT NULL,
            cwd TEXT NOT NULL,
            git_branch TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            parent_id TEXT REFERENCES sessions(id) ON DELETE SET NULL,
            status TEXT NOT NULL DEFAULT 'active',
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cache_read_tokens INTEGER NOT NULL DEFAULT 0,
            cache_write_tokens INTEGER NOT NULL DEFAULT 0,
            reasoning_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL NOT NULL DEFAULT 0,
            turns INTEGER NOT NULL DEFAULT 0,
            tool TEXT NOT NULL DEFAULT 'bridle',
            account TEXT
        )
        """
    )
    # `-c/--continue`: the most recently updated session in this directory.
    db.execute("CREATE INDEX sessions_by_cwd ON sessions (cwd, updated_at DESC)")
    db.execute("CREATE INDEX sessions_by_updated ON sessions (updated_at DESC)")
    db.execute("CREATE INDEX sessions_by_parent ON sessions (parent_id)")


@migration
def m002_events(db: sqlite3.Connection) -> None:
    # A rowid table (not WITHOUT ROWID) so an external-content FTS index can
    # point at events by rowid.
    db.execute(
        """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            ts TEXT NOT NULL,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL,
            UNIQUE (session_id, seq)
        )
        """
    )
    db.execute(
        """
        CREATE TRIGGER events_append_only BEFORE UPDATE ON events
        BEGIN
            SELECT RAISE(ABORT, 'session events are append-only');
        END
        """
    )
