"""Shared helpers for hook tests: write small hook scripts, build runners and payloads."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from bridle.hooks import events as ev
from bridle.hooks.config import load_hooks
from bridle.hooks.events import HookContext
from bridle.hooks.runner import HookRunner


def script(directory: Path, name: str, body: str) -> Path:
    """An executable sh script in `directory`."""
    path = directory / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def runner_for(
    tmp_path: Path, hooks: dict[str, Any], *, extra_layers: list[Any] | None = None, **kw: Any
) -> HookRunner:
    layers = [
        (str(tmp_path / ".claude" / "settings.json"), {"hooks": hooks}),
        *(extra_layers or []),
    ]
    config = load_hooks(layers)
    assert not config.warnings, config.warnings
    kw.setdefault("spill_dir", tmp_path / "spill")
    return HookRunner(config, project_dir=tmp_path, session_id="sess-1", **kw)


def command_hooks(event: str, *commands: str, matcher: str | None = None, **fields: Any) -> dict:
    group: dict[str, Any] = {
        "hooks": [{"type": "command", "command": c, **fields} for c in commands]
    }
    if matcher is not None:
        group["matcher"] = matcher
    return {event: [group]}


def ctx(tmp_path: Path) -> HookContext:
    return HookContext(
        session_id="sess-1",
        transcript_path=str(tmp_path / "t.jsonl"),
        cwd=str(tmp_path),
        permission_mode="default",
    )


def sample_payload(event: str, c: HookContext) -> dict[str, Any]:
    """A realistic payload for every event bridle fires."""
    tool = {"command": "echo hi"}
    builders: dict[str, Any] = {
        "SessionStart": lambda: ev.session_start(c, "startup", model="m"),
        "SessionEnd": lambda: ev.session_end(c, "other"),
        "UserPromptSubmit": lambda: ev.user_prompt_submit(c, "hello"),
        "PreToolUse": lambda: ev.pre_tool_use(c, "Bash", tool, "toolu_1"),
        "PermissionRequest": lambda: ev.permission_request(c, "Bash", tool),
        "PermissionDenied": lambda: ev.permission_denied(c, "Bash", tool, "toolu_1", "[x]"),
        "PostToolUse": lambda: ev.post_tool_use(c, "Bash", tool, {"stdout": "hi"}, "toolu_1"),
        "PostToolUseFailure": lambda: ev.post_tool_use_failure(
            c, "Bash", tool, "toolu_1", "Exit code 1"
        ),
        "PostToolBatch": lambda: ev.post_tool_batch(
            c,
            [{"tool_name": "Bash", "tool_input": tool, "tool_use_id": "t", "tool_response": "hi"}],
        ),
        "Stop": lambda: ev.stop(c, stop_hook_active=False, last_assistant_message="done"),
        "StopFailure": lambda: ev.stop_failure(c, "rate_limit", error_details="429"),
        "SubagentStart": lambda: ev.subagent_start(c, "agent-1", "Explore"),
        "SubagentStop": lambda: ev.subagent_stop(
            c,
            agent_id="agent-1",
            agent_type="Explore",
            agent_transcript_path=os.path.join(c.cwd, "sub.jsonl"),
            last_assistant_message="found it",
        ),
        "PreCompact": lambda: ev.pre_compact(c, "manual"),
        "PostCompact": lambda: ev.post_compact(c, "auto", "summary"),
        "Notification": lambda: ev.notification(c, "needs you", "permission_prompt"),
        "InstructionsLoaded": lambda: ev.instructions_loaded(
            c, os.path.join(c.cwd, "CLAUDE.md"), "Project", "session_start"
        ),
        "CwdChanged": lambda: ev.cwd_changed(c, c.cwd, c.cwd),
    }
    return builders[event]()
