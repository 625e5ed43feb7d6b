"""SIGINT and SIGTERM during `bridle -p`: exit 130 or 143, the session saved, and
a `-c` resume that sends a valid next request.

Each run stalls at its second scripted turn, either in the model (the mock holds
the answer for a minute) or in a tool (a `sleep 30` under Bash), and gets the
signal there. The test then checks the whole observable result: the exit code,
stdout and stderr, the events stored in `$BRIDLE_HOME/bridle.db`, and a `-c`
resume against a calm copy of the scenario, whose mock server must see no
invariant violation and be asked for exactly the next turn. SIGKILL at random
points is `test_crash_recovery.py`'s job.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bridle.mock.server import MockServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "buggy-project"
FINAL = "Resumed and finished."
WAIT_LIMIT_S = 60.0
# Python only turns SIGINT into KeyboardInterrupt when SIGINT is not ignored at
# start-up, and a background job of a non-interactive shell inherits it ignored:
# start bridle with the default disposition, as a terminal would.
LAUNCH = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.executable, [sys.executable, '-m', 'bridle', *sys.argv[1:]])"
)
SAVED = {
    signal.SIGINT: (130, "bridle: interrupted; the session is saved (resume with -c)\n"),
    signal.SIGTERM: (143, "bridle: terminated; the session is saved (resume with -c)\n"),
}
# What the result a json reader still gets says about the signal.
REASON = {signal.SIGINT: "interrupted by the user", signal.SIGTERM: "terminated by SIGTERM"}


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


def scenario(path: Path, second: dict[str, Any]) -> Path:
    turns = [{"op": "read", "path": "stats.py"}, second]
    path.write_text(json.dumps({"name": path.stem, "prompt": "p", "final": FINAL, "turns": turns}))
    return path


def run_env(home: Path, base_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("BRIDLE_MOCK_SCENARIO", None)
    env.update(BRIDLE_HOME=str(home), BRIDLE_MOCK_BASE_URL=base_url)
    return env


def argv(wire: str, prompt: str, *extra: str, fmt: str = "json") -> list[str]:
    return [
        sys.executable, "-c", LAUNCH, "-p", prompt, "--model", f"mock/{wire}",
        "--dangerously-skip-permissions", "--output-format", fmt, *extra,
    ]  # fmt: skip


def stored(db: Path) -> tuple[str, list[str], str]:
    """(the one session's id, its event kinds, integrity_check verdict)."""
    conn = sqlite3.connect(db)
    try:
        verdict = "; ".join(r[0] for r in conn.execute("PRAGMA integrity_check"))
        ids = [r[0] for r in conn.execute("SELECT id FROM sessions")]
        assert len(ids) == 1, ids
        kinds = [
            r[0]
            for r in conn.execute("SELECT kind FROM events WHERE session_id = ? ORDER BY seq", ids)
        ]
        return ids[0], kinds, verdict
    finally:
        conn.close()


def event_count(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1)
    except sqlite3.Error:
        return 0
    try:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    except sqlite3.Error:
        return 0
    finally:
        conn.close()


def wait_until(proc: subprocess.Popen[str], what: str, ready: Any) -> None:
    deadline = time.monotonic() + WAIT_LIMIT_S
    while not ready():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"bridle exited {proc.returncode} before {what}: {out}{err}")
        if time.monotonic() > deadline:
            raise AssertionError(f"bridle never reached {what}")
        time.sleep(0.01)


def group_alive(pgid: int) -> bool:
    """Whether any process of the group still runs. Zombies do not count: a
    killed grandchild waits for init to reap it, which may take a while (or
    never happen in a container without a reaping init)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...; comm may hold spaces or parentheses.
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def kill_leftover_group(pidfile: Path) -> None:
    """Clean up the `sleep 30` a run started, if it is still our bash's group."""
    if not pidfile.exists() or not pidfile.read_text().strip():
        return
    pgid = int(pidfile.read_text())
    with contextlib.suppress(OSError):
        if b"__BRIDLE_PWD" in Path(f"/proc/{pgid}/environ").read_bytes():
            os.killpg(pgid, signal.SIGKILL)


