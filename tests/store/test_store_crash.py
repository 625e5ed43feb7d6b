"""Crash safety and concurrency with real processes: SIGKILL at random points,
every truncation point of a session, and two writers on one session."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from store_checks import assert_provider_valid

from bridle.core.messages import Message, TextPart
from bridle.store.conversation import user_event
from bridle.store.db import open_db
from bridle.store.sessions import SessionStore

WRITER = str(Path(__file__).with_name("crash_writer.py"))


def assert_resumable(store: SessionStore, session_id: str) -> None:
    events = store.events(session_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1)), "seq has gaps"
    assert_provider_valid(store.rebuild_messages(session_id))
    # Resuming appends to the same session, and the next request is still valid.
    store.append(session_id, *user_event(Message("user", [TextPart("resume")])))
    assert_provider_valid(store.rebuild_messages(session_id))


def test_sigkill_at_random_points_leaves_resumable_sessions(tmp_path: Path) -> None:
    rng = random.Random(20260501)
    shared = tmp_path / "bridle.db"
    fresh_dbs = []
    for i in range(50):
        # Every tenth child gets a fresh database and may die during migrations.
        early = i % 10 == 0
        db = tmp_path / f"fresh{i}.db" if early else shared
        proc = subprocess.Popen(
            [sys.executable, WRITER, "crash", str(db), "/project", str(rng.randrange(10**6))],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        if early:
            fresh_dbs.append(db)
        else:
            assert proc.stdout is not None
            proc.stdout.readline()  # the session exists; writing starts now
        time.sleep(rng.uniform(0, 0.15 if early else 0.04))
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate()
        assert proc.returncode in (-signal.SIGKILL, 0), err.decode()

    for db in [shared, *fresh_dbs]:
        store = SessionStore(open_db(db))
        for record in store.list(limit=1000):
            assert_resumable(store, record.id)
        store.conn.close()


def test_every_truncation_point_rebuilds_valid(tmp_path: Path) -> None:
    """Transactions are atomic, so a crash leaves a prefix of the event log;
    check every prefix of a scripted session, event by event."""
    db = tmp_path / "bridle.db"
    subprocess.run(
        [sys.executable, WRITER, "crash", str(db), "/script", "7"], check=True, capture_output=True
    )
    store = SessionStore(open_db(db))
    source = store.list()[0].id
    events = store.events(source)[:120]
    assert {e.kind for e in events} >= {"user", "assistant", "tool_result"}
    for n in range(len(events) + 1):
        sid = store.create("m", "p", "/prefix").id
        if n:
            store.append_many(sid, [(e.kind, e.payload) for e in events[:n]])
        assert_resumable(store, sid)


def test_two_processes_writing_one_session_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "bridle.db"
    store = SessionStore(open_db(db))
    sid = store.create("m", "p", "/p").id
    count = 300
    writers = [
        subprocess.Popen(
            [sys.executable, WRITER, "writer", str(db), sid, name, str(count)],
            stderr=subprocess.PIPE,
        )
        for name in ("a", "b")
    ]
    errors = [w.communicate()[1].decode() for w in writers]
    assert [w.returncode for w in writers] == [0, 0], errors
    events = store.events(sid)
    assert [e.seq for e in events] == list(range(1, 2 * count + 1))
    for name in ("a", "b"):
        marks = [e.payload["n"] for e in events if e.payload["writer"] == name]
        assert marks == list(range(count))
