"""Defect 13: `bridle sessions rm` deletes everything bridle stored for the session.

A run whose Bash output is too long for the model spills it under
`$BRIDLE_HOME/tool-output/<session>`; `sessions rm --yes ID` must remove that
directory, the session's rows (session, events, history index entries) and its
lock file, say what it removed, and leave other sessions' outputs alone. A
session another process is writing is not deleted.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bridle.store.lease import acquire, lock_path


def write_scenario(path: Path, command: str) -> Path:
    path.write_text(
        json.dumps(
            {
                "name": "spill",
                "prompt": "p",
                "final": "done",
                "turns": [{"op": "bash", "command": command}, {"op": "final", "text": "done"}],
            }
        )
    )
    return path


def bridle(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("BRIDLE_MOCK")}
    full.update(BRIDLE_HISTORY_BACKGROUND="0", NO_COLOR="1")
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bridle", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def run_spilling(tmp_path: Path, name: str) -> str:
    """A -p run whose Bash output is spilled; returns the session id."""
    scenario = write_scenario(
        tmp_path / f"{name}.json", "python3 -c \"print('spilled line ' * 4000)\""
    )
    out = bridle(
        "-p", "go", "--model", "mock/anthropic", "--output-format", "json",
        "--allowedTools", "Bash(python3 -c:*)",
        cwd=tmp_path, env={"BRIDLE_MOCK_SCENARIO": str(scenario)},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return str(json.loads(out.stdout)["session_id"])


@pytest.fixture
def home() -> Path:
    return Path(os.environ["BRIDLE_HOME"])


def rows(home: Path, sql: str, *args: str) -> int:
    conn = sqlite3.connect(home / "bridle.db")
    try:
        return int(conn.execute(sql, args).fetchone()[0])
    finally:
        conn.close()


def test_rm_deletes_rows_spilled_outputs_and_lock_file(tmp_path: Path, home: Path) -> None:
    gone = run_spilling(tmp_path, "a")
    kept = run_spilling(tmp_path, "b")
    spilled = home / "tool-output" / gone
    saved = list(spilled.iterdir())
    assert saved and all(p.suffix == ".txt" for p in saved)  # the run spilled its output
    assert (home / "tool-output" / kept).is_dir()
    assert bridle("sessions", "list", cwd=tmp_path).returncode == 0  # indexed
    lock = lock_path(home, gone)
    lock.write_text("12345\n")  # left by a process that died without releasing

    out = bridle("sessions", "rm", "--yes", gone[:8], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert not spilled.exists()
    assert not lock.exists()
    assert rows(home, "SELECT count(*) FROM sessions WHERE id = ?", gone) == 0
    assert rows(home, "SELECT count(*) FROM events WHERE session_id = ?", gone) == 0
    assert rows(home, "SELECT count(*) FROM history_sessions WHERE sid = ?", gone) == 0
    # It says what it removed.
    assert f"deleted session {gone}" in out.stderr
    noun = "output" if len(saved) == 1 else "outputs"
    assert "events" in out.stderr and f"{len(saved)} saved tool {noun}" in out.stderr
    assert str(spilled) in out.stderr and "lock file" in out.stderr
    # The other session keeps everything.
    assert len(list((home / "tool-output" / kept).iterdir())) == len(saved)
    assert rows(home, "SELECT count(*) FROM events WHERE session_id = ?", kept) > 0


def test_rm_of_a_session_without_outputs_says_so(tmp_path: Path, home: Path) -> None:
    scenario = tmp_path / "plain.json"
    scenario.write_text(json.dumps({"name": "p", "prompt": "p", "final": "done", "turns": []}))
    out = bridle(
        "-p", "hi", "--model", "mock/anthropic", "--output-format", "json",
        cwd=tmp_path, env={"BRIDLE_MOCK_SCENARIO": str(scenario)},
    )  # fmt: skip
    sid = json.loads(out.stdout)["session_id"]
    out = bridle("sessions", "rm", "--yes", sid, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert f"deleted session {sid}" in out.stderr and "saved tool output" not in out.stderr
    assert not (home / "tool-output" / sid).exists()


def test_rm_refuses_a_session_another_process_is_writing(tmp_path: Path, home: Path) -> None:
    sid = run_spilling(tmp_path, "a")
    lease = acquire(home, sid)  # as a running `bridle -r` would hold it
    try:
        out = bridle("sessions", "rm", "--yes", sid, cwd=tmp_path)
    finally:
        lease.release()
    assert out.returncode != 0
    assert "in use" in out.stderr and str(os.getpid()) in out.stderr
    assert "Traceback" not in out.stderr
    assert (home / "tool-output" / sid).is_dir()
    assert rows(home, "SELECT count(*) FROM sessions WHERE id = ?", sid) == 1
