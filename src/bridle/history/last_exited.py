"""Which session exited last, for `bridle sessions star` without an id (altergo's `--star`).

Two kinds of sessions end: a coding CLI launched under an account (`bridle
launch` records the session it wrote, with the time it ended, as `last` in
`$BRIDLE_HOME/last-sessions.json`), and bridle's own sessions (the `sessions`
table; a session still open in another bridle process holds its lease and has
not exited, so it is passed over). The one that ended later wins. The answer is
a `tool:id` reference that `history.search.find_session` resolves; this module
changes nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path


def _seconds(stamp: object) -> float | None:
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _launched(home: Path) -> tuple[float, str] | None:
    from bridle.accounts.files import read_json_object

    last = read_json_object(home / "last-sessions.json", "last-sessions file").get("last")
    if not isinstance(last, dict) or not last.get("tool") or not last.get("id"):
        return None
    ended = _seconds(last.get("ended_at"))
    return None if ended is None else (ended, f"{last['tool']}:{last['id']}")


def _own(db: sqlite3.Connection, home: Path) -> tuple[float, str] | None:
    from bridle.store.lease import SessionInUse, acquire

    rows = db.execute(
        "SELECT id, updated_at FROM sessions WHERE status != 'subagent'"
        " ORDER BY updated_at DESC, rowid DESC LIMIT 50"
    )
    for sid, updated in rows:
        try:
            acquire(home, sid).release()
        except SessionInUse:
            continue  # still open elsewhere: it has not exited
        ended = _seconds(updated)
        if ended is not None:
            return ended, f"bridle:{sid}"
    return None


def last_exited(db: sqlite3.Connection, env: Mapping[str, str]) -> str | None:
    """`tool:id` of the session that ended last, or None when none has."""
    from bridle.config.paths import bridle_home

    home = bridle_home(env)
    found = [c for c in (_launched(home), _own(db, home)) if c is not None]
    return max(found)[1] if found else None
