"""What hooks answered: one handler's result, and the outcome of a whole event.

`interpret` reads one handler's exit code, stdout and stderr the way Claude
Code does: stdout that starts with `{` and ends with `}` is JSON output (a
parse or schema failure is a non-blocking error), exit 2 blocks on events that
can block with the JSON reason or stderr as the message, any other non-zero
code without valid JSON is a non-blocking error showing stderr's first line.
`aggregate` folds every handler of one event into a `HookOutcome` with Claude
Code's precedence (`deny` > `defer` > `ask` > `allow`; any block blocks; every
`additionalContext` is kept) and spills any string over 10,000 characters to
a file, keeping the path and a 2,000-character preview.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bridle.hooks.config import HookHandler
from bridle.hooks.events import (
    BLOCKING_EVENTS,
    EXIT2_IGNORED_EVENTS,
    FEEDBACK_EVENTS,
    OUTPUT_IGNORED_EVENTS,
    STDOUT_CONTEXT_EVENTS,
)

SPILL_LIMIT = 10_000
PREVIEW_CHARS = 2_000
_DECISION_ORDER = {"allow": 0, "ask": 1, "defer": 2, "deny": 3}
Status = Literal["ok", "blocked", "error", "timeout", "async"]


@dataclass(frozen=True)
class HandlerResult:
    """One handler's run. `error` says why it failed, for the user."""

    handler: HookHandler
    status: Status
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    output: Mapping[str, Any] | None = None  # parsed JSON output
    text: str | None = None  # plain-text stdout
    block_reason: str | None = None
    feedback: str | None = None  # exit-2 stderr shown to the model without blocking
    error: str | None = None
    duration_ms: int = 0


@dataclass(frozen=True)
class HookFailure:
    """A handler that failed (not a block): which hook, and why, for the user."""

    hook: str
    reason: str

    def __str__(self) -> str:
        return f"{self.hook}: {self.reason}"


@dataclass(frozen=True)
class PermissionRequestDecision:
    """A PermissionRequest hook's answer to a permission ask, in place of the user's."""

    behavior: Literal["allow", "deny"]
    updated_input: Mapping[str, Any] | None = None
    updated_permissions: tuple[Mapping[str, Any], ...] = ()
    message: str | None = None
    interrupt: bool = False


@dataclass(frozen=True)
class HookOutcome:
    """Everything the engine needs from one event's hooks."""

    event: str
    continue_: bool = True
    stop_reason: str | None = None
    system_messages: tuple[str, ...] = ()
    blocked: bool = False
    block_reasons: tuple[str, ...] = ()
    permission_decision: str | None = None  # allow | ask | deny | defer (PreToolUse)
    permission_decision_reason: str | None = None
    updated_input: Mapping[str, Any] | None = None
    additional_context: tuple[str, ...] = ()
    feedback: tuple[str, ...] = ()
    updated_tool_output: Any = None
    initial_user_message: str | None = None
    session_title: str | None = None
    retry: bool = False
    permission_request: PermissionRequestDecision | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    errors: tuple[HookFailure, ...] = ()
    results: tuple[HandlerResult, ...] = ()

    @property
    def block_reason(self) -> str:
        return "\n".join(self.block_reasons)

    @property
    def ran(self) -> int:
        return len(self.results)


# -- one handler -------------------------------------------------------------------


def parse_stdout(text: str) -> tuple[Mapping[str, Any] | None, str | None, str | None]:
    """(json_object, plain_text, parse_error) for a hook's stdout."""
    stripped = text.strip()
    if not stripped:
        return None, None, None
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return None, stripped, None
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError as exc:
        lines = [ln for ln in stripped.splitlines() if ln.strip()]
        if len(lines) > 1 and all(_parses(ln) for ln in lines):
            return None, stripped, None  # several JSON lines that set nothing: plain text
        return None, None, f"hook output is not valid JSON ({exc})"
    if not isinstance(data, dict):
        return None, stripped, None
    return data, None, None


def _parses(line: str) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False
    return True


_STR_KEYS = ("stopReason", "systemMessage", "reason", "decision")


