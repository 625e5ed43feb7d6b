"""The scale-out backend's database schema: procrastinate's, kept at the installed version, and bridle's tables.

A new database gets procrastinate's whole schema (`SchemaManager.get_schema`), and
`bridle_migrations` records the newest of the installed procrastinate's migration
files (`procrastinate:<file name>`); a database set up by an older procrastinate
gets the migration files after the one recorded, in order, so upgrading bridle
(and with it its pinned procrastinate) upgrades the queue's tables and SQL
functions in place, and no task, job or event is lost. A database whose queue
tables came before the record was kept was set up by this same pinned version,
and is recorded as such. bridle's own tables follow (`MIGRATIONS`, by name).
Each step (the schema, one migration file, one of bridle's migrations) is its own
transaction, taken under one advisory lock and after reading what is already done,
so daemons and workers starting together apply each step once, a step that fails
leaves the database at the step before, and a new enum value is committed before
a later file uses it. A database recorded at a migration this procrastinate does
not know (a newer bridle set it up) is refused with a clear error and left as it
is; a migration file that fails is named, with its error. All daemons and
workers sharing a database should run the same bridle: the files include
procrastinate's `post` migrations, which an older worker may not survive.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridle.daemon.backend import BackendError

MIGRATION_LOCK = 0x62726964  # any constant: one migrating process at a time
PREFIX = "procrastinate:"

_SCHEMA = """
CREATE TABLE bridle_tasks (
    id TEXT PRIMARY KEY,
    seq BIGSERIAL,
    spec TEXT NOT NULL,
    repo_url TEXT NOT NULL,
    branch TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    state TEXT NOT NULL,
    phase TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    started_at DOUBLE PRECISION,
    finished_at DOUBLE PRECISION,
    cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0,
    turns INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    worker TEXT,
    lease_expires DOUBLE PRECISION,
    stop_requested BOOLEAN NOT NULL DEFAULT false,
    checkpoints TEXT NOT NULL DEFAULT '[]',
    result TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    job_id BIGINT NOT NULL
);
CREATE UNIQUE INDEX bridle_tasks_branch_busy ON bridle_tasks(repo_url, branch)
    WHERE state IN ('queued', 'running');
CREATE INDEX bridle_tasks_state ON bridle_tasks(state, created_at);
CREATE TABLE bridle_steers (
    id BIGSERIAL PRIMARY KEY,
    task_id TEXT NOT NULL,
    text TEXT NOT NULL,
    taken BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX bridle_steers_task ON bridle_steers(task_id, id);
CREATE TABLE bridle_events (
    id BIGSERIAL PRIMARY KEY,
    task_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    key TEXT NOT NULL UNIQUE
);
CREATE INDEX bridle_events_task ON bridle_events(task_id, id)
"""

MIGRATIONS: list[tuple[str, str]] = [("m001_initial", _SCHEMA)]


class SchemaTooNew(BackendError):
    status = 503
    type = "database_schema_newer"


class MigrationFailed(BackendError):
    status = 503
    type = "database_migration_failed"


def procrastinate_migrations() -> list[tuple[str, Path]]:
    """The installed procrastinate's migration files, oldest first (their names
    start with the zero-padded version, so they sort in the order to apply)."""
    from procrastinate.schema import SchemaManager

    folder = Path(SchemaManager.get_migrations_path())
    return sorted((p.name, p) for p in folder.glob("*.sql"))


def migrate(run: Callable[[Callable[[Any], bool]], bool]) -> None:
    """Bring the database up to date; `run(fn)` calls `fn(cursor)` in one
    transaction (the backend's, retried when the database is away)."""
    while run(step):
        pass


def step(cur: Any) -> bool:
    """Apply the next step not yet done, in the caller's transaction; False when
    the database is up to date."""
    cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
    cur.execute("CREATE TABLE IF NOT EXISTS bridle_migrations (name TEXT PRIMARY KEY)")
    cur.execute("SELECT name FROM bridle_migrations")
    done = {row["name"] for row in cur.fetchall()}
    files = procrastinate_migrations()
    newest = files[-1][0] if files else ""
    at = max((n.removeprefix(PREFIX) for n in done if n.startswith(PREFIX)), default=None)
    if at is None:
        cur.execute("SELECT to_regclass('procrastinate_jobs') AS t")
        if cur.fetchone()["t"] is None:
            from procrastinate.schema import SchemaManager

            cur.execute(SchemaManager.get_schema())
        _record(cur, newest)
        return True
    if at > newest:
        raise SchemaTooNew(
            f"the task database's queue schema is at procrastinate migration {at}, newer than "
            f"this bridle knows ({newest}): a newer bridle set it up; upgrade bridle here "
            "(every daemon and worker sharing the database should run the same version)"
        )
    pending = [(name, path) for name, path in files if name > at]
    if pending:
        name, path = pending[0]
        import psycopg

        try:
            cur.execute(path.read_text(encoding="utf-8"))
        except (psycopg.DataError, psycopg.ProgrammingError, psycopg.IntegrityError) as e:
            raise MigrationFailed(
                f"upgrading the task database's queue schema failed at procrastinate migration "
                f"{name} ({' '.join(str(e).split())}); it was left at {at}. Fix the cause and "
                "start bridle again, or apply the file by hand from "
                f"{path.parent}"
            ) from e
        _record(cur, name)
        return True
    for name, sql in MIGRATIONS:
        if name not in done:
            cur.execute(sql)
            cur.execute("INSERT INTO bridle_migrations(name) VALUES (%s)", (name,))
            return True
    return False


def _record(cur: Any, name: str) -> None:
    """Keep one `procrastinate:` row: the migration the queue's schema is at."""
    cur.execute("DELETE FROM bridle_migrations WHERE name LIKE %s", (PREFIX + "%",))
    cur.execute("INSERT INTO bridle_migrations(name) VALUES (%s)", (PREFIX + name,))
