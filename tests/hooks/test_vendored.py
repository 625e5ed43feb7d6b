"""A published, MIT-licensed Claude Code plugin (steeef/claude-hooks env-protection,
vendored unmodified in tests/fixtures/hooks/env-protection) loaded as a plugin and
run through bridle's hook runner: its PreToolUse hooks deny .env reads and allow
the rest, exactly as in Claude Code."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from bridle.hooks import events as ev
from bridle.hooks.config import PluginHooks, load_hooks
from bridle.hooks.runner import HookRunner

from .helpers import ctx

FIXTURE = Path(__file__).parent.parent / "fixtures" / "hooks" / "env-protection"

pytestmark = pytest.mark.skipif(shutil.which("python3") is None, reason="needs python3")


@pytest.fixture
def runner(tmp_path: Path) -> HookRunner:
    config = load_hooks([], plugins=[PluginHooks("env-protection", str(FIXTURE))])
    assert not config.warnings and len(config.entries) == 3
    return HookRunner(config, project_dir=tmp_path, session_id="s")


CASES: list[tuple[str, dict[str, Any], str | None, str]] = [
    ("Read", {"file_path": "{cwd}/.env"}, "deny", "Reading .env files is not allowed"),
    ("Read", {"file_path": "{cwd}/.env.production"}, "deny", "Reading .env.production"),
    ("Read", {"file_path": "{cwd}/.env.example"}, "allow", ""),
    ("Read", {"file_path": "{cwd}/README.md"}, "allow", ""),
    ("Bash", {"command": "cat .env | grep KEY"}, "deny", "would expose .env file contents"),
    ("Bash", {"command": ". .env.local"}, "deny", "Sourcing .env file"),
    ("Bash", {"command": "ls -la .env"}, "allow", ""),
    ("Grep", {"pattern": "KEY", "glob": ".env*"}, "deny", "Searching .env files via Grep"),
    ("Write", {"file_path": "{cwd}/.env", "content": "A=1"}, None, ""),  # no matcher
]


@pytest.mark.parametrize(("tool", "tool_input", "decision", "reason"), CASES)
def test_env_protection_plugin_runs_unmodified(
    runner: HookRunner,
    tmp_path: Path,
    tool: str,
    tool_input: dict[str, Any],
    decision: str | None,
    reason: str,
) -> None:
    filled = {k: v.replace("{cwd}", str(tmp_path)) for k, v in tool_input.items()}
    out = runner.run("PreToolUse", ev.pre_tool_use(ctx(tmp_path), tool, filled, "toolu_1"))
    assert not out.errors, out.errors
    assert out.permission_decision == decision
    assert out.blocked is (decision == "deny")
    assert reason in (out.permission_decision_reason or "")
