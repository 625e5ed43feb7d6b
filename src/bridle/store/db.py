"""Open bridle's SQLite database, safely shared by several processes.

`open_db` creates the parent directory, refuses any file that is not an SQLite
database (naming the path and the fix, never touching the file), a database
found damaged before, and a read-only file or directory (`store.diagnose` names
the cause and the fix; `database_error` does the same for an `sqlite3.Error` a
command meets later, so a front end shows it instead of a traceback), sets WAL mode,
`synchronous=NORMAL`, foreign keys and a busy timeout, then applies pending
migrations. Connections (`Connection`, whose `executescript` keeps an open
transaction) run in autocommit mode (`isolation_level=None`): every
write goes through `write_transaction`, which takes the write lock up front with
`BEGIN IMMEDIATE` so concurrent writers queue on the busy timeout instead of
failing mid-transaction with a lock upgrade error. WAL with `synchronous=NORMAL`
keeps every committed transaction across a process crash (only a power loss may
drop the last few). This module knows nothing of the tables themselves.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bridle.core.errors import UserError
from bridle.store import diagnose
from bridle.store.migrations import apply_all

SQLITE_MAGIC = b"SQLite format 3\x00"

# Writers wait this long for another process's transaction before giving up.
DEFAULT_BUSY_TIMEOUT_S = 30.0

_opened: list[Path] = []  # the database this process opened last (for database_error)


class Connection(sqlite3.Connection):
    """A connection whose `executescript` stays inside an open transaction.

    The stdlib's `executescript` first COMMITs whatever transaction is open,
    which would split a migration (and release the write lock another process
    is waiting on) halfway; inside a transaction this one runs the script's
    statements one by one instead."""

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        if not self.in_transaction:
            return super().executescript(sql_script)
        cursor = self.cursor()
        statement = ""
        for piece in sql_script.split(";"):
            statement += piece + ";"
            # complete_statement knows about string literals, comments and
            # trigger bodies, so a `;` inside them does not end the statement.
            if sqlite3.complete_statement(statement):
                if statement.strip(" \t\r\n;"):
                    cursor.execute(statement)
                statement = ""
        if statement.strip(" \t\r\n;"):
            cursor.execute(statement.removesuffix(";"))
        return cursor


def open_db(path: Path, *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> sqlite3.Connection:
    """Open (creating if needed) the database at `path`, migrated to the latest schema."""
    path = Path(path)
    _refuse_foreign_file(path)
    diagnose.refuse_known_damage(path)
    _make_parent(path)
    diagnose.check_writable(path)
    _opened[:] = [path]
    deadline = time.monotonic() + busy_timeout_s
    while True:
        try:
            return _connect(path, busy_timeout_s)
        except sqlite3.OperationalError as e:
            # Two connections setting up a fresh database at once (a batch run's
            # threads, parallel processes) can get SQLITE_BUSY without the busy
            # handler being consulted, e.g. on the WAL switch: wait and retry.
            # A lock is not damage, so it never gets the "move it aside" advice.
            if not _is_busy(e):
                raise diagnose.explain(e, path) from e
            if time.monotonic() >= deadline:
                raise UserError(
                    f"bridle's database {path} stayed locked for {busy_timeout_s:.0f} s: "
                    "another bridle process is holding it. Try again when it is done."
                ) from e
            time.sleep(0.05)
        except sqlite3.DatabaseError as e:
            raise diagnose.explain(e, path) from e


def database_error(e: BaseException) -> UserError | None:
    """An `sqlite3.Error` met while using bridle's database, as a UserError that
    names the cause and the fix (damage is remembered, so nothing writes to that
    file again); None for any other exception."""
    if not isinstance(e, sqlite3.Error):
        return None
    if _opened:
        path = _opened[0]
    else:
        from bridle.config.paths import database_path

        path = database_path()
    try:
        return diagnose.explain(e, path)
    except UserError as err:  # check_writable found the cause
        return err


def _make_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        missing = path.parent
        while not missing.parent.exists() and missing.parent != missing:
            missing = missing.parent
        raise UserError(
            f"bridle cannot create its directory {missing} ({e.strerror}): make "
            f"{missing.parent} writable, or set BRIDLE_HOME to a writable directory."
        ) from e


# SQLITE_READONLY_RECOVERY, _CANTLOCK and _CANTINIT: another connection is recovering,
# setting up or (closing last) removing the WAL's shared memory. Transient, as a lock is.
TRANSIENT_READONLY = (264, 520, 1288)


def _is_busy(e: sqlite3.OperationalError) -> bool:
    text = str(e).lower()
    code = getattr(e, "sqlite_errorcode", None)
    return "locked" in text or "busy" in text or code in TRANSIENT_READONLY


def _connect(path: Path, busy_timeout_s: float) -> sqlite3.Connection:
    # check_same_thread=False lets a front end hand the connection to the worker
    # thread that runs the engine; it is still used by one thread at a time.
    conn = sqlite3.connect(
        path,
        timeout=busy_timeout_s,
        isolation_level=None,
        check_same_thread=False,
        factory=Connection,
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise UserError(
                f"{path}: SQLite could not switch the database to WAL mode (got {mode!r}); "
                f"bridle needs a local filesystem that supports shared memory: "
                f"set BRIDLE_HOME to a directory on a local disk."
            )
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        apply_all(conn)
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """`BEGIN IMMEDIATE` … `COMMIT`, rolled back on any exception.

    Taking the write lock first means the busy timeout applies to the whole
    transaction; a deferred transaction that later upgrades to a writer can fail
    at once with SQLITE_BUSY when another process committed in between."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _refuse_foreign_file(path: Path) -> None:
    """Check the header before SQLite sees the file, so nothing is ever written to it."""
    if path.is_dir():
        raise UserError(
            f"{path} is a directory, but bridle keeps its database in a file there: "
            f"move the directory away, or set BRIDLE_HOME to another directory."
        )
    try:
        with path.open("rb") as f:
            header = f.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        return
    except OSError as e:
        raise UserError(f"cannot read bridle's database {path}: {e.strerror}") from e
    if header and header != SQLITE_MAGIC:
        raise diagnose.unreadable(path, "the file is not an SQLite database")