def validate_output(event: str, data: Mapping[str, Any]) -> str | None:
    """None when the JSON fits Claude Code's output schema, else what is wrong."""
    if "continue" in data and not isinstance(data["continue"], bool):
        return "'continue' must be true or false"
    for key in _STR_KEYS:
        if key in data and data[key] is not None and not isinstance(data[key], str):
            return f"{key!r} must be a string"
    decision = data.get("decision")
    if decision is not None and decision not in ("block", "approve"):
        return f"'decision' must be \"block\", not {decision!r}"
    hso = data.get("hookSpecificOutput")
    if hso is None:
        return None
    if not isinstance(hso, Mapping):
        return "'hookSpecificOutput' must be an object"
    name = hso.get("hookEventName")
    if name is not None and name != event:
        return f"hookSpecificOutput.hookEventName is {name!r} but the event is {event}"
    pd = hso.get("permissionDecision")
    if pd is not None and pd not in _DECISION_ORDER:
        return "permissionDecision must be allow, deny, ask or defer"
    for key in ("additionalContext", "permissionDecisionReason", "initialUserMessage"):
        if hso.get(key) is not None and not isinstance(hso[key], str):
            return f"hookSpecificOutput.{key} must be a string"
    if hso.get("updatedInput") is not None and not isinstance(hso["updatedInput"], Mapping):
        return "hookSpecificOutput.updatedInput must be an object"
    prd = hso.get("decision")
    if (
        event == "PermissionRequest"
        and prd is not None
        and (not isinstance(prd, Mapping) or prd.get("behavior") not in ("allow", "deny"))
    ):
        return 'hookSpecificOutput.decision needs behavior "allow" or "deny"'
    return None


def _json_block_reason(event: str, data: Mapping[str, Any]) -> str | None:
    if data.get("decision") == "block":
        return str(data.get("reason") or "")
    hso = data.get("hookSpecificOutput")
    if (
        event == "PreToolUse"
        and isinstance(hso, Mapping)
        and hso.get("permissionDecision") == "deny"
    ):
        return str(hso.get("permissionDecisionReason") or "")
    return None


def problem_of(*problems: str | None) -> str | None:
    return next((p for p in problems if p), None)


def interpret(
    event: str,
    handler: HookHandler,
    exit_code: int,
    stdout: str,
    stderr: str,
    duration_ms: int = 0,
) -> HandlerResult:
    """Read one finished handler's exit code and output as Claude Code does."""
    data, text, parse_error = parse_stdout(stdout)
    if event in OUTPUT_IGNORED_EVENTS:
        data, text, parse_error = None, None, None
    schema_error = validate_output(event, data) if data is not None else None
    if schema_error:
        data = None

    def result(status: Status, **kw: Any) -> HandlerResult:
        return HandlerResult(
            handler=handler,
            status=status,
            exit_code=exit_code,
            stdout=stdout,
            stderr=stderr,
            duration_ms=duration_ms,
            **kw,
        )

    if exit_code == 2 and event in BLOCKING_EVENTS:
        reason = (_json_block_reason(event, data) if data else None) or stderr.strip()
        return result("blocked", output=data, block_reason=reason)
    if exit_code == 2 and event in FEEDBACK_EVENTS:
        return result("ok", output=data, feedback=stderr.strip())
    if exit_code == 2 and event in EXIT2_IGNORED_EVENTS:
        return result("ok", output=data if not problem_of(parse_error, schema_error) else None)
    problem = parse_error or schema_error
    if problem:
        return result("error", error=problem)
    if exit_code == 0 or data is not None:
        return result("ok", output=data, text=text if exit_code == 0 else None)
    first = next((ln for ln in stderr.splitlines() if ln.strip()), "")
    why = f"Failed with non-blocking status code: {first}" if first else f"exited {exit_code}"
    return result("error", error=why)


# -- a whole event ----------------------------------------------------------------


def spiller(directory: str | os.PathLike[str] | None) -> Callable[[str], str]:
    """A function that replaces a string over 10,000 characters with a file reference."""

    def spill(text: str) -> str:
        if len(text) <= SPILL_LIMIT or directory is None:
            return text
        Path(directory).mkdir(parents=True, exist_ok=True)
        path = Path(directory) / f"hook-output-{uuid.uuid4().hex[:12]}.txt"
        path.write_text(text, encoding="utf-8", errors="surrogateescape")
        return (
            f"Hook output was {len(text)} characters; the full text is saved to {path}. "
            f"Preview (first {PREVIEW_CHARS} characters):\n{text[:PREVIEW_CHARS]}"
        )

    return spill


