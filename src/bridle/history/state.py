"""What the history indexer and its writer share: found files and index metadata.

`FoundFile` is one session file a refresh discovered (its tool, the path it was
reached by, and which accounts see it through which config dir); `meta` and
`set_meta` read and write the `history_meta` key/value table (scan times,
watermarks of bridle's own sessions, the roots' signature). `history.index`
decides what to read and `history.writer` writes it; both import this module,
so neither imports the other's internals. No file I/O happens here.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(slots=True)
class FoundFile:
    tool: str
    path: str
    access: dict[str, str]  # account -> config dir


def meta(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT value FROM history_meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_meta(db: sqlite3.Connection, key: str, value: str) -> None:
    db.execute(
        "INSERT INTO history_meta (key, value) VALUES (?, ?)"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
