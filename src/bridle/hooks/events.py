"""Hook event names and the stdin JSON Claude Code sends for each of them.

Every payload starts with the common fields (`session_id`, `transcript_path`,
`cwd`, `permission_mode`, `hook_event_name`, plus `agent_id`/`agent_type`
inside a subagent) and adds the event's own fields exactly as Claude Code's
hooks reference names them. `EVENTS` are the events bridle fires;
`KNOWN_EVENTS` adds Claude Code events bridle has no trigger for yet, so a
settings file written for Claude Code loads without complaint. The tables here
(which input field a matcher reads, which events take `if`, default timeouts,
which handler types an event accepts) are data the config loader and the
runner share. No I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

EVENTS: tuple[str, ...] = (
    "SessionStart",
    "SessionEnd",
    "UserPromptSubmit",
    "PreToolUse",
    "PermissionRequest",
    "PermissionDenied",
    "PostToolUse",
    "PostToolUseFailure",
    "PostToolBatch",
    "Stop",
    "StopFailure",
    "SubagentStart",
    "SubagentStop",
    "PreCompact",
    "PostCompact",
    "Notification",
    "InstructionsLoaded",
    "CwdChanged",
)

# Claude Code events bridle accepts in settings but has no trigger for (yet).
OTHER_CLAUDE_EVENTS: tuple[str, ...] = (
    "Setup",
    "UserPromptExpansion",
    "MessageDisplay",
    "TaskCreated",
    "TaskCompleted",
    "TeammateIdle",
    "ConfigChange",
    "DirectoryAdded",
    "FileChanged",
    "WorktreeCreate",
    "WorktreeRemove",
    "PreModelSwitch",
    "PostModelSwitch",
    "Elicitation",
    "ElicitationResult",
)
KNOWN_EVENTS = frozenset(EVENTS + OTHER_CLAUDE_EVENTS)

TOOL_EVENTS = frozenset(
    {"PreToolUse", "PostToolUse", "PostToolUseFailure", "PermissionRequest", "PermissionDenied"}
)

# The input field each event's matcher is tested against; events absent here
# have no matcher support (a matcher on them is ignored, as in Claude Code).
MATCHER_FIELD: dict[str, str] = {
    **{e: "tool_name" for e in TOOL_EVENTS},
    "SessionStart": "source",
    "Setup": "trigger",
    "SessionEnd": "reason",
    "Notification": "notification_type",
    "SubagentStart": "agent_type",
    "SubagentStop": "agent_type",
    "PreCompact": "trigger",
    "PostCompact": "trigger",
    "ConfigChange": "source",
    "DirectoryAdded": "source",
    "FileChanged": "file_path",
    "StopFailure": "error",
    "InstructionsLoaded": "load_reason",
    "UserPromptExpansion": "command_name",
    "Elicitation": "mcp_server_name",
    "ElicitationResult": "mcp_server_name",
    "PreModelSwitch": "to_model",
    "PostModelSwitch": "to_model",
}

HANDLER_TYPES = ("command", "http", "mcp_tool", "prompt", "agent")
_ALL_TYPES = frozenset(HANDLER_TYPES)
_NO_MODEL = frozenset({"command", "http", "mcp_tool"})
# Handler types each event runs (the hooks reference, "Prompt-based hooks").
EVENT_HANDLER_TYPES: dict[str, frozenset[str]] = {
    **{
        e: _ALL_TYPES
        for e in [
            "PermissionDenied",
            "PostToolBatch",
            "PostToolUse",
            "PostToolUseFailure",
            "PreToolUse",
            "Stop",
            "SubagentStop",
            "TaskCompleted",
            "TaskCreated",
            "TeammateIdle",
            "UserPromptExpansion",
            "UserPromptSubmit",
        ]
    },
    "PermissionRequest": frozenset({"command", "http", "mcp_tool", "prompt"}),
    "SessionStart": frozenset({"command", "mcp_tool"}),
    "Setup": frozenset({"command", "mcp_tool"}),
}

# Events that receive CLAUDE_ENV_FILE.
ENV_FILE_EVENTS = frozenset({"SessionStart", "Setup", "CwdChanged", "FileChanged"})
# Events whose plain-text stdout (exit 0) becomes context for the model.
STDOUT_CONTEXT_EVENTS = frozenset(
    {"UserPromptSubmit", "UserPromptExpansion", "SessionStart", "PostModelSwitch"}
)
# Events on which exit code 2 blocks (the per-event exit-code table).
BLOCKING_EVENTS = frozenset(
    {
        "PreToolUse",
        "UserPromptSubmit",
        "UserPromptExpansion",
        "Stop",
        "SubagentStop",
        "TeammateIdle",
        "TaskCreated",
        "TaskCompleted",
        "ConfigChange",
        "PostToolBatch",
        "PreCompact",
        "PreModelSwitch",
        "Elicitation",
        "ElicitationResult",
        "WorktreeCreate",
        "WorktreeRemove",
    }
)
# Events where exit 2 shows stderr to the model although nothing is blocked.
FEEDBACK_EVENTS = frozenset({"PostToolUse", "PostToolUseFailure"})
# Events on which exit 2 and its stderr are ignored (other non-blocking events show
# the stderr to the user as a hook error).
EXIT2_IGNORED_EVENTS = frozenset(
    {
        "PermissionRequest",
        "PermissionDenied",
        "Notification",
        "Setup",
        "StopFailure",
        "InstructionsLoaded",
        "DirectoryAdded",
        "MessageDisplay",
    }
)
# Events whose JSON output fields Claude Code discards entirely.
OUTPUT_IGNORED_EVENTS = frozenset(
    {"StopFailure", "Setup", "InstructionsLoaded", "SessionEnd", "WorktreeRemove"}
)
# Per-event "How many seconds" overrides of the command/http/mcp_tool default.
_SHORT_DEFAULT = {"UserPromptSubmit": 30.0, "PreModelSwitch": 30.0, "PostModelSwitch": 30.0}
SESSION_END_DEFAULT = 1.5


def default_timeout(handler_type: str, event: str) -> float:
    """Claude Code's default timeout in seconds for a handler type on an event."""
    if handler_type == "prompt":
        return 30.0
    if handler_type == "agent":
        return 60.0
    if event == "SessionEnd":
        return SESSION_END_DEFAULT
    if event == "MessageDisplay":
        return 10.0
    return _SHORT_DEFAULT.get(event, 600.0)


