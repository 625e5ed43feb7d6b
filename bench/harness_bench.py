"""Harness benchmark: bridle against the real Claude Code, Codex CLI, Gemini CLI and
Copilot CLI on the same scripted 20-turn session, served by the same mock server.

    .cache/venv/bin/python bench/harness_bench.py            # 3 repetitions, all clients
    .cache/venv/bin/python bench/harness_bench.py --reps 1 --clients bridle,codex --no-docs

Every run gets a fresh temp HOME, a fresh git copy of examples/buggy-project and its
own `bridle mock serve` process (started before the clock, so the server's cost is
never counted, for any client). Two scenarios: `scenarios/twenty_turns.json` (19 tool
turns then the final answer) and `scenarios/one_turn.json` (start-up plus one round
trip). Per run it measures wall time, CPU seconds (user+sys of the client and every
descendant it waited for, from `os.wait4`), peak RSS (wait4's ru_maxrss: the largest
single process of the tree) and the peak of the whole tree's summed PSS (sampled
from /proc every 20 ms over the client's session). A run counts only if it exited 0, printed the final text, reached the
scenario's last turn with no invariant violation and, for the 20-turn session, left
the bug fixed and the tests passing. It also reports the size of each client's first
model request that offers tools (the mock's `--log`). Medians go to a table and to
docs/benchmarks.md, section "Harness: 20-turn session vs real CLIs" (other sections
untouched). It is not part of the test suite and asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from realcli.harness import MockProcess, _base_env, prepare_cli, project_copy  # noqa: E402

SCENARIOS = {
    "twenty": ROOT / "bench" / "scenarios" / "twenty_turns.json",
    "one": ROOT / "bench" / "scenarios" / "one_turn.json",
}
BRIDLE_WIRES = ("anthropic", "openai-chat", "openai-responses", "gemini")
PEERS = ("claude", "codex", "gemini", "copilot")
OLD, NEW = "return sum(values) / (len(values) + 1)", "return sum(values) / len(values)"
REGRESSION_TEST = "def test_mean_single(self):"
SECTION = "## Harness: 20-turn session vs real CLIs"
TARGETS = {"wall_s": 1 / 2, "cpu_s": 1 / 2, "max_rss_mb": 1 / 3, "tree_pss_mb": 1 / 3}
FIRST_REQUEST_TARGET = 20 * 1024
LABELS = {
    "wall_s": "wall",
    "cpu_s": "CPU",
    "max_rss_mb": "peak RSS",
    "tree_pss_mb": "tree PSS",
    "one_wall_s": "1-turn wall",
}


@dataclass
class Run:
    client: str
    scenario: str
    ok: bool = False
    reason: str = ""
    wall_s: float = 0.0
    cpu_s: float = 0.0
    max_rss_mb: float = 0.0  # largest single process in the tree (wait4 ru_maxrss)
    tree_pss_mb: float = 0.0  # peak of the summed PSS of the tree (sampled)
    first_request_bytes: int | None = None
    requests: int = 0
    leftovers: int = 0  # processes still alive in the client's session after it exited


@dataclass
class TreeSampler:
    """Peak summed RSS of every process in one session (the client runs in its own)."""

    sid: int
    interval: float = 0.02
    peak_bytes: int = 0
    leftovers: list[int] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def scan(self) -> list[int]:
        """Pids in the session (the client's tree, including any it orphaned)."""
        found = []
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    fields = f.read().rpartition(b")")[2].split()
            except OSError:
                continue
            if int(fields[3]) == self.sid:  # fields[0] is the state, [3] the session id
                found.append(int(name))
        return found

    def pss(self, pid: int) -> int:
        # PSS, not RSS: a child between fork and exec would count its parent twice.
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
                for line in f:
                    if line.startswith(b"Pss:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak_bytes = max(self.peak_bytes, sum(map(self.pss, self.scan())))

    def stop(self) -> None:
        self._stop.set()


def measure(argv: list[str], env: dict[str, str], cwd: Path, out: Path, timeout: float) -> dict:
    """Run one client to completion in its own session; its resource use and output."""
    stdout, stderr = out.with_suffix(".out"), out.with_suffix(".err")
    with stdout.open("wb") as so, stderr.open("wb") as se:
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=so, stderr=se,
            start_new_session=True,
        )  # fmt: skip
        sampler = TreeSampler(proc.pid)
        thread = threading.Thread(target=sampler.run, daemon=True)
        thread.start()
        timer = threading.Timer(timeout, os.killpg, (proc.pid, signal.SIGKILL))
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        timer.cancel()
        sampler.stop()
        thread.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    leftovers = sampler.scan()  # daemons the client left behind: not counted, but killed
    for pid in leftovers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return {
        "rc": proc.returncode,
        "timed_out": wall >= timeout,
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "max_rss_mb": usage.ru_maxrss / 1024,
        "tree_pss_mb": sampler.peak_bytes / 2**20,
        "leftovers": len(leftovers),
        "stdout": stdout.read_text(errors="replace"),
        "stderr": stderr.read_text(errors="replace"),
    }


def command(client: str, port: int, repo: Path, home: Path, prompt: str):
    """(argv, env) for `client`: `bridle/<wire>` or one of the real CLIs."""
    if client.startswith("bridle/"):
        env = _base_env(home)
        env.update(
            BRIDLE_HOME=str(home / ".bridle"), BRIDLE_MOCK_BASE_URL=f"http://127.0.0.1:{port}"
        )
        argv = [sys.executable, "-m", "bridle", "-p", prompt]
        argv += ["--model", "mock/" + client.split("/", 1)[1]]
        argv += ["--dangerously-skip-permissions", "--output-format", "json"]
        return argv, env
    cli = prepare_cli(client, port=port, cwd=repo, home=home, prompt=prompt)
    return cli.argv, cli.env


def check(run: Run, result: dict, repo: Path, scenario: dict, log: list[dict]) -> str:
    """Why the run does not count, or "" when it completed the scenario."""
    if result["timed_out"]:
        return "timed out"
    if result["rc"] != 0:
        return f"exit {result['rc']}: {result['stderr'].strip()[-300:]}"
    if scenario["final"] not in result["stdout"]:
        return "final text missing from stdout"
    violations = [e["violation"] for e in log if e.get("violation")]
    if violations:
        return "mock invariant violated: " + violations[0]
    last = len(scenario["turns"]) - 1
    if not any(e.get("turn") == last for e in log):
        return f"never reached turn {last}"
    if run.scenario == "twenty":
        stats, tests = (repo / "stats.py").read_text(), (repo / "test_stats.py").read_text()
        if NEW not in stats or OLD in stats or REGRESSION_TEST not in tests:
            return "stats.py not fixed or regression test not added"
        suite = subprocess.run(
            [sys.executable, "-m", "unittest", "-q"], cwd=repo, capture_output=True, text=True
        )
        if suite.returncode != 0:
            return "tests fail after the run: " + suite.stderr[-300:]
    return ""


def run_once(client: str, which: str, workdir: Path, timeout: float) -> Run:
    scenario_path = SCENARIOS[which]
    scenario = json.loads(scenario_path.read_text())
    tmp = Path(tempfile.mkdtemp(prefix=f"{client.replace('/', '-')}-{which}-", dir=workdir))
    repo = project_copy(tmp / "repo")
    log_path = tmp / "mock.jsonl"
    run = Run(client, which)
    with MockProcess(scenario_path, log=log_path, workdir=repo) as mock:
        argv, env = command(client, mock.port, repo, tmp / "home", scenario["prompt"])
        result = measure(argv, env, repo, tmp / "client", timeout)
    log = [json.loads(line) for line in log_path.read_text().splitlines() if line]
    run.reason = check(run, result, repo, scenario, log)
    run.ok = not run.reason
    for key in ("wall_s", "cpu_s", "max_rss_mb", "tree_pss_mb"):
        setattr(run, key, result[key])
    offered = [e for e in log if e.get("tools")]
    run.first_request_bytes = offered[0]["body_bytes"] if offered else None
    run.requests = len(log)
    run.leftovers = result["leftovers"]
    return run


def median(runs: list[Run], client: str, which: str, key: str) -> float | None:
    values = [getattr(r, key) for r in runs if r.client == client and r.scenario == which and r.ok]
    return statistics.median(values) if values else None


def summarize(runs: list[Run], clients: list[str]) -> list[dict]:
    rows = []
    for client in clients:
        row: dict = {"client": client}
        for key in ("wall_s", "cpu_s", "max_rss_mb", "tree_pss_mb", "requests"):
            row[key] = median(runs, client, "twenty", key)
        row["one_wall_s"] = median(runs, client, "one", "wall_s")
        row["one_cpu_s"] = median(runs, client, "one", "cpu_s")
        sizes = [
            r.first_request_bytes for r in runs if r.client == client and r.first_request_bytes
        ]
        row["first_request_kb"] = max(sizes) / 1024 if sizes else None
        total = [r for r in runs if r.client == client]
        row["ok"] = f"{sum(r.ok for r in total)}/{len(total)}"
        rows.append(row)
    return rows


def ratios(rows: list[dict]) -> list[str]:
    """Each bridle row against the best peer, per metric, with the issue's targets."""
    peers = [r for r in rows if not r["client"].startswith("bridle/")]
    lines = []
    for row in (r for r in rows if r["client"].startswith("bridle/")):
        parts = []
        for key, target in (*TARGETS.items(), ("one_wall_s", None)):
            best = min((p[key] for p in peers if p[key] is not None), default=None)
            if row[key] is None or not best:
                continue
            ratio = row[key] / best
            who = next(p["client"] for p in peers if p[key] == best)
            verdict = "" if target is None else (" ok" if ratio <= target else " MISS")
            limit = "" if target is None else f" (target ≤ {target:.2f})"
            parts.append(f"{LABELS[key]} {ratio:.2f}× {who}{limit}{verdict}")
        size = row["first_request_kb"]
        if size is not None:
            verdict = "ok" if size * 1024 <= FIRST_REQUEST_TARGET else "MISS"
            parts.append(f"first request {size:.1f} KB (target ≤ 20 KB) {verdict}")
        lines.append(f"- **{row['client']}**: " + "; ".join(parts))
    return lines


def table(rows: list[dict]) -> str:
    head = (
        "| client | 20-turn wall s | CPU s | peak RSS MB | tree PSS MB "
        "| 1-turn wall s | 1-turn CPU s | first request KB | requests | ok runs |"
    )
    lines = [head, "|" + " --- |" * 10]

    def cell(value: float | None, fmt: str) -> str:
        return "failed" if value is None else format(value, fmt)

    for r in rows:
        lines.append(
            f"| {r['client']} | {cell(r['wall_s'], '.2f')} | {cell(r['cpu_s'], '.2f')} "
            f"| {cell(r['max_rss_mb'], '.0f')} | {cell(r['tree_pss_mb'], '.0f')} "
            f"| {cell(r['one_wall_s'], '.2f')} | {cell(r['one_cpu_s'], '.2f')} "
            f"| {cell(r['first_request_kb'], '.1f')} | {cell(r['requests'], '.0f')} | {r['ok']} |"
        )
    return "\n".join(lines)


def version_of(text: str) -> str:
    found = re.search(r"\d+\.\d+\.\d+", text)
    return found.group(0) if found else text.strip()[:40] or "?"


def versions(clients: list[str], workdir: Path) -> dict[str, str]:
    found = {"python": platform.python_version()}
    bridle = [sys.executable, "-m", "bridle", "--version"]
    found["bridle"] = version_of(subprocess.run(bridle, capture_output=True, text=True).stdout)
    head = ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]
    found["bridle"] += " @ " + subprocess.run(head, capture_output=True, text=True).stdout.strip()
    for name in (c for c in clients if c in PEERS):
        try:
            cli = prepare_cli(name, port=1, cwd=workdir, home=workdir / f"v-{name}", prompt="")
        except pytest.skip.Exception as e:  # the CLI is not installed; the message says how
            sys.exit(f"{e.msg}\n(or leave {name} out with --clients)")
        done = subprocess.run(
            [cli.argv[0], "--version"], env=cli.env, capture_output=True, text=True, timeout=120
        )
        found[name] = version_of(done.stdout)
    return found


