"""What the history indexer and its writer share: found files, metadata, skipped files.

`FoundFile` is one session file a refresh discovered (its tool, the path it was
reached by, and which accounts see it through which config dir); `meta` and
`set_meta` read and write the `history_meta` key/value table (scan times,
watermarks of bridle's own sessions, the roots' signature). Files an importer
could not read are kept in `history_skipped` with the reason: `skip` records
one, `skipped` lists them, and `take_unreported` hands the front ends those
not yet shown to the user (this module only reads light tables, so the search
fast path can call it). `history.index`
decides what to read and `history.writer` writes it; both import this module,
so neither imports the other's internals. No file I/O happens here.
"""

from __future__ import annotations

import os
import sqlite3

# A plain class: `dataclasses` (and with it `inspect`) would cost the search fast
# path, which imports this module, more than a search of a rare word.


class FoundFile:
    __slots__ = ("access", "path", "tool")

    def __init__(self, tool: str, path: str, access: dict[str, str]):
        self.tool, self.path = tool, path
        self.access = access  # account -> config dir

    def __repr__(self) -> str:
        return f"FoundFile({self.tool!r}, {self.path!r}, {self.access!r})"


def meta(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT value FROM history_meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_meta(db: sqlite3.Connection, key: str, value: str) -> None:
    db.execute(
        "INSERT INTO history_meta (key, value) VALUES (?, ?)"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def display_path(path: str) -> str:
    """`path` as storable text: bytes of a non-UTF-8 name become `\\xNN` escapes."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return path


def skip(db: sqlite3.Connection, path: str, st: os.stat_result, reason: str) -> None:
    """Remember that `path` (as it was at `st`) could not be read. The same reason
    for a grown file is not reported again; a new reason is."""
    db.execute(
        "INSERT INTO history_skipped (path, inode, size, mtime_ns, reason) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT(path) DO UPDATE SET inode = excluded.inode, size = excluded.size,"
        " mtime_ns = excluded.mtime_ns, reason = excluded.reason,"
        " reported = reported AND reason = excluded.reason",
        (display_path(path), st.st_ino, st.st_size, st.st_mtime_ns, reason[:300]),
    )


def skipped(db: sqlite3.Connection) -> list[tuple[str, str]]:
    """(path, reason) of every file the index could not read, by path."""
    return db.execute("SELECT path, reason FROM history_skipped ORDER BY path").fetchall()


def take_unreported(db: sqlite3.Connection) -> list[tuple[str, str]]:
    """Skipped files not yet reported, now marked reported."""
    try:
        rows = db.execute(
            "SELECT path, reason FROM history_skipped WHERE NOT reported ORDER BY path"
        ).fetchall()
        if rows:
            db.execute("UPDATE history_skipped SET reported = 1 WHERE NOT reported")
    except sqlite3.OperationalError:
        return []  # read-only or busy: tell them next time
    return rows


def skip_notice(rows: list[tuple[str, str]]) -> str:
    """What a front end prints (on stderr) about skipped files."""
    lines = [f"bridle: skipped session file {path}: {reason}" for path, reason in rows]
    lines.append(
        "bridle: the rest of the history is indexed; a skipped file is read again once it"
        " changes, and `bridle sessions reindex` lists those still skipped."
    )
    return "\n".join(lines) + "\n"
