"""Choosing and opening the daemon's task backend from `--database`.

No `--database` means the embedded SQLite store in the data dir (workers inside
the daemon); a `postgresql://` (or `postgres://`) URL means the scale-out store,
where several daemons and `bridle worker` processes on other machines share one
PostgreSQL database. `check_database` refuses anything else with the fix;
`redact` hides a password before a URL is printed. A database that stays
unreachable, whose schema a newer bridle set up, or whose upgrade fails, is a
plain error (exit 1). The PostgreSQL backend (and with it psycopg and
procrastinate) is imported only when a URL asks for it.
"""

from __future__ import annotations

import re
from pathlib import Path

from bridle.core.errors import BridleError, UsageError
from bridle.daemon.backend import TaskBackend


def check_database(database: str | None) -> None:
    if database and not database.startswith(("postgresql://", "postgres://")):
        raise UsageError(
            f"--database {redact(database)!r} is not a PostgreSQL URL: use "
            "postgresql://USER:PASSWORD@HOST:PORT/DBNAME, or leave --database out for the "
            "embedded SQLite store in the data dir"
        )


def redact(url: str) -> str:
    return re.sub(r"(//[^:/@]+):[^@]*@", r"\1:***@", url)


def open_backend(database: str | None, data_dir: Path) -> TaskBackend:
    check_database(database)
    if database:
        from bridle.daemon.backend import BackendError
        from bridle.daemon.postgres_backend import PostgresBackend

        try:
            return PostgresBackend(database)
        except BackendError as e:  # unreachable, or a schema this bridle cannot use
            raise BridleError(str(e)) from e
    from bridle.daemon.sqlite_backend import SqliteBackend

    return SqliteBackend(data_dir / "tasks.db")


def describe(database: str | None, data_dir: Path) -> str:
    return f"PostgreSQL {redact(database)}" if database else f"SQLite {data_dir / 'tasks.db'}"
