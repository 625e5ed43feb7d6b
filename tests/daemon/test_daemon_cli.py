"""`bridle daemon` start-up rules, `bridle tasks` against a running daemon, and a
worker killed with SIGKILL mid-task."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.daemon.conftest import TEST_CMD, TOKEN, Daemon, git, slow_scenario, submit, wait_for


def bridle(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridle", *args], capture_output=True, text=True, timeout=120,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_non_loopback_bind_without_tls_is_refused(tmp_path: Path) -> None:
    r = bridle("daemon", "--host", "0.0.0.0", "--port", "0", "--data-dir", str(tmp_path / "d"))
    assert r.returncode == 64
    assert "--insecure-bind" in r.stderr and "--tls-cert" in r.stderr
    assert "PORT=" not in r.stdout and not (tmp_path / "d").exists()


def test_generated_token_is_private_and_named_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridle", "daemon", "--port", "0", "--data-dir", str(data),
         "--workers", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stderr is not None
        port = int(proc.stdout.readline().split("=")[1])
        lines = [proc.stderr.readline(), proc.stderr.readline()]
        token_file = data / "token"
        assert f"bearer token from {token_file} (new)" in "".join(lines)
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        token = token_file.read_text().strip()
        url = f"http://127.0.0.1:{port}/tasks"
        for _ in range(100):
            try:
                r = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert r.status_code == 200
        assert httpx.get(url, headers={"Authorization": "Bearer nope"}).status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_tasks_cli_against_a_running_daemon(daemon_factory: Any, origin: Path) -> None:
    d: Daemon = daemon_factory().start()
    env = {"BRIDLE_DAEMON_URL": d.url, "BRIDLE_DAEMON_TOKEN": TOKEN}
    r = bridle(
        "tasks", "submit", "fix the failing test", "--repo", str(origin), "--model",
        "mock/anthropic", "--test-command", TEST_CMD, "--branch", "cli/fix", env=env,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    task_id, state = r.stdout.split()
    assert state == "queued"
    logs = bridle("tasks", "logs", "-f", task_id, env=env)
    assert logs.returncode == 0, logs.stderr
    lines = logs.stdout.splitlines()
    assert "task_started" in lines[0] and lines[-1].endswith("task_finished: succeeded")
    assert any("implement tool_started: Edit" in line for line in lines)
    shown = bridle("tasks", "show", task_id, env=env)
    assert f"{task_id}  succeeded" in shown.stdout and "stats.py | 2 +-" in shown.stdout
    listed = bridle("tasks", "list", env=env)
    assert task_id in listed.stdout and "cli/fix" in listed.stdout
    for op in (("stop", task_id), ("steer", task_id, "more")):
        late = bridle("tasks", *op, env=env)
        assert late.returncode == 1 and "already ended" in late.stderr
    wrong = bridle("tasks", "list", env={**env, "BRIDLE_DAEMON_TOKEN": "bad"})
    assert wrong.returncode == 1 and "BRIDLE_DAEMON_TOKEN" in wrong.stderr
    gone = bridle("tasks", "list", env={**env, "BRIDLE_DAEMON_URL": "http://127.0.0.1:9"})
    assert gone.returncode == 1 and "bridle daemon" in gone.stderr


def test_a_worker_killed_mid_task_is_resumed_and_the_task_ends_once(
    daemon_factory: Any, origin: Path, tmp_path: Path
) -> None:
    d: Daemon = daemon_factory(slow_scenario(tmp_path, 300), workers=2, lease=1.5).start()
    c = d.client()
    task = submit(c, origin, branch="kill/me")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        t = c.get(f"/tasks/{task['id']}").json()
        if t["phase"] == "implement":
            break
        time.sleep(0.05)
    assert t["phase"] == "implement" and t["state"] == "running", t
    os.kill(int(t["worker"].rsplit(":", 1)[1]), signal.SIGKILL)  # worker = host:pid
    done = wait_for(c, task["id"], ("succeeded", "failed", "cancelled"))
    assert done["state"] == "succeeded" and done["attempts"] == 2, done
    events = c.get(f"/tasks/{task['id']}/events").json()["events"]
    kinds = [e["kind"] for e in events]
    assert kinds.count("task_finished") == 1 and kinds.count("pushed") == 1
    resumed = [e for e in events if e["kind"] == "task_resumed"]
    assert [r["checkpoint"] for r in resumed] == ["lead"]
    # Each phase left one checkpoint: the killed implement phase left none.
    phases = [p["phase"] for p in done["checkpoints"]]
    assert phases == ["start", "lead", "implement", "review", "test"]
    log = git("log", "--format=%s", "kill/me", cwd=origin).splitlines()
    assert sum("bridle: implement" in line for line in log) == 1
    assert "return sum(values) / len(values)" in git("show", "kill/me:stats.py", cwd=origin)
