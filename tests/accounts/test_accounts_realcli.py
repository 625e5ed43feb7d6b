"""The real Claude Code under two bridle accounts, against `bridle mock serve`:
credentials stay with their account, a session written under A lives in the shared
store and resumes from B, and `claude mcp add`/`remove` under A reach B."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from realcli.harness import MockProcess, cli_bin

from bridle.accounts.manage import add_account
from bridle.accounts.runner import Accounts
from bridle.accounts.specs import TOOLS

pytestmark = [pytest.mark.realcli, pytest.mark.slow]

SCENARIO = {
    "name": "hi",
    "prompt": "say hi",
    "final": "hello there",
    "turns": [{"op": "final", "text": "hello there"}],
}


@pytest.fixture
def claude_env(tmp_path: Path, home: Path):
    """Env for `bridle launch` that points the real claude at a running mock."""
    binary = cli_bin("claude")
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(SCENARIO))
    (home / "tmp").mkdir()
    with MockProcess(scenario, log=tmp_path / "mock.jsonl") as mock:
        yield {
            **os.environ,
            "BRIDLE_CLI_PATH": str(binary.parent),
            "TMPDIR": str(home / "tmp"),
            "ANTHROPIC_BASE_URL": mock.base_url,
            "ANTHROPIC_API_KEY": "x",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_AUTOUPDATER": "1",
            "IS_SANDBOX": "1",
            "CLAUDECODE": "1",  # as if started from inside another Claude Code: stripped
        }


def launch(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridle", "launch", *args],
        env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_claude_under_two_accounts(
    ctx: Accounts, claude_env: dict[str, str], home: Path, tmp_path: Path
) -> None:
    add_account(ctx, "a", ["claude"], "config-dir")
    add_account(ctx, "b", ["claude"], "config-dir")
    dir_a, dir_b = (
        ctx.paths("a").tool_dir(TOOLS["claude"]),
        ctx.paths("b").tool_dir(TOOLS["claude"]),
    )
    (dir_a / ".credentials.json").write_text('{"claudeAiOauth": {"accessToken": "only-a"}}')
    project, elsewhere = tmp_path / "proj", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()

    first = launch(claude_env, project, "a", "claude", "--yolo", "--", "-p", "say hi")
    assert first.returncode == 0, first.stderr
    assert "hello there" in first.stdout
    last = json.loads((home / ".bridle" / "last-sessions.json").read_text())["a:claude"]
    session = (
        home
        / ".claude"
        / "projects"
        / re.sub(r"[^A-Za-z0-9]", "-", str(project))
        / f"{last['id']}.jsonl"
    )
    assert session.is_file(), sorted(p.name for p in (home / ".claude" / "projects").iterdir())
    assert last["cwd"] == str(project)
    user_a = json.loads((dir_a / ".claude.json").read_text())["userID"]

    second = launch(
        claude_env, elsewhere, "b", "claude", "--yolo", "--resume", last["id"], "--", "-p", "again"
    )
    assert second.returncode == 0, second.stderr
    assert f"resuming in the session's directory {project}" in second.stderr
    lines = [json.loads(line) for line in session.read_text().splitlines()]
    prompts = [
        m["message"]["content"]
        for m in lines
        if m.get("type") == "user" and isinstance(m.get("message", {}).get("content"), str)
    ]
    assert prompts == ["say hi", "again"]

    # Credentials and identity stayed with their account.
    assert not (dir_b / ".credentials.json").exists()
    assert not (home / ".claude" / ".credentials.json").exists()
    assert (
        dir_a / ".credentials.json"
    ).read_text() == '{"claudeAiOauth": {"accessToken": "only-a"}}'
    assert (
        json.loads((dir_b / ".claude.json").read_text()).get("userID") != user_a or user_a is None
    )

    added = launch(
        claude_env,
        project,
        "a",
        "claude",
        "--",
        "mcp",
        "add",
        "-s",
        "user",
        "srv",
        "--",
        "echo",
        "hi",
    )
    assert added.returncode == 0, added.stderr
    assert launch(claude_env, project, "b", "claude", "--", "--version").returncode == 0
    servers_b = json.loads((dir_b / ".claude.json").read_text())["mcpServers"]
    assert servers_b == {"srv": {"type": "stdio", "command": "echo", "args": ["hi"], "env": {}}}
    assert json.loads((home / ".claude.json").read_text())["mcpServers"] == servers_b

    removed = launch(claude_env, project, "a", "claude", "--", "mcp", "remove", "-s", "user", "srv")
    assert removed.returncode == 0, removed.stderr
    assert launch(claude_env, project, "b", "claude", "--", "--version").returncode == 0
    assert json.loads((dir_b / ".claude.json").read_text())["mcpServers"] == {}
    assert json.loads((home / ".claude.json").read_text())["mcpServers"] == {}
    assert json.loads((dir_a / ".claude.json").read_text())["mcpServers"] == {}
