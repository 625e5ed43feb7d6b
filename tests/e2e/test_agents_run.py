"""The Agent tool end to end through `python -m bridle -p` against the mock model:
parallel Explore subagents overlap (their requests' intervals in the mock's log),
results come back in call order, child sessions are stored under the parent
(`bridle sessions show ID --tree`) and their cost joins the parent's; an agent
definition's tools and model apply; nesting stops at the depth limit; a background
agent's result reaches the conversation; `isolation: worktree` leaves a branch;
SubagentStart/SubagentStop hooks fire."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from bridle.mock.server import MockServer


def repo_at(tmp: Path) -> Path:
    repo = tmp / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "a.txt").write_text("alpha\n")
    (repo / "b.txt").write_text("beta\n")
    (repo / "c.txt").write_text("gamma\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    return repo


def agent_call(prompt: str, kind: str = "Explore", **more: Any) -> dict[str, Any]:
    return {"description": prompt[:20], "prompt": prompt, "subagent_type": kind, **more}


def write_scenario(tmp: Path, doc: dict[str, Any]) -> Path:
    path = tmp / "scenario.json"
    path.write_text(json.dumps(doc))
    return path


def run(
    repo: Path, home: Path, srv: MockServer, *extra: str, prompt: str = "go"
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("BRIDLE_MOCK_SCENARIO", None)
    env.update(BRIDLE_HOME=str(home / "bridle"), HOME=str(home), BRIDLE_MOCK_BASE_URL=srv.base_url)
    return subprocess.run(
        [sys.executable, "-m", "bridle", "-p", prompt, "--model", "mock/anthropic", *extra],
        cwd=repo, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def sessions(home: Path) -> list[dict[str, Any]]:
    db = sqlite3.connect(home / "bridle" / "bridle.db")
    db.row_factory = sqlite3.Row
    rows = db.execute("SELECT * FROM sessions ORDER BY created_at").fetchall()
    return [dict(r) for r in rows]


def tool_results(body: dict[str, Any]) -> list[str]:
    out = []
    for m in body["messages"]:
        for b in m["content"] if isinstance(m["content"], list) else []:
            if b.get("type") == "tool_result":
                out.append("".join(c.get("text", "") for c in b["content"]))
    return out


def test_parallel_explore_agents_overlap_and_answer_in_order(tmp_path: Path) -> None:
    repo = repo_at(tmp_path)
    calls = [agent_call(f"[look-{n}] find {n}") for n in ("a", "b", "c")]
    agents = {
        f"[look-{n}]": {
            "turns": [
                {"op": "read", "path": f"{n}.txt", "delay_ms": 400},
                {"op": "final", "text": f"found {n}", "delay_ms": 400},
            ]
        }
        for n in ("a", "b", "c")
    }
    doc = {
        "turns": [
            {"op": "calls", "tool": "Agent", "inputs": json.dumps(calls)},
            {"op": "final", "text": "all three looked"},
        ],
        "agents": agents,
    }
    with MockServer(write_scenario(tmp_path, doc), workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv, "--output-format", "json")
        log = list(srv.requests)
        assert srv.violations == []
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["result"] == "all three looked"
    # Each child's requests span an interval; all three intervals overlap.
    spans = {}
    for r in log:
        if r.get("agent"):
            lo, hi = spans.get(r["agent"], (r["time"], r["end"]))
            spans[r["agent"]] = (min(lo, r["time"]), max(hi, r["end"]))
    assert len(spans) == 3, log
    assert max(lo for lo, _ in spans.values()) < min(hi for _, hi in spans.values())
    # Explore children were offered read-only tools only.
    child_tools = {tuple(r["tools"]) for r in log if r.get("agent")}
    for tools in child_tools:
        assert "Read" in tools and not {"Write", "Edit", "Bash"} & set(tools), tools
    # The parent's second request carries the answers in call order.
    last = [r for r in log if not r.get("agent") and "body" in r][-1]["body"]
    answers = tool_results(last)
    assert [a.split("\n")[0] for a in answers] == ["found a", "found b", "found c"]
    rows = sessions(tmp_path)
    parent = [r for r in rows if r["parent_id"] is None]
    children = [r for r in rows if r["parent_id"] is not None]
    assert len(parent) == 1 and len(children) == 3
    assert {c["parent_id"] for c in children} == {parent[0]["id"]}
    assert {c["status"] for c in children} == {"subagent"}
    assert parent[0]["turns"] == 2 and all(c["turns"] == 2 for c in children)
