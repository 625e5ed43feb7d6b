"""What a subagent shares with its parent session, against the mock model: the
parent's PreToolUse/PostToolUse hooks run for the child's tool calls (with the
main session's id and transcript and the agent's agent_id/agent_type, and a
blocking PreToolUse stops the child's call); SubagentStop's
`agent_transcript_path` is the child's own transcript; background agents are
listed and stopped through the engine's `Tasks` op (the app's `/tasks`); and
a child's share of `--max-cost` is what the parent has left."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bridle.mock.server import MockServer


def repo_at(tmp: Path) -> Path:
    repo = tmp / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "a.txt").write_text("alpha\n")
    return repo


def write_scenario(tmp: Path, doc: dict[str, Any]) -> Path:
    path = tmp / "scenario.json"
    path.write_text(json.dumps(doc))
    return path


def test_the_parents_tool_hooks_run_for_a_childs_calls(tmp_path: Path) -> None:
    repo = repo_at(tmp_path)
    log_file = tmp_path / "hooks.jsonl"
    record = f"cat >> {log_file}; echo >> {log_file}"
    block = "echo 'no shell inside agents' >&2; exit 2"
    settings = {
        "hooks": {
            "PreToolUse": [
                {"hooks": [{"type": "command", "command": record}]},
                {"matcher": "Bash", "hooks": [{"type": "command", "command": block}]},
            ],
            "PostToolUse": [{"hooks": [{"type": "command", "command": record}]}],
            "SubagentStop": [{"hooks": [{"type": "command", "command": record}]}],
        }
    }
    call = {"description": "kid", "prompt": "[kid] read a", "subagent_type": "general-purpose"}
    doc = {
        "turns": [
            {"op": "call", "tool": "Agent", "input": json.dumps(call)},
            {"op": "final", "text": "parent done"},
        ],
        "agents": {
            "[kid]": {
                "turns": [
                    {"op": "read", "path": "a.txt"},
                    {"op": "bash", "command": "echo from-the-kid > kid.txt"},
                    {"op": "final", "text": "read alpha"},
                ]
            }
        },
    }
    env = dict(os.environ)
    env.pop("BRIDLE_MOCK_SCENARIO", None)
    with MockServer(write_scenario(tmp_path, doc), workdir=repo, keep_bodies=True) as srv:
        env.update(BRIDLE_HOME=str(tmp_path / "bridle"), HOME=str(tmp_path))
        env["BRIDLE_MOCK_BASE_URL"] = srv.base_url
        proc = subprocess.run(
            [sys.executable, "-m", "bridle", "-p", "go", "--model", "mock/anthropic",
             "--output-format", "json", "--dangerously-skip-permissions",
             "--settings", json.dumps(settings)],
            cwd=repo, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert srv.violations == []
    assert proc.returncode == 0, proc.stderr
    parent_id = json.loads(proc.stdout)["session_id"]
    fired = [json.loads(x) for x in log_file.read_text().splitlines() if x.strip()]
    by_tool = [(f["hook_event_name"], f.get("tool_name")) for f in fired]
    assert ("PreToolUse", "Read") in by_tool and ("PostToolUse", "Read") in by_tool
    assert ("PreToolUse", "Bash") in by_tool and ("PostToolUse", "Bash") not in by_tool
    assert not (repo / "kid.txt").exists()  # the parent's PreToolUse hook blocked it
    child_calls = [f for f in fired if f.get("tool_name") in ("Read", "Bash")]
    child_id = child_calls[0]["agent_id"]
    for f in child_calls:
        assert f["agent_id"] == child_id and f["agent_type"] == "general-purpose"
        assert f["session_id"] == parent_id
        assert f["transcript_path"].endswith(f"{parent_id}.jsonl")
    # The parent's own Agent call is its own: no agent_id.
    assert all("agent_id" not in f for f in fired if f.get("tool_name") == "Agent")
    stop = next(f for f in fired if f["hook_event_name"] == "SubagentStop")
    assert stop["agent_id"] == child_id
    transcript = Path(stop["agent_transcript_path"])
    assert transcript.name == f"{child_id}.jsonl" and transcript != Path(stop["transcript_path"])
    lines = [json.loads(x) for x in transcript.read_text().splitlines()]
    assert {x["sessionId"] for x in lines} == {child_id}
    text = json.dumps(lines)
    assert "[kid] read a" in text and "no shell inside agents" in text and "read alpha" in text


def open_engine(tmp_path: Path, doc: dict[str, Any], **options: Any) -> Any:
    from bridle.engine.options import SessionOptions
    from bridle.engine.setup import open_session

    repo = repo_at(tmp_path)
    env = {**os.environ, "BRIDLE_HOME": str(tmp_path / "bridle"), "HOME": str(tmp_path)}
    env.pop("BRIDLE_MOCK_BASE_URL", None)
    env["BRIDLE_MOCK_SCENARIO"] = str(write_scenario(tmp_path, doc))
    return open_session(SessionOptions(model="mock/anthropic", **options), repo, env)


def test_background_agents_are_listed_and_stopped_through_the_tasks_op(tmp_path: Path) -> None:
    from bridle.engine import events as ev

    call = {"description": "long wait", "prompt": "[bg] wait", "run_in_background": True}
    doc = {
        "turns": [
            {"op": "call", "tool": "Agent", "input": json.dumps(call)},
            {"op": "final", "text": "started it"},
        ],
        "agents": {
            "[bg]": {"turns": [{"op": "bash", "command": "sleep 60"}, {"op": "final", "text": "x"}]}
        },
    }
    session = open_engine(
        tmp_path, doc, headless=False, permission_mode="bypassPermissions"
    )  # an interactive session: the turn does not wait for its background agents
    try:
        engine = session.engine
        events = list(engine.send(ev.UserTurn("go")))
        assert events[-1].result == "started it"
        [listed] = engine.send(ev.Tasks())
        assert isinstance(listed, ev.BackgroundAgents)
        [agent] = listed.agents
        assert agent["description"] == "long wait" and agent["status"] == "running"
        assert agent["agent_type"] == "general-purpose"
        deadline = time.monotonic() + 20
        while not any(r.get("agent") for r in session.mock_server.requests):
            assert time.monotonic() < deadline, "the background agent never asked the model"
            time.sleep(0.05)
        time.sleep(0.3)  # its Bash call (sleep 60) is running by now
        t0 = time.monotonic()
        [stopping] = engine.send(ev.Tasks(stop=agent["id"]))
        assert stopping.agents[0]["status"] in ("stopping", "stopped")
        engine.background.running[agent["id"]].join(20)
        assert time.monotonic() - t0 < 10  # the sleep 60 was cut short
        [after] = engine.send(ev.Tasks())
        assert after.agents[0]["status"] == "stopped"
        report = "\n".join(engine.background.drain())
        assert "status='stopped'" in report and "interrupted" in report
        [missing] = engine.send(ev.Tasks(stop="agent-nope"))
        assert isinstance(missing, ev.Notice) and missing.code == "error"
        [again] = engine.send(ev.Tasks(stop=agent["id"]))  # no longer running
        assert isinstance(again, ev.Notice) and "agent-" in again.text
    finally:
        session.close()


def test_a_childs_share_of_max_cost_is_what_the_parent_has_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mock is free: price it at $1 per 1,000 input tokens (the catalog has
    no settings key for prices), with a budget of a few requests."""
    import bridle.providers.pricing as pricing
    from bridle.engine import events as ev

    monkeypatch.setattr(pricing, "cost_usd", lambda usage, info: usage.input_tokens / 1000)
    reads = [{"op": "read", "path": "a.txt"} for _ in range(40)]
    call = {"description": "reader", "prompt": "[kid] read a lot", "subagent_type": "Explore"}
    doc = {
        "turns": [
            {"op": "call", "tool": "Agent", "input": json.dumps(call)},
            {"op": "final", "text": "parent done"},
        ],
        "agents": {"[kid]": {"turns": [*reads, {"op": "final", "text": "read it all"}]}},
    }
    session = open_engine(tmp_path, doc, max_cost_usd=20.0)
    try:
        engine = session.engine
        events = list(engine.send(ev.UserTurn("go")))
        result = events[-1]
        assert isinstance(result, ev.TurnResult)
        kid = next(r for r in session.store.children(engine.session_id) if r.status == "subagent")
        # The child stopped on its share, well before its 41 requests.
        assert 1 < kid.turns < 41
        assert kid.cost_usd <= 20.0
        assert result.subtype == "error_max_budget_usd", result
        assert result.cost_usd >= kid.cost_usd  # the child's spend is in the parent's
        assert engine.budget.spent_usd <= 20.0 * 1.5
        reported = [
            p.text for m in engine.messages for p in m.tool_results if "The agent stopped" in p.text
        ]
        assert reported and "budget" in reported[0]
    finally:
        session.close()