def supports_type(event: str, handler_type: str) -> bool:
    return handler_type in EVENT_HANDLER_TYPES.get(event, _NO_MODEL)


@dataclass(frozen=True)
class HookContext:
    """What every payload shares: the session, its transcript and where it runs."""

    session_id: str
    transcript_path: str
    cwd: str
    permission_mode: str = "default"
    agent_id: str | None = None
    agent_type: str | None = None

    def common(self, event: str, *, with_mode: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "session_id": self.session_id,
            "transcript_path": self.transcript_path,
            "cwd": self.cwd,
        }
        if with_mode:
            out["permission_mode"] = self.permission_mode
        out["hook_event_name"] = event
        if self.agent_id is not None:
            out["agent_id"] = self.agent_id
        if self.agent_type is not None:
            out["agent_type"] = self.agent_type
        return out


# Events whose documented payload carries no permission_mode.
_NO_MODE = frozenset(
    [
        "SessionStart",
        "SessionEnd",
        "Notification",
        "SubagentStart",
        "StopFailure",
        "PreCompact",
        "PostCompact",
        "InstructionsLoaded",
        "CwdChanged",
    ]
)


def payload(event: str, ctx: HookContext, **fields: Any) -> dict[str, Any]:
    """The stdin JSON for `event`: common fields, then `fields` (None values dropped)."""
    if event not in KNOWN_EVENTS:
        raise ValueError(f"unknown hook event {event!r}")
    out = ctx.common(event, with_mode=event not in _NO_MODE)
    out.update({k: v for k, v in fields.items() if v is not None})
    return out


# -- one builder per event bridle fires -------------------------------------------


def session_start(
    ctx: HookContext,
    source: str,
    *,
    model: str | None = None,
    agent_type: str | None = None,
    session_title: str | None = None,
) -> dict[str, Any]:
    if source not in ("startup", "resume", "clear", "compact", "fork"):
        raise ValueError(f"SessionStart source {source!r} is not startup/resume/clear/compact/fork")
    return payload(
        "SessionStart",
        ctx,
        source=source,
        model=model,
        agent_type=agent_type,
        session_title=session_title,
    )


def session_end(ctx: HookContext, reason: str = "other") -> dict[str, Any]:
    return payload("SessionEnd", ctx, reason=reason)


def user_prompt_submit(ctx: HookContext, prompt: str) -> dict[str, Any]:
    return payload("UserPromptSubmit", ctx, prompt=prompt)


def pre_tool_use(
    ctx: HookContext, tool_name: str, tool_input: Mapping[str, Any], tool_use_id: str
) -> dict[str, Any]:
    return payload(
        "PreToolUse",
        ctx,
        tool_name=tool_name,
        tool_input=dict(tool_input),
        tool_use_id=tool_use_id,
    )


