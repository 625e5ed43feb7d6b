"""The daemon's cost: overhead per task, throughput, and stop/steer latency.

Runs examples/buggy-project's fix with the mock model, first as `bridle -p` (5
runs, the baseline), then through a `bridle daemon` on the embedded SQLite
backend: one task with only the Implement phase (5 runs; the difference to
`bridle -p` is the daemon's overhead per task), one full Lead → Implement →
Review → Test task (3 runs), a batch of 10 full tasks (throughput with N
workers), and, with 1-second model turns, how long a stop takes to cancel a
running task and a steer to reach its event log. Prints a markdown table.

    python bench/daemon_bench.py [WORKERS]   # default 2
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

tmp = Path(tempfile.mkdtemp())
os.environ["HOME"] = str(tmp)
os.environ["BRIDLE_HOME"] = str(tmp / ".bridle")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import tests.daemon.conftest as c  # noqa: E402

bare = tmp / "origin.git"
c.git("init", "-q", "--bare", "-b", "main", str(bare))
w = tmp / "seed"
w.mkdir()
c.git("init", "-q", "-b", "main", cwd=w)
for n in ("stats.py", "test_stats.py"):
    shutil.copy(c.BUGGY / n, w / n)
c.git("add", "-A", cwd=w)
c.git("commit", "-qm", "x", cwd=w)
c.git("push", "-q", str(bare), "main", cwd=w)
scen = c.BUGGY / "scenario.json"
# bridle -p baseline
env = {**os.environ, "BRIDLE_MOCK_SCENARIO": str(scen)}
ps = []
for i in range(5):
    d = tmp / f"p{i}"
    c.git("clone", "-q", str(bare), str(d))
    t0 = time.perf_counter()
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "bridle",
            "-p",
            "fix the failing test",
            "--model",
            "mock/anthropic",
            "--permission-mode",
            "acceptEdits",
            "--allowedTools",
            "Bash(python -m unittest -q)",
        ],
        cwd=d,
        env=env,
        capture_output=True,
        text=True,
    )
    ps.append(time.perf_counter() - t0)
    assert r.returncode == 0, r.stderr
ROWS = [("`bridle -p`, one fix, median s", statistics.median(ps))]
workers = int(sys.argv[1]) if len(sys.argv) > 1 else 2
dm = c.Daemon(tmp / "data", scen, workers=workers).start()
cl = dm.client()


def run(pipeline, n, branch):
    t0 = time.perf_counter()
    ids = []
    for i in range(n):
        ids.append(c.submit(cl, bare, pipeline=pipeline, branch=f"{branch}/{i}")["id"])
    for t in ids:
        assert (
            c.wait_for(cl, t, ("succeeded", "failed", "cancelled"), timeout=600)["state"]
            == "succeeded"
        )
    return time.perf_counter() - t0


single = [run(["implement"], 1, f"one{i}") for i in range(5)]
ROWS.append(
    ("daemon, Implement phase only, submit → finished, median s", statistics.median(single))
)
full = [run(None, 1, f"full{i}") for i in range(3)]
ROWS.append(("daemon, full pipeline, one task, median s", statistics.median(full)))
n = 10
tt = run(None, n, "tp")
ROWS.append((f"throughput, full pipeline, {n} tasks, {workers} workers, tasks/min", n / tt * 60))
# stop latency
slow = c.slow_scenario(tmp, 1000)
dm.stop()
dm = c.Daemon(tmp / "data", slow, workers=1).start()
cl = dm.client()
lat = []
for i in range(3):
    t = c.submit(cl, bare, branch=f"stop/{i}")["id"]
    c.wait_for(cl, t, ("running",))
    time.sleep(1.5)
    t0 = time.perf_counter()
    cl.post(f"/tasks/{t}/stop")
    c.wait_for(cl, t, ("cancelled", "succeeded", "failed"))
    lat.append(time.perf_counter() - t0)
ROWS.append(("stop of a running task → cancelled, median s", statistics.median(lat)))
lat = []
for i in range(3):
    t = c.submit(cl, bare, branch=f"steer/{i}")["id"]
    c.wait_for(cl, t, ("running",))
    time.sleep(1.5)
    ev0 = cl.get(f"/tasks/{t}/events").json()["events"][-1]["id"]
    t0 = time.perf_counter()
    cl.post(f"/tasks/{t}/steer", json={"text": "x"})
    while not any(
        e["kind"] == "steer"
        for e in cl.get(f"/tasks/{t}/events", params={"after": ev0}).json()["events"]
    ):
        time.sleep(0.02)
    lat.append(time.perf_counter() - t0)
    cl.post(f"/tasks/{t}/stop")
    c.wait_for(cl, t, ("cancelled", "succeeded", "failed"))
ROWS.append(("steer → in the event log, median s", statistics.median(lat)))
dm.stop()
overhead = ROWS[1][1] - ROWS[0][1]
print(
    f"`python bench/daemon_bench.py {workers}`, {time.strftime('%Y-%m-%d')}, mock model, SQLite backend."
)
print()
print("| measure | value |")
print("| --- | --- |")
for name, value in ROWS:
    print(f"| {name} | {value:.2f} |")
print(f"| daemon overhead per task (Implement only − `bridle -p`), s | {overhead:.2f} |")
