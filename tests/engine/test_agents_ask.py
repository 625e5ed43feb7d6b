"""An ask inside a subagent reaches the parent's front end: a session opened for
an interactive front end (`headless=False`) runs an Agent whose child wants to
Write; the front end sees the child's PermissionRequest (and a progress notice)
among the parent's events, allows it, and the file is written; denying it leaves
the file alone and the child's answer reports the denial."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from bridle.engine import events as ev
from bridle.engine.options import SessionOptions
from bridle.engine.setup import open_session
from bridle.mock.server import MockServer

CALL = {"description": "writer", "prompt": "[w] write it", "subagent_type": "general-purpose"}
SCENARIO = {
    "turns": [
        {"op": "call", "tool": "Agent", "input": json.dumps(CALL)},
        {"op": "final", "text": "parent done"},
    ],
    "agents": {
        "[w]": {
            "turns": [
                {"op": "write", "path": "out.txt", "content": "child wrote\n"},
                {"op": "final", "text": "child done"},
            ]
        }
    },
}


@pytest.mark.parametrize("allow", [True, False])
def test_a_childs_ask_reaches_the_front_end(tmp_path: Path, allow: bool) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps(SCENARIO))
    with MockServer(scenario, workdir=repo, keep_bodies=True) as srv:
        env = {**os.environ, "BRIDLE_MOCK_BASE_URL": srv.base_url}
        session = open_session(SessionOptions(model="mock/anthropic", headless=False), repo, env)
        try:
            engine = session.engine
            asked: list[ev.PermissionRequest] = []
            notices: list[str] = []
            results: list[ev.TurnResult] = []
            for event in engine.send(ev.UserTurn("go")):
                if isinstance(event, ev.PermissionRequest):
                    asked.append(event)
                    engine.send(ev.ApprovalDecision(event.call.id, allow))
                elif isinstance(event, ev.Notice):
                    notices.append(event.text)
                elif isinstance(event, ev.TurnResult):
                    results.append(event)
        finally:
            session.close()
        bodies = [r["body"] for r in srv.requests if "body" in r and not r.get("agent")]
    assert [a.call.name for a in asked] == ["Write"]
    assert asked[0].reason.startswith("writer agent: ")
    assert "writer agent: Write" in notices
    assert results[0].result == "parent done"
    agent_result = next(
        b for m in bodies[-1]["messages"] for b in m["content"] if b.get("type") == "tool_result"
    )
    text = agent_result["content"][0]["text"]
    if allow:
        assert (repo / "out.txt").read_text() == "child wrote\n"
        assert text.startswith("child done")
    else:
        assert not (repo / "out.txt").exists()
        assert "Permission denied inside the agent:\n- Write:" in text