def aggregate(
    event: str,
    results: Sequence[HandlerResult],
    *,
    spill_dir: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> HookOutcome:
    """Fold every handler's result for one event into one outcome."""
    spill = spiller(spill_dir)
    cont, stop_reason = True, None
    messages: list[str] = []
    blocks: list[str] = []
    blocked = False
    contexts: list[str] = []
    feedback: list[str] = []
    errors: list[HookFailure] = []
    decision: str | None = None
    decision_reason: str | None = None
    updated_input: Mapping[str, Any] | None = None
    tool_output: Any = None
    initial: str | None = None
    title: str | None = None
    retry = False
    pr: PermissionRequestDecision | None = None

    def decide(value: str, reason: str | None, new_input: Any = None) -> None:
        nonlocal decision, decision_reason, updated_input
        if decision is None or _DECISION_ORDER[value] > _DECISION_ORDER[decision]:
            decision, decision_reason = value, reason
            if isinstance(new_input, Mapping):
                updated_input = new_input
        elif updated_input is None and isinstance(new_input, Mapping) and value == decision:
            updated_input = new_input

    for r in results:
        if r.error:
            errors.append(HookFailure(r.handler.label, r.error))
        if r.feedback:
            feedback.append(spill(r.feedback))
        if r.status == "blocked":
            blocked = True
            blocks.append(r.block_reason or f"blocked by {r.handler.label}")
            if event == "PreToolUse":
                decide("deny", r.block_reason)
        data = r.output or {}
        if r.text and event in STDOUT_CONTEXT_EVENTS:
            contexts.append(spill(r.text))
        if data.get("continue") is False:
            cont = False
            stop_reason = stop_reason or data.get("stopReason")
        if isinstance(data.get("systemMessage"), str):
            messages.append(spill(data["systemMessage"]))
        top = data.get("decision")
        if top == "block" and r.status != "blocked":
            if event == "PreToolUse":
                decide("deny", data.get("reason"))  # deprecated spelling of deny
            blocked = True
            blocks.append(str(data.get("reason") or f"blocked by {r.handler.label}"))
        elif top == "approve" and event == "PreToolUse":
            decide("allow", data.get("reason"))
        hso = data.get("hookSpecificOutput")
        if not isinstance(hso, Mapping):
            continue
        if isinstance(hso.get("additionalContext"), str) and hso["additionalContext"]:
            contexts.append(spill(hso["additionalContext"]))
        pd = hso.get("permissionDecision")
        if pd in _DECISION_ORDER and event in ("PreToolUse", "PreModelSwitch"):
            decide(pd, hso.get("permissionDecisionReason"), hso.get("updatedInput"))
            if pd == "deny":
                blocked = True
                blocks.append(str(hso.get("permissionDecisionReason") or "denied by a hook"))
        elif event == "PreToolUse" and isinstance(hso.get("updatedInput"), Mapping):
            updated_input = updated_input or hso["updatedInput"]
        if "updatedToolOutput" in hso and event == "PostToolUse":
            tool_output = hso["updatedToolOutput"]
        elif "updatedMCPToolOutput" in hso and event == "PostToolUse" and tool_output is None:
            tool_output = hso["updatedMCPToolOutput"]
        if event == "SessionStart" and isinstance(hso.get("initialUserMessage"), str):
            initial = spill(hso["initialUserMessage"])
        if isinstance(hso.get("sessionTitle"), str):
            title = hso["sessionTitle"]
        if event == "PermissionDenied" and hso.get("retry") is True:
            retry = True
        prd = hso.get("decision")
        if event == "PermissionRequest" and isinstance(prd, Mapping):
            new = PermissionRequestDecision(
                behavior=prd["behavior"],
                updated_input=prd.get("updatedInput") if prd["behavior"] == "allow" else None,
                updated_permissions=tuple(prd.get("updatedPermissions") or ()),
                message=prd.get("message"),
                interrupt=bool(prd.get("interrupt")),
            )
            if pr is None or (pr.behavior == "allow" and new.behavior == "deny"):
                pr = new
    if event == "PreToolUse" and decision == "deny":
        blocked = True
    return HookOutcome(
        event=event,
        continue_=cont,
        stop_reason=stop_reason,
        system_messages=tuple(messages),
        blocked=blocked,
        block_reasons=tuple(dict.fromkeys(blocks)),
        permission_decision=decision,
        permission_decision_reason=decision_reason,
        updated_input=updated_input,
        additional_context=tuple(contexts),
        feedback=tuple(feedback),
        updated_tool_output=tool_output,
        initial_user_message=initial,
        session_title=title,
        retry=retry,
        permission_request=pr,
        env=dict(env or {}),
        errors=tuple(errors),
        results=tuple(results),
    )
