"""Another coding CLI as a subagent: bridle's model hands the bug in
examples/buggy-project to `claude@work`, the real Claude Code (from
BRIDLE_TEST_CLIS) run headless under the account `work` against the same mock
server; it fixes the file under that account's config (acceptEdits maps onto its
own --permission-mode), each of its tool calls shows on the parent's stderr as it
starts (well before the run ends), its answer comes back as the Agent result, its
reported cost counts in the parent's total, and its session is a real Claude Code
session that `bridle sessions search` finds. Codex, Gemini CLI and Copilot CLI
stream their tool calls the same way; a background Claude Code agent stopped
through the engine's Tasks op has its process ended at once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from realcli.harness import BUGGY_PROJECT, MockProcess, cli_bin, prepare_cli

pytestmark = [pytest.mark.realcli, pytest.mark.slow]

FIX = {
    "description": "fix the mean bug",
    "prompt": "[claude-fix] Fix the off-by-one in stats.mean (quokka).",
    "subagent_type": "claude@work",
}
SCENARIO = {
    "turns": [
        {"op": "call", "tool": "Agent", "input": json.dumps(FIX)},
        {"op": "final", "text": "claude fixed it"},
    ],
    "agents": {
        "[claude-fix]": {
            "turns": [
                {"op": "read", "path": "stats.py"},
                {
                    "op": "edit",
                    "path": "stats.py",
                    "old": "return sum(values) / (len(values) + 1)",
                    "new": "return sum(values) / len(values)",
                },
                # Late, so the notices above must have come while Claude ran.
                {"op": "final", "text": "Fixed mean() in stats.py.", "delay_ms": 2500},
            ]
        }
    },
}


def test_claude_at_work_fixes_the_bug_and_its_session_is_found(tmp_path: Path) -> None:
    binary = cli_bin("claude")
    project = tmp_path / "buggy"
    shutil.copytree(BUGGY_PROJECT, project)
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    home = tmp_path / "home"
    (home / "tmp").mkdir(parents=True)
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(SCENARIO))
    env = {
        **os.environ,
        "HOME": str(home),
        "BRIDLE_HOME": str(home / ".bridle"),
        "TMPDIR": str(home / "tmp"),
        "BRIDLE_CLI_PATH": str(binary.parent),
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
    }
    env.pop("BRIDLE_MOCK_SCENARIO", None)

    def bridle(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bridle", *args], cwd=project, env=env,
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600,
        )  # fmt: skip

    added = bridle("accounts", "add", "work", "--provider", "claude")
    assert added.returncode == 0, added.stderr
    with MockProcess(scenario, log=tmp_path / "mock.jsonl") as mock:
        env.update(
            BRIDLE_MOCK_BASE_URL=mock.base_url, ANTHROPIC_BASE_URL=mock.base_url,
            ANTHROPIC_API_KEY="x",
        )  # fmt: skip
        proc, seen = watched(
            [sys.executable, "-m", "bridle", "-p", "fix the failing test", "--model",
             "mock/anthropic", "--permission-mode", "acceptEdits", "--output-format",
             "stream-json", "--verbose"], project, env,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    result = lines[-1]
    assert result["type"] == "result" and result["result"] == "claude fixed it"
    # Each tool call of Claude's was told as it started, seconds before the end.
    notices = [(t, x) for t, x in seen if "fix the mean bug agent (claude):" in x]
    assert [x.split("(claude): ")[1].split()[0] for _, x in notices] == ["Read", "Edit"]
    assert notices[0][1].rstrip().endswith("stats.py")
    done = next(t for t, x in seen if x.startswith("<exit>"))
    assert done - notices[-1][0] > 2.0, (done, notices)
    # The Agent result carries Claude's answer; its cost counts in the parent's.
    agent_result = next(
        b for x in lines if x["type"] == "user" for b in x["message"]["content"]
        if b.get("type") == "tool_result"
    )  # fmt: skip
    assert "Fixed mean() in stats.py." in json.dumps(agent_result)
    # bridle's mock model is free, so the whole total is what Claude Code reported.
    assert result["total_cost_usd"] > 0, result
    assert "return sum(values) / len(values)" in (project / "stats.py").read_text()
    tests = subprocess.run(
        [sys.executable, "-m", "unittest", "-q"], cwd=project, capture_output=True, text=True
    )
    assert tests.returncode == 0, tests.stderr
    log = [json.loads(x) for x in (tmp_path / "mock.jsonl").read_text().splitlines()]
    claude_turns = [r for r in log if r.get("agent") == "[claude-fix]"]
    assert [r.get("tool") for r in claude_turns][:2] == ["Read", "Edit"]
    # Claude ran under the account's own config dir, not the primary one.
    last = json.loads((home / ".bridle" / "last-sessions.json").read_text())["work:claude"]
    found = bridle("sessions", "search", "quokka", "--json")
    assert found.returncode == 0, found.stderr
    hits = [json.loads(x) for x in found.stdout.splitlines() if x.strip()]
    assert any(h.get("tool") == "claude" and last["id"] in json.dumps(h) for h in hits), hits


def watched(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[Any, list[tuple[float, str]]]:
    """Run `argv`, timing each stderr line as it arrives; (the finished process
    with its stdout and stderr, [(seconds, line)] ending with `<exit>`)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    seen: list[tuple[float, str]] = []
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read()))  # type: ignore[union-attr]
    reader.start()
    assert proc.stderr is not None
    for line in proc.stderr:
        seen.append((time.monotonic() - t0, line))
    proc.wait(timeout=600)
    reader.join()
    seen.append((time.monotonic() - t0, "<exit>"))
    done = subprocess.CompletedProcess(argv, proc.returncode, out[0], "".join(x for _, x in seen))
    return done, seen


