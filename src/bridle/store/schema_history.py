"""Schema of the history index: sessions of every tool, their files, and FTS5 text.

`history_sessions` holds one row per (tool, session id) with what lists show:
title (and how strong its source is), cwd, branch, model, times and a short
preview. `history_files` remembers each session file's identity and how far it
has been read (inode, size, mtime, byte offset, importer state), so a refresh
reads only appended bytes. `history_access` says which account can see a session
and through which config dir. `history_chunks` holds the indexed text in three
columns (user, assistant, tool: commands run, files touched, tool output), a
bounded chunk per read batch, and `history_fts` is the external-content FTS5
index over it, so `snippet()` and `bm25()` work without storing text twice.
Stars live apart in `history_stars`, keyed by (tool, id), so a reindex keeps
them; `history_skipped` lists the files an importer could not read, and why. These migrations own the names `m100`–`m199`.
"""

from __future__ import annotations

import sqlite3

from bridle.store.migrations import migration


@migration
def m100_history(db: sqlite3.Connection) -> None:
    db.executescript(
        """
        CREATE TABLE history_sessions (
            id INTEGER PRIMARY KEY,
            tool TEXT NOT NULL,
            sid TEXT NOT NULL,
            title TEXT,
            title_rank INTEGER NOT NULL DEFAULT 0,
            cwd TEXT,
            branch TEXT,
            model TEXT,
            created REAL,
            updated REAL,
            entries INTEGER NOT NULL DEFAULT 0,
            head TEXT NOT NULL DEFAULT '[]',
            tail TEXT NOT NULL DEFAULT '[]',
            UNIQUE (tool, sid)
        );
        CREATE INDEX history_sessions_updated ON history_sessions (updated DESC);
        CREATE INDEX history_sessions_sid ON history_sessions (sid);

        CREATE TABLE history_files (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            tool TEXT NOT NULL,
            session INTEGER,
            inode INTEGER NOT NULL DEFAULT 0,
            size INTEGER NOT NULL DEFAULT 0,
            mtime_ns INTEGER NOT NULL DEFAULT 0,
            offset INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX history_files_session ON history_files (session);

        CREATE TABLE history_access (
            file INTEGER NOT NULL,
            account TEXT NOT NULL,
            config_dir TEXT NOT NULL,
            PRIMARY KEY (file, account)
        ) WITHOUT ROWID;

        CREATE TABLE history_chunks (
            id INTEGER PRIMARY KEY,
            session INTEGER NOT NULL,
            file INTEGER NOT NULL,
            ts REAL,
            user TEXT NOT NULL DEFAULT '',
            assistant TEXT NOT NULL DEFAULT '',
            tool TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX history_chunks_file ON history_chunks (file);
        CREATE INDEX history_chunks_session ON history_chunks (session);

        CREATE VIRTUAL TABLE history_fts USING fts5(
            user, assistant, tool,
            content='history_chunks', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2'
        );

        CREATE TABLE history_stars (
            tool TEXT NOT NULL,
            sid TEXT NOT NULL,
            starred_at REAL NOT NULL,
            PRIMARY KEY (tool, sid)
        ) WITHOUT ROWID;

        CREATE TABLE history_meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) WITHOUT ROWID;
        """
    )


@migration
def m101_history_fts_hashsize(db: sqlite3.Connection) -> None:
    # FTS5 flushes its in-memory term hash to a new segment every 1 MB by
    # default; 32 MB means far fewer segments to merge during a first index
    # (about 20% faster), still well inside the memory budget.
    db.execute("INSERT INTO history_fts (history_fts, rank) VALUES ('hashsize', 33554432)")


@migration
def m102_history_watch(db: sqlite3.Connection) -> None:
    # Directories where new session files appear, with their mtime at the last
    # full scan: a query stats these (a few hundred) instead of every file.
    db.execute(
        "CREATE TABLE history_watch (path TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL) WITHOUT ROWID"
    )
    db.execute("DELETE FROM history_meta WHERE key = 'watch'")


@migration
def m103_history_skipped(db: sqlite3.Connection) -> None:
    # Session files an importer could not read, with the stat they had then: a
    # refresh does not retry one until it changes, and each is reported once.
    db.execute(
        "CREATE TABLE history_skipped (path TEXT PRIMARY KEY, inode INTEGER NOT NULL,"
        " size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, reason TEXT NOT NULL,"
        " reported INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID"
    )
