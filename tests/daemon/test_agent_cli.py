"""Task phases run by other coding CLIs: the `agent`/`agents` task fields are checked
when a task is submitted (unknown CLI, unknown account, account without that CLI,
a phase the pipeline lacks: 400 naming the fix), and a task whose Implement phase
is the real Claude Code (from BRIDLE_TEST_CLIS) under the account `work`, against
the same mock server as the engine's phases, fixes examples/buggy-project through
the daemon (SQLite): its tool calls stream into the event log, its answer becomes
the Implement checkpoint's output handed to Review, the tests pass and the branch
is pushed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.conftest import TEST_CMD, TOKEN, Daemon, git, submit, wait_for

CLAUDE_SAYS = "Claude fixed mean() in stats.py."
SCENARIO = {
    "turns": [{"op": "final", "text": "not a phase prompt"}],
    "agents": {
        "You are the lead on a coding task": {
            "turns": [{"op": "final", "text": "Plan: fix mean() in stats.py."}]
        },
        "Implement this task in the repository": {
            "turns": [
                {"op": "read", "path": "stats.py"},
                {
                    "op": "edit",
                    "path": "stats.py",
                    "old": "return sum(values) / (len(values) + 1)",
                    "new": "return sum(values) / len(values)",
                },
                {"op": "final", "text": CLAUDE_SAYS},
            ]
        },
        "Review the change made for this task": {
            "turns": [{"op": "final", "text": "Review: the change is right."}]
        },
    },
}


def bridle(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridle", *args], capture_output=True, text=True, timeout=600,
        env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_agent_fields_are_checked_with_the_fix(daemon_factory: Any, origin: Path) -> None:
    added = bridle("accounts", "add", "work", "--provider", "claude")
    assert added.returncode == 0, added.stderr
    d: Daemon = daemon_factory(workers=0).start()
    c = d.client()
    base = {"repo_url": str(origin), "task": "x"}
    cases = [
        ({"agent": "cursor"}, "agent", "claude, codex, gemini, copilot"),
        ({"agent": "claude@nobody"}, "agent", "bridle accounts add nobody --provider claude"),
        ({"agents": {"implement": "codex@work"}}, "agents.implement", "add-provider work codex"),
        ({"agent": "claude@../../etc"}, "agent", "invalid account name"),
        ({"agent": "claude@a\u0000b"}, "agent", "invalid account name"),
        ({"agents": {"test": "claude"}}, "agents.test", "not an agent phase"),
        ({"agents": {"review": "claude"}, "pipeline": ["implement"]}, "agents.review", "no review"),
    ]
    for extra, field, fix in cases:
        r = c.post("/tasks", json={**base, **extra})
        assert r.status_code == 400, (extra, r.text)
        msg = r.json()["error"]["message"]
        assert msg.startswith(field + ":") and fix in msg, (extra, msg)
    # `agent` covers every agent phase of the pipeline; `agents` overrides it per phase.
    task = submit(
        c, origin, branch="agents/a", agent="claude@work",
        agents={"review": "bridle"}, pipeline=["lead", "implement", "review", "test"],
    )  # fmt: skip
    assert task["agents"] == {"lead": "claude@work", "implement": "claude@work"}
    plain = submit(c, origin, branch="agents/b")
    assert plain["agents"] == {}
    spec = c.get("/openapi.json").json()
    described = spec["components"]["schemas"]["TaskIn"]["properties"]["agent"]["description"]
    assert "claude@work" in described and "0 with a note" in described


@pytest.fixture
def claude_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The real Claude Code on PATH for the daemon (or a skip), offline, with the
    account `work` set up for it; the temp HOME."""
    if not os.environ.get("BRIDLE_TEST_CLIS"):
        pytest.skip("BRIDLE_TEST_CLIS is unset: point it at the real CLIs' node_modules/.bin")
    from tests.realcli.harness import cli_bin

    binary = cli_bin("claude")
    home = Path(os.environ["HOME"])
    (home / "tmp").mkdir(exist_ok=True)
    for key, value in {
        "TMPDIR": str(home / "tmp"), "BRIDLE_CLI_PATH": str(binary.parent),
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1", "ANTHROPIC_API_KEY": "x",
    }.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    added = bridle("accounts", "add", "work", "--provider", "claude")
    assert added.returncode == 0, added.stderr
    return home


