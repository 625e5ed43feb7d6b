"""Tool dispatch: lookup → validate → loop guard → PreToolUse hooks → policy → run
→ cap → verify → PostToolUse hooks.

The dispatcher owns the pipeline so tools never check permissions themselves. It
is a generator: it yields engine events (tool started/finished, permission
requests and denials) and returns the tool results in the order the model asked
for them. Consecutive concurrency-safe calls run in parallel in worker threads;
everything else runs one at a time. Failures a model can fix (unknown tool, bad
arguments, denied permission, a tool's own error) become error results; they
never abort the run. Front ends and the loop steer it through a small API:
`decide` answers a permission request, `interrupt` stops the running turn's
tools (from any thread), `set_mode` switches the permission mode, and
`begin_turn` clears a previous interrupt.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass, field, replace
from typing import Any

from bridle.core.errors import ToolError
from bridle.core.messages import TextPart, ToolResultPart, ToolUsePart
from bridle.engine.events import (
    ApprovalDecision,
    Event,
    PermissionDenied,
    PermissionRequest,
    ToolFinished,
    ToolStarted,
)
from bridle.engine.guard import LoopGuard
from bridle.tools.base import Tool, ToolContext, ToolOutput
from bridle.tools.names import FILE_PATH_TOOLS

# Called with (call, decision reason) when the policy asks; returns allow?
Approver = Callable[[ToolUsePart, str], bool]


def session_rule(call: ToolUsePart) -> str:
    """The allow rule "don't ask again" adds: this exact command, this file, or
    the tool (Claude Code's rule syntax; `//` anchors an absolute path)."""
    args = call.input or {}
    if call.name == "Bash" and isinstance(args.get("command"), str):
        return f"Bash({args['command']})"
    path = args.get("file_path")
    if call.name in FILE_PATH_TOOLS and isinstance(path, str):
        anchored = "/" + path if path.startswith("/") else path
        return f"{call.name}({anchored})"
    return call.name


@dataclass
class Prepared:
    """One tool call after lookup and validation: the tool to run, or why it must not run."""

    call: ToolUsePart
    tool: Tool | None = None
    # Set when the call must not run: the text of its error result.
    refusal: str | None = None


@dataclass
class Dispatcher:
    """Runs a session's tool calls through the whole pipeline (see the module docstring) and
    holds what spans calls: the loop guard, denials, changed files, pending decisions."""

    tools: dict[str, Tool]
    ctx: ToolContext
    policy: Any  # bridle.policy.engine.PermissionPolicy
    guard: LoopGuard = field(default_factory=LoopGuard)
    denials: list[dict[str, Any]] = field(default_factory=list)
    changed_files: list[str] = field(default_factory=list)
    max_workers: int = 8
    # extensions.instructions.Instructions: rules and CLAUDE.md files for the paths
    # file tools touch join those tools' results (Claude Code's path-scoped rules).
    instructions: Any = None
    # extensions.skill_scope.SkillScope: path-scoped and nested skills join the same way.
    skill_scope: Any = None
    # engine.hooks_bridge.HookBridge when the session has hooks: PreToolUse runs
    # before the policy, PermissionRequest answers its asks, PostToolUse(Failure)
    # sees each result.
    hooks: Any = None
    # engine.agents.Relay when subagents may ask this session's front end.
    relay: Any = None
    # Decisions delivered by the front end for pending permission requests.
    _decisions: dict[str, ApprovalDecision] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.ctx.cancel is None:  # tools (Bash) watch it to stop what they run
            self.ctx.cancel = threading.Event()
        self._cancel: threading.Event = self.ctx.cancel

    # ------------------------------------------------------------ public API
    def decide(self, decision: ApprovalDecision) -> None:
        """Answer a `PermissionRequest`; send it before pulling the next event."""
        self._decisions[decision.tool_use_id] = decision

    def interrupt(self) -> None:
        """Stop the running turn's tools: a running Bash is killed and calls not
        yet started do not run. Safe to call from another thread."""
        self._cancel.set()

    @property
    def interrupted(self) -> bool:
        return self._cancel.is_set()

    def begin_turn(self) -> None:
        """A new user turn starts: an earlier interrupt no longer applies."""
        self._cancel.clear()

    def set_mode(self, mode: str) -> str:
        """Switch the permission mode for the next calls; returns its canonical
        name. An unknown name is a `ConfigError` listing the valid ones."""
        from bridle.policy.engine import normalize_mode

        self.policy.mode = normalize_mode(mode)
        return str(self.policy.mode)

    @property
    def mode(self) -> str:
        return str(self.policy.mode)

    # -------------------------------------------------------------- pipeline

    def run(self, calls: list[ToolUsePart]) -> Generator[Event, None, list[ToolResultPart]]:
        prepared: list[Prepared] = []
        for call in calls:
            p = self._prepare(call)
            if p.refusal is None and p.tool is not None:
                p = yield from self._authorize(p)
            prepared.append(p)

        results: list[ToolResultPart] = []
        i = 0
        while i < len(prepared):
            batch = [prepared[i]]
            if self._parallel_ok(prepared[i]):
                while i + len(batch) < len(prepared) and self._parallel_ok(
                    prepared[i + len(batch)]
                ):
                    batch.append(prepared[i + len(batch)])
            i += len(batch)
            for p in batch:
                yield ToolStarted(p.call)
            if self.relay is not None and any(p.call.name == "Agent" for p in batch):
                outputs = yield from self._relayed(batch)
            elif len(batch) > 1:
                from concurrent.futures import ThreadPoolExecutor

                with ThreadPoolExecutor(max_workers=min(self.max_workers, len(batch))) as pool:
                    outputs = list(pool.map(self._execute, batch))
            else:
                outputs = [self._execute(batch[0])]
            for p, (result, changed) in zip(batch, outputs, strict=True):
                if self.hooks is not None and p.refusal is None and p.tool is not None:
                    result = yield from self.hooks.tool_done(p.call, result)
                    yield from self._cwd_hook()
                self.guard.record(result.is_error)
                self.changed_files.extend(c for c in changed if c not in self.changed_files)
                results.append(result)
                yield ToolFinished(p.call, result, changed)
        if self.instructions is not None:
            self.instructions.attach(calls, results)
        if self.skill_scope is not None:
            self.skill_scope.attach(calls, results)
        return results

    def _cwd_hook(self) -> Generator[Event, None, None]:
        """CwdChanged when a shell command left the shell in another directory."""
        assert self.hooks is not None
        now = str(self.ctx.shell_cwd or self.ctx.cwd)
        before = getattr(self, "_cwd_seen", None) or str(self.ctx.cwd)
        if now != before:
            self._cwd_seen = now
            yield from self.hooks.cwd_changed(before, now)

    def _relayed(
        self, batch: list[Prepared]
    ) -> Generator[Event, None, list[tuple[ToolResultPart, list[str]]]]:
        """Run a batch with Agent calls in threads while passing on what their
        subagents need from the front end: an ask is yielded as this session's
        `PermissionRequest` and the decision sent back; progress is yielded as is."""
        import queue
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(batch))) as pool:
            futures = [pool.submit(self._execute, p) for p in batch]
            while True:
                finished = all(f.done() for f in futures)
                try:
                    item = self.relay.queue.get(timeout=0 if finished else 0.05)
                except queue.Empty:
                    if finished:
                        break
                    continue
                event, reply = item
                yield event
                if isinstance(event, PermissionRequest):
                    reply(self._decisions.pop(event.call.id, None))
            return [f.result() for f in futures]

    def _parallel_ok(self, p: Prepared) -> bool:
        return p.refusal is None and p.tool is not None and p.tool.concurrency_safe

    def _prepare(self, call: ToolUsePart) -> Prepared:
        from bridle.tools.registry import coerce_args, unknown_tool_message, validate_args

        if call.input is None:
            return Prepared(
                call,
                refusal=(
                    f"invalid arguments for {call.name}: the call was cut off before its "
                    "JSON arguments were complete (output token limit), so nothing was run. "
                    "Send the call again with complete arguments, in smaller pieces if needed."
                ),
            )
        tool = self.tools.get(call.name)
        if tool is None:
            return Prepared(
                call, refusal=unknown_tool_message(call.name, list(self.tools.values()))
            )
        # Models often send "10" for 10 or a JSON string for a list; accept those.
        call.input = coerce_args(tool, call.input)
        problems = validate_args(tool, call.input)
        if problems:
            return Prepared(
                call, tool, refusal=f"invalid arguments for {call.name}: " + "; ".join(problems)
            )
        synthetic = self.guard.check(call.name, call.input)
        if synthetic is not None:
            return Prepared(call, tool, refusal=synthetic)
        return Prepared(call, tool)

    def _authorize(self, p: Prepared) -> Generator[Event, None, Prepared]:
        hook = None
        if self.hooks is not None:
            hook = yield from self.hooks.pre_tool(p.call)
        if (
            hook is not None
            and hook.updated_input is not None
            and hook.updated_input != p.call.input
        ):
            p = self._with_input(p, dict(hook.updated_input), by="a PreToolUse hook")
            if p.refusal is not None:
                return p
        if hook is not None and (hook.blocked or hook.permission_decision == "deny"):
            why = hook.permission_decision_reason or hook.block_reason or "no reason given"
            return (yield from self._deny(p, f"PreToolUse:{p.call.name} hook denied it: {why}"))
        decision = self._evaluate(p, hook.permission_decision if hook is not None else None)
        behavior = decision.behavior
        reason = decision.reason or "denied by permission rules"
        if behavior == "ask" and self.hooks is not None:
            answer = yield from self.hooks.permission_request(p.call)
            if answer is not None:
                if answer.behavior == "deny":
                    why = answer.message or "no reason given"
                    return (yield from self._deny(p, f"a PermissionRequest hook denied it: {why}"))
                if answer.updated_input is not None:
                    p = self._with_input(
                        p, dict(answer.updated_input), by="a PermissionRequest hook"
                    )
                return p
            yield from self.hooks.notify(
                f"bridle needs your permission to use {p.call.name}", "permission_prompt"
            )
        headless = bool(getattr(self.policy, "headless", False))
        if behavior == "ask" and (headless or self.mode == "dontAsk"):
            # As the policy says it when no hook is involved (see policy.evaluate).
            nobody = (
                "a headless run has nobody to ask"
                if headless
                else "dontAsk mode denies what would ask"
            )
            return (yield from self._deny(p, f"{reason}; {nobody}"))
        if behavior == "ask":
            yield PermissionRequest(p.call, decision.reason)
            answer = self._decisions.pop(p.call.id, None)
            behavior = "allow" if answer is not None and answer.allow else "deny"
            if answer is not None and answer.allow:
                if answer.always:
                    self.policy.add_allow(session_rule(p.call))
                if answer.updated_input is not None and answer.updated_input != p.call.input:
                    p = self._with_input(p, answer.updated_input)
                    if p.refusal is not None:
                        return p
                    # Deny rules hold for the approver's arguments too.
                    again = self.policy.evaluate(
                        p.call.name, p.call.input, cwd=self.ctx.shell_cwd or self.ctx.cwd
                    )
                    if again.behavior == "deny":
                        behavior, reason = "deny", again.reason
            elif answer is not None and answer.message:
                reason = answer.message
        if behavior == "allow":
            return p
        return (yield from self._deny(p, reason, policy=True))

    def _evaluate(self, p: Prepared, hook_says: str | None) -> Any:
        """The policy's decision (a `policy.engine.Decision`). With hooks, asks are
        left as asks for PermissionRequest hooks, and a PreToolUse hook's allow
        skips the prompt and its ask forces one; deny and ask rules still hold,
        as in Claude Code."""
        cwd = self.ctx.shell_cwd or self.ctx.cwd
        if self.hooks is None:
            return self.policy.evaluate(p.call.name, p.call.input, cwd=cwd)
        from bridle.policy.engine import Decision

        d = self.policy.evaluate_rules(p.call.name, p.call.input, cwd=cwd)
        if hook_says == "allow" and d.behavior != "deny" and not (d.behavior == "ask" and d.rule):
            return Decision("allow", "allowed by a PreToolUse hook")
        if hook_says == "ask" and d.behavior == "allow":
            return Decision("ask", "a PreToolUse hook asks for approval")
        return d

    def _deny(
        self, p: Prepared, reason: str, *, policy: bool = False
    ) -> Generator[Event, None, Prepared]:
        """Refuse the call: the model gets `reason` as its error result."""
        self.denials.append(
            {"tool_name": p.call.name, "tool_use_id": p.call.id, "tool_input": p.call.input}
        )
        yield PermissionDenied(p.call, reason)
        p.refusal = (
            f"Permission to use {p.call.name} was denied: {reason}. "
            "Do not retry the same call; continue without it or explain what you need."
        )
        if policy and self.hooks is not None:
            retry = yield from self.hooks.permission_denied(p.call, reason)
            if retry:
                p.refusal = (
                    f"Permission to use {p.call.name} was denied: {reason}. "
                    "A PermissionDenied hook says you may retry the call."
                )
        return p

    def _with_input(
        self, p: Prepared, updated: dict[str, Any], *, by: str = "the approver"
    ) -> Prepared:
        """The approver (or a hook) changed the arguments: run the call with those
        (the model's own call stays in the history), checked as the model's are."""
        from bridle.tools.registry import coerce_args, validate_args

        assert p.tool is not None
        call = replace(p.call, input=coerce_args(p.tool, dict(updated)))
        assert call.input is not None
        problems = validate_args(p.tool, call.input)
        if problems:
            return Prepared(
                call,
                p.tool,
                refusal=f"invalid arguments for {call.name} (as changed by {by}): "
                + "; ".join(problems),
            )
        return Prepared(call, p.tool)

    def _execute(self, p: Prepared) -> tuple[ToolResultPart, list[str]]:
        if p.refusal is not None or p.tool is None:
            return ToolResultPart(p.call.id, [TextPart(p.refusal or "not run")], is_error=True), []
        if self._cancel.is_set():
            return (
                ToolResultPart(
                    p.call.id, [TextPart("not run: the user interrupted the turn")], is_error=True
                ),
                [],
            )
        assert p.call.input is not None
        from bridle.tools.output import cap_output

        try:
            out: ToolOutput = cap_output(p.tool.run(p.call.input, self.ctx), self.ctx)
        except ToolError as e:
            return ToolResultPart(p.call.id, [TextPart(str(e))], is_error=True), []
        except Exception as e:  # a tool bug must not crash the run; the model sees it
            return (
                ToolResultPart(
                    p.call.id,
                    [TextPart(f"{p.call.name} failed unexpectedly: {type(e).__name__}: {e}")],
                    is_error=True,
                ),
                [],
            )
        return ToolResultPart(
            p.call.id, list(out.content), is_error=out.is_error
        ), out.changed_files