def interrupt_stalled_run(
    tmp: Path, wire: str, stall: str, sig: signal.Signals, fmt: str = "json"
) -> tuple[Path, Path, Path, subprocess.CompletedProcess[str]]:
    """Run until the stall, send `sig`; returns (repo, home, pidfile, finished run)."""
    repo = make_repo(tmp)
    home = tmp / "bridle-home"
    db = home / "bridle.db"
    pidfile = tmp / "bash.pid"
    second: dict[str, Any]
    if stall == "tool":
        second = {"op": "bash", "command": f"echo $$ > {pidfile}; sleep 30"}
    else:
        second = {"op": "grep", "pattern": "def mean", "delay_ms": 60_000}
    with MockServer(scenario(tmp / "stalled.json", second), workdir=repo) as srv:
        proc = subprocess.Popen(
            argv(wire, "fix the failing test", fmt=fmt),
            cwd=repo, env=run_env(home, srv.base_url), text=True,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            if stall == "tool":
                wait_until(proc, "the Bash call", lambda: pidfile.exists() and pidfile.read_text())
            else:
                # prompt, the Read call and its result are stored; the next request
                # is then on its way to the mock, which sits on it.
                wait_until(proc, "the second request", lambda: event_count(db) >= 3)
                time.sleep(0.2)
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert srv.violations == []
    return repo, home, pidfile, subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.parametrize(
    ("sig", "stall", "wire"),
    [
        (signal.SIGTERM, "model", "anthropic"),
        (signal.SIGINT, "tool", "openai-chat"),
        (signal.SIGTERM, "tool", "gemini"),
        (signal.SIGINT, "model", "openai-responses"),
    ],
    ids=["term-model", "int-tool", "term-tool", "int-model"],
)
def test_signal_saves_the_session_and_continue_resumes_it(
    tmp_path: Path, sig: signal.Signals, stall: str, wire: str
) -> None:
    try:
        repo, home, _, run = interrupt_stalled_run(tmp_path, wire, stall, sig)
    finally:
        kill_leftover_group(tmp_path / "bash.pid")
    code, message = SAVED[sig]
    assert (run.returncode, run.stderr) == (code, message)

    sid, kinds, verdict = stored(home / "bridle.db")
    assert verdict == "ok"
    # The Bash call was saved before it ran; its result never came.
    saved = ["user", "assistant", "tool_result"] + (["assistant"] if stall == "tool" else [])
    assert kinds == saved
    # A json reader still gets a result, with the session to resume and the usage so far.
    cut = json.loads(run.stdout)
    assert {k: cut[k] for k in ("type", "subtype", "is_error", "session_id", "num_turns")} == {
        "type": "result",
        "subtype": "error_during_execution",
        "is_error": True,
        "session_id": sid,
        "num_turns": kinds.count("assistant"),
    }
    assert cut["errors"] == [REASON[sig]]
    assert cut["usage"]["input_tokens"] > 0 and cut["usage"]["output_tokens"] > 0

    # Resume with a scenario that no longer stalls: the mock serves the turn that
    # matches the number of tool calls the resumed conversation carries.
    calm = scenario(tmp_path / "calm.json", {"op": "grep", "pattern": "def mean"})
    with MockServer(calm, workdir=repo) as srv:
        resumed = subprocess.run(
            argv(wire, "go on", "-c"),
            cwd=repo, env=run_env(home, srv.base_url), capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert resumed.returncode == 0, resumed.stderr
        assert srv.violations == []
        turns = [r.get("turn") for r in srv.requests]
    result = json.loads(resumed.stdout)
    # After a tool stall the interrupted Bash call counts: next is turn 2, the answer.
    assert turns == ([2] if stall == "tool" else [1, 2])
    assert (result["subtype"], result["session_id"], result["result"], result["num_turns"]) == (
        "success",
        sid,
        FINAL,
        len(turns),
    )
    assert stored(home / "bridle.db")[1] == [*saved, "user", "assistant"] + (
        [] if stall == "tool" else ["tool_result", "assistant"]
    )


def test_a_signal_during_bash_ends_its_process_group(tmp_path: Path) -> None:
    try:
        _, _, pidfile, run = interrupt_stalled_run(tmp_path, "anthropic", "tool", signal.SIGTERM)
        assert run.returncode == 143
        pgid = int(pidfile.read_text())
        deadline = time.monotonic() + 2.0
        while group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not group_alive(pgid), "the Bash command's process group outlived bridle"
    finally:
        kill_leftover_group(tmp_path / "bash.pid")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["int", "term"])
def test_stream_json_ends_with_a_result_line_after_a_signal(
    tmp_path: Path, sig: signal.Signals
) -> None:
    _, home, _, run = interrupt_stalled_run(tmp_path, "anthropic", "model", sig, fmt="stream-json")
    code, message = SAVED[sig]
    assert (run.returncode, run.stderr) == (code, message)
    sid, _, _ = stored(home / "bridle.db")
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [(x["type"], x.get("subtype")) for x in lines] == [
        ("system", "init"),
        ("assistant", None),
        ("user", None),
        ("result", "error_during_execution"),
    ]
    result = lines[-1]
    assert (result["is_error"], result["session_id"], result["num_turns"], result["errors"]) == (
        True,
        sid,
        1,
        [REASON[sig]],
    )
    assert result["usage"]["output_tokens"] > 0
