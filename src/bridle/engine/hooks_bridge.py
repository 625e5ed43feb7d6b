"""Claude Code hooks at the engine's points: one `HookBridge` per session that has hooks.

The loop and the dispatcher call the bridge where Claude Code fires its events:
the first turn (SessionStart), every prompt (UserPromptSubmit), each tool call
(PreToolUse, PermissionRequest, Notification, PermissionDenied, PostToolUse,
PostToolUseFailure), each instruction file (InstructionsLoaded: the start-up
files on the first turn, those a touched path brings in after its batch), each
batch (PostToolBatch), the end of a turn (Stop, or
StopFailure when an error ended it) and the end of the session (SessionEnd,
within a time budget). Each method is a generator: it yields an
`events.HookMessage` for every `systemMessage` and every hook that failed, and
returns only what the engine must change (a block and its reason, context for
the model, new tool input or output). Before each event the Claude Code-format
transcript (`hooks.transcript`) is brought up to date, so `transcript_path`
holds the conversation so far. A session without hooks has no bridge at all:
no payload is built and no transcript is written. How the bridge is built from
the session's sources lives in `engine.hooks_setup`.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bridle.core.messages import Message, TextPart, ToolResultPart, ToolUsePart
from bridle.engine import events as ev
from bridle.hooks import events as hev
from bridle.hooks.config import HookEntry
from bridle.hooks.outcome import HookOutcome, PermissionRequestDecision

# A Stop hook may keep a turn going this many times in a row (Claude Code's cap).
MAX_STOP_BLOCKS = 8
# SessionEnd hooks get this long in all (CLAUDE_CODE_SESSIONEND_HOOKS_TIMEOUT_MS).
SESSION_END_BUDGET_S = 1.5
# Turn-ending error kinds (`events.TurnResult.error_kind`) and StopFailure's `error`.
_FAILURE = {
    "rate_limit": "rate_limit",
    "quota": "billing_error",
    "auth": "authentication_failed",
    "context_window": "invalid_request",
    "network": "server_error",
    "provider": "server_error",
}
_FILE_KEYS = ("file_path", "notebook_path")

Fired = Generator[ev.Event, None, HookOutcome]


def _instructions_payload(f: Any) -> Callable[[hev.HookContext], dict[str, Any]]:
    """InstructionsLoaded's stdin JSON for one `extensions.instructions.InstructionFile`."""
    return lambda c: hev.instructions_loaded(c, **f.hook_fields())


def reminder(event: str, text: str) -> TextPart:
    """Context a hook adds for the model, marked as Claude Code marks it."""
    return TextPart(
        f"<system-reminder>\n{event} hook additional context: {text}\n</system-reminder>"
    )


def tool_response(call: ToolUsePart, result: ToolResultPart) -> Any:
    """`tool_response` as Claude Code's hook scripts read it for common tools."""
    args = call.input or {}
    if call.name == "Bash":
        return {"stdout": result.text, "stderr": "", "interrupted": False, "isImage": False}
    path = next((args[k] for k in _FILE_KEYS if isinstance(args.get(k), str)), None)
    if path is not None:
        return {"filePath": path, "success": not result.is_error, "output": result.text}
    return result.text


@dataclass
class TurnGate:
    """What the hooks made of a prompt: a block (the prompt is not sent), or text
    to send before it (SessionStart's) and after it (UserPromptSubmit's)."""

    blocked: str | None = None
    before: list[TextPart] = field(default_factory=list)
    after: list[TextPart] = field(default_factory=list)


@dataclass
class BatchEnd:
    """What goes after a batch's tool results, and why the turn stops, if it does."""

    parts: list[TextPart] = field(default_factory=list)
    stop: str | None = None


