"""Fixtures for daemon tests: a bare origin holding examples/buggy-project, a
real `python -m bridle daemon` on a free loopback port with the mock model, and a
throwaway PostgreSQL cluster (`pg_cluster`, one per test session; `pg_url`, a fresh
database per test) that skips only when PostgreSQL's binaries are missing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.daemon.pgcluster import PgCluster, find_bin_dir

ROOT = Path(__file__).resolve().parents[2]
BUGGY = ROOT / "examples" / "buggy-project"
TOKEN = "test-token-123"
TEST_CMD = "python -m unittest -q"


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    """A bare repository (default branch main) with the buggy project committed."""
    bare = tmp_path / "origin.git"
    git("init", "-q", "--bare", "-b", "main", str(bare))
    work = tmp_path / "seed"
    work.mkdir()
    git("init", "-q", "-b", "main", cwd=work)
    for name in ("stats.py", "test_stats.py"):
        shutil.copy(BUGGY / name, work / name)
    git("add", "-A", cwd=work)
    git("commit", "-qm", "buggy project", cwd=work)
    git("push", "-q", str(bare), "main", cwd=work)
    return bare


def slow_scenario(tmp_path: Path, delay_ms: int) -> Path:
    """The buggy-project scenario with a delay on every model turn."""
    data = json.loads((BUGGY / "scenario.json").read_text())
    for turn in data["turns"]:
        turn["delay_ms"] = delay_ms
    path = tmp_path / f"slow-{delay_ms}.json"
    path.write_text(json.dumps(data))
    return path


class Daemon:
    """`bridle daemon` in a subprocess; `url` once it printed its port."""

    def __init__(self, data_dir: Path, scenario: Path, workers: int = 1, lease: float = 2.0):
        self.data_dir = data_dir
        self.scenario = scenario
        self.workers = workers
        self.lease = lease
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self, *extra: str) -> Daemon:
        env = {**os.environ, "BRIDLE_MOCK_SCENARIO": str(self.scenario)}
        cmd = [
            sys.executable, "-m", "bridle", "daemon", "--port", "0", "--data-dir",
            str(self.data_dir), "--workers", str(self.workers), "--lease", str(self.lease),
            "--auth-token", TOKEN, *extra,
        ]  # fmt: skip
        self.log = self.data_dir.parent / f"daemon-{time.monotonic_ns()}.err"
        with open(self.log, "w") as err:
            self.proc = subprocess.Popen(
                cmd, env=env, stdout=subprocess.PIPE, stderr=err, text=True
            )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("PORT="), (line, self.log.read_text())
        self.url = f"http://127.0.0.1:{int(line.split('=')[1])}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError("the daemon did not answer /health")

    def client(self, token: str | None = TOKEN) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[Any]:
    started: list[Daemon] = []

    def make(scenario: Path | None = None, **kw: Any) -> Daemon:
        d = Daemon(tmp_path / "data", scenario or BUGGY / "scenario.json", **kw)
        started.append(d)
        return d

    yield make
    for d in started:
        d.stop()


def wait_for(client: httpx.Client, task_id: str, states: tuple[str, ...], timeout: float = 90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = client.get(f"/tasks/{task_id}").json()
        if task["state"] in states:
            return task
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} did not reach {states}: {task}")


def submit(client: httpx.Client, origin: Path, **fields: Any) -> dict[str, Any]:
    body = {
        "repo_url": str(origin), "task": "fix the failing test", "model": "mock/anthropic",
        "test_command": TEST_CMD, **fields,
    }  # fmt: skip
    r = client.post("/tasks", json=body)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)")
    cluster = PgCluster(bin_dir).start()
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> str:
    return pg_cluster.database()
