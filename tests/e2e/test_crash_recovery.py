"""Crash recovery: scripted `bridle -p` sessions killed with SIGKILL, then resumed.

Fifty sessions, spread over the four wire formats, each run the same scripted
task against its own mock server and `BRIDLE_HOME`, and each is killed with
SIGKILL at a point drawn from a seeded RNG (`BRIDLE_CRASH_SEED` reproduces a
run). A kill point is an anchor (the process start, the first stored event, or
the moment the mock finished answering scripted turn k) plus a random delay, so kills land in
start-up, while the model "thinks" (`delay_ms`), while a `sleep` tool runs,
between turns and after the end, whatever the machine's load. Every session is
then reopened: the database passes `PRAGMA integrity_check`, and the session is
resumed with `-r ID` against a fresh mock server whose request-invariant checks
must all pass, and which must be asked for exactly the next scripted turn (the
resumed request carries every earlier tool call, answered or "interrupted").
A kill before the session row exists leaves nothing to resume: `-c` then says so
with the usage exit code. This file does not test graceful signals
(`test_signals.py`) or `repair_history` in isolation (tests/store).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bridle.mock.server import MockServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "buggy-project"
WIRES = ["anthropic", "openai-chat", "openai-responses", "gemini"]
SEED = int(os.environ.get("BRIDLE_CRASH_SEED", "20250613"))
SESSIONS = 50
WORKERS = 5
FINAL = "Fixed mean(); the suite passes."
OLD_LINE = "return sum(values) / (len(values) + 1)"
NEW_LINE = "return sum(values) / len(values)"
# Scripted turns before the final answer; the mock serves turn k to a request whose
# conversation already holds k tool calls.
TURNS: list[dict[str, Any]] = [
    {"op": "read", "path": "stats.py", "delay_ms": 150},
    {"op": "bash", "command": "sleep 0.25", "say": "Waiting for the build.", "delay_ms": 150},
    {"op": "edit", "path": "stats.py", "old": OLD_LINE, "new": NEW_LINE, "delay_ms": 150},
    {"op": "bash", "command": "sleep 0.25 && grep -c 'len(values)' stats.py", "delay_ms": 150},
]
TOOL_TURNS = len(TURNS)
# Where a kill is timed from: the process start, the first stored event (the
# prompt), or the mock having answered scripted turn k. Turns 1 and 3 run a
# `sleep`, so they are weighted up.
ANCHORS = ["start", "prompt", "turn0", "turn1", "turn1", "turn2", "turn3", "turn3", "turn4"]
DELAY_S = {"start": 0.6, "prompt": 0.2}
WAIT_LIMIT_S = 60.0


@dataclass(frozen=True)
class KillPlan:
    index: int
    wire: str
    anchor: str
    delay_s: float

    def __str__(self) -> str:
        return (
            f"BRIDLE_CRASH_SEED={SEED} session {self.index} (mock/{self.wire}, "
            f"anchor {self.anchor}, delay {self.delay_s:.3f}s)"
        )


@dataclass
class Outcome:
    plan: KillPlan
    phase: str  # where the kill landed, read back from the stored events
    tool_calls: int  # tool calls stored before the resume
    problems: list[str]


def kill_plans(seed: int) -> list[KillPlan]:
    """Every anchor about equally often, in a seeded order, each with a random delay."""
    rng = random.Random(seed)
    anchors = (ANCHORS * (SESSIONS // len(ANCHORS) + 1))[:SESSIONS]
    rng.shuffle(anchors)
    return [
        KillPlan(i, WIRES[i % len(WIRES)], a, rng.uniform(0.0, DELAY_S.get(a, 0.45)))
        for i, a in enumerate(anchors)
    ]


def make_repo(where: Path) -> Path:
    repo = where / "buggy-project"
    repo.mkdir(parents=True)
    for f in ("stats.py", "test_stats.py", "README.md"):
        shutil.copy(EXAMPLE / f, repo / f)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "init"], cwd=repo, check=True)
    return repo


def bridle_argv(wire: str, prompt: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "bridle", "-p", prompt, "--model", f"mock/{wire}",
        "--dangerously-skip-permissions", "--output-format", "json", *extra,
    ]  # fmt: skip


def answered_turns(srv: MockServer) -> int:
    return sum(1 for r in list(srv.requests) if r.get("status") == 200 and "turn" in r)


def has_events(db: Path) -> bool:
    """Whether any event is stored yet; read-only, so the file is never created."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1)
    except sqlite3.Error:
        return False
    try:
        return conn.execute("SELECT 1 FROM events LIMIT 1").fetchone() is not None
    except sqlite3.Error:  # not created yet, or mid-migration
        return False
    finally:
        conn.close()


def reached(anchor: str, srv: MockServer, db: Path) -> bool:
    if anchor == "prompt":
        return has_events(db)
    return answered_turns(srv) > int(anchor.removeprefix("turn"))


