"""MCP servers in a real headless run: a server from settings (`mcp-server-time`
from PyPI) is started, its tool is offered as `mcp__time__get_current_time`, the
scripted model calls it under an allow rule and gets its answer; a project
`.mcp.json` server the user has not approved is not started and the run says
how to approve it; a server that cannot start is named with the reason while the
run goes on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bridle.mock.server import MockServer

TIME = {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]}


def run(repo: Path, home: Path, srv: MockServer, *extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("BRIDLE_MOCK_SCENARIO", None)
    env.update(BRIDLE_HOME=str(home / "bridle"), HOME=str(home), BRIDLE_MOCK_BASE_URL=srv.base_url)
    return subprocess.run(
        [sys.executable, "-m", "bridle", "-p", "what time is it?", "--model", "mock/openai-chat",
         "--output-format", "json", *extra],
        cwd=repo, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def scenario(tmp: Path) -> Path:
    path = tmp / "scenario.json"
    turns: list[dict[str, Any]] = [
        {"op": "call", "tool": "mcp__time__get_current_time", "input": '{"timezone": "UTC"}'},
        {"op": "final", "text": "done"},
    ]
    path.write_text(json.dumps({"name": "mcp", "turns": turns}))
    return path


def repo_at(tmp: Path) -> Path:
    repo = tmp / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    broken = {"command": "no-such-mcp-server-binary"}
    (repo / ".mcp.json").write_text(json.dumps({"mcpServers": {"project-fs": broken}}))
    return repo


def test_a_settings_server_is_called_and_a_project_server_waits_for_approval(
    tmp_path: Path,
) -> None:
    repo = repo_at(tmp_path)
    settings = json.dumps({"mcpServers": {"time": TIME}})
    with MockServer(scenario(tmp_path), workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv, "--settings", settings, "--allowedTools", "mcp__time")
        bodies = [r["body"] for r in srv.requests if "body" in r]
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["result"] == "done"
    names = [t["function"]["name"] for t in bodies[0]["tools"]]
    assert "mcp__time__get_current_time" in names and "ListMcpResourcesTool" in names
    answer = next(m for m in bodies[1]["messages"] if m["role"] == "tool")["content"]
    assert '"timezone": "UTC"' in answer and "datetime" in answer
    assert "MCP server 'project-fs' from" in proc.stderr
    assert '"enabledMcpjsonServers"' in proc.stderr


def test_an_approved_server_that_cannot_start_is_named_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    repo = repo_at(tmp_path)
    (repo / ".claude").mkdir()
    (repo / ".claude/settings.local.json").write_text(
        json.dumps({"enabledMcpjsonServers": ["project-fs"]})
    )
    path = tmp_path / "final.json"
    path.write_text(json.dumps({"name": "f", "turns": [{"op": "final", "text": "ok"}]}))
    with MockServer(path, workdir=repo) as srv:
        proc = run(repo, tmp_path, srv)
    assert proc.returncode == 0, proc.stderr
    assert "MCP server 'project-fs' failed to start:" in proc.stderr
    assert "no-such-mcp-server-binary" in proc.stderr


def test_mcp_config_flag_and_strict_mode(tmp_path: Path) -> None:
    repo = repo_at(tmp_path)
    flag = json.dumps({"mcpServers": {"time": TIME}})
    with MockServer(scenario(tmp_path), workdir=repo, keep_bodies=True) as srv:
        proc = run(
            repo, tmp_path, srv, "--mcp-config", flag, "--strict-mcp-config",
            "--allowedTools", "mcp__time__get_current_time",
        )  # fmt: skip
        bodies = [r["body"] for r in srv.requests if "body" in r]
    assert proc.returncode == 0, proc.stderr
    assert "datetime" in next(m for m in bodies[1]["messages"] if m["role"] == "tool")["content"]
    assert "project-fs" not in proc.stderr  # strict: .mcp.json is not even read
