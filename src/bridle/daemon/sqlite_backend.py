"""The embedded task backend: one SQLite database (WAL) in the daemon's data dir.

Several processes share the file (the API process and each worker process), so
every write is one short `BEGIN IMMEDIATE` transaction with a busy timeout, and a
claim selects and takes a task in the same transaction. The per-repository
branch lock is a partial unique index over unfinished tasks, so two clients can
never both queue work for one branch. Event ids come from an AUTOINCREMENT key:
SQLite has one writer at a time, so ids grow in commit order and a reader never
sees a smaller id appear later. Schema changes are named, append-only migrations.
This module implements `daemon.backend.TaskBackend`; it knows nothing of HTTP.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bridle.daemon.backend import (
    CANCELLED,
    FINAL_STATES,
    QUEUED,
    RUNNING,
    BranchBusy,
    Checkpoint,
    NewTask,
    Task,
    TaskEvent,
    TaskFinished,
    TaskNotFound,
    task_from_row,
)


def _script(db: sqlite3.Connection, sql: str) -> None:
    # Not executescript: it commits first, and a migration runs inside the caller's
    # transaction (all of it, or none).
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)


def _m001_initial(db: sqlite3.Connection) -> None:
    _script(
        db,
        """
        CREATE TABLE tasks (
            id TEXT PRIMARY KEY,
            spec TEXT NOT NULL,
            repo_url TEXT NOT NULL,
            branch TEXT NOT NULL,
            idempotency_key TEXT UNIQUE,
            state TEXT NOT NULL,
            phase TEXT,
            created_at REAL NOT NULL,
            started_at REAL,
            finished_at REAL,
            cost_usd REAL NOT NULL DEFAULT 0,
            turns INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0,
            worker TEXT,
            lease_expires REAL,
            stop_requested INTEGER NOT NULL DEFAULT 0,
            checkpoints TEXT NOT NULL DEFAULT '[]',
            result TEXT NOT NULL DEFAULT '{}',
            error TEXT
        );
        CREATE UNIQUE INDEX tasks_branch_busy ON tasks(repo_url, branch)
            WHERE state IN ('queued', 'running');
        CREATE INDEX tasks_state ON tasks(state, created_at);
        CREATE TABLE steers (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            task_id TEXT NOT NULL,
            text TEXT NOT NULL,
            taken INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            task_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            data TEXT NOT NULL,
            at REAL NOT NULL
        );
        CREATE INDEX events_task ON events(task_id, id);
        """,
    )


MIGRATIONS: list[tuple[str, Callable[[sqlite3.Connection], None]]] = [
    ("m001_initial", _m001_initial),
]


class SqliteBackend:
    """`TaskBackend` over `<data dir>/tasks.db`; safe to share between threads."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time):
        self.path = path
        self._clock = clock
        self._lock = threading.RLock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            str(path), timeout=30, isolation_level=None, check_same_thread=False
        )
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._migrate()

    def _migrate(self) -> None:
        with self._tx() as db:
            db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY)")
            done = {r[0] for r in db.execute("SELECT name FROM migrations")}
            for name, apply in MIGRATIONS:
                if name not in done:
                    apply(db)
                    db.execute("INSERT INTO migrations(name) VALUES (?)", (name,))

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _read(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # ------------------------------------------------------------------ tasks
    def create(self, spec: NewTask, now: float | None = None) -> tuple[Task, bool]:
        now = self._clock() if now is None else now
        with self._tx() as db:
            if spec.idempotency_key:
                row = db.execute(
                    "SELECT * FROM tasks WHERE idempotency_key = ?", (spec.idempotency_key,)
                ).fetchone()
                if row is not None:
                    return task_from_row(row), False
            busy = db.execute(
                "SELECT id FROM tasks WHERE repo_url = ? AND branch = ? AND state IN (?, ?)",
                (spec.repo_url, spec.branch, QUEUED, RUNNING),
            ).fetchone()
            if busy is not None:
                raise BranchBusy(
                    f"task {busy[0]} already works on branch {spec.branch!r} of "
                    f"{spec.repo_url}; wait for it to finish, stop it, or choose another branch"
                )
            task_id = "t" + uuid.uuid4().hex[:12]
            data = asdict(spec)
            data["pipeline"] = list(spec.pipeline)
            db.execute(
                "INSERT INTO tasks (id, spec, repo_url, branch, idempotency_key, state, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    task_id, json.dumps(data), spec.repo_url, spec.branch,
                    spec.idempotency_key, QUEUED, now,
                ),
            )  # fmt: skip
            row = db.execute("SELECT * FROM tasks WHERE id = ?", (task_id,)).fetchone()
        return task_from_row(row), True

    def get(self, task_id: str) -> Task:
        rows = self._read("SELECT * FROM tasks WHERE id = ?", (task_id,))
        if not rows:
            raise TaskNotFound(f"no task {task_id!r}; `bridle tasks list` shows the tasks")
        return task_from_row(rows[0])

    def list_tasks(
        self, *, state: str | None = None, repo_url: str | None = None, limit: int = 50,
        offset: int = 0,
    ) -> list[Task]:  # fmt: skip
        where, args = [], []
        if state:
            where.append("state = ?")
            args.append(state)
        if repo_url:
            where.append("repo_url = ?")
            args.append(repo_url)
        sql = "SELECT * FROM tasks"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?"
        return [task_from_row(r) for r in self._read(sql, (*args, limit, offset))]

    def queue_position(self, task_id: str) -> int | None:
        task = self.get(task_id)
        if task.state != QUEUED:
            return None
        rows = self._read(
            "SELECT COUNT(*) FROM tasks WHERE state = ? AND (created_at < ? OR "
            "(created_at = ? AND rowid <= (SELECT rowid FROM tasks WHERE id = ?)))",
            (QUEUED, task.created_at, task.created_at, task_id),
        )
        return int(rows[0][0])

    def claim(self, worker: str, lease_seconds: float, now: float | None = None) -> Task | None:
        now = self._clock() if now is None else now
        with self._tx() as db:
            row = db.execute(
                "SELECT id FROM tasks WHERE state = ? OR (state = ? AND lease_expires < ?)"
                " ORDER BY created_at, rowid LIMIT 1",
                (QUEUED, RUNNING, now),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE tasks SET state = ?, worker = ?, lease_expires = ?,"
                " attempts = attempts + 1, started_at = COALESCE(started_at, ?) WHERE id = ?",
                (RUNNING, worker, now + lease_seconds, now, row[0]),
            )
            return task_from_row(
                db.execute("SELECT * FROM tasks WHERE id = ?", (row[0],)).fetchone()
            )

    def heartbeat(self, task_id: str, worker: str, lease_seconds: float) -> bool:
        with self._tx() as db:
            cur = db.execute(
                "UPDATE tasks SET lease_expires = ? WHERE id = ? AND worker = ? AND state = ?",
                (self._clock() + lease_seconds, task_id, worker, RUNNING),
            )
            return cur.rowcount == 1

    def progress(
        self, task_id: str, worker: str, *, phase: str | None = None, cost_usd: float = 0.0,
        turns: int = 0, checkpoint: Checkpoint | None = None,
    ) -> bool:  # fmt: skip
        with self._tx() as db:
            row = db.execute(
                "SELECT checkpoints FROM tasks WHERE id = ? AND worker = ? AND state = ?",
                (task_id, worker, RUNNING),
            ).fetchone()
            if row is None:
                return False
            points = json.loads(row[0])
            if checkpoint is not None:
                points.append(checkpoint.to_json())
            db.execute(
                "UPDATE tasks SET phase = COALESCE(?, phase), cost_usd = cost_usd + ?,"
                " turns = turns + ?, checkpoints = ? WHERE id = ?",
                (phase, cost_usd, turns, json.dumps(points), task_id),
            )
            return True

    def finish(
        self, task_id: str, worker: str, state: str, result: dict[str, Any],
        error: str | None = None,
    ) -> bool:  # fmt: skip
        if state not in FINAL_STATES:
            raise ValueError(f"not a final state: {state}")
        with self._tx() as db:
            cur = db.execute(
                "UPDATE tasks SET state = ?, result = ?, error = ?, finished_at = ?,"
                " lease_expires = NULL WHERE id = ? AND worker = ? AND state = ?",
                (state, json.dumps(result), error, self._clock(), task_id, worker, RUNNING),
            )
            if cur.rowcount != 1:
                return False
            self._event(db, task_id, "task_finished", {"state": state, "error": error})
            return True

    def release(self, task_id: str, worker: str) -> bool:
        with self._tx() as db:
            cur = db.execute(
                "UPDATE tasks SET lease_expires = 0, worker = NULL"
                " WHERE id = ? AND worker = ? AND state = ?",
                (task_id, worker, RUNNING),
            )
            return cur.rowcount == 1

    # --------------------------------------------------------------- controls
    def request_stop(self, task_id: str) -> Task:
        with self._tx() as db:
            row = db.execute("SELECT state FROM tasks WHERE id = ?", (task_id,)).fetchone()
            if row is None:
                raise TaskNotFound(f"no task {task_id!r}; `bridle tasks list` shows the tasks")
            if row[0] in FINAL_STATES:
                raise TaskFinished(f"task {task_id} already ended ({row[0]}); nothing to stop")
            if row[0] == QUEUED:
                why = "stopped before it started"
                db.execute(
                    "UPDATE tasks SET state = ?, finished_at = ?, error = ? WHERE id = ?",
                    (CANCELLED, self._clock(), why, task_id),
                )
                self._event(db, task_id, "task_finished", {"state": CANCELLED, "error": why})
            else:
                db.execute("UPDATE tasks SET stop_requested = 1 WHERE id = ?", (task_id,))
        return self.get(task_id)

    def steer(self, task_id: str, text: str) -> Task:
        with self._tx() as db:
            row = db.execute("SELECT state FROM tasks WHERE id = ?", (task_id,)).fetchone()
            if row is None:
                raise TaskNotFound(f"no task {task_id!r}; `bridle tasks list` shows the tasks")
            if row[0] in FINAL_STATES:
                raise TaskFinished(
                    f"task {task_id} already ended ({row[0]}); submit a new task instead"
                )
            db.execute("INSERT INTO steers (task_id, text) VALUES (?, ?)", (task_id, text))
        return self.get(task_id)

    def take_steers(self, task_id: str) -> list[str]:
        with self._tx() as db:
            rows = db.execute(
                "SELECT id, text FROM steers WHERE task_id = ? AND taken = 0 ORDER BY id",
                (task_id,),
            ).fetchall()
            if rows:
                db.execute(
                    "UPDATE steers SET taken = 1 WHERE task_id = ? AND id <= ?",
                    (task_id, rows[-1][0]),
                )
        return [r[1] for r in rows]

    # ----------------------------------------------------------------- events
    def append_event(self, task_id: str, kind: str, data: dict[str, Any]) -> int:
        with self._tx() as db:
            return self._event(db, task_id, kind, data)

    def _event(self, db: sqlite3.Connection, task_id: str, kind: str, data: dict[str, Any]) -> int:
        cur = db.execute(
            "INSERT INTO events (task_id, kind, data, at) VALUES (?, ?, ?, ?)",
            (task_id, kind, json.dumps(data, default=str), self._clock()),
        )
        return int(cur.lastrowid or 0)

    def events(self, task_id: str, after: int = 0, limit: int = 500) -> list[TaskEvent]:
        rows = self._read(
            "SELECT * FROM events WHERE task_id = ? AND id > ? ORDER BY id LIMIT ?",
            (task_id, after, limit),
        )
        return [
            TaskEvent(r["id"], r["task_id"], r["kind"], json.loads(r["data"]), r["at"])
            for r in rows
        ]

    def close(self) -> None:
        with self._lock:
            self._db.close()
