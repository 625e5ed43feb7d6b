"""`bridle sessions star` without an id stars the session that exited last: a CLI
session `bridle launch` recorded (`last` in last-sessions.json) or bridle's own,
whichever ended later; a bridle session still open in another process has not
exited and is passed over."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bridle.store.db import open_db
from bridle.store.lease import acquire
from bridle.store.sessions import SessionStore

from .helpers import FIXTURES, install

CODEX_ID = "5973b6c0-94b8-487b-a530-2aeb6098ae0e"


def bridle(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "BRIDLE_HISTORY_BACKGROUND": "0"}
    return subprocess.run(
        [sys.executable, "-m", "bridle", *args], env=env, capture_output=True, text=True, timeout=60
    )


def own_session(ended: datetime) -> str:
    db = open_db(Path(os.environ["BRIDLE_HOME"]) / "bridle.db")
    store = SessionStore(db, now=lambda: ended)
    sid = store.create("mock/anthropic", "mock", "/w").id
    store.append(sid, "user", {"role": "user", "content": [{"type": "text", "text": "hi"}]})
    db.close()
    return sid


def local(hour: int) -> str:
    """A naive local time, as `bridle launch` records `ended_at`."""
    utc = datetime(2026, 1, 2, hour, tzinfo=UTC)
    return utc.astimezone().replace(tzinfo=None).isoformat(timespec="seconds")


def launched(ended: str) -> None:
    record = Path(os.environ["BRIDLE_HOME"]) / "last-sessions.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    entry = {"account": "work", "tool": "codex", "id": CODEX_ID, "path": "x", "cwd": None,
             "ended_at": ended}  # fmt: skip
    record.write_text(json.dumps({"work:codex": entry, "last": entry}))


def starred() -> list[str]:
    out = bridle("sessions", "list", "--starred", "--json").stdout.splitlines()
    return [f"{row['tool']}:{row['id']}" for row in map(json.loads, out)]


def test_nothing_exited_yet_says_how_to_name_one() -> None:
    done = bridle("sessions", "star")
    assert done.returncode == 64
    assert "no session has exited yet" in done.stderr


def test_the_later_of_a_launch_and_an_own_session_is_starred() -> None:
    install(FIXTURES / "codex" / "basic", Path(os.environ["HOME"]))
    launched(local(10))
    sid = own_session(datetime(2026, 1, 2, 11, 0, tzinfo=UTC).astimezone())
    newer = bridle("sessions", "star")
    assert newer.returncode == 0, newer.stderr
    assert newer.stdout == f"starred bridle:{sid}\n"

    bridle("sessions", "unstar", sid)
    launched(local(12))
    assert bridle("sessions", "star").stdout == f"starred codex:{CODEX_ID}\n"
    assert starred() == [f"codex:{CODEX_ID}"]


def test_a_session_still_open_elsewhere_has_not_exited() -> None:
    first = own_session(datetime(2026, 1, 2, 9, 0, tzinfo=UTC))
    running = own_session(datetime(2026, 1, 2, 10, 0, tzinfo=UTC))
    with acquire(Path(os.environ["BRIDLE_HOME"]), running):
        done = bridle("sessions", "star")
    assert done.stdout == f"starred bridle:{first}\n"
