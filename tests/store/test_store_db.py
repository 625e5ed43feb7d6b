"""open_db: pragmas, migrations recorded once, several processes, foreign files."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bridle.core.errors import UserError
from bridle.store.db import open_db, write_transaction
from bridle.store.migrations import apply_all

SESSION_MIGRATIONS = ["m001_sessions", "m002_events"]


def _recorded(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY name")]


def test_open_creates_parents_and_sets_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "bridle.db"
    conn = open_db(path)
    assert path.is_file()
    pragmas = {
        name: conn.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
    }
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 1,
        "foreign_keys": 1,
        "busy_timeout": 30000,
    }
    assert conn.isolation_level is None


def test_migrations_are_recorded_and_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "bridle.db"
    conn = open_db(path)
    names = _recorded(conn)
    assert [n for n in names if n < "m100"] == SESSION_MIGRATIONS
    assert apply_all(conn) == []
    conn.close()
    conn = open_db(path)
    assert _recorded(conn) == names
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"_migrations", "sessions", "events"} <= tables
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "sessions_by_cwd" in indexes


def test_events_refuse_updates(tmp_path: Path) -> None:
    conn = open_db(tmp_path / "bridle.db")
    with write_transaction(conn):
        conn.execute(
            "INSERT INTO sessions (id, model, provider, cwd, created_at, updated_at)"
            " VALUES ('s', 'm', 'p', '/', 't', 't')"
        )
        conn.execute(
            "INSERT INTO events (session_id, seq, ts, kind, payload) VALUES ('s', 1, 't', 'user', '{}')"
        )
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), write_transaction(conn):
        conn.execute("UPDATE events SET payload = '[]'")
    assert conn.execute("SELECT payload FROM events").fetchall() == [("{}",)]
    assert not conn.in_transaction


def test_concurrent_first_opens_apply_each_migration_once(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "bridle.db"
    code = (
        "import sys; from pathlib import Path; from bridle.store.db import open_db; "
        "open_db(Path(sys.argv[1])).close()"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(path)], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    errors = [p.communicate()[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    conn = open_db(path)
    names = _recorded(conn)
    assert len(names) == len(set(names))
    assert [n for n in names if n < "m100"] == SESSION_MIGRATIONS


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"this is my notes file, not a database\n" * 50, id="text"),
        pytest.param(b"SQLite format 3\x00" + b"\xff" * 4096, id="bad-header-page"),
        pytest.param(b"SQLite", id="short"),
    ],
)
def test_foreign_file_gives_fix_and_stays_untouched(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bridle.db"
    path.write_bytes(content)
    with pytest.raises(UserError) as info:
        open_db(path)
    message = str(info.value)
    assert str(path) in message
    assert "untouched" in message and "mv " in message
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bridle.db"]


def test_directory_at_db_path_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bridle.db"
    path.mkdir()
    with pytest.raises(UserError, match="is a directory"):
        open_db(path)


def test_empty_file_becomes_a_database(tmp_path: Path) -> None:
    path = tmp_path / "bridle.db"
    path.touch()
    conn = open_db(path)
    assert "m001_sessions" in _recorded(conn)


def test_write_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    conn = open_db(tmp_path / "bridle.db")
    with pytest.raises(RuntimeError), write_transaction(conn):
        conn.execute(
            "INSERT INTO sessions (id, model, provider, cwd, created_at, updated_at)"
            " VALUES ('s', 'm', 'p', '/', 't', 't')"
        )
        raise RuntimeError("boom")
    assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone() == (0,)


def test_executescript_stays_inside_a_transaction(tmp_path: Path) -> None:
    conn = open_db(tmp_path / "bridle.db")
    script = """
        CREATE TABLE notes (body TEXT);  -- a comment; with a semicolon
        CREATE TRIGGER notes_guard BEFORE DELETE ON notes BEGIN SELECT RAISE(ABORT, 'kept; always'); END;
        INSERT INTO notes VALUES ('a;b');
        INSERT INTO notes VALUES ('c')
    """
    with write_transaction(conn):
        conn.executescript(script)
        assert conn.execute("SELECT body FROM notes").fetchall() == [("a;b",), ("c",)]
        assert conn.in_transaction
        conn.execute("SAVEPOINT probe")  # only valid while the transaction is open
        conn.execute("RELEASE probe")
    with pytest.raises(RuntimeError), write_transaction(conn):
        conn.executescript("CREATE TABLE gone (x); INSERT INTO gone VALUES (1);")
        raise RuntimeError("abort")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "notes" in tables and "gone" not in tables
    # Outside a transaction it behaves like the stdlib's.
    conn.executescript("CREATE TABLE plain (x); INSERT INTO plain VALUES (1);")
    assert conn.execute("SELECT x FROM plain").fetchall() == [(1,)]


def test_threads_opening_a_fresh_database_at_once_all_succeed(tmp_path: Path) -> None:
    """A batch run's threads each open the same new database: a lock while one
    of them sets it up is waited out, never reported as a damaged file."""
    import threading

    path = tmp_path / "fresh" / "bridle.db"
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def one() -> None:
        start.wait()
        try:
            open_db(path).close()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
