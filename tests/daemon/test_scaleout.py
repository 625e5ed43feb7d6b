"""Scale-out end to end: daemons and `bridle worker` processes sharing one PostgreSQL
database (a throwaway cluster), with the mock model and a local bare origin.

The load and fault test queues many tasks across several workers (one in the
daemon, three in two `bridle worker` processes), SIGKILLs random
workers in the middle of tasks and restarts the database once, while Server-Sent
Events clients drop and reconnect with `Last-Event-ID`: every task must end exactly
once, none lost or duplicated, and every client must see every event once, in order.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.daemon.conftest import Daemon, git, slow_scenario, submit, wait_for
from tests.daemon.pgcluster import PgCluster

FINAL = ("succeeded", "failed", "cancelled")


class Workers:
    """`bridle worker --database URL` in a subprocess (its worker processes are children)."""

    def __init__(self, url: str, data_dir: Path, scenario: Path, n: int, lease: float):
        env = {**os.environ, "BRIDLE_MOCK_SCENARIO": str(scenario)}
        cmd = [
            sys.executable, "-m", "bridle", "worker", "--database", url, "--data-dir",
            str(data_dir), "--workers", str(n), "--lease", str(lease),
        ]  # fmt: skip
        self.log = data_dir.parent / f"worker-{time.monotonic_ns()}.err"
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "w") as err:
            self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def started(tmp_path: Path) -> Any:
    things: list[Any] = []
    yield things
    for thing in reversed(things):
        thing.stop()


def _daemon(tmp_path: Path, name: str, url: str, scenario: Path, workers: int = 0) -> Daemon:
    d = Daemon(tmp_path / name / "data", scenario, workers=workers)
    d.data_dir.parent.mkdir(parents=True, exist_ok=True)
    return d.start("--database", url)


def test_worker_needs_a_postgres_url(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bridle", "worker", "--database", "sqlite:///tasks.db",
         "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 64 and "postgresql://" in run.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "bridle", "worker"], capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 64 and "--database" in missing.stderr


def test_two_daemons_and_a_remote_worker_share_one_database(
    tmp_path: Path, origin: Path, pg_url: str, started: list[Any]
) -> None:
    scenario = slow_scenario(tmp_path, 100)
    a = _daemon(tmp_path, "a", pg_url, scenario)
    started.append(a)
    b = _daemon(tmp_path, "b", pg_url, scenario)
    started.append(b)
    ca, cb = a.client(), b.client()
    task = submit(ca, origin, branch="shared/one")
    other = submit(cb, origin, branch="shared/two")
    # Each daemon sees the other's task queued (no daemon here has workers) and
    # refuses its branch; a stop sent to one daemon cancels a task queued on the other.
    assert cb.get(f"/tasks/{task['id']}").json()["queue_position"] == 1
    assert ca.get(f"/tasks/{other['id']}").json()["queue_position"] == 2
    busy = cb.post("/tasks", json={"repo_url": str(origin), "task": "x", "branch": "shared/one"})
    assert busy.status_code == 409 and busy.json()["error"]["type"] == "branch_busy"
    assert ca.post(f"/tasks/{other['id']}/stop").json()["state"] == "cancelled"
    assert cb.post(f"/tasks/{task['id']}/steer", json={"text": "mind the tests"}).is_success
    started.append(Workers(pg_url, tmp_path / "w" / "data", scenario, 1, 3.0))
    done = wait_for(cb, task["id"], FINAL, timeout=120)
    assert done["state"] == "succeeded", done
    assert [p["phase"] for p in done["checkpoints"]] == [
        "start", "lead", "implement", "review", "test",
    ]  # fmt: skip
    # The worker cloned into its own data dir and pushed to origin.
    assert (tmp_path / "w" / "data" / "worktrees" / task["id"]).is_dir()
    assert not (tmp_path / "a" / "data" / "worktrees").exists()
    assert "return sum(values) / len(values)" in git("show", "shared/one:stats.py", cwd=origin)
    # Either daemon streams the same events, ids and all; the steer reached the run.
    ea = ca.get(f"/tasks/{task['id']}/events").json()["events"]
    assert ea == cb.get(f"/tasks/{task['id']}/events").json()["events"]
    assert [e["kind"] for e in ea][-2:] == ["pushed", "task_finished"]
    assert [e["text"] for e in ea if e["kind"] == "steer"] == ["mind the tests"]
    # The cancelled task's job was never handed to the worker.
    cancelled = ca.get(f"/tasks/{other['id']}").json()
    assert (cancelled["state"], cancelled["attempts"]) == ("cancelled", 0)


def test_a_task_resumes_on_another_machine_from_its_shared_checkpoint(
    tmp_path: Path, origin: Path, pg_url: str, started: list[Any]
) -> None:
    scenario = slow_scenario(tmp_path, 300)
    d = _daemon(tmp_path, "api", pg_url, scenario)
    started.append(d)
    c = d.client()
    task = submit(c, origin, branch="move/me")
    first = Workers(pg_url, tmp_path / "m1" / "data", scenario, 1, 1.5)
    started.append(first)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        t = c.get(f"/tasks/{task['id']}").json()
        if t["phase"] == "implement":
            break
        time.sleep(0.05)
    assert t["phase"] == "implement" and t["state"] == "running", t
    # The first machine is lost: its supervisor, then its worker, mid-task.
    first.proc.kill()
    first.proc.wait()
    os.kill(int(t["worker"].rsplit(":", 1)[1]), signal.SIGKILL)
    lead = t["checkpoints"][-1]["commit"]
    assert git("rev-parse", f"refs/bridle/tasks/{task['id']}", cwd=origin) == lead
    started.append(Workers(pg_url, tmp_path / "m2" / "data", scenario, 1, 1.5))
    done = wait_for(c, task["id"], FINAL, timeout=120)
    assert done["state"] == "succeeded" and done["attempts"] == 2, done
    assert [p["phase"] for p in done["checkpoints"]] == [
        "start", "lead", "implement", "review", "test",
    ]  # fmt: skip
    events = c.get(f"/tasks/{task['id']}/events").json()["events"]
    resumed = [e for e in events if e["kind"] == "task_resumed"]
    assert [(r["checkpoint"], r["commit"]) for r in resumed] == [("lead", lead)]
    assert (tmp_path / "m2" / "data" / "worktrees" / task["id"]).is_dir()
    # The branch continues from the first machine's lead checkpoint; the hidden ref is gone.
    log = git("log", "--format=%H %s", "move/me", cwd=origin).splitlines()
    assert any(line.startswith(lead) for line in log)
    assert sum("bridle: implement" in line for line in log) == 1
    assert git("for-each-ref", "refs/bridle", cwd=origin) == ""


class SseReader(threading.Thread):
    """Follows one task's stream, dropping the connection after a random number of
    events and reconnecting with Last-Event-ID, until `task_finished`."""

    def __init__(self, url: str, headers: dict[str, str], task_id: str, seed: int):
        super().__init__(daemon=True)
        self.url, self.headers, self.task_id = url, headers, task_id
        self.rng = random.Random(seed)
        self.seen: list[tuple[int, str]] = []
        self.reconnects = 0
        self.error: str | None = None

    def run(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            headers = dict(self.headers)
            if self.seen:
                headers["Last-Event-ID"] = str(self.seen[-1][0])
            budget = self.rng.randint(2, 8)
            try:
                if self._read(headers, budget):
                    return
            except httpx.HTTPError:
                pass  # the daemon was busy or the database restarting: reconnect
            self.reconnects += 1
            time.sleep(0.05)
        self.error = "timed out"

    def _read(self, headers: dict[str, str], budget: int) -> bool:
        url = f"{self.url}/tasks/{self.task_id}/sse"
        with httpx.stream("GET", url, headers=headers, timeout=30) as r:
            if r.status_code != 200:
                return False
            eid, kind = None, None
            for line in r.iter_lines():
                if line.startswith("id:"):
                    eid = int(line[3:].strip())
                elif line.startswith("event:"):
                    kind = line[6:].strip()
                elif line == "" and eid is not None:
                    self.seen.append((eid, str(kind)))
                    if kind == "task_finished":
                        return True
                    eid, kind = None, None
                    budget -= 1
                    if budget == 0:
                        return False  # drop the connection on purpose
        return False


def _running_workers(client: httpx.Client) -> list[int]:
    tasks = client.get("/tasks", params={"state": "running", "limit": 500}).json()["tasks"]
    return [int(t["worker"].rsplit(":", 1)[1]) for t in tasks if t["worker"]]


def test_load_with_killed_workers_and_a_database_restart(
    tmp_path: Path, origin: Path, pg_cluster: PgCluster, started: list[Any]
) -> None:
    url = pg_cluster.database()
    scenario = slow_scenario(tmp_path, 60)
    d = _daemon(tmp_path, "api", url, scenario, workers=1)  # one worker in the daemon too
    started.append(d)
    c = d.client()
    started.append(Workers(url, tmp_path / "w1" / "data", scenario, 2, 2.0))
    started.append(Workers(url, tmp_path / "w2" / "data", scenario, 1, 2.0))
    n = 12
    tasks = [
        submit(c, origin, branch=f"load/{i}", pipeline=["implement", "test"]) for i in range(n)
    ]
    readers = [
        SseReader(d.url, {"Authorization": c.headers["Authorization"]}, t["id"], seed=i)
        for i, t in enumerate(tasks)
    ]
    for r in readers:
        r.start()
    rng = random.Random(12)
    kills, restarted = 0, False
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        states = [t["state"] for t in c.get("/tasks", params={"limit": 500}).json()["tasks"]]
        finished = sum(s in FINAL for s in states)
        if finished == n:
            break
        if not restarted and finished >= n // 3:
            pg_cluster.restart()  # every connection drops; everyone reconnects
            restarted = True
        elif kills < 4 and (pids := _running_workers(c)):
            try:
                os.kill(rng.choice(pids), signal.SIGKILL)  # mid-task, lease held
                kills += 1
            except ProcessLookupError:
                pass
        time.sleep(0.7)
    assert restarted and kills >= 2, (restarted, kills)
    for r in readers:
        r.join(60)
    final = {t["id"]: t for t in c.get("/tasks", params={"limit": 500}).json()["tasks"]}
    assert len(final) == n  # nothing lost, nothing duplicated
    failed = [t for t in final.values() if t["state"] != "succeeded"]
    assert not failed, [
        (t["id"], t["state"], t["error"], c.get(f"/tasks/{t['id']}/events").json()["events"][-6:])
        for t in failed
    ]
    assert sum(t["attempts"] for t in final.values()) > n  # killed tasks were resumed
    for task, reader in zip(tasks, readers, strict=True):
        events = c.get(f"/tasks/{task['id']}/events", params={"limit": 5000}).json()["events"]
        kinds = [e["kind"] for e in events]
        assert kinds.count("task_finished") == 1 and kinds[-1] == "task_finished"
        assert reader.error is None
        assert reader.seen == [(e["id"], e["kind"]) for e in events]  # once each, in order
        log = git("log", "--format=%s", f"load/{tasks.index(task)}", cwd=origin).splitlines()
        assert sum("bridle: implement" in line for line in log) == 1
    assert sum(r.reconnects for r in readers) >= n
