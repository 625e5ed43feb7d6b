"""Why bridle's database cannot be used, in words that name the cause and the fix.

`check_writable` runs before SQLite opens the file: a read-only database file, a
read-only directory (SQLite creates its `-wal` and `-shm` files next to the
database) or a read-only `-wal`/`-shm` each get their own message and `chmod`,
checked with `os.access`, so they hold for whoever runs bridle. `explain` turns
an `sqlite3.Error` met anywhere (opening, or halfway through a command) into a
`UserError` by its SQLite result code: damage (`SQLITE_CORRUPT`), read-only,
cannot open, disk full, I/O error, or a lock. Damage is remembered in a marker
file next to the database (`bridle.db.damaged`, holding the file's inode), and
`refuse_known_damage` makes every later open refuse that file before anything
writes to it, until the file is replaced or passes `PRAGMA quick_check` again.
Advice to move a file aside is only given for files that exist.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

from bridle.core.errors import UserError

# SQLite primary result codes (sqlite3.h).
SQLITE_PERM, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY = 3, 5, 6, 8
SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN = 10, 11, 13, 14
SQLITE_NOTADB = 26


class DatabaseDamaged(UserError):
    """bridle's database is damaged; nothing may write to it."""


def marker_path(path: Path) -> Path:
    return path.with_name(path.name + ".damaged")


def _quote(path: Path | str) -> str:
    return "'" + str(path).replace("'", "'\\''") + "'"


def _mode(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return ""
    owner = ""
    if st.st_uid != os.geteuid():
        try:
            import pwd

            owner = f", owned by {pwd.getpwuid(st.st_uid).pw_name}"
        except (ImportError, KeyError):
            owner = f", owned by uid {st.st_uid}"
    return f" (mode {stat.S_IMODE(st.st_mode):04o}{owner})"


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK)


def check_writable(path: Path) -> None:
    """Raise a UserError naming what keeps bridle from writing its database at `path`."""
    home = path.parent
    exists = path.exists()
    if exists and not os.access(path, os.R_OK):
        raise UserError(
            f"bridle cannot read its database {path}{_mode(path)}: make it readable with "
            f"`chmod u+rw {_quote(path)}`, or set BRIDLE_HOME to a directory of your own."
        )
    if exists and not _writable(path):
        raise UserError(
            f"bridle's database {path} is read-only{_mode(path)}: bridle records every session "
            f"and its history index there. Make it writable with `chmod u+w {_quote(path)}`, "
            f"or set BRIDLE_HOME to a directory of your own."
        )
    if not os.access(home, os.W_OK | os.X_OK):
        what = (
            "SQLite creates the database's -wal and -shm files next to it"
            if exists
            else f"bridle creates its database {path.name} there"
        )
        raise UserError(
            f"bridle's directory {home} is not writable{_mode(home)}: {what}. Make it writable "
            f"with `chmod u+w {_quote(home)}`, or set BRIDLE_HOME to a writable directory."
        )
    for side in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        # Exists again after the check: the last connection to close deletes both files.
        if side.exists() and not _writable(side) and side.exists():
            raise UserError(
                f"SQLite's {side.name} file next to bridle's database is read-only"
                f"{_mode(side)}: make it writable with `chmod u+w {_quote(side)}`."
            )


def damaged(path: Path, reason: str) -> DatabaseDamaged:
    """The message for a damaged database: what happened, and how to salvage it."""
    broken = Path(f"{path}.broken")
    moves = [f"mv {_quote(path)} {_quote(broken)}"]
    for suffix in ("-wal", "-shm"):
        if Path(f"{path}{suffix}").exists():
            moves.append(f"mv {_quote(f'{path}{suffix}')} {_quote(f'{broken}{suffix}')}")
    return DatabaseDamaged(
        f"bridle's database {path} is damaged (SQLite: {reason}), so bridle will not write to it. "
        f"Move it aside and salvage what it holds into a fresh one: `{' && '.join(moves)} && "
        f"sqlite3 {_quote(broken)} .recover | sqlite3 {_quote(path)}` (the history index "
        f"rebuilds itself); or only move it aside and bridle starts an empty database there."
    )


def unreadable(path: Path, reason: str) -> UserError:
    """A file at the database's path that SQLite cannot use (not a database at all)."""
    if not path.exists():
        return UserError(
            f"bridle cannot open its database {path}: {reason}. Check that its directory is "
            f"on a local, writable disk, or set BRIDLE_HOME to another directory."
        )
    return UserError(
        f"bridle's database {path} cannot be opened: {reason}. bridle left the file "
        f"untouched. Move it aside (`mv {_quote(path)} {_quote(f'{path}.broken')}`) and bridle "
        f"will start a fresh database there; to salvage its sessions, try "
        f"`sqlite3 {_quote(f'{path}.broken')} .recover | sqlite3 {_quote(path)}`."
    )


def _code(e: BaseException) -> int | None:
    code = getattr(e, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def explain(e: sqlite3.Error, path: Path) -> UserError:
    """`e`, met while using the database at `path`, as a message naming cause and fix.
    Damage is also remembered (see `mark_damaged`)."""
    code = _code(e)
    text = str(e)
    if code == SQLITE_CORRUPT or (code is None and "malformed" in text):
        mark_damaged(path, text)
        return damaged(path, text)
    if code == SQLITE_NOTADB:
        return unreadable(path, "the file is not an SQLite database")
    if code in (SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_PERM) or "readonly" in text:
        check_writable(path)  # raises when permissions are the cause
        return UserError(
            f"bridle cannot write its database {path}: {text}. If its disk is mounted "
            f"read-only, set BRIDLE_HOME to a writable directory."
        )
    if code == SQLITE_FULL:
        return UserError(
            f"the disk holding bridle's database {path} is full: free some space and run "
            f"bridle again (nothing was lost: the last transaction was rolled back)."
        )
    if code == SQLITE_IOERR:
        return UserError(
            f"reading or writing bridle's database {path} failed ({text}): check the disk "
            f"(`dmesg`), or set BRIDLE_HOME to a directory on another disk."
        )
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return UserError(
            f"bridle's database {path} stayed locked: another bridle process is holding it. "
            "Try again when it is done."
        )
    return unreadable(path, text)


def mark_damaged(path: Path, reason: str) -> None:
    """Remember that the file at `path` is damaged (best effort: the directory may be read-only)."""
    try:
        inode = path.stat().st_ino
        Path(marker_path(path)).write_text(json.dumps({"inode": inode, "reason": reason}) + "\n")
    except OSError:
        pass


def refuse_known_damage(path: Path) -> None:
    """Raise DatabaseDamaged when the file at `path` was found damaged and still is.
    A replaced file (another inode) or one that passes `quick_check` clears the mark."""
    marker = marker_path(path)
    try:
        doc = json.loads(marker.read_text())
    except FileNotFoundError:
        return
    except (OSError, ValueError):
        doc = {}
    try:
        same = path.stat().st_ino == doc.get("inode")
    except OSError:
        same = False
    if same:
        problem = _quick_check(path)
        if problem:
            raise damaged(path, problem)
    try:
        marker.unlink()
    except OSError:
        pass


def _quick_check(path: Path) -> str:
    """'' when SQLite's quick_check passes, else its first complaint."""
    # Without a -wal file the database file is the whole truth: read it as
    # immutable, so not even SQLite's -wal and -shm files are created.
    query = "?mode=ro" if Path(f"{path}-wal").exists() else "?immutable=1"
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + query, uri=True)
        try:
            rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check(1)")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        return str(e)
    return "" if rows == ["ok"] else (rows[0] if rows else "quick_check failed")