@pytest.mark.realcli
@pytest.mark.slow
def test_claude_code_implements_a_daemon_task(
    daemon_factory: Any, origin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    claude_env: Path,
) -> None:  # fmt: skip
    from tests.realcli.harness import MockProcess

    home = claude_env
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(SCENARIO))
    with MockProcess(scenario, log=tmp_path / "mock.jsonl") as mock:
        monkeypatch.setenv("BRIDLE_MOCK_BASE_URL", mock.base_url)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", mock.base_url)
        d: Daemon = daemon_factory(scenario).start()
        env = {"BRIDLE_DAEMON_URL": d.url, "BRIDLE_DAEMON_TOKEN": TOKEN}
        r = bridle(
            "tasks", "submit", "fix the failing test", "--repo", str(origin), "--model",
            "mock/anthropic", "--test-command", TEST_CMD, "--branch", "claude/fix",
            "--agent", "implement=claude@work", "--json", env=env,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        task_id = json.loads(r.stdout)["id"]
        assert json.loads(r.stdout)["agents"] == {"implement": "claude@work"}
        logs = bridle("tasks", "logs", "-f", task_id, "--json", env=env)
    assert logs.returncode == 0, logs.stderr
    events = [json.loads(x) for x in logs.stdout.splitlines() if x.strip()]
    finished = events[-1]
    assert finished["kind"] == "task_finished" and finished["state"] == "succeeded", (
        finished, d.log.read_text()[-3000:],
    )  # fmt: skip
    implement = [e for e in events if e.get("phase") == "implement"]
    kinds = [e["kind"] for e in implement]
    assert kinds[:2] == ["phase_started", "agent_started"], kinds
    started = implement[1]
    assert started["cli"] == "claude" and started["account"] == "work"
    assert started["permission_mode"] == "acceptEdits"
    calls = [c["name"] for e in implement if e["kind"] == "assistant_message"
             for c in e["tool_calls"]]  # fmt: skip
    assert calls[:2] == ["Read", "Edit"], calls
    edits = [e for e in implement if e["kind"] == "tool_finished" and e["call"]["name"] == "Edit"]
    assert edits and not edits[0]["is_error"], edits
    result = next(e for e in implement if e["kind"] == "agent_result")
    assert result["result"] == CLAUDE_SAYS and result["exit_code"] == 0
    assert result["cost_usd"] >= 0 and "note" not in result  # Claude Code reports its cost
    # The engine ran Lead and Review; the Review prompt carried Claude's answer.
    assert any(e["kind"] == "session_started" for e in events if e.get("phase") == "review")
    bodies = [json.loads(x) for x in (tmp_path / "mock.jsonl").read_text().splitlines()]
    assert any(b.get("agent") == "Implement this task in the repository" for b in bodies)
    task = d.client().get(f"/tasks/{task_id}").json()
    points = {p["phase"]: p for p in task["checkpoints"]}
    assert points["implement"]["output"] == CLAUDE_SAYS
    assert points["test"]["ok"] and task["result"]["pushed"]
    assert task["result"]["summary"] == "Review: the change is right."
    shown = bridle("tasks", "show", task_id, env=env)
    assert "agents implement=claude@work" in shown.stdout, shown.stdout
    pushed = git("show", "claude/fix:stats.py", cwd=origin)
    assert "return sum(values) / len(values)" in pushed
    # Claude ran under the account's own config, and bridle recorded its session.
    last = json.loads((home / ".bridle" / "last-sessions.json").read_text())
    assert "work:claude" in last


@pytest.mark.realcli
@pytest.mark.slow
def test_a_claude_phase_takes_steer_next_and_stops_at_once(
    daemon_factory: Any, origin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    claude_env: Path,
) -> None:  # fmt: skip
    from tests.realcli.harness import MockProcess

    slow = json.loads(json.dumps(SCENARIO))
    slow["agents"]["Implement this task in the repository"]["turns"][0]["delay_ms"] = 60000
    scenario = tmp_path / "slow.json"
    scenario.write_text(json.dumps(slow))
    with MockProcess(scenario, log=tmp_path / "mock.jsonl") as mock:
        monkeypatch.setenv("BRIDLE_MOCK_BASE_URL", mock.base_url)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", mock.base_url)
        d: Daemon = daemon_factory(scenario).start()
        c = d.client()
        task = submit(c, origin, branch="claude/stop", agents={"implement": "claude@work"})
        deadline = time.monotonic() + 60
        while not any(e["kind"] == "agent_started" for e in _events(c, task["id"])):
            assert time.monotonic() < deadline, _events(c, task["id"])
            time.sleep(0.1)
        assert c.post(f"/tasks/{task['id']}/steer", json={"text": "be brief"}).status_code == 200
        asked = time.monotonic()
        assert c.post(f"/tasks/{task['id']}/stop").status_code == 200
        done = wait_for(c, task["id"], ("cancelled", "failed", "succeeded"), timeout=30)
        took = time.monotonic() - asked
    assert done["state"] == "cancelled" and took < 10, (done, took)
    events = _events(c, task["id"])
    steer = next(e for e in events if e["kind"] == "steer")
    assert steer["delivered"] is False  # a CLI phase reads it in the next phase's prompt
    result = next(e for e in events if e["kind"] == "agent_result")
    assert result["is_error"] and "stopped" in result["result"]
    assert not done["result"]["pushed"]
    assert [p["phase"] for p in done["checkpoints"]] == ["start", "lead"]


def _events(c: Any, task_id: str) -> list[dict[str, Any]]:
    return c.get(f"/tasks/{task_id}/events").json()["events"]
