"""The agent loop: the one place bridle runs a model against tools.

`Engine.send(op)` takes an op (user turn, approval decision, interrupt, steer,
set model, set account, set permission mode, compact, clear, anchor, tasks) and returns
an iterator of events. A user turn reads top to bottom (`_steps`): check limits, ask the
model, run the tool calls it made, append the results, save, repeat until the
model answers without tools. It ends through one exit (`_turn`): the counters live in a `TurnState`,
the way it ended is an `Ending`, and what the ending queued is written in one
commit, even when the front end stops reading. Limits (turn cap, cost budget,
loop guard), dispatch (through its public API), persistence, the model client
and the session's hooks (`engine.hooks_bridge`: the prompt's gate, Stop, the
batch's end) are named collaborators the loop calls; none of them print, and
neither does the loop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from bridle.core.cancel import CancelScope
from bridle.core.errors import ContextWindowExceeded, ProviderError, RateLimitError
from bridle.core.messages import (
    Message,
    ModelRequest,
    ModelResponse,
    StopReason,
    TextPart,
    ToolResultPart,
    ToolSpec,
    ToolUsePart,
    Usage,
)
from bridle.core.stream import StreamEvent
from bridle.engine import events as ev
from bridle.engine.compaction import CompactionFailed
from bridle.engine.dispatch import Dispatcher
from bridle.engine.guard import Budget, estimate_tokens
from bridle.engine.model_call import Cut, call_model
from bridle.store.conversation import (
    repair_history,
    response_event,
    system_event,
    tool_results_event,
    user_event,
)

if TYPE_CHECKING:
    from bridle.engine.compactor import Compactor
    from bridle.engine.hooks_bridge import HookBridge
    from bridle.engine.structured import StructuredAnswer

ANCHORS_HEADING = "# Facts the user pinned (they hold for the whole session)"
MAX_CONTINUATIONS = 3
CONTINUE_PROMPT = (
    "Your previous reply was cut off by the output limit. Continue exactly where it stopped."
)


class ModelClient(Protocol):
    def stream(self, request: ModelRequest) -> Iterator[StreamEvent]: ...


class SessionSink(Protocol):
    """Where the loop saves what happened. `save` queues an event; `commit` writes
    the queue (with a totals delta) in one transaction, so a turn costs one write."""

    def save(self, kind: str, payload: dict[str, Any]) -> None: ...

    def commit(self, usage: Usage | None = None, cost: float = 0.0, turns: int = 0) -> None: ...

    def describe(self, **changes: str) -> None:
        """Keep the session's record in step with a switch (model, provider, account),
        so `-c` resumes with the ones last used."""


@dataclass
class ModelBinding:
    """The model the loop talks to, and how to price and shape requests for it."""

    name: str  # as the user wrote it, e.g. "deepseek/deepseek-chat"
    provider: str
    model: str  # the provider's id
    wire: str
    client: ModelClient
    cost: Callable[[Usage], float]
    max_output_tokens: int = 8192
    # Turns a request into the provider-ready one (e.g. Anthropic cache breakpoints).
    prepare: Callable[[ModelRequest], ModelRequest] | None = None
    # The model's context window in tokens (catalog or settings); None: unknown.
    context_window: int | None = None


@dataclass
class TurnState:
    """A user turn's counters, kept together and read once, when the turn ends."""

    started: float
    turns: int = 0
    api_seconds: float = 0.0
    cost: float = 0.0
    usage: Usage = field(default_factory=Usage)
    continuations: int = 0
    last_text: str = ""
    stop_raw: str | None = None
    stop_blocks: int = 0  # Stop hooks that kept the turn going, in a row


@dataclass(frozen=True, slots=True)
class Ending:
    """How a turn ended: its result subtype and, for an error, the message, its
    kind (see `events.TurnResult.error_kind`) and the exit code."""

    subtype: str = "success"
    error: str | None = None
    kind: str | None = None
    exit_code: int = 1


INTERRUPTED = Ending("error_during_execution", "interrupted by the user", "interrupted", 130)


@dataclass
class EngineLimits:
    """Model calls allowed per user turn, and the session's cost limit in USD."""

    max_turns: int = 50
    max_cost_usd: float | None = None


