"""Named, append-only schema migrations for `$BRIDLE_HOME/bridle.db`.

Each migration is a function registered with `@migration` whose name (e.g.
`m001_sessions`) is recorded in the `_migrations` table once applied, so the
schema history reads as code (llm's `migrations.py`). Migrations are never edited
or reordered after they ship; a change is a new migration. Feature areas keep
their migrations in their own module (`schema_sessions.py` owns `m001`–`m099`,
`schema_history.py` owns `m100` and up), and `apply_all` imports them all and
applies, in name order, those not yet recorded.

Each migration runs in its own `BEGIN IMMEDIATE` transaction and re-checks the
`_migrations` table once it holds the write lock, so several processes opening a
fresh database at once apply each migration exactly once. A migration must
therefore use `db.execute` only: `executescript` commits the open transaction
and would break that atomicity. This module does not open databases or set
pragmas (that is `store.db`).
"""

from __future__ import annotations

import importlib
import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]

_REGISTRY: dict[str, Migration] = {}

# Modules that register migrations; imported by `apply_all`.
SCHEMA_MODULES = ("bridle.store.schema_sessions", "bridle.store.schema_history")


def migration(fn: Migration) -> Migration:
    if fn.__name__ in _REGISTRY and _REGISTRY[fn.__name__] is not fn:
        raise ValueError(f"duplicate migration name {fn.__name__}")
    _REGISTRY[fn.__name__] = fn
    return fn


def apply_all(db: sqlite3.Connection) -> list[str]:
    """Apply every pending migration; returns the names applied now.

    `db` must not be inside a transaction. Works with any `isolation_level`: the
    transactions here are explicit."""
    for mod in SCHEMA_MODULES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name != mod:
                raise
    db.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    if db.in_transaction:  # legacy isolation levels may have opened one
        db.commit()
    done = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    applied = []
    for name in sorted(_REGISTRY):
        if name in done:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have applied it while we waited for the lock.
            if db.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone():
                db.rollback()
                continue
            _REGISTRY[name](db)
            db.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, datetime('now'))", (name,)
            )
            db.commit()
        except BaseException:
            if db.in_transaction:
                db.rollback()
            raise
        applied.append(name)
    return applied
