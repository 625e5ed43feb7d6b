"""bridle's own sessions (the store's `sessions`/`events` tables) join the index."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from bridle.core.messages import (
    Message,
    ModelResponse,
    StopReason,
    TextPart,
    ToolResultPart,
    ToolUsePart,
)
from bridle.history.fresh import Freshness, ensure_fresh
from bridle.history.search import Filters, find_session, list_sessions, search
from bridle.store.conversation import response_event, tool_results_event, user_event
from bridle.store.db import open_db
from bridle.store.sessions import SessionStore

ENV = {"HOME": "/nonexistent-home"}


def make_store(tmp_path: Path) -> SessionStore:
    ticks = iter(range(100))
    return SessionStore(
        open_db(Path(os.environ["BRIDLE_HOME"]) / "bridle.db"),
        now=lambda: datetime(2025, 11, 6, 12, 0, next(ticks), tzinfo=UTC),
        new_id=lambda: "b1d1e000-0000-4000-8000-000000000001",
    )


def test_own_sessions_are_indexed_searched_and_forgotten(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    db = store.conn
    s = store.create("mock/default", "mock", "/home/ada/src/own", git_branch="main", account="work")
    store.append_many(
        s.id,
        [
            user_event(Message("user", [TextPart("Why does the flamingo parser crash?")])),
            response_event(
                ModelResponse(
                    [
                        TextPart("Let me run it."),
                        ToolUsePart("t1", "Bash", {"command": "python flamingo.py"}),
                    ],
                    StopReason.TOOL_USE,
                )
            ),
            tool_results_event(
                Message(
                    "user",
                    [ToolResultPart("t1", [TextPart("IndexError: list index out of range")])],
                )
            ),
        ],
    )
    assert ensure_fresh(db, ENV, Freshness(background=False)) == "first"
    [row] = list_sessions(db)
    assert (row.tool, row.id, row.title, row.cwd, row.branch, row.accounts) == (
        "bridle",
        "b1d1e000-0000-4000-8000-000000000001",
        "Why does the flamingo parser crash?",
        "/home/ada/src/own",
        "main",
        ["work"],
    )
    assert [
        h.session.id for h in search(db, "IndexError", Filters(tool="bridle", account="work"))
    ] == [s.id]
    assert [h.session.id for h in search(db, '"python flamingo.py"', Filters(role="tool"))] == [
        s.id
    ]

    # A later turn is picked up by the cheap check before the next query.
    store.append(s.id, *user_event(Message("user", [TextPart("now try the pelican module")])))
    assert ensure_fresh(db, ENV, Freshness(background=False)) == "hot"
    assert [h.session.id for h in search(db, "pelican")] == [s.id]
    assert find_session(db, "bridle:b1d1e")[0].entries == 5

    store.delete(s.id)
    ensure_fresh(db, ENV, Freshness(background=False))
    assert list_sessions(db) == [] and search(db, "pelican") == []


def test_show_prints_an_own_session_from_its_events(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    store = make_store(tmp_path)
    s = store.create("mock/default", "mock", "/home/ada/src/own")
    store.append(s.id, *user_event(Message("user", [TextPart("hello heron")])))
    store.conn.close()
    env = {**os.environ, "HOME": str(tmp_path), "BRIDLE_HISTORY_BACKGROUND": "0"}
    out = subprocess.run(
        [sys.executable, "-m", "bridle", "sessions", "show", "bridle:b1d1e000", "--json"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert (doc["title"], doc["entries"]) == (
        "hello heron",
        [{"role": "user", "text": "hello heron", "ts": 1762430401.0}],
    )
