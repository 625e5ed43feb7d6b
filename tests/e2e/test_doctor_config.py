"""`--doctor` and `--print-config` report extensions through `python -m bridle`: the
doctor names a hook whose program is missing or not executable, a skill with bad
frontmatter, and each MCP server as connected (a real `mcp-server-time`), failed
with the reason, or waiting for approval; `--print-config` lists what a session
loads and from where (settings files, plugins, skills, commands, agents, output style, MCP
servers with scope and file, hooks), with secrets masked."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

TIME = {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]}


def bridle(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    scenario = repo.parent / "scenario.json"
    scenario.write_text(json.dumps({"name": "f", "turns": [{"op": "final", "text": "ok"}]}))
    env = dict(os.environ, BRIDLE_MOCK_SCENARIO=str(scenario))
    return subprocess.run(
        [sys.executable, "-m", "bridle", *args, "--model", "mock/anthropic"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def setup_project(repo: Path) -> None:
    claude = repo / ".claude"
    (claude / "skills/good").mkdir(parents=True)
    (claude / "skills/good/SKILL.md").write_text(
        "---\nname: good\ndescription: Says hello\n---\nSay hello.\n"
    )
    (claude / "skills/bad").mkdir()
    (claude / "skills/bad/SKILL.md").write_text("---\nname: bad\ndescription: [1, 2]\n---\nx\n")
    (claude / "commands").mkdir()
    (claude / "commands/review.md").write_text("---\ndescription: Review\n---\nReview $ARGUMENTS\n")
    (claude / "agents").mkdir()
    (claude / "agents/tester.md").write_text(
        "---\nname: tester\ndescription: Runs tests\n---\nYou run tests.\n"
    )
    (claude / "hooks").mkdir()
    ok = claude / "hooks/ok.sh"
    ok.write_text("#!/bin/sh\nexit 0\n")
    ok.chmod(ok.stat().st_mode | stat.S_IXUSR)
    (claude / "hooks/not-exec.sh").write_text("#!/bin/sh\nexit 0\n")
    hooks = [
        {"type": "command", "command": '"$CLAUDE_PROJECT_DIR"/.claude/hooks/ok.sh'},
        {"type": "command", "command": "$CLAUDE_PROJECT_DIR/.claude/hooks/not-exec.sh"},
        {"type": "command", "command": "no-such-hook-program --flag"},
        {"type": "command", "command": "python3 /no/such/hook.py"},
    ]
    settings = {
        "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": hooks}]},
        "enabledMcpjsonServers": ["time"],
    }
    (claude / "settings.json").write_text(json.dumps(settings))
    (repo / ".mcp.json").write_text(
        json.dumps({"mcpServers": {"time": TIME, "waiting": {"command": "x"}}})
    )
    home = Path(os.environ["HOME"])
    (home / ".claude.json").write_text(
        json.dumps(
            {
                "mcpServers": {
                    "broken": {"command": "no-such-mcp-binary-xyz"},
                    "web": {
                        "type": "http",
                        "url": "http://bob:hunter2@127.0.0.1:9/mcp",
                        "headers": {"Authorization": "Bearer sk-very-secret-token-1234"},
                    },
                }
            }
        )
    )


def test_doctor_checks_hooks_mcp_servers_and_skills(project: Path) -> None:
    setup_project(project)
    proc = bridle(project, "--doctor")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()

    def line(prefix: str, *parts: str) -> str:
        found = [ln for ln in lines if ln.startswith(prefix) and all(p in ln for p in parts)]
        assert found, f"no {prefix!r} line with {parts} in:\n{proc.stdout}"
        return found[0]

    line("ok ", "extensions: 1 skill(s), 2 command(s), 1 agent(s)")
    line("FAIL", "skipped", "skills/bad/SKILL.md", "description")
    line("ok ", "PreToolUse command hook", "ok.sh")
    line("FAIL", "not-exec.sh is not executable (chmod +x it)")
    line("FAIL", "no-such-hook-program: command not found on PATH")
    line("FAIL", "its script /no/such/hook.py does not exist")
    line("ok ", "MCP server time (project): connected (2 tools)")
    line("warn", "MCP server waiting (project): needs approval", "enabledMcpjsonServers")
    line("FAIL", "MCP server broken (user): failed: command 'no-such-mcp-binary-xyz' not found")
    line("FAIL", "MCP server web (user): failed:")
    assert "hunter2" not in proc.stdout


def test_doctor_with_no_extensions_passes(project: Path) -> None:
    proc = bridle(project, "--doctor")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("ok   model mock/anthropic")
    assert "extensions:" not in proc.stdout and "MCP" not in proc.stdout


def test_print_config_shows_what_was_loaded_and_from_where(project: Path) -> None:
    setup_project(project)
    proc = bridle(project, "--print-config")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    claude = project / ".claude"
    assert doc["settings"]["enabledMcpjsonServers"] == ["time"]
    assert doc["settings_files"] == [{"layer": "claude", "file": str(claude / "settings.json")}]
    assert doc["skills"] == [
        {"name": "good", "scope": "project", "file": str(claude / "skills/good/SKILL.md")}
    ]
    assert {c["name"]: c["file"] for c in doc["commands"]} == {
        "review": str(claude / "commands/review.md"),
        "good": str(claude / "skills/good/SKILL.md"),
    }
    assert doc["agents"] == [
        {"name": "tester", "scope": "project", "file": str(claude / "agents/tester.md")}
    ]
    assert doc["output_style"] is None
    servers = {s["name"]: s for s in doc["mcp_servers"]}
    assert servers["time"] == {
        "name": "time", "scope": "project", "file": str(project / ".mcp.json"), "type": "stdio",
        "target": " ".join([TIME["command"], *TIME["args"]]), "approved": True,
    }  # fmt: skip
    assert servers["waiting"]["approved"] is False
    home = Path(os.environ["HOME"])
    assert (servers["web"]["scope"], servers["web"]["file"]) == ("user", str(home / ".claude.json"))
    assert servers["web"]["target"] == "http://bob:****@127.0.0.1:9/mcp (HTTP)"
    assert [(h["event"], h["matcher"], h["type"], h["file"]) for h in doc["hooks"]] == [
        ("PreToolUse", "Bash", "command", str(claude / "settings.json"))
    ] * 4
    assert any("skills/bad/SKILL.md" in w for w in doc["warnings"])
    assert "hunter2" not in proc.stdout and "sk-very-secret" not in proc.stdout


def test_print_config_and_doctor_list_the_plugins_in_use(project: Path) -> None:
    plugin = Path(__file__).parent.parent / "fixtures" / "hooks" / "env-protection"
    proc = bridle(project, "--print-config", "--plugin-dir", str(plugin))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["plugins"] == [
        {"name": "env-protection", "version": "1.0.0", "source": "--plugin-dir", "key": None,
         "root": str(plugin)}
    ]  # fmt: skip
    assert {h["file"] for h in doc["hooks"]} == {str(plugin / "hooks" / "hooks.json")}
    proc = bridle(project, "--doctor", "--plugin-dir", str(plugin))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"ok   plugin env-protection 1.0.0 (--plugin-dir) at {plugin}" in proc.stdout
    assert json.loads(bridle(project, "--print-config").stdout)["plugins"] == []