def permission_request(
    ctx: HookContext,
    tool_name: str,
    tool_input: Mapping[str, Any],
    permission_suggestions: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    return payload(
        "PermissionRequest",
        ctx,
        tool_name=tool_name,
        tool_input=dict(tool_input),
        permission_suggestions=list(permission_suggestions)
        if permission_suggestions is not None
        else None,
    )


def permission_denied(
    ctx: HookContext, tool_name: str, tool_input: Mapping[str, Any], tool_use_id: str, reason: str
) -> dict[str, Any]:
    return payload(
        "PermissionDenied",
        ctx,
        tool_name=tool_name,
        tool_input=dict(tool_input),
        tool_use_id=tool_use_id,
        reason=reason,
    )


def post_tool_use(
    ctx: HookContext,
    tool_name: str,
    tool_input: Mapping[str, Any],
    tool_response: Any,
    tool_use_id: str,
    *,
    duration_ms: int | None = None,
) -> dict[str, Any]:
    return payload(
        "PostToolUse",
        ctx,
        tool_name=tool_name,
        tool_input=dict(tool_input),
        tool_response=tool_response,
        tool_use_id=tool_use_id,
        duration_ms=duration_ms,
    )


def post_tool_use_failure(
    ctx: HookContext,
    tool_name: str,
    tool_input: Mapping[str, Any],
    tool_use_id: str,
    error: str,
    *,
    is_interrupt: bool | None = None,
    duration_ms: int | None = None,
) -> dict[str, Any]:
    return payload(
        "PostToolUseFailure",
        ctx,
        tool_name=tool_name,
        tool_input=dict(tool_input),
        tool_use_id=tool_use_id,
        error=error,
        is_interrupt=is_interrupt,
        duration_ms=duration_ms,
    )


def post_tool_batch(ctx: HookContext, tool_calls: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """`tool_calls`: dicts with tool_name, tool_input, tool_use_id, tool_response."""
    return payload("PostToolBatch", ctx, tool_calls=[dict(c) for c in tool_calls])


def stop(
    ctx: HookContext,
    *,
    stop_hook_active: bool,
    last_assistant_message: str,
    background_tasks: Sequence[Mapping[str, Any]] = (),
    session_crons: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    return payload(
        "Stop",
        ctx,
        stop_hook_active=stop_hook_active,
        last_assistant_message=last_assistant_message,
        background_tasks=[dict(t) for t in background_tasks],
        session_crons=[dict(c) for c in session_crons],
    )


STOP_FAILURE_ERRORS = frozenset(
    [
        "rate_limit",
        "overloaded",
        "authentication_failed",
        "oauth_org_not_allowed",
        "account_on_hold",
        "billing_error",
        "invalid_request",
        "model_not_found",
        "server_error",
        "max_output_tokens",
        "cloud_credential_error",
        "unknown",
    ]
)


def stop_failure(
    ctx: HookContext,
    error: str,
    *,
    error_details: str | None = None,
    last_assistant_message: str | None = None,
) -> dict[str, Any]:
    return payload(
        "StopFailure",
        ctx,
        error=error if error in STOP_FAILURE_ERRORS else "unknown",
        error_details=error_details,
        last_assistant_message=last_assistant_message,
    )


def subagent_start(ctx: HookContext, agent_id: str, agent_type: str) -> dict[str, Any]:
    return payload("SubagentStart", ctx, agent_id=agent_id, agent_type=agent_type)


def subagent_stop(
    ctx: HookContext,
    *,
    agent_id: str,
    agent_type: str,
    agent_transcript_path: str,
    last_assistant_message: str,
    stop_hook_active: bool = False,
) -> dict[str, Any]:
    return payload(
        "SubagentStop",
        ctx,
        stop_hook_active=stop_hook_active,
        agent_id=agent_id,
        agent_type=agent_type,
        agent_transcript_path=agent_transcript_path,
        last_assistant_message=last_assistant_message,
        background_tasks=[],
        session_crons=[],
    )


def pre_compact(
    ctx: HookContext, trigger: str, custom_instructions: str | None = None
) -> dict[str, Any]:
    out = payload("PreCompact", ctx, trigger=trigger)
    out["custom_instructions"] = custom_instructions  # documented as null when absent
    return out


def post_compact(ctx: HookContext, trigger: str, compact_summary: str) -> dict[str, Any]:
    return payload("PostCompact", ctx, trigger=trigger, compact_summary=compact_summary)


def notification(
    ctx: HookContext, message: str, notification_type: str, title: str | None = None
) -> dict[str, Any]:
    return payload(
        "Notification", ctx, message=message, title=title, notification_type=notification_type
    )


def instructions_loaded(
    ctx: HookContext,
    file_path: str,
    memory_type: str,
    load_reason: str,
    *,
    globs: Sequence[str] | None = None,
    trigger_file_path: str | None = None,
    parent_file_path: str | None = None,
) -> dict[str, Any]:
    return payload(
        "InstructionsLoaded",
        ctx,
        file_path=file_path,
        memory_type=memory_type,
        load_reason=load_reason,
        globs=list(globs) if globs is not None else None,
        trigger_file_path=trigger_file_path,
        parent_file_path=parent_file_path,
    )


def cwd_changed(ctx: HookContext, old_cwd: str, new_cwd: str) -> dict[str, Any]:
    return payload("CwdChanged", ctx, old_cwd=old_cwd, new_cwd=new_cwd)


def matcher_value(event: str, data: Mapping[str, Any]) -> str | None:
    """The value an event's matcher is tested against, or None (no matcher support)."""
    name = MATCHER_FIELD.get(event)
    if name is None:
        return None
    value = data.get(name)
    if event == "FileChanged" and isinstance(value, str):
        return value.rsplit("/", 1)[-1]
    return "" if value is None else str(value)
