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


def test_parent_usage_counts_the_children_and_tree_shows_them(tmp_path: Path) -> None:
    repo = repo_at(tmp_path)
    doc = {
        "turns": [
            {"op": "call", "tool": "Agent", "input": json.dumps(agent_call("[kid] look at a"))},
            {"op": "final", "text": "parent done"},
        ],
        "agents": {"[kid]": {"turns": [{"op": "read", "path": "a.txt"}, {"op": "final"}]}},
    }
    with MockServer(write_scenario(tmp_path, doc), workdir=repo) as srv:
        proc = run(repo, tmp_path, srv, "--output-format", "json")
        log = list(srv.requests)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    # The mock bills len(body) // 4 input tokens per request: parent and child alike.
    billed = sum(max(1, r["body_bytes"] // 4) for r in log if r.get("wire"))
    assert result["usage"]["input_tokens"] == billed
    assert len([r for r in log if r.get("agent")]) == 2
    rows = sessions(tmp_path)
    parent = next(r for r in rows if r["parent_id"] is None)
    assert parent["input_tokens"] == billed
    env = {**os.environ, "BRIDLE_HOME": str(tmp_path / "bridle"), "HOME": str(tmp_path)}
    shown = subprocess.run(
        [sys.executable, "-m", "bridle", "sessions", "show", parent["id"], "--tree"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].startswith(parent["id"])
    child = next(r for r in rows if r["parent_id"] == parent["id"])
    assert lines[1].startswith(f"  └ subagent {child['id']}  [Explore] [kid] look at a")


def test_definition_tools_model_and_prompt_apply(tmp_path: Path) -> None:
    repo = repo_at(tmp_path)
    agents = repo / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "reviewer.md").write_text(
        "---\nname: reviewer\ndescription: reviews code\ntools: Read, Grep\n"
        "model: mock/openai-chat\n---\nYou are the REVIEWER persona. Review carefully.\n"
    )
    doc = {
        "turns": [
            {
                "op": "call",
                "tool": "Agent",
                "input": json.dumps(agent_call("[rev] review a.txt", "reviewer")),
            },
            {"op": "final", "text": "reviewed"},
        ],
        "agents": {"[rev]": {"turns": [{"op": "read", "path": "a.txt"}, {"op": "final"}]}},
    }
    with MockServer(write_scenario(tmp_path, doc), workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv, "--output-format", "json")
        log = list(srv.requests)
    assert proc.returncode == 0, proc.stderr
    child = [r for r in log if r.get("agent")]
    assert child and {r["wire"] for r in child} == {"openai-chat"}
    assert {tuple(r["tools"]) for r in child} == {("Grep", "Read")}
    system = child[0]["body"]["messages"][0]
    assert system["role"] == "system" and "REVIEWER persona" in system["content"]
    parent = [r for r in log if not r.get("agent") and r.get("wire")]
    assert {r["wire"] for r in parent} == {"anthropic-messages"}
    assert "Agent" in parent[0]["tools"]


def test_nesting_stops_at_the_depth_limit(tmp_path: Path) -> None:
    repo = repo_at(tmp_path)
    nest = json.dumps(agent_call("[nest] go deeper", "general-purpose"))
    doc = {
        "turns": [{"op": "call", "tool": "Agent", "input": nest}, {"op": "final", "text": "top"}],
        "agents": {
            "[nest]": {
                "turns": [
                    {"op": "call", "tool": "Agent", "input": nest},
                    {"op": "final", "text": "level done"},
                ]
            }
        },
    }
    with MockServer(write_scenario(tmp_path, doc), workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv, "--output-format", "json")
        log = list(srv.requests)
    assert proc.returncode == 0, proc.stderr
    rows = sessions(tmp_path)
    by_id = {r["id"]: r for r in rows}
    depth = {r["id"]: 0 for r in rows}
    for r in rows:
        p, d = r["parent_id"], 0
        while p is not None:
            d, p = d + 1, by_id[p]["parent_id"]
        depth[r["id"]] = d
    assert sorted(depth.values()) == [0, 1, 2, 3]
    refused = [
        t for r in log if "body" in r for t in tool_results(r["body"]) if "nest only 3 deep" in t
    ]
    assert refused, "the deepest agent's Agent call was not refused"


def test_background_agent_reports_before_the_run_ends(tmp_path: Path) -> None:
    repo = repo_at(tmp_path)
    call = {"description": "slow check", "prompt": "[bg] check b", "run_in_background": True}
    doc = {
        "turns": [
            {"op": "call", "tool": "Agent", "input": json.dumps(call)},
            {"op": "final", "text": "waiting for it"},
        ],
        "agents": {
            "[bg]": {
                "turns": [
                    {"op": "read", "path": "b.txt", "delay_ms": 300},
                    {"op": "final", "text": "background says beta"},
                ]
            }
        },
    }
    with MockServer(write_scenario(tmp_path, doc), workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv, "--output-format", "json")
        log = list(srv.requests)
    assert proc.returncode == 0, proc.stderr
    parent = [r["body"] for r in log if not r.get("agent") and "body" in r]
    first_result = tool_results(parent[1])[0]
    assert first_result.startswith("Agent agent-") and "started in the background" in first_result
    last_user = parent[-1]["messages"][-1]
    texts = "".join(b.get("text", "") for b in last_user["content"])
    assert "background says beta" in texts and "status='finished'" in texts


def test_worktree_isolation_leaves_a_branch_and_hooks_fire(tmp_path: Path) -> None:
    repo = repo_at(tmp_path)
    call = agent_call("[wt] add a file", "general-purpose", isolation="worktree")
    log_file = tmp_path / "hooks.jsonl"
    hook = f"cat >> {log_file}; echo >> {log_file}"
    settings = {
        "hooks": {
            e: [{"hooks": [{"type": "command", "command": hook}]}]
            for e in ("SubagentStart", "SubagentStop")
        }
    }
    doc = {
        "turns": [
            {"op": "call", "tool": "Agent", "input": json.dumps(call)},
            {"op": "final", "text": "merged later"},
        ],
        "agents": {
            "[wt]": {
                "turns": [
                    {"op": "write", "path": "new.txt", "content": "from the agent\n"},
                    {"op": "final", "text": "wrote new.txt"},
                ]
            }
        },
    }
    with MockServer(write_scenario(tmp_path, doc), workdir=repo, keep_bodies=True) as srv:
        proc = run(
            repo, tmp_path, srv, "--output-format", "json", "--dangerously-skip-permissions",
            "--settings", json.dumps(settings),
        )  # fmt: skip
        log = list(srv.requests)
    assert proc.returncode == 0, proc.stderr
    assert not (repo / "new.txt").exists()
    branches = subprocess.run(
        ["git", "-C", str(repo), "branch", "--format=%(refname:short)", "--list", "bridle/agent-*"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert len(branches) == 1
    shown = subprocess.run(
        ["git", "-C", str(repo), "show", f"{branches[0]}:new.txt"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert shown.stdout == "from the agent\n"
    result = tool_results([r["body"] for r in log if not r.get("agent") and "body" in r][-1])[0]
    assert f"branch {branches[0]}" in result
    fired = [json.loads(x) for x in log_file.read_text().splitlines() if x.strip()]
    assert [f["hook_event_name"] for f in fired] == ["SubagentStart", "SubagentStop"]
    assert {f["agent_type"] for f in fired} == {"general-purpose"}
    assert fired[1]["last_assistant_message"] == "wrote new.txt"


def test_a_cli_agent_that_cannot_run_is_a_tool_error_naming_the_fix(tmp_path: Path) -> None:
    repo = repo_at(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "claude"
    fake.write_text("#!/bin/sh\necho should not run >&2\nexit 3\n")
    fake.chmod(0o755)
    calls = [
        {"description": "x", "prompt": "fix", "subagent_type": "claude@work"},
        {"description": "y", "prompt": "fix", "subagent_type": "codex@nobody"},
        {"description": "z", "prompt": "fix", "subagent_type": "gemini"},
    ]
    doc = {
        "turns": [
            {"op": "calls", "tool": "Agent", "inputs": json.dumps(calls)},
            {"op": "final", "text": "could not delegate"},
        ]
    }
    env = {**os.environ, "BRIDLE_HOME": str(tmp_path / "bridle"), "HOME": str(tmp_path)}
    added = subprocess.run(
        [sys.executable, "-m", "bridle", "accounts", "add", "work", "--provider", "claude"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    os.environ["BRIDLE_CLI_PATH"] = str(bin_dir)  # the fake claude; no gemini anywhere
    try:
        with MockServer(write_scenario(tmp_path, doc), workdir=repo, keep_bodies=True) as srv:
            proc = run(repo, tmp_path, srv, "--output-format", "json")
            log = list(srv.requests)
    finally:
        del os.environ["BRIDLE_CLI_PATH"]
    assert proc.returncode == 0, proc.stderr
    results = tool_results([r["body"] for r in log if "body" in r][-1])
    assert "not logged in: run `bridle launch work claude`" in results[0]
    assert "`bridle accounts add nobody --provider codex`" in results[1]
    assert "Gemini CLI (`gemini`) is not on PATH" in results[2]


def test_task_rules_and_hook_matchers_apply_to_the_agent_tool(tmp_path: Path) -> None:
    repo = repo_at(tmp_path)
    calls = [agent_call("[p] plan it", "Plan"), agent_call("[e] explore it", "Explore")]
    log_file = tmp_path / "pre.jsonl"
    settings = {
        "hooks": {
            "PreToolUse": [
                {
                    "matcher": "Task",
                    "hooks": [
                        {"type": "command", "command": f"cat >> {log_file}; echo >> {log_file}"}
                    ],
                }
            ]
        }
    }
    doc = {
        "turns": [
            {"op": "calls", "tool": "Agent", "inputs": json.dumps(calls)},
            {"op": "final", "text": "one ran"},
        ],
        "agents": {"[e]": {"turns": [{"op": "final", "text": "explored"}]}},
    }
    with MockServer(write_scenario(tmp_path, doc), workdir=repo, keep_bodies=True) as srv:
        proc = run(
            repo, tmp_path, srv, "--output-format", "json", "--disallowedTools", "Task(Plan)",
            "--settings", json.dumps(settings),
        )  # fmt: skip
        log = list(srv.requests)
    assert proc.returncode == 0, proc.stderr
    results = tool_results([r["body"] for r in log if "body" in r and not r.get("agent")][-1])
    assert "denied by rule Task(Plan)" in results[0]
    assert results[1].startswith("explored")
    fired = [json.loads(x) for x in log_file.read_text().splitlines() if x.strip()]
    assert [f["tool_input"]["subagent_type"] for f in fired] == ["Plan", "Explore"]


def test_max_parallel_one_runs_agents_one_after_another(tmp_path: Path) -> None:
    repo = repo_at(tmp_path)
    calls = [agent_call(f"[seq-{n}] find {n}") for n in ("a", "b")]
    agents = {
        f"[seq-{n}]": {"turns": [{"op": "final", "text": f"found {n}", "delay_ms": 300}]}
        for n in ("a", "b")
    }
    doc = {
        "turns": [
            {"op": "calls", "tool": "Agent", "inputs": json.dumps(calls)},
            {"op": "final", "text": "both looked"},
        ],
        "agents": agents,
    }
    settings = json.dumps({"agents": {"max_parallel": 1}})
    with MockServer(write_scenario(tmp_path, doc), workdir=repo) as srv:
        proc = run(repo, tmp_path, srv, "--output-format", "json", "--settings", settings)
        log = list(srv.requests)
    assert proc.returncode == 0, proc.stderr
    spans = sorted((r["time"], r["end"]) for r in log if r.get("agent"))
    assert len(spans) == 2 and spans[0][1] <= spans[1][0]


def test_headless_denials_inside_an_agent_are_reported(tmp_path: Path) -> None:
    repo = repo_at(tmp_path)
    call = agent_call("[d] write it", "general-purpose")
    doc = {
        "turns": [
            {"op": "call", "tool": "Agent", "input": json.dumps(call)},
            {"op": "final", "text": "it could not"},
        ],
        "agents": {
            "[d]": {"turns": [{"op": "bash", "command": "touch made.txt"}, {"op": "final"}]}
        },
    }
    with MockServer(write_scenario(tmp_path, doc), workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv, "--output-format", "json")
        log = list(srv.requests)
    assert proc.returncode == 0, proc.stderr
    assert not (repo / "made.txt").exists()
    result = json.loads(proc.stdout)
    assert [d["tool_name"] for d in result["permission_denials"]] == ["Bash"]
    text = tool_results([r["body"] for r in log if "body" in r and not r.get("agent")][-1])[0]
    assert "Permission denied inside the agent:\n- Bash:" in text


def test_a_bad_agents_setting_names_the_key(tmp_path: Path) -> None:
    repo = repo_at(tmp_path)
    with MockServer(write_scenario(tmp_path, {"turns": []}), workdir=repo) as srv:
        proc = run(repo, tmp_path, srv, "--settings", json.dumps({"agents": {"max_parallel": 0}}))
    assert proc.returncode != 0
    assert "agents.max_parallel" in proc.stderr and "at least 1" in proc.stderr


def test_a_subagents_shell_commands_stay_in_the_sandbox(tmp_path: Path) -> None:
    import shutil

    import pytest

    from bridle.policy.sandbox import probe

    why = probe("linux", shutil.which("bwrap")) if sys.platform.startswith("linux") else "no"
    if why is not None:
        pytest.skip(f"no sandbox here: {why}")
    repo = repo_at(tmp_path)
    outside = tmp_path / "outside.txt"
    call = agent_call("[s] write outside", "general-purpose")
    doc = {
        "turns": [
            {"op": "call", "tool": "Agent", "input": json.dumps(call)},
            {"op": "final", "text": "done"},
        ],
        "agents": {
            "[s]": {
                "turns": [
                    {"op": "bash", "command": f"echo x > {outside}; touch inside.txt"},
                    {"op": "final", "text": "tried"},
                ]
            }
        },
    }
    with MockServer(write_scenario(tmp_path, doc), workdir=repo, keep_bodies=True) as srv:
        # Even under bypassPermissions the child's Bash runs in the parent's sandbox.
        proc = run(
            repo, tmp_path, srv, "--output-format", "json", "--sandbox", "workspace-write",
            "--dangerously-skip-permissions",
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert not outside.exists(), "the subagent wrote outside the project"
    assert (repo / "inside.txt").exists()
