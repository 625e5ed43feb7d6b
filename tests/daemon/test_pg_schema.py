"""The scale-out backend's schema in a real PostgreSQL (the throwaway cluster).

A new database gets procrastinate's schema and a record of its newest migration; a
database set up with procrastinate 3.3.0's schema (the real file, in
tests/fixtures/procrastinate-3.3.0) is upgraded in place to the same catalog as a
new one, keeps its rows, and runs the retry path that needs a function 3.3.0 did
not have; a migration file that fails is named and rolled back; a database
recorded at a migration this procrastinate does not know is refused and left
alone; a database set up before the record was kept is recorded; an unreachable
database is one error on one line, not a warning per attempt.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bridle.daemon.backend import SUCCEEDED, NewTask
from bridle.daemon.pg_schema import (
    PREFIX,
    MigrationFailed,
    SchemaTooNew,
    procrastinate_migrations,
)

OLD_SCHEMA = Path(__file__).parents[1] / "fixtures" / "procrastinate-3.3.0" / "schema.sql"
OLD_NEWEST = "03.03.00_01_pre_priority_lock_fetch_job.sql"


@pytest.fixture
def db(pg_url: str) -> Iterator[Any]:
    import psycopg
    from psycopg.rows import dict_row

    conn = psycopg.connect(pg_url, autocommit=True, row_factory=dict_row)
    yield conn
    conn.close()


def rows(conn: Any, sql: str) -> list[Any]:
    with conn.cursor() as cur:
        cur.execute(sql)
        return [tuple(r.values()) for r in cur.fetchall()]


def catalog(conn: Any) -> dict[str, list[Any]]:
    """What procrastinate's and bridle's SQL relies on: functions with their
    arguments, enum labels in order, columns, indexes and triggers."""
    return {
        "functions": rows(conn, """
            SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'public' ORDER BY 1"""),
        "enums": rows(conn, """
            SELECT t.typname, e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
            ORDER BY t.typname, e.enumsortorder"""),
        "columns": rows(conn, """
            SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
            WHERE table_schema = 'public' ORDER BY table_name, column_name"""),
        "indexes": rows(conn, "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"),
        "triggers": rows(conn, "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1"),
    }  # fmt: skip


def recorded(conn: Any) -> list[str]:
    return [r[0] for r in rows(conn, "SELECT name FROM bridle_migrations ORDER BY name")]


def open_backend(url: str) -> Any:
    from bridle.daemon.postgres_backend import PostgresBackend

    return PostgresBackend(url, retry_seconds=5)


def test_a_new_database_gets_the_schema_and_its_version(pg_url: str, db: Any) -> None:
    open_backend(pg_url).close()
    newest = procrastinate_migrations()[-1][0]
    assert recorded(db) == ["m001_initial", PREFIX + newest]
    before = catalog(db)
    open_backend(pg_url).close()  # a second open changes nothing
    assert catalog(db) == before and recorded(db) == ["m001_initial", PREFIX + newest]


def test_a_procrastinate_3_3_database_is_upgraded_in_place(
    pg_url: str, db: Any, pg_cluster: Any
) -> None:
    fresh_url = pg_cluster.database()
    open_backend(fresh_url).close()
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(fresh_url, row_factory=dict_row) as fresh:
        want = catalog(fresh)

    # As an older bridle (with procrastinate 3.3.0) left it: its schema, its record,
    # bridle's tables, and a job of another queue sharing the database.
    with db.cursor() as cur:
        cur.execute(OLD_SCHEMA.read_text(encoding="utf-8"))
        cur.execute("CREATE TABLE bridle_migrations (name TEXT PRIMARY KEY)")
        cur.execute("INSERT INTO bridle_migrations VALUES (%s)", (PREFIX + OLD_NEWEST,))
        cur.execute("INSERT INTO procrastinate_jobs (queue_name, task_name, args) "
                    "VALUES ('reports', 'make_report', '{\"n\": 1}')")  # fmt: skip
    old = catalog(db)
    assert "procrastinate_retry_job_v2" not in str(old["functions"])
    upgraded = [n for n, _ in procrastinate_migrations() if n > OLD_NEWEST]
    assert upgraded, "the pinned procrastinate has no migration after 3.3.0's"

    backend = open_backend(pg_url)
    try:
        assert catalog(db) == want
        assert recorded(db) == ["m001_initial", PREFIX + upgraded[-1]]
        assert rows(db, "SELECT queue_name, task_name, status FROM procrastinate_jobs") == [
            ("reports", "make_report", "todo")
        ]
        # An expired lease is given back through procrastinate_retry_job_v2 (3.4.0).
        task, _ = backend.create(NewTask(repo_url="/r", task="fix it", branch="b"))
        backend.claim("w1", 30, now=100.0)
        again = backend.claim("w2", 30, now=time.time() + 60)
        assert again is not None and again.id == task.id and again.attempts == 2
        assert backend.finish(task.id, "w2", SUCCEEDED, {"summary": "done"})
    finally:
        backend.close()


def test_a_failing_migration_is_named_and_the_database_kept_at_the_step_before(
    pg_url: str, db: Any
) -> None:
    with db.cursor() as cur:
        cur.execute(OLD_SCHEMA.read_text(encoding="utf-8"))
        cur.execute("CREATE TABLE bridle_migrations (name TEXT PRIMARY KEY)")
        cur.execute("INSERT INTO bridle_migrations VALUES (%s)", (PREFIX + OLD_NEWEST,))
        # Something in the way of the next file: a function of the name it creates.
        cur.execute("CREATE FUNCTION procrastinate_retry_job_v2(job_id bigint, "
                    "retry_at timestamp with time zone, new_priority integer, "
                    "new_queue_name character varying, new_lock character varying) "
                    "RETURNS void LANGUAGE sql AS 'SELECT 1'")  # fmt: skip
    before = catalog(db)
    with pytest.raises(MigrationFailed, match=r"failed at procrastinate migration 03\.04\.00_01"):
        open_backend(pg_url)
    assert catalog(db) == before  # the file's enum value went back with it
    assert recorded(db) == [PREFIX + OLD_NEWEST]


def test_a_database_from_a_newer_procrastinate_is_refused_and_left_alone(
    pg_url: str, db: Any, tmp_path: Path
) -> None:
    open_backend(pg_url).close()
    with db.cursor() as cur:
        cur.execute("DELETE FROM bridle_migrations WHERE name LIKE %s", (PREFIX + "%",))
        cur.execute("INSERT INTO bridle_migrations VALUES (%s)", (PREFIX + "99.00.00_01_x.sql",))
    before = catalog(db)
    with pytest.raises(SchemaTooNew, match=r"newer than this bridle knows .*upgrade bridle"):
        open_backend(pg_url)
    assert catalog(db) == before
    assert PREFIX + "99.00.00_01_x.sql" in recorded(db)
    # `bridle worker` says so in one line, without a traceback.
    home = tmp_path / "home"
    done = subprocess.run(
        [sys.executable, "-m", "bridle", "worker", "--database", pg_url, "--data-dir",
         str(tmp_path / "data")],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "HOME": str(home), "BRIDLE_HOME": str(home / ".bridle")},
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("bridle: the task database's queue schema is at procrastinate")
    assert "Traceback" not in done.stderr and "upgrade bridle here" in done.stderr
    # And a daemon's worker process: one line, exit 1 (the daemon starts another).
    done = subprocess.run(
        [sys.executable, "-m", "bridle.daemon.worker", "--data-dir", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "HOME": str(home), "BRIDLE_DAEMON_DATABASE": pg_url},
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("bridle worker: the task database's queue schema is at")
    assert done.stderr.count("\n") == 1
    assert catalog(db) == before


def test_a_database_set_up_before_the_record_was_kept_is_recorded(pg_url: str, db: Any) -> None:
    open_backend(pg_url).close()
    with db.cursor() as cur:
        cur.execute("DELETE FROM bridle_migrations WHERE name LIKE %s", (PREFIX + "%",))
    before = catalog(db)
    open_backend(pg_url).close()
    assert catalog(db) == before
    assert recorded(db) == ["m001_initial", PREFIX + procrastinate_migrations()[-1][0]]


def test_an_unreachable_database_is_one_error_not_a_warning_per_attempt(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a loopback port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # A process of its own: pytest's log capture would hide what Python prints.
    code = (
        "from bridle.daemon.postgres_backend import BackendUnavailable, PostgresBackend\n"
        "try:\n"
        f"    PostgresBackend('postgresql://u:p@127.0.0.1:{port}/db', retry_seconds=1.5)\n"
        "except BackendUnavailable as e:\n"
        "    print(e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)  # fmt: skip
    assert done.stdout.startswith("the task database is unreachable (connection failed")
    assert done.stdout.endswith(
        "check that PostgreSQL is running and the --database URL is right\n"
    )
    assert done.stdout.count("\n") == 1  # psycopg's two-line message, on one line
    assert done.stderr == ""  # no warning per connection attempt
