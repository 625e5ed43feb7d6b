"""The engine's protocol: ops that front ends send, events the engine emits.

Every front end (headless renderers, the TUI, the daemon, workspaces) drives the
same `Engine` with these ops and renders these events; the engine never prints.
Events are plain slotted dataclasses, cheap to create on the hot path; `kind`
names them for serialisation. Permission prompts are events too: a front end that
can ask answers with an `ApprovalDecision` op before pulling the next event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bridle.core.messages import ImagePart, ModelResponse, ToolResultPart, ToolUsePart, Usage

# ----------------------------------------------------------------------------- ops


@dataclass(slots=True)
class UserTurn:
    """Start a turn with the user's message and any attached images."""

    text: str
    images: list[ImagePart] = field(default_factory=list)


@dataclass(slots=True)
class ApprovalDecision:
    """The user's answer to a `PermissionRequest`, for the call with `tool_use_id`."""

    tool_use_id: str
    allow: bool
    # Remember for the rest of the session (adds an allow rule for this exact tool/spec).
    always: bool = False
    # With a deny: the reason the model is told (instead of the policy's).
    message: str = ""
    # With an allow: the arguments to run the call with instead of the model's
    # (validated again; deny rules still hold for them).
    updated_input: dict[str, Any] | None = None


@dataclass(slots=True)
class Interrupt:
    """Stop the running turn: a running Bash is killed, tools not yet started do
    not run, and the turn ends after the current model response. The one op a
    front end may send from another thread while a turn runs."""


@dataclass(slots=True)
class Steer:
    """Extra user guidance injected before the next model request of a running turn."""

    text: str


@dataclass(slots=True)
class SetModel:
    """Go on with another model (a spec as `--model` takes it); answered by a `Notice`."""

    spec: str


@dataclass(slots=True)
class SetAccount:
    """Go on under another account: the model is bound again with its keys (as a
    rotation's switch is), and later model switches use them too."""

    name: str


@dataclass(slots=True)
class SetPermissionMode:
    """Switch the permission mode (a mode name or alias) for the next tool calls."""

    mode: str


@dataclass(slots=True)
class Compact:
    """Compact the conversation now (`/compact [focus]`): a hand-off summary that
    keeps what `focus` names. Send it between turns."""

    focus: str = ""


@dataclass(slots=True)
class Clear:
    """Start again from an empty conversation (`/clear`), or from its first
    `keep` messages (a rewind); the store keeps the old messages. Send it
    between turns."""

    keep: int = 0


@dataclass(slots=True)
class Anchor:
    """Pin a fact (`/anchor TEXT`): it goes into the system prompt of every
    request, so it survives every compaction, and is saved, so `-c`/`-r` keep
    it. `remove` unpins it (its text, or its number in the list, from 1); an
    empty `text` only lists the anchors (a `Notice`, code "anchor")."""

    text: str = ""
    remove: bool = False


@dataclass(slots=True)
class Tasks:
    """List the session's background agents (`/tasks`), after stopping the one
    named by `stop` (its id) if given: answered by a `BackgroundAgents` event
    (a `Notice` with code "error" when `stop` names no running agent)."""

    stop: str = ""


Op = (
    UserTurn
    | ApprovalDecision
    | Interrupt
    | Steer
    | SetModel
    | SetAccount
    | SetPermissionMode
    | Compact
    | Clear
    | Anchor
    | Tasks
)

# -------------------------------------------------------------------------- events


@dataclass(slots=True)
class SessionStarted:
    """The session is open: the model, tools and permission mode it runs with, for a front end
    to show first."""

    session_id: str
    model: str
    provider: str
    cwd: str
    tools: list[str]
    permission_mode: str
    resumed: bool = False
    # MCP servers as Claude Code's init message lists them: {"name", "status"}.
    mcp_servers: list[dict[str, str]] = field(default_factory=list)
    kind: str = "session_started"


@dataclass(slots=True)
class TextChunk:
    """A piece of the model's answer as it streams (`core.stream.TextDelta`, without
    its block index). Drop the chunks shown so far on `Retrying`."""

    text: str
    kind: str = "text_chunk"


@dataclass(slots=True)
class ThinkingChunk:
    """A piece of the model's visible reasoning as it streams."""

    text: str
    kind: str = "thinking_chunk"