@pytest.mark.parametrize(("cli", "tool"), [("codex", "command_execution"),
                                           ("gemini", "read_file"), ("copilot", "view")])  # fmt: skip
def test_codex_gemini_and_copilot_stream_their_tool_calls(
    tmp_path: Path, cli: str, tool: str
) -> None:
    """Each CLI's JSON events (codex exec --json, gemini stream-json, copilot json)
    become the parent's notices as they happen, and its last words the answer."""
    project = tmp_path / "buggy"
    shutil.copytree(BUGGY_PROJECT, project)
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    call = {"description": "look", "prompt": f"[{cli}-read] Read stats.py.", "subagent_type": cli}
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({
        "turns": [
            {"op": "call", "tool": "Agent", "input": json.dumps(call)},
            {"op": "final", "text": "it looked"},
        ],
        "agents": {f"[{cli}-read]": {"turns": [
            {"op": "read", "path": "stats.py"},
            {"op": "final", "text": "mean() is on line 4.", "delay_ms": 2500},
        ]}},
    }))  # fmt: skip
    with MockProcess(scenario, log=tmp_path / "mock.jsonl") as mock:
        # The CLI's own config (its login) in the temp HOME, as REAL-CLIS.md sets it.
        run = prepare_cli(cli, port=mock.port, cwd=project, home=tmp_path / "home", prompt="")
        env = {
            **run.env, "BRIDLE_HOME": str(tmp_path / "home" / ".bridle"),
            "BRIDLE_MOCK_BASE_URL": mock.base_url, "BRIDLE_CLI_PATH": str(cli_bin(cli).parent),
        }  # fmt: skip
        if cli == "copilot":  # Copilot masks its key's value in what it prints
            env["COPILOT_PROVIDER_API_KEY"] = "mock-key-123"
        proc, seen = watched(
            [sys.executable, "-m", "bridle", "-p", "look at stats", "--model", "mock/anthropic",
             "--dangerously-skip-permissions", "--output-format", "stream-json", "--verbose"],
            project, env,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert lines[-1]["result"] == "it looked"
    notices = [(t, x) for t, x in seen if f"look agent ({cli}): " in x]
    assert notices and notices[0][1].split(f"({cli}): ")[1].startswith(tool), seen
    assert "stats.py" in notices[0][1]
    done = next(t for t, x in seen if x.startswith("<exit>"))
    assert done - notices[0][0] > 2.0, (done, notices)
    agent_result = next(
        b for x in lines if x["type"] == "user" for b in x["message"]["content"]
        if b.get("type") == "tool_result"
    )  # fmt: skip
    assert "mean() is on line 4." in json.dumps(agent_result)


def marked_pids(marker: str) -> list[int]:
    """The processes whose command line holds `marker`."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
def test_stopping_a_background_claude_agent_ends_its_process(tmp_path: Path) -> None:
    from bridle.engine import events as ev
    from bridle.engine.options import SessionOptions
    from bridle.engine.setup import open_session

    binary = cli_bin("claude")
    project = tmp_path / "buggy"
    shutil.copytree(BUGGY_PROJECT, project)
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    marker = f"[claude-wait-{os.getpid()}]"
    call = {"description": "slow look", "prompt": f"{marker} Read stats.py.",
            "subagent_type": "claude", "run_in_background": True}  # fmt: skip
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({
        "turns": [
            {"op": "call", "tool": "Agent", "input": json.dumps(call)},
            {"op": "final", "text": "started it"},
        ],
        "agents": {marker: {"turns": [
            {"op": "read", "path": "stats.py"},
            {"op": "final", "text": "never sent", "delay_ms": 120000},
        ]}},
    }))  # fmt: skip
    home = tmp_path / "home"
    (home / "tmp").mkdir(parents=True)
    env = {
        **os.environ, "HOME": str(home), "BRIDLE_HOME": str(home / ".bridle"),
        "TMPDIR": str(home / "tmp"), "BRIDLE_CLI_PATH": str(binary.parent),
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1", "ANTHROPIC_API_KEY": "x",
    }  # fmt: skip
    env.pop("BRIDLE_MOCK_SCENARIO", None)
    with MockProcess(scenario, log=tmp_path / "mock.jsonl") as mock:
        env.update(BRIDLE_MOCK_BASE_URL=mock.base_url, ANTHROPIC_BASE_URL=mock.base_url)
        # An interactive session: the turn does not wait for its background agents.
        options = SessionOptions(
            model="mock/anthropic", headless=False, permission_mode="acceptEdits"
        )
        session = open_session(options, project, env)
        try:
            engine = session.engine
            events = list(engine.send(ev.UserTurn("go")))
            assert events[-1].result == "started it"
            [listed] = engine.send(ev.Tasks())
            [agent] = listed.agents
            assert agent["agent_type"] == "claude" and agent["status"] == "running"
            deadline = time.monotonic() + 60
            # Claude has read the file and waits for the model's (delayed) answer
            # (the mock logs a request once it is answered).
            while not any(r.get("agent") == marker for r in mock.requests()):
                assert time.monotonic() < deadline, mock.requests()
                time.sleep(0.1)
            time.sleep(1.0)
            assert marked_pids(marker), "Claude Code is not running"
            t0 = time.monotonic()
            [stopping] = engine.send(ev.Tasks(stop=agent["id"]))
            assert stopping.agents[0]["status"] in ("stopping", "stopped")
            engine.background.running[agent["id"]].join(15)
            assert time.monotonic() - t0 < 10
            assert marked_pids(marker) == []  # its whole process group ended
            [after] = engine.send(ev.Tasks())
            assert after.agents[0]["status"] == "stopped"
            report = "\n".join(engine.background.drain())
            assert "status='stopped'" in report and "Claude Code was stopped" in report
        finally:
            session.close()