class Engine:
    def __init__(
        self,
        *,
        binding: ModelBinding,
        dispatcher: Dispatcher,
        system: str,
        tool_specs: list[ToolSpec],
        session_id: str,
        sink: SessionSink,
        history: list[Message] | None = None,
        limits: EngineLimits | None = None,
        bind_model: Callable[[str], ModelBinding] | None = None,
        rotate_account: Callable[[], tuple[str, ModelBinding] | None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        hooks: HookBridge | None = None,
        compactor: Compactor | None = None,
    ) -> None:
        self.binding = binding
        self.dispatcher = dispatcher
        # Facts the user pinned (`Anchor`): a section of every request's system prompt.
        self.anchors: list[str] = []
        self.system = system
        self.tool_specs = tool_specs
        self.session_id = session_id
        self.sink = sink
        self.messages: list[Message] = list(history or [])
        self.limits = limits or EngineLimits()
        self.budget = Budget(self.limits.max_cost_usd)
        self.usage = Usage()
        self._bind_model = bind_model
        # On an exhausted rate limit or quota: the next account's name and binding.
        self._rotate_account = rotate_account
        self._clock = clock
        # (model spec, account) -> the model bound with that account's keys; set by
        # the session's setup (None: `SetAccount` is refused).
        self.bind_account: Callable[[str, str], ModelBinding] | None = None
        self._steer: list[str] = []  # Steer ops, appended from a front end's thread
        self._steer_lock = threading.Lock()
        self._scope: CancelScope | None = None  # the model call running now
        # Claude Code hooks (None: the session has none, and nothing is built for them).
        self.hooks = hooks
        # Keeps the conversation inside the context window (None: compaction off).
        self.compactor = compactor
        # Runs before each model request; may update `tool_specs` and the
        # dispatcher's tools, and yields notices (engine.mcp_setup: MCP servers).
        self.before_request: Callable[[], Iterator[ev.Event]] | None = None
        # `--json-schema`: the StructuredOutput tool's answer (None: no schema).
        self.structured: StructuredAnswer | None = None
        if hooks is not None:
            hooks.bind(lambda: self.messages, lambda: self.dispatcher.mode)
        # Subagents (engine.agents) charge their cost and tokens here from their
        # threads; background ones (`agents.Background`) report when done.
        self.background: Any = None
        self._children_lock = threading.Lock()
        self._children: tuple[Usage, float] = (Usage(), 0.0)

    @property
    def system(self) -> str:
        """The system prompt sent: the session's, then the pinned facts."""
        if not self.anchors:
            return self._system
        facts = "\n".join(f"- {a}" for a in self.anchors)
        return f"{self._system}\n\n{ANCHORS_HEADING}\n{facts}"

    @system.setter
    def system(self, value: str) -> None:
        self._system = value

    def charge_child(self, usage: Usage, cost: float) -> None:
        """A subagent's spend: it counts against this session's budget and totals."""
        with self._children_lock:
            self.budget.charge(cost)
            self.usage = self.usage + usage
            self._children = (self._children[0] + usage, self._children[1] + cost)

    def _children_spent(self, st: TurnState) -> tuple[Usage | None, float]:
        """What subagents spent since the last call, added to the turn's totals."""
        with self._children_lock:
            (usage, cost), self._children = self._children, (Usage(), 0.0)
        if not cost and usage == Usage():
            return None, 0.0
        st.usage, st.cost = st.usage + usage, st.cost + cost
        return usage, cost

    # ------------------------------------------------------------------ ops
    def send(self, op: ev.Op) -> Iterator[ev.Event]:
        if isinstance(op, ev.UserTurn):
            return self._turn(op)
        if isinstance(op, ev.ApprovalDecision):
            self.dispatcher.decide(op)
        elif isinstance(op, ev.Interrupt):
            self.dispatcher.interrupt()
            if (scope := self._scope) is not None:
                scope.cancel()  # a read waiting on the model returns at once
        elif isinstance(op, ev.Steer):
            with self._steer_lock:
                self._steer.append(op.text)
        elif isinstance(op, ev.SetModel):
            if self._bind_model is None:
                return iter([ev.Notice("this front end cannot switch models", "set_model")])
            self.binding = self._bind_model(op.spec)
            self.sink.save(*system_event("model_switch", model=op.spec))
            self.sink.commit()
            self.sink.describe(model=self.binding.name, provider=self.binding.provider)
            return iter([ev.Notice(f"model set to {op.spec}", "set_model")])
        elif isinstance(op, ev.SetAccount):
            return iter([self._set_account(op.name)])
        elif isinstance(op, ev.SetPermissionMode):
            mode = self.dispatcher.set_mode(op.mode)  # ConfigError names the valid modes
            self.sink.save(*system_event("permission_mode", mode=mode))
            self.sink.commit()
            return iter([ev.Notice(f"permission mode set to {mode}", "permission_mode")])
        elif isinstance(op, ev.Compact):
            from bridle.engine.compactor import compact_now

            return compact_now(self, op.focus)
        elif isinstance(op, ev.Clear):
            from bridle.engine.compactor import clear_conversation

            return clear_conversation(self, op.keep)
        elif isinstance(op, ev.Anchor):
            return iter([self._anchor(op)])
        elif isinstance(op, ev.Tasks):
            background = self.background
            if op.stop and (background is None or not background.stop(op.stop)):
                return iter([ev.Notice(f"no background agent {op.stop!r} is running", "error")])
            return iter([ev.BackgroundAgents(background.listing() if background else [])])
        return iter(())

    def _set_account(self, name: str) -> ev.Notice:
        """Bind the model again with `name`'s keys (an unknown account raises the
        store's UsageError, which says how to add it); saved like a rotation's switch."""
        bind = self.bind_account
        if bind is None:
            return ev.Notice("this session cannot switch accounts", "error")
        self.binding = bind(self.binding.name, name)
        self._bind_model = lambda spec: bind(spec, name)  # /model keeps this account's keys
        self.sink.save(*system_event("account_switch", account=name, reason="switched by hand"))
        self.sink.commit()
        self.sink.describe(account=name)
        return ev.Notice(f"switched by hand; continuing under account {name}", "account_switch")

    def _anchor(self, op: ev.Anchor) -> ev.Notice:
        """Pin, unpin or list facts; a change is saved (`anchor` system events)."""
        text = " ".join(op.text.split())
        if not text:
            if not self.anchors:
                return ev.Notice("no anchors yet: /anchor TEXT pins a fact", "anchor")
            listed = "\n".join(f"- {a}" for a in self.anchors)
            return ev.Notice(f"anchors:\n{listed}", "anchor")
        if op.remove:
            found = [a for a in self.anchors if a == text]
            if not found and text.isdigit() and 0 < int(text) <= len(self.anchors):
                found = [self.anchors[int(text) - 1]]
            if not found:
                return ev.Notice(
                    f"no anchor {text!r}: name one by its text or its number in the list",
                    "error",
                )
            self.anchors.remove(found[0])
            self.sink.save(*system_event("anchor", text=found[0], removed=True))
            self.sink.commit()
            return ev.Notice(f"unpinned: {found[0]}", "anchor")
        if text not in self.anchors:
            self.anchors.append(text)
            self.sink.save(*system_event("anchor", text=text))
            self.sink.commit()
        return ev.Notice(f"anchored: {text} (in every request, through compactions)", "anchor")

    # ----------------------------------------------------------------- turn
    def _turn(self, op: ev.UserTurn) -> Generator[ev.Event, None, None]:
        state = TurnState(started=self._clock())
        self.dispatcher.begin_turn()
        try:
            end = yield from self._prompt(op)
            if end is None:
                end = yield from self._steps(state)
            if end.error:
                self.sink.save(*system_event("error", message=end.error, kind=end.kind))
        finally:
            # The one exit: whatever the turn queued is written once, even when the
            # front end stopped reading or something unexpected was raised.
            self.sink.commit(*self._children_spent(state))
        if self.hooks is not None and end.error:
            yield from self.hooks.turn_failed(end.kind, end.error, state.last_text)
        yield self._result(state, end)

    def _prompt(self, op: ev.UserTurn) -> Generator[ev.Event, None, Ending | None]:
        """Append the prompt (with what the hooks add) and save it; an `Ending`
        when a UserPromptSubmit hook blocks it (it is then not sent or kept)."""
        before: list[Any] = []
        after: list[Any] = []
        if self.hooks is not None:
            gate = yield from self.hooks.open_turn(op.text)
            if gate.blocked:
                return Ending("error_during_execution", gate.blocked, "hook_blocked")
            before, after = gate.before, gate.after
        if self.background is not None:  # background subagents that finished meanwhile
            after = [*after, *(TextPart(t) for t in self.background.drain())]
        # Steers that came after the last turn's end go with this prompt.
        parts = [*before, TextPart(op.text), *op.images, *after, *self._take_steer()]
        self._append(Message("user", parts), "user")
        if len(self.messages) > 1 and self.messages[-2].role == "user":
            # A resumed session can end on tool results; providers want one user message.
            self.messages = repair_history(self.messages)
        self.sink.commit()  # the prompt is saved before anything can fail
        return None

    def _steps(self, st: TurnState) -> Generator[ev.Event, None, Ending]:
        """Check limits, ask the model, run its tool calls, repeat; returns how the
        turn ended. Saves as it goes; `_turn` writes what the ending queued."""
        while True:
            if self.dispatcher.interrupted:
                return INTERRUPTED
            if st.turns >= self.limits.max_turns:
                msg = f"Reached maximum number of turns ({self.limits.max_turns})"
                yield ev.Notice(msg, "max_turns")
                return Ending("error_max_turns", msg, "max_turns")
            if self.before_request is not None:
                yield from self.before_request()
            if self.compactor is not None:
                try:
                    yield from self.compactor.before_request(self, st)
                except CompactionFailed as e:
                    return Ending("error_during_execution", str(e), e.kind)
            request = self._request()
            if self.budget.would_exceed(self._estimate(request)):
                msg = f"The next request would exceed the budget of ${self.limits.max_cost_usd:.4f}"
                return Ending("error_max_budget_usd", msg, "max_budget")

            t0 = self._clock()
            self._scope = scope = CancelScope()  # an interrupt cancels it (`send`)
            if self.dispatcher.interrupted:
                scope.cancel()
            try:
                response = yield from call_model(
                    self.binding, request, lambda: self.dispatcher.interrupted, scope
                )
            except Cut as cut:  # interrupted while the model wrote: keep what it wrote
                if cut.partial.text:
                    turn_cost = self._record(st, cut.partial)
                    yield ev.AssistantMessage(cut.partial, st.turns, turn_cost)
                return INTERRUPTED
            except RateLimitError as e:  # QuotaExceeded arrives at once, without retries
                switched = self._rotate_account() if self._rotate_account else None
                if switched is None:
                    return Ending("error_during_execution", str(e), e.kind, e.exit_code)
                account, self.binding = switched
                self.sink.save(*system_event("account_switch", account=account, reason=str(e)))
                self.sink.describe(account=account)
                what = "quota used up" if e.kind == "quota" else "rate limit reached"
                yield ev.Notice(f"{what}; continuing under account {account}", "account_switch")
                continue
            except ContextWindowExceeded as e:
                if self.compactor is None:
                    return Ending("error_during_execution", str(e), e.kind, e.exit_code)
                try:  # compact and send again; a second refusal in a row fails
                    yield from self.compactor.after_context_error(self, st)
                except CompactionFailed as failed:
                    return Ending("error_during_execution", str(failed), failed.kind)
                continue
            except ProviderError as e:
                return Ending("error_during_execution", str(e), e.kind, e.exit_code)
            finally:
                st.api_seconds += self._clock() - t0
            turn_cost = self._record(st, response)
            yield ev.AssistantMessage(response, st.turns, turn_cost)

            calls = response.tool_uses
            if self.dispatcher.interrupted and calls:
                self._close_calls(calls, "the user interrupted the turn")
                return INTERRUPTED
            if self.budget.exceeded:
                self._close_calls(calls, "the cost budget was used up")
                msg = (
                    f"Reached the budget of ${self.limits.max_cost_usd:.4f} "
                    f"(spent ${self.budget.spent_usd:.4f})"
                )
                return Ending("error_max_budget_usd", msg, "max_budget")
            if not calls:
                if (
                    response.stop_reason == StopReason.MAX_TOKENS
                    and st.continuations < MAX_CONTINUATIONS
                ):
                    st.continuations += 1
                    yield ev.Notice(
                        "output limit reached; asking the model to continue", "continue"
                    )
                    self._append(Message("user", [TextPart(CONTINUE_PROMPT)]), "user")
                    continue
                if steered := self._take_steer():
                    # Guidance sent while the model wrote its answer: the turn goes on
                    # with it rather than leaving it for the next prompt.
                    self._append(Message("user", [*steered]), "user")
                    continue
                if self.structured is not None and (ask := self.structured.reminder()):
                    self._append(Message("user", [TextPart(ask)]), "user")
                    continue
                if self.background is not None and self.background.pending:
                    # Background subagents report before the turn ends (a headless
                    # run waits for them; an interactive one gets them next turn).
                    headless = getattr(self.dispatcher.policy, "headless", True)
                    reports = self.background.wait() if headless else self.background.drain()
                    if reports:
                        self._append(Message("user", [TextPart(r) for r in reports]), "user")
                        continue
                if self.hooks is not None:
                    why = yield from self.hooks.stop(st.last_text, st.stop_blocks)
                    if why is not None:  # a Stop hook keeps the turn going
                        st.stop_blocks += 1
                        self._append(
                            Message("user", [TextPart(f"Stop hook feedback:\n{why}")]), "user"
                        )
                        continue
                return Ending()

            results = yield from self.dispatcher.run(calls)
            parts: list[Any] = list(results)
            stop_reason = None
            if self.hooks is not None:
                batch = yield from self.hooks.after_batch(calls, results)
                parts.extend(batch.parts)
                stop_reason = batch.stop
            parts.extend(self._take_steer())
            if self.background is not None:
                parts.extend(TextPart(t) for t in self.background.drain())
            self._append(Message("user", parts), "tool_result")
            self.sink.commit(*self._children_spent(st))
            if stop_reason is not None:  # a hook's `continue: false` ends the turn here
                yield ev.Notice(f"a hook stopped the turn: {stop_reason}", "hook_stop")
                return Ending()
            done = self.structured.after_batch(calls, results) if self.structured else None
            if done is not None:  # --json-schema: answered, or out of attempts
                return Ending(*done)
            if self.dispatcher.guard.tripped:
                msg = (
                    f"Stopped after {self.dispatcher.guard.consecutive_errors} consecutive tool "
                    "errors: the model is not making progress"
                )
                yield ev.Notice(msg, "loop_guard")
                return Ending("error_during_execution", msg, "loop_guard")

    def _record(self, st: TurnState, response: ModelResponse) -> float:
        """Count a model response and save it (one write with its usage); its cost."""
        if self.compactor is not None:
            self.compactor.answered(response.usage, len(self.messages))
        turn_cost = self.binding.cost(response.usage)
        st.turns += 1
        st.usage = st.usage + response.usage
        st.cost += turn_cost
        self.usage = self.usage + response.usage
        self.budget.charge(turn_cost)
        st.stop_raw = response.raw_stop_reason or (
            response.stop_reason and response.stop_reason.value
        )
        if response.text:
            st.last_text = response.text
        self._append(response.to_message(), "assistant", response)
        self.sink.commit(response.usage, turn_cost, 1)
        return turn_cost

    def _result(self, st: TurnState, end: Ending) -> ev.TurnResult:
        result = ev.TurnResult(
            subtype=end.subtype,
            result=st.last_text,
            num_turns=st.turns,
            usage=st.usage,
            cost_usd=st.cost,
            duration_ms=int((self._clock() - st.started) * 1000),
            duration_api_ms=int(st.api_seconds * 1000),
            session_id=self.session_id,
            stop_reason=st.stop_raw,
            permission_denials=list(self.dispatcher.denials),
            errors=[end.error] if end.error else [],
            exit_code=end.exit_code if end.error else 0,
            changed_files=list(self.dispatcher.changed_files),
            error_kind=end.kind,
        )
        return self.structured.finish(result) if self.structured is not None else result

    # -------------------------------------------------------------- helpers
    def _request(self) -> ModelRequest:
        req = ModelRequest(
            model=self.binding.model,
            messages=self.messages,
            system=self.system,
            tools=self.tool_specs,
            max_tokens=self.binding.max_output_tokens,
        )
        return self.binding.prepare(req) if self.binding.prepare else req

    def _estimate(self, request: ModelRequest) -> float:
        if self.limits.max_cost_usd is None:
            return 0.0
        chars = len(request.system) + sum(
            len(p.text) if isinstance(p, TextPart | ToolResultPart) else 200
            for m in request.messages
            for p in m.parts
        )
        chars += sum(len(t.description) + 400 for t in request.tools)
        return self.binding.cost(Usage(input_tokens=estimate_tokens(chars)))

    def _append(self, message: Message, kind: str, response: ModelResponse | None = None) -> None:
        self.messages.append(message)
        if response is not None:
            self.sink.save(*response_event(response))
        elif kind == "tool_result":
            self.sink.save(*tool_results_event(message))
        else:
            self.sink.save(*user_event(message))

    def _take_steer(self) -> list[TextPart]:
        """The pending steers as parts, taken (a front end appends from its thread)."""
        with self._steer_lock:
            taken, self._steer = self._steer, []
        return [TextPart(t) for t in taken]

    def _close_calls(self, calls: list[ToolUsePart], why: str) -> None:
        """Answer calls that will not run, so the saved history stays valid."""
        if calls:
            results = [
                ToolResultPart(c.id, [TextPart(f"not run: {why}")], is_error=True) for c in calls
            ]
            self._append(Message("user", list(results)), "tool_result")