def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} × {model}, load average at start {load}"


def write_docs(doc: Path, body: str) -> None:
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    start = text.find(SECTION)
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + body + (text[end + 1 :] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + body
    doc.parent.mkdir(parents=True, exist_ok=True)
    tmp = doc.with_name(f".{doc.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    if doc.exists():
        os.chmod(tmp, doc.stat().st_mode & 0o7777)
    os.replace(tmp, doc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3, help="timed repetitions per client")
    default = ",".join([f"bridle/{w}" for w in BRIDLE_WIRES] + list(PEERS))
    ap.add_argument("--clients", default=default, help=f"comma-separated (default {default})")
    ap.add_argument("--warmup", type=int, default=1, help="untimed 1-turn runs per client")
    ap.add_argument("--timeout", type=float, default=180, help="seconds before a run is killed")
    ap.add_argument("--docs", type=Path, default=ROOT / "docs" / "benchmarks.md")
    ap.add_argument("--no-docs", action="store_true", help="print only")
    ap.add_argument("--keep", action="store_true", help="keep the temp dirs (logs, outputs)")
    args = ap.parse_args()
    clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    unknown = [
        c for c in clients if c not in PEERS and c.removeprefix("bridle/") not in BRIDLE_WIRES
    ]
    if unknown:
        ap.error(
            f"unknown clients {unknown}; use bridle/<wire> ({', '.join(BRIDLE_WIRES)}) or {', '.join(PEERS)}"
        )
    started = time.time()
    where = machine()
    workdir = Path(tempfile.mkdtemp(prefix="bridle-harness-bench-"))
    runs: list[Run] = []
    try:
        found = versions(clients, workdir)
        for client in clients:
            for _ in range(args.warmup):
                run_once(client, "one", workdir, args.timeout)
        for rep in range(args.reps):
            for which in ("one", "twenty"):
                for client in clients:  # interleaved, so load spikes spread over clients
                    run = run_once(client, which, workdir, args.timeout)
                    runs.append(run)
                    status = "ok" if run.ok else f"FAILED: {run.reason}"
                    if run.leftovers:
                        status += f" (killed {run.leftovers} processes it left running)"
                    print(
                        f"rep {rep + 1} {which:>6} {client:<25} wall {run.wall_s:6.2f}s "
                        f"cpu {run.cpu_s:6.2f}s rss {run.max_rss_mb:4.0f}MB pss {run.tree_pss_mb:4.0f}MB {status}",
                        flush=True,
                    )
    finally:
        if not args.keep:
            subprocess.run(["rm", "-rf", str(workdir)], check=False)
        else:
            print(f"kept {workdir}")
    rows = summarize(runs, clients)
    out = table(rows)
    notes = ratios(rows)
    print("\n" + out + "\n\n" + "\n".join(notes))
    failures = [f"- {r.client} {r.scenario}: {r.reason}" for r in runs if not r.ok]
    if failures:
        print("\nfailed runs:\n" + "\n".join(failures))
    if args.no_docs:
        return
    cmd = "python bench/harness_bench.py" + (f" --reps {args.reps}" if args.reps != 3 else "")
    body = f"""{SECTION}

`{cmd}` (`.cache/venv/bin/python`), {time.strftime("%Y-%m-%d", time.localtime(started))}, took {time.time() - started:.0f} s.
Machine: {where} (shared with other jobs, so wall times are noisy). Versions: {", ".join(f"{k} {v}" for k, v in found.items())}.

Scenario `bench/scenarios/twenty_turns.json`: 20 model requests on a git copy of
examples/buggy-project (glob, read, grep, bash, two edits, test runs; Claude Code and
Codex get the searches as shell commands), zero latency; `one_turn.json` is start-up
plus one round trip. Each run: fresh temp HOME and repo, its own `bridle mock serve`
process started before the clock. Medians of {args.reps} runs that completed (exit 0,
final text printed, last turn reached, bug fixed, tests pass). CPU is user+sys of the
client and every descendant it waited for (`os.wait4`). "Peak RSS" is wait4's
ru_maxrss: the largest single process of the tree (Codex's native binary, not its node
launcher). "Tree PSS" is the peak of the summed PSS of every process in the client's
session, sampled every 20 ms from /proc (`smaps_rollup`), so multi-process clients
count whole. "First request" is the largest, over runs, first request that offers
tools. bridle runs once per wire (`--model mock/<wire>`); the peers speak their own.
Subprocesses count for every client alike (`python3 -m unittest` three times, git, grep);
Codex runs them in a login shell, whose PATH finds the system `python3` rather than the
venv's.

{out}

bridle against the best peer per metric (targets from issue 3: wall and CPU at most
half, peak RSS at most a third, first request at most 20 KB):

{chr(10).join(notes)}
"""
    if failures:
        body += "\nFailed runs:\n\n" + "\n".join(failures) + "\n"
    write_docs(args.docs, body)
    print(f"\nwrote {args.docs} ({SECTION[3:]})")


if __name__ == "__main__":
    main()