class HookBridge:
    def __init__(
        self,
        runner: Any,  # hooks.runner.HookRunner
        transcript: Any,  # hooks.transcript.TranscriptWriter
        *,
        cwd: str,
        session_id: str,
        source: str = "startup",
        model: str | None = None,
        skill_hooks: Mapping[str, Sequence[HookEntry]] | None = None,
        on_env: Callable[[dict[str, str]], None] | None = None,
        end_budget: float = SESSION_END_BUDGET_S,
    ) -> None:
        self.runner = runner
        self.transcript = transcript
        self.cwd = cwd
        self.session_id = session_id
        self.source = source
        self.model = model
        self._skill_hooks = dict(skill_hooks or {})
        self._on_env = on_env
        self._end_budget = end_budget
        self._messages: Callable[[], Sequence[Message]] = lambda: ()
        self._mode: Callable[[], str] = lambda: "default"
        self._started = False
        self._stop: str | None = None  # a hook's `continue: false` for this batch
        self._instructions: Any = None  # extensions.instructions.Instructions
        self._late: list[ev.Event] = []  # what hooks fired outside a generator said
        # A subagent's bridge (`engine.agents`): its payloads carry agent_id and
        # agent_type and the main session's transcript_path, as Claude Code's do.
        self.agent_id: str | None = None
        self.agent_type: str | None = None
        self.transcript_path: str | None = None

    def watch_instructions(self, instructions: Any) -> None:
        """InstructionsLoaded: the files loaded at start fire it on the first turn,
        the files a touched path brings in (`Instructions.on_load`) as they come."""
        self._instructions = instructions
        if instructions is not None:
            instructions.on_load = self._loaded

    def _loaded(self, files: Sequence[Any]) -> None:
        # Called from inside the dispatcher: what the hooks say waits for after_batch.
        for f in files if self.has("InstructionsLoaded") else ():
            self._late += list(self._fire("InstructionsLoaded", _instructions_payload(f)))

    def bind(self, messages: Callable[[], Sequence[Message]], mode: Callable[[], str]) -> None:
        """Where the bridge reads the conversation (for the transcript) and the mode."""
        self._messages, self._mode = messages, mode

    def has(self, event: str) -> bool:
        return bool(self.runner.has(event))

    # ----------------------------------------------------------------- firing
    def _fire(self, event: str, build: Callable[[hev.HookContext], dict[str, Any]]) -> Fired:
        self.transcript.sync(self._messages())
        ctx = hev.HookContext(
            self.session_id, self.transcript_path or str(self.transcript.path), self.cwd,
            self._mode() or "default", agent_id=self.agent_id, agent_type=self.agent_type,
        )  # fmt: skip
        payload = build(ctx)
        outcome: HookOutcome = self.runner.run(event, payload)
        yield from self._report(event, payload, outcome)
        for late in self.runner.collect_async():
            yield from self._report(late.event, {}, late)
        return outcome

    def _report(
        self, event: str, payload: Mapping[str, Any], outcome: HookOutcome
    ) -> Generator[ev.Event, None, None]:
        name = self.hook_name(event, payload)
        for text in outcome.system_messages:
            yield ev.HookMessage(event, text, "info", name)
        for failure in outcome.errors:
            yield ev.HookMessage(event, f"{name} hook error: {failure}", "error", name)
        if not outcome.continue_ and outcome.stop_reason:
            yield ev.HookMessage(event, outcome.stop_reason, "info", name)

    @staticmethod
    def hook_name(event: str, payload: Mapping[str, Any]) -> str:
        """Claude Code's label for a firing: the event and its matcher value."""
        value = hev.matcher_value(event, payload) if payload else None
        return f"{event}:{value}" if value else event

    # ------------------------------------------------------------------ turns
    def open_turn(self, prompt: str) -> Generator[ev.Event, None, TurnGate]:
        """SessionStart (on the first turn), then UserPromptSubmit."""
        gate = TurnGate()
        if not self._started:
            self._started = True
            if self.has("SessionStart"):
                out = yield from self._fire(
                    "SessionStart",
                    lambda c: hev.session_start(c, self.source, model=self.model),
                )
                gate.before += [reminder("SessionStart", t) for t in out.additional_context]
                if out.initial_user_message:
                    gate.before.append(TextPart(out.initial_user_message))
                if out.env and self._on_env is not None:
                    self._on_env(dict(out.env))
            if self._instructions is not None:
                self._loaded(self._instructions.files)
                yield from self._late_events()
        if self.has("UserPromptSubmit"):
            out = yield from self._fire(
                "UserPromptSubmit", lambda c: hev.user_prompt_submit(c, prompt)
            )
            if out.blocked or not out.continue_:
                why = out.block_reason or out.stop_reason or "no reason given"
                gate.blocked = f"a UserPromptSubmit hook blocked the prompt: {why}"
                return gate
            gate.after += [reminder("UserPromptSubmit", t) for t in out.additional_context]
        return gate

    def cwd_changed(self, old: str, new: str) -> Generator[ev.Event, None, None]:
        """CwdChanged: the shell moved to another directory; variables its hooks
        export (`CLAUDE_ENV_FILE`) reach later shell commands."""
        if not self.has("CwdChanged"):
            return
        out = yield from self._fire("CwdChanged", lambda c: hev.cwd_changed(c, old, new))
        if out.env and self._on_env is not None:
            self._on_env(dict(out.env))

    # ------------------------------------------------------------- compaction
    def pre_compact(
        self, trigger: str, instructions: str | None
    ) -> Generator[ev.Event, None, str | None]:
        """PreCompact hooks; the reason a hook blocked the compaction, or None."""
        if not self.has("PreCompact"):
            return None
        out = yield from self._fire(
            "PreCompact", lambda c: hev.pre_compact(c, trigger, instructions)
        )
        if out.blocked or not out.continue_:
            return out.block_reason or out.stop_reason or "no reason given"
        return None

    def post_compact(self, trigger: str, summary: str) -> Generator[ev.Event, None, list[str]]:
        """PostCompact, then SessionStart with source `compact`; what the
        SessionStart hooks add to the compacted conversation."""
        if self.has("PostCompact"):
            yield from self._fire("PostCompact", lambda c: hev.post_compact(c, trigger, summary))
        if not self.has("SessionStart"):
            return []
        out = yield from self._fire(
            "SessionStart", lambda c: hev.session_start(c, "compact", model=self.model)
        )
        return list(out.additional_context)

    def stop(self, last_text: str, blocks: int) -> Generator[ev.Event, None, str | None]:
        """Stop hooks; the reason the turn must go on, or None to end it."""
        if not self.has("Stop") or blocks >= MAX_STOP_BLOCKS:
            return None
        out = yield from self._fire(
            "Stop",
            lambda c: hev.stop(c, stop_hook_active=blocks > 0, last_assistant_message=last_text),
        )
        if out.blocked and out.continue_:
            return out.block_reason or "a Stop hook asked the turn to go on"
        return None

    def turn_failed(
        self, kind: str | None, error: str, last_text: str
    ) -> Generator[ev.Event, None, None]:
        """StopFailure, when a model error (not a limit or the user) ended the turn."""
        if kind not in _FAILURE or not self.has("StopFailure"):
            return
        yield from self._fire(
            "StopFailure",
            lambda c: hev.stop_failure(
                c, _FAILURE[kind or ""], error_details=error, last_assistant_message=last_text
            ),
        )

    # ------------------------------------------------------------------ tools
    def pre_tool(self, call: ToolUsePart) -> Generator[ev.Event, None, HookOutcome | None]:
        if not self.has("PreToolUse"):
            return None
        return (
            yield from self._fire(
                "PreToolUse", lambda c: hev.pre_tool_use(c, call.name, call.input or {}, call.id)
            )
        )

    def permission_request(
        self, call: ToolUsePart
    ) -> Generator[ev.Event, None, PermissionRequestDecision | None]:
        """PermissionRequest hooks answering an ask (None: no hook decided)."""
        if not self.has("PermissionRequest"):
            return None
        out = yield from self._fire(
            "PermissionRequest", lambda c: hev.permission_request(c, call.name, call.input or {})
        )
        return out.permission_request

    def notify(self, message: str, kind: str) -> Generator[ev.Event, None, None]:
        if self.has("Notification"):
            yield from self._fire("Notification", lambda c: hev.notification(c, message, kind))

    def permission_denied(self, call: ToolUsePart, reason: str) -> Generator[ev.Event, None, bool]:
        """PermissionDenied hooks; True when one says the model may retry."""
        if not self.has("PermissionDenied"):
            return False
        out = yield from self._fire(
            "PermissionDenied",
            lambda c: hev.permission_denied(c, call.name, call.input or {}, call.id, reason),
        )
        return out.retry

    def tool_done(
        self, call: ToolUsePart, result: ToolResultPart
    ) -> Generator[ev.Event, None, ToolResultPart]:
        """PostToolUse or PostToolUseFailure for a call that ran; the result the
        model sees (its output replaced, feedback and context added)."""
        if call.name == "Skill" and not result.is_error:
            self.activate_skill((call.input or {}).get("skill"))
        args = call.input or {}
        if result.is_error:
            if not self.has("PostToolUseFailure"):
                return result
            out = yield from self._fire(
                "PostToolUseFailure",
                lambda c: hev.post_tool_use_failure(c, call.name, args, call.id, result.text),
            )
        else:
            if not self.has("PostToolUse"):
                return result
            out = yield from self._fire(
                "PostToolUse",
                lambda c: hev.post_tool_use(
                    c, call.name, args, tool_response(call, result), call.id
                ),
            )
        name = f"{out.event}:{call.name}"
        content = list(result.content)
        if out.updated_tool_output is not None:
            new = out.updated_tool_output
            content = [TextPart(new if isinstance(new, str) else json.dumps(new))]
        extra = [*out.feedback, *(out.block_reasons if out.blocked else ())]
        content += [TextPart(f"{name} hook feedback: {t}") for t in extra]
        content += [reminder(name, t) for t in out.additional_context]
        if not out.continue_:
            self._stop = out.stop_reason or f"a {out.event} hook stopped the turn"
        return replace(result, content=content)

    def after_batch(
        self, calls: Sequence[ToolUsePart], results: Sequence[ToolResultPart]
    ) -> Generator[ev.Event, None, BatchEnd]:
        """PostToolBatch; what joins the results, and whether the turn stops."""
        end = BatchEnd(stop=self._stop)
        self._stop = None
        yield from self._late_events()
        if not self.has("PostToolBatch"):
            return end
        by_id = {r.tool_use_id: r for r in results}
        batch = [
            {
                "tool_name": c.name,
                "tool_input": c.input or {},
                "tool_use_id": c.id,
                "tool_response": tool_response(c, by_id[c.id]) if c.id in by_id else None,
            }
            for c in calls
        ]
        out = yield from self._fire("PostToolBatch", lambda c: hev.post_tool_batch(c, batch))
        end.parts += [reminder("PostToolBatch", t) for t in out.additional_context]
        if out.blocked or not out.continue_:
            end.stop = end.stop or out.block_reason or out.stop_reason or "a PostToolBatch hook"
        return end

    def _late_events(self) -> Generator[ev.Event, None, None]:
        late, self._late = self._late, []
        yield from late

    def activate_skill(self, name: Any) -> None:
        """A loaded skill's frontmatter hooks apply from now on (as in Claude Code),
        whether the Skill tool loaded it or the user ran it as `/name`; a plugin
        skill may be named without its `plugin:` prefix when that is unambiguous."""
        if not isinstance(name, str):
            return
        if name not in self._skill_hooks:
            bare = [n for n in self._skill_hooks if n.rpartition(":")[2] == name]
            name = bare[0] if len(bare) == 1 else name
        entries = self._skill_hooks.pop(name, None)
        if entries:
            self.runner.add(entries)

    # ---------------------------------------------------------------- session
    def end(self, reason: str = "other") -> None:
        """SessionEnd within its budget; then every hook still running is killed."""
        try:
            if self.has("SessionEnd"):
                with contextlib.suppress(OSError):  # the hooks still run without it
                    self.transcript.sync(self._messages())
                ctx = hev.HookContext(self.session_id, str(self.transcript.path), self.cwd)
                payload = hev.session_end(ctx, reason)
                worker = threading.Thread(
                    target=self.runner.run, args=("SessionEnd", payload), daemon=True
                )
                worker.start()
                worker.join(self._end_budget)
        finally:
            self.runner.close()
