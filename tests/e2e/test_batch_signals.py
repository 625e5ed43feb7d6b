"""SIGINT and SIGTERM during a `--prompt-each` batch: the batch stops and saves
like a single run does.

A real `bridle -p --prompt-each` runs six items two at a time against a mock
server whose answers are slow. The signal arrives while two items are waiting
for the model (or running a `sleep 30` under Bash). The test then checks what a
user would see: the exit code (130/143), that the mock is never asked anything
after the signal, a json result for each stopped item naming its session, the
summary on stderr, and the sessions in `$BRIDLE_HOME/bridle.db`: exactly the two
that ran, each saved up to the signal (an answer that starts arriving after it is
closed at its first chunk, as Esc closes it in the app). An item waiting on a
model that sends nothing ends at once too (its connection is shut); behind the
httpx client, which cannot shut it, such items are left after a grace period
(or at once on a second signal), their sessions saved up to the last completed
step.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bridle.headless.batch import GRACE_S
from bridle.mock.server import MockServer

# As in test_signals.py: start bridle with SIGINT's default disposition, as a terminal would.
LAUNCH = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.executable, [sys.executable, '-m', 'bridle', *sys.argv[1:]])"
)
ITEMS = ["one", "two", "three", "four", "five", "six"]
EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}
WORD = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}
REASON = {signal.SIGINT: "interrupted by the user", signal.SIGTERM: "terminated by SIGTERM"}


def start_batch(tmp: Path, srv: MockServer, client: str = "stdlib") -> subprocess.Popen[str]:
    repo = tmp / "repo"
    repo.mkdir(exist_ok=True)
    (repo / "stats.py").write_text("def mean(xs):\n    return sum(xs) / len(xs)\n")
    items = tmp / "items.txt"
    items.write_text("\n".join(ITEMS) + "\n")
    env = dict(os.environ)
    env.pop("BRIDLE_MOCK_SCENARIO", None)
    env["BRIDLE_MOCK_BASE_URL"] = srv.base_url
    env["BRIDLE_HTTP_CLIENT"] = client
    return subprocess.Popen(
        [sys.executable, "-c", LAUNCH, "-p", "look at {{input}}", "--prompt-each", str(items),
         "--parallel", "2", "--model", "mock/anthropic", "--dangerously-skip-permissions",
         "--output-format", "json"],
        cwd=repo, env=env, text=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def write_scenario(tmp: Path, second: dict[str, Any]) -> Path:
    turns = [
        {"op": "read", "path": "stats.py", "delay_ms": 1000},
        second,
        {"op": "final", "text": "all done", "delay_ms": 1000},
    ]
    path = tmp / "slow.json"
    path.write_text(json.dumps({"name": "slow", "prompt": "p", "final": "x", "turns": turns}))
    return path


def wait_for_requests(proc: subprocess.Popen[str], srv: MockServer, n: int) -> None:
    deadline = time.monotonic() + 60
    while len(srv.requests) < n:
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"bridle exited {proc.returncode} early: {out}{err}")
        assert time.monotonic() < deadline, "the batch never got going"
        time.sleep(0.01)


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, out, err


def stored(home: Path) -> dict[str, list[str]]:
    """Each session's event kinds."""
    conn = sqlite3.connect(home / "bridle.db")
    try:
        ids = [r[0] for r in conn.execute("SELECT id FROM sessions")]
        return {
            sid: [
                r[0]
                for r in conn.execute(
                    "SELECT kind FROM events WHERE session_id = ? ORDER BY seq", (sid,)
                )
            ]
            for sid in ids
        }
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("sig", "stall"),
    [
        (signal.SIGINT, "model"),
        (signal.SIGTERM, "model"),
        (signal.SIGINT, "tool"),
        (signal.SIGTERM, "tool"),
    ],
    ids=["int-model", "term-model", "int-tool", "term-tool"],
)
def test_a_signal_stops_the_batch_and_saves_the_running_items(
    tmp_path: Path, sig: signal.Signals, stall: str
) -> None:
    if stall == "model":
        # Two items are waiting for their second answer when the signal comes: its
        # stream is closed at its first chunk, and the tool call it began is dropped.
        second: dict[str, Any] = {"op": "grep", "pattern": "def mean", "delay_ms": 1000}
        answered, turns = 2, 1
    else:
        # Two items are running `sleep 30` under Bash when the signal comes.
        second = {"op": "bash", "command": "sleep 30"}
        answered, turns = 4, 2
    with MockServer(write_scenario(tmp_path, second)) as srv:
        proc = start_batch(tmp_path, srv)
        wait_for_requests(proc, srv, answered)
        time.sleep(0.3)  # the next requests (or the Bash commands) are under way
        signalled = time.time()
        proc.send_signal(sig)
        code, out, err = finish(proc)
        time.sleep(0.2)  # let the server log what it was still answering
        late = [r for r in srv.requests if r["time"] > signalled]
        assert srv.violations == []

    assert code == EXIT[sig], err
    assert late == [], "the model was asked again after the signal"
    assert time.time() - signalled < GRACE_S + 2, "the batch waited for more than its turns"

    # Each stopped item still printed its json result, naming its saved session.
    results = [json.loads(line) for line in out.splitlines()]
    assert [(r["subtype"], r["is_error"], r["errors"], r["num_turns"]) for r in results] == [
        ("error_during_execution", True, [REASON[sig]], turns)
    ] * 2
    sessions = stored(Path(os.environ["BRIDLE_HOME"]))
    assert sorted(sessions) == sorted(r["session_id"] for r in results)
    for kinds in sessions.values():
        # What the model answered before the signal is saved; a call that was not
        # run is answered so the session resumes cleanly. The turn's ending
        # (interrupted) is recorded last, as a system event.
        if stall == "model":
            assert kinds == ["user", "assistant", "tool_result", "system"], kinds
        else:
            assert kinds[:4] == ["user", "assistant", "tool_result", "assistant"], kinds
            assert kinds[-1] == "system", kinds
            assert kinds[4:-1] in ([], ["tool_result"]), kinds

    lines = err.splitlines()
    assert lines[0].startswith(f"bridle: {WORD[sig]}; stopping the batch")
    assert f"bridle: {WORD[sig]}; the batch stopped: 0 finished, 2 stopped, 4 not started" in lines
    for r in results:
        assert f"its session is saved, resume it with `bridle -r {r['session_id']}`" in err
    assert "bridle:   not started: items 3-6" in lines
    assert "Traceback" not in err and "Aborted" not in err


