"""Claude Code plugins in real headless runs, each change seen in the next model
request: two real plugins published on npm (MIT), run unmodified from the copies
scripts/test unpacks into BRIDLE_TEST_PLUGINS, give a namespaced command with `!`
expansion and arguments (`/selfish:review`, and the bare `/review`) and a skill
(`dev-environment-setup:environment-check`, listed and loaded by its bare name)
once installed with `bridle plugins install`; a plugin folder's output style
(forced for the plugin) and its MCP server with `${CLAUDE_PLUGIN_ROOT}` reach the
request too; a `--plugin-dir` that is not a plugin is a usage error naming it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bridle.mock.server import MockServer

PLUGINS = Path(os.environ.get("BRIDLE_TEST_PLUGINS", "/nonexistent"))
needs_real = pytest.mark.skipif(
    not (PLUGINS / "selfish-pipeline").is_dir(),
    reason="BRIDLE_TEST_PLUGINS is not set (scripts/test downloads the plugins from npm)",
)


def bridle(
    repo: Path, home: Path, *args: str, srv: MockServer | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("BRIDLE_MOCK_SCENARIO", None)
    env.update(BRIDLE_HOME=str(home / "bridle"), HOME=str(home))
    if srv is not None:
        env["BRIDLE_MOCK_BASE_URL"] = srv.base_url
    return subprocess.run(
        [sys.executable, "-m", "bridle", *args],
        cwd=repo, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def run(repo: Path, home: Path, srv: MockServer, prompt: str, *extra: str) -> Any:
    args = ("-p", prompt, "--model", "mock/anthropic", "--output-format", "json", *extra)
    return bridle(repo, home, *args, srv=srv)


def project(tmp: Path) -> Path:
    repo = tmp / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def scenario(tmp: Path, *turns: dict[str, Any]) -> Path:
    path = tmp / "scenario.json"
    path.write_text(json.dumps({"name": "p", "turns": [*turns, {"op": "final", "text": "done"}]}))
    return path


def system_text(body: dict[str, Any]) -> str:
    system = body.get("system", "")
    return "".join(b["text"] for b in system) if isinstance(system, list) else system


def user_text(message: dict[str, Any]) -> str:
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") for b in content if b.get("type") == "text")


def tool_results(body: dict[str, Any]) -> str:
    return json.dumps(
        [
            b
            for m in body["messages"]
            if isinstance(m["content"], list)
            for b in m["content"]
            if b.get("type") == "tool_result"
        ]
    )


@needs_real
@pytest.mark.parametrize("typed", ["/selfish:review src/app.py", "/review src/app.py"])
def test_a_real_plugins_command_expands_its_arguments_and_bang_command(
    tmp_path: Path, typed: str
) -> None:
    repo = project(tmp_path)
    (repo / ".claude").mkdir()
    (repo / ".claude/selfish.config.md").write_text("# selfish config: marker-7c1\n")
    with MockServer(scenario(tmp_path), workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv, typed, "--plugin-dir", str(PLUGINS / "selfish-pipeline"))
        bodies = [r["body"] for r in srv.requests if "body" in r]
    assert proc.returncode == 0, proc.stderr
    prompt = user_text(bodies[0]["messages"][0])
    # The command's own text, its $ARGUMENTS, and the output of its `!` command
    # (allowed by the command's allowed-tools: Bash).
    assert prompt.lstrip().startswith("# /selfish:review")
    assert "src/app.py" in prompt and "$ARGUMENTS" not in prompt
    assert "# selfish config: marker-7c1" in prompt
    assert "!`cat .claude/selfish.config.md" not in prompt


@needs_real
def test_an_installed_real_plugins_skill_is_listed_and_loaded_by_its_bare_name(
    tmp_path: Path,
) -> None:
    repo = project(tmp_path)
    source = PLUGINS / "claude-dev-environment-setup"
    done = bridle(repo, tmp_path, "plugins", "install", str(source))
    assert done.returncode == 0, done.stderr
    assert "Installed dev-environment-setup@local" in done.stdout
    settings = json.loads((tmp_path / ".claude/settings.json").read_text())
    assert settings == {"enabledPlugins": {"dev-environment-setup@local": True}}
    listed = bridle(repo, tmp_path, "plugins", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert row["enabled"] is True
    assert row["components"] == {"commands": 1, "skills": 1}

    call = {"op": "call", "tool": "Skill", "input": json.dumps({"skill": "environment-check"})}
    with MockServer(scenario(tmp_path, call), workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv, "check my setup", "--allowedTools", "Skill")
        bodies = [r["body"] for r in srv.requests if "body" in r]
    assert proc.returncode == 0, proc.stderr
    assert "- dev-environment-setup:environment-check: This skill should be used when" in (
        system_text(bodies[0])
    )
    assert "# Environment Check & Recovery" in tool_results(bodies[1])

    # Disabled, it is gone from the next session's request.
    off = bridle(repo, tmp_path, "plugins", "disable", "dev-environment-setup")
    assert off.returncode == 0, off.stderr
    with MockServer(scenario(tmp_path), workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv, "check my setup")
        bodies = [r["body"] for r in srv.requests if "body" in r]
    assert proc.returncode == 0, proc.stderr
    assert "environment-check" not in system_text(bodies[0])


def make_plugin(root: Path) -> Path:
    """A plugin with a forced output style and an MCP server run from its folder."""
    (root / ".claude-plugin").mkdir(parents=True)
    (root / ".claude-plugin/plugin.json").write_text(
        json.dumps({"name": "terse", "version": "0.1.0", "mcpServers": "./config/mcp.json"})
    )
    (root / "output-styles").mkdir()
    (root / "output-styles/terse.md").write_text(
        "---\nname: Terse\ndescription: one line\nforce-for-plugin: true\n"
        "keep-coding-instructions: true\n---\nAnswer in one line from ${CLAUDE_PLUGIN_ROOT}.\n"
    )
    server = {
        "command": sys.executable,
        "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"],
        "env": {"TERSE_ROOT": "${CLAUDE_PLUGIN_ROOT}"},
    }
    (root / "config").mkdir()
    (root / "config/mcp.json").write_text(json.dumps({"mcpServers": {"clock": server}}))
    return root


def test_a_plugin_dirs_style_and_mcp_server_reach_the_request(tmp_path: Path) -> None:
    repo = project(tmp_path)
    plugin = make_plugin(tmp_path / "terse-plugin")
    call = {"op": "call", "tool": "mcp__clock__get_current_time", "input": '{"timezone": "UTC"}'}
    with MockServer(scenario(tmp_path, call), workdir=repo, keep_bodies=True) as srv:
        proc = run(
            repo, tmp_path, srv, "what time is it?", "--plugin-dir", str(plugin),
            "--allowedTools", "mcp__clock",
        )  # fmt: skip
        bodies = [r["body"] for r in srv.requests if "body" in r]
    assert proc.returncode == 0, proc.stderr
    system = system_text(bodies[0])
    assert f"# Output style: terse:Terse\nAnswer in one line from {plugin}." in system
    assert "mcp__clock__get_current_time" in [t["name"] for t in bodies[0]["tools"]]
    assert '\\"timezone\\": \\"UTC\\"' in tool_results(bodies[1])


def test_a_plugin_dir_that_is_not_a_plugin_is_a_usage_error(tmp_path: Path) -> None:
    repo = project(tmp_path)
    (tmp_path / "empty").mkdir()
    bad = tmp_path / "bad"
    (bad / ".claude-plugin").mkdir(parents=True)
    (bad / ".claude-plugin/plugin.json").write_text('{"name": "Bad Name"}')
    with MockServer(scenario(tmp_path), workdir=repo) as srv:
        empty = run(repo, tmp_path, srv, "hi", "--plugin-dir", str(tmp_path / "empty"))
        missing = run(repo, tmp_path, srv, "hi", "--plugin-dir", str(tmp_path / "nope"))
        named = run(repo, tmp_path, srv, "hi", "--plugin-dir", str(bad))
        asked = [r for r in srv.requests if r.get("status") == 200]
    assert empty.returncode == 64 and "not a plugin (no .claude-plugin/plugin.json" in empty.stderr
    assert missing.returncode == 64 and "no such folder" in missing.stderr
    # A bad manifest skips that plugin and names the file and key; the run goes on.
    assert named.returncode == 0, named.stderr
    assert f"{bad}/.claude-plugin/plugin.json: name: 'Bad Name' must be kebab-case" in (
        named.stderr
    )
    assert len(asked) == 1


@needs_real
def test_a_real_plugins_agent_definition_runs_the_main_thread(tmp_path: Path) -> None:
    repo = project(tmp_path)
    plugin = PLUGINS / "selfish-pipeline"
    with MockServer(scenario(tmp_path), workdir=repo, keep_bodies=True) as srv:
        proc = run(
            repo, tmp_path, srv, "plan the auth module", "--plugin-dir", str(plugin),
            "--agent", "selfish-architect",
        )  # fmt: skip
        bodies = [r["body"] for r in srv.requests if "body" in r]
    assert proc.returncode == 0, proc.stderr
    system = system_text(bodies[0])
    # The agent's body is the main thread's instructions, in place of bridle's own.
    assert system.startswith("You are an architecture analysis agent for the current project.")
    assert "You are bridle" not in system
    # Its `tools` list (Read, Write, Grep, Glob, Bash, Task, WebSearch) limits the tools;
    # Task is the Agent tool's old name, and bridle has no WebSearch.
    assert sorted(t["name"] for t in bodies[0]["tools"]) == [
        "Agent",
        "Bash",
        "Glob",
        "Grep",
        "Read",
        "Write",
    ]


def test_a_plugins_settings_agent_applies_and_an_unknown_agent_is_named(tmp_path: Path) -> None:
    repo = project(tmp_path)
    plugin = make_plugin(tmp_path / "terse-plugin")
    (plugin / "agents").mkdir()
    (plugin / "agents/reader.md").write_text(
        "---\nname: reader\ndescription: Reads only\ntools: Read, Grep\n---\n"
        "You only read files under ${CLAUDE_PLUGIN_ROOT}.\n"
    )
    (plugin / "settings.json").write_text(json.dumps({"agent": "reader"}))
    with MockServer(scenario(tmp_path), workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv, "look around", "--plugin-dir", str(plugin))
        wrong = run(repo, tmp_path, srv, "hi", "--plugin-dir", str(plugin), "--agent", "writer")
        bodies = [r["body"] for r in srv.requests if "body" in r]
    assert proc.returncode == 0, proc.stderr
    assert system_text(bodies[0]).startswith(f"You only read files under {plugin}.")
    assert sorted(t["name"] for t in bodies[0]["tools"]) == ["Grep", "Read"]
    assert wrong.returncode != 0 and len(bodies) == 1
    assert "no agent definition named 'writer'; the agents are: terse:reader" in wrong.stderr