@dataclass(slots=True)
class AssistantMessage:
    """One complete model response (a turn), after streaming finished."""

    response: ModelResponse
    turn: int
    cost_usd: float
    kind: str = "assistant_message"


@dataclass(slots=True)
class ToolStarted:
    """The tool call is being handled now; a `ToolFinished` for it follows."""

    call: ToolUsePart
    kind: str = "tool_started"


@dataclass(slots=True)
class ToolFinished:
    """A tool call ended: its result (the error result when it was refused) and the files it
    changed."""

    call: ToolUsePart
    result: ToolResultPart
    changed_files: list[str] = field(default_factory=list)
    kind: str = "tool_finished"


@dataclass(slots=True)
class PermissionRequest:
    """The policy said "ask". Answer with `ApprovalDecision` before pulling the
    next event; no answer means deny."""

    call: ToolUsePart
    reason: str
    kind: str = "permission_request"


@dataclass(slots=True)
class PermissionDenied:
    """A tool call was refused (by the policy, a hook or the user) and did not run."""

    call: ToolUsePart
    reason: str
    kind: str = "permission_denied"


@dataclass(slots=True)
class Retrying:
    """The request is sent again (by the client before any content, or by the loop
    after a stream broke mid-response): chunks shown so far are void."""

    attempt: int
    delay: float
    error: str
    kind: str = "retrying"


@dataclass(slots=True)
class Compacted:
    """The conversation was compacted before the next request (`trigger` auto, or
    `context_error` after the provider refused a too-long request; `step`
    `clear` when clearing old tool outputs was enough, else `summary`). The
    store keeps the whole history; this marks the boundary."""

    trigger: str
    step: str
    pre_tokens: int
    post_tokens: int
    cleared: int = 0
    kind: str = "compacted"


@dataclass(slots=True)
class BackgroundAgents:
    """The answer to `Tasks`: each background agent as a dict with `id`,
    `description`, `agent_type`, `status` (running, stopping, finished, failed,
    stopped) and `seconds` since it started."""

    agents: list[dict[str, Any]]
    kind: str = "background_agents"


@dataclass(slots=True)
class Notice:
    """Something the user should know that is not an error (auto-continue,
    loop guard, account switch, model switch, ...)."""

    text: str
    code: str = ""
    kind: str = "notice"


@dataclass(slots=True)
class HookMessage:
    """What a hook says to the user: its `systemMessage` (`level` "info"), or why
    it failed, timed out or could not run (`level` "error"). `hook_name` is
    Claude Code's label for the firing, such as "PreToolUse:Bash"."""

    event: str
    text: str
    level: str = "info"
    hook_name: str = ""
    kind: str = "hook_message"


@dataclass(slots=True)
class TurnResult:
    """The end of a user turn. `subtype` follows Claude Code's result subtypes:
    success, error_max_turns, error_max_budget_usd, error_during_execution.
    `error_kind` says what went wrong, for a front end to act on: "rate_limit",
    "quota", "context_window", "auth", "network", "provider" (a model call
    failed), "max_turns", "max_budget", "interrupted", "loop_guard", "hook_blocked" (a
    UserPromptSubmit hook refused the prompt), "structured_output" (no valid
    answer for `--json-schema`); None on success."""

    subtype: str
    result: str
    num_turns: int
    usage: Usage
    cost_usd: float
    duration_ms: int
    duration_api_ms: int
    session_id: str
    stop_reason: str | None
    permission_denials: list[dict[str, Any]]
    errors: list[str] = field(default_factory=list)
    # Process exit code a headless front end should use (0, 1, 75 or 130).
    exit_code: int = 0
    changed_files: list[str] = field(default_factory=list)
    error_kind: str | None = None
    # `--json-schema`: the value the model gave the StructuredOutput tool (None: none).
    structured_output: Any = None
    kind: str = "turn_result"

    @property
    def is_error(self) -> bool:
        return self.subtype != "success"


Event = (
    SessionStarted
    | TextChunk
    | ThinkingChunk
    | AssistantMessage
    | ToolStarted
    | ToolFinished
    | PermissionRequest
    | PermissionDenied
    | Retrying
    | Notice
    | Compacted
    | BackgroundAgents
    | HookMessage
    | TurnResult
)