@pytest.mark.parametrize(
    ("client", "signals"),
    [("stdlib", 1), ("httpx", 1), ("httpx", 2)],
    ids=["at-once", "grace", "second-signal"],
)
def test_items_stuck_in_a_model_call_are_left_saved(
    tmp_path: Path, client: str, signals: int
) -> None:
    """The model takes a minute to answer. The default HTTP client shuts the
    connection on the signal, so the items end at once, their endings saved; the
    httpx client (used behind a proxy) cannot, so they are left after the grace
    period, or at once on a second signal, saved up to their last step."""
    second = {"op": "grep", "pattern": "def mean", "delay_ms": 60_000}
    with MockServer(write_scenario(tmp_path, second)) as srv:
        proc = start_batch(tmp_path, srv, client)
        wait_for_requests(proc, srv, 2)
        time.sleep(0.3)
        signalled = time.monotonic()
        proc.send_signal(signal.SIGINT)
        if signals == 2:
            time.sleep(0.2)
            proc.send_signal(signal.SIGINT)
        code, out, err = finish(proc)
        took = time.monotonic() - signalled

    assert code == 130, err
    if client == "httpx" and signals == 1:
        assert GRACE_S - 0.1 <= took < GRACE_S + 2
    else:
        assert took < GRACE_S - 0.5
    results = [json.loads(line) for line in out.splitlines()]
    assert [(r["subtype"], r["errors"], r["num_turns"]) for r in results] == [
        ("error_during_execution", ["interrupted by the user"], 1)
    ] * 2
    assert all(r["usage"]["output_tokens"] > 0 for r in results)
    sessions = stored(Path(os.environ["BRIDLE_HOME"]))
    assert sorted(sessions) == sorted(r["session_id"] for r in results)
    ended = ["system"] if client == "stdlib" else []  # the turn's ending, when it could end
    assert list(sessions.values()) == [["user", "assistant", "tool_result", *ended]] * 2
    assert "bridle: interrupted; the batch stopped: 0 finished, 2 stopped, 4 not started" in err
