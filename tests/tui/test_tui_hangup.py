"""Closing the terminal under a running app: killing its tmux server mid-answer
hangs up the pty, and the app saves the session and exits instead of being left
spinning without a terminal (Textual's input thread loops on a dead pty, so the
app ends itself after a short grace)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


def test_a_hang_up_mid_answer_saves_and_exits(tmp_path: Path) -> None:
    repo = tmp_path / "p"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    scenario = repo / "long.json"
    text = "word " * 20000  # a long answer, still streaming when the terminal goes
    scenario.write_text(json.dumps({"name": "x", "turns": [{"op": "final", "text": text}]}))
    home = tmp_path / "home"
    marker = uuid.uuid4().hex
    socket = f"bridle-hangup-{marker[:8]}"
    command = (
        f"cd {repo} && HOME={home} BRIDLE_HOME={home}/.bridle BRIDLE_MOCK_SCENARIO={scenario} "
        f"BRIDLE_TEST_MARK={marker} {sys.executable} -m bridle --model mock/anthropic go"
    )
    subprocess.run(
        ["tmux", "-L", socket, "new-session", "-d", "-x", "80", "-y", "24", command], check=True
    )

    def app_pid() -> int | None:
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    env = (entry / "environ").read_bytes()
                except OSError:
                    continue
                if f"BRIDLE_TEST_MARK={marker}".encode() in env:
                    return int(entry.name)
        return None

    deadline = time.monotonic() + 60
    db = home / ".bridle" / "bridle.db"
    while time.monotonic() < deadline and not (db.exists() and app_pid()):
        time.sleep(0.2)
    pid = app_pid()
    assert pid is not None, "the app never started"
    time.sleep(1.0)  # the answer is streaming
    subprocess.run(["tmux", "-L", socket, "kill-server"], check=False)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        stat = Path(f"/proc/{pid}/stat").read_text() if Path(f"/proc/{pid}").exists() else ""
        if ") Z " in stat:
            break
        time.sleep(0.2)
    alive = Path(f"/proc/{pid}").exists() and ") Z " not in Path(f"/proc/{pid}/stat").read_text()
    if alive:
        os.kill(pid, 9)
    assert not alive, "the app kept running after its terminal was gone"
    kinds = [k for (k,) in sqlite3.connect(db).execute("SELECT kind FROM events ORDER BY seq")]
    assert kinds[:1] == ["user"], kinds