def wait_for_anchor(proc: subprocess.Popen[bytes], srv: MockServer, db: Path, anchor: str) -> None:
    """Return once the run reached `anchor` (or ended)."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    while proc.poll() is None and not reached(anchor, srv, db):
        if time.monotonic() > deadline:
            raise AssertionError(f"{anchor} never came: {srv.requests}")
        time.sleep(0.005)


def stored_session(db: Path) -> tuple[str | None, list[tuple[str, dict[str, Any]]], str]:
    """(newest session id, its events as (kind, payload), integrity_check verdict)."""
    if not db.exists():
        return None, [], "ok"
    conn = sqlite3.connect(db)
    try:
        verdict = "; ".join(r[0] for r in conn.execute("PRAGMA integrity_check"))
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        if "sessions" not in tables:
            return None, [], verdict
        row = conn.execute("SELECT id FROM sessions ORDER BY created_at DESC LIMIT 1").fetchone()
        if row is None:
            return None, [], verdict
        events = [
            (kind, json.loads(payload))
            for kind, payload in conn.execute(
                "SELECT kind, payload FROM events WHERE session_id = ? ORDER BY seq", (row[0],)
            )
        ]
        return row[0], events, verdict
    finally:
        conn.close()


def tool_uses(events: list[tuple[str, dict[str, Any]]]) -> int:
    return sum(
        1
        for kind, payload in events
        if kind == "assistant"
        for part in payload["message"]["content"]
        if part["type"] == "tool_use"
    )


def phase_of(sid: str | None, events: list[tuple[str, dict[str, Any]]]) -> str:
    """Where the kill landed, as the log shows it."""
    if sid is None:
        return "before the session"
    if not events:
        return "before the prompt"
    kind, payload = events[-1]
    if kind == "user":
        return "first model request"
    if kind == "tool_result":
        return "between turns"
    if kind == "assistant" and any(p["type"] == "tool_use" for p in payload["message"]["content"]):
        return "tool running"
    return "after the final answer"


def run_env(home: Path, base_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("BRIDLE_MOCK_SCENARIO", None)
    env.update(BRIDLE_HOME=str(home), BRIDLE_MOCK_BASE_URL=base_url)
    return env


def crash_and_resume(plan: KillPlan, where: Path, scenario: Path) -> Outcome:
    repo = make_repo(where)
    home = where / "bridle-home"
    db = home / "bridle.db"
    problems: list[str] = []
    original = (repo / "stats.py").read_text()

    with MockServer(scenario, workdir=repo) as srv:
        with (where / "killed.err").open("wb") as err:
            proc = subprocess.Popen(
                bridle_argv(plan.wire, "fix the failing test"),
                cwd=repo, env=run_env(home, srv.base_url),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
            )  # fmt: skip
            try:
                if plan.anchor != "start":
                    wait_for_anchor(proc, srv, db, plan.anchor)
                time.sleep(plan.delay_s)
            finally:
                proc.kill()
                proc.wait(timeout=30)
        problems += [f"killed run: {v}" for v in srv.violations]

    sid, events, verdict = stored_session(db)
    if verdict != "ok":
        problems.append(f"integrity_check after the kill: {verdict}")
    stats = (repo / "stats.py").read_text()
    if stats not in (original, original.replace(OLD_LINE, NEW_LINE)):
        problems.append(f"stats.py is neither before nor after the edit:\n{stats}")
    phase = phase_of(sid, events)
    calls = tool_uses(events)

    with MockServer(scenario, workdir=repo) as srv:
        env = run_env(home, srv.base_url)
        if sid is None:
            # Nothing was saved yet: there is nothing to resume, and bridle says so.
            proc2 = subprocess.run(
                bridle_argv(plan.wire, "carry on", "-c"),
                cwd=repo, env=env, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            if proc2.returncode != 64 or "no earlier bridle session" not in proc2.stderr:
                problems.append(f"-c without a session: exit {proc2.returncode}: {proc2.stderr}")
            if srv.requests:
                problems.append(f"-c without a session still asked the model: {srv.requests}")
        else:
            proc2 = subprocess.run(
                bridle_argv(plan.wire, "carry on", "-r", sid),
                cwd=repo, env=env, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            problems += [f"resumed run: {v}" for v in srv.violations]
            if proc2.returncode != 0:
                problems.append(f"resume exited {proc2.returncode}: {proc2.stderr}")
            else:
                result = json.loads(proc2.stdout)
                expected = {
                    "subtype": "success", "session_id": sid, "result": FINAL,
                    "num_turns": max(TOOL_TURNS - calls, 0) + 1,
                }  # fmt: skip
                got = {k: result.get(k) for k in expected}
                if got != expected:
                    problems.append(f"resume result {got}, expected {expected}")
            turns = [r.get("turn") for r in srv.requests]
            if not turns or turns[0] != calls:
                problems.append(
                    f"the resumed request was served turns {turns}; its history holds "
                    f"{calls} tool calls, so the first must be turn {calls}"
                )

    _, after, verdict = stored_session(db)
    if verdict != "ok":
        problems.append(f"integrity_check after the resume: {verdict}")
    if sid is not None and after[: len(events)] != events:
        problems.append("the resume changed events saved before the kill")
    return Outcome(plan, phase, calls, problems)


@pytest.mark.slow
def test_fifty_sessions_killed_with_sigkill_all_resume_validly(tmp_path: Path) -> None:
    scenario = tmp_path / "crash.json"
    scenario.write_text(
        json.dumps(
            {"name": "crash", "prompt": "fix the failing test", "final": FINAL, "turns": TURNS}
        )
    )
    plans = kill_plans(SEED)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        outcomes = list(
            pool.map(lambda p: crash_and_resume(p, tmp_path / f"s{p.index:02d}", scenario), plans)
        )

    failures = [f"{o.plan} [{o.phase}]: " + " | ".join(o.problems) for o in outcomes if o.problems]
    assert not failures, "\n".join(failures)
    phases = Counter(o.phase for o in outcomes)
    # The kill points must exercise the interesting states, not just start-up or the end.
    for phase in ("tool running", "between turns", "first model request"):
        assert phases[phase] >= 1, f"no kill landed in {phase!r}: {dict(phases)}"
    assert len({o.tool_calls for o in outcomes}) >= 3, dict(phases)
