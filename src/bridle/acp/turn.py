"""One ACP prompt turn, driven in a worker thread: engine events out as session updates.

`AcpSession` is one open bridle session as the ACP agent holds it: the
`OpenSession`, the link that calls the client from the worker thread, and the
state of the turn running now (cancelled, the permission ask in flight, ops
queued by the client meanwhile). `run_turn` sends the engine one `UserTurn`
and translates each event as it comes: text and thinking chunks, a `tool_call`
for each call the model made, `tool_call_update`s as it starts and ends (diffs,
results, a terminal), the plan when TodoWrite changed it, and a permission ask
as `session/request_permission`, whose answer goes back as `ApprovalDecision`
before the next event is pulled (as the engine requires). Ops the client sent
while the turn ran (a mode switch) are applied between events, in this thread,
because the engine and its store are used by one thread at a time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acp import schema as s
from acp.helpers import update_agent_message_text, update_tool_call

from bridle.acp import updates as up
from bridle.acp.link import EditorLink
from bridle.core.messages import Usage
from bridle.engine import events as ev

ALLOW_ONCE, ALLOW_ALWAYS, REJECT_ONCE = "allow_once", "allow_always", "reject_once"
PERMISSION_OPTIONS = [
    s.PermissionOption(option_id=ALLOW_ONCE, name="Allow", kind="allow_once"),
    s.PermissionOption(option_id=ALLOW_ALWAYS, name="Always allow", kind="allow_always"),
    s.PermissionOption(option_id=REJECT_ONCE, name="Reject", kind="reject_once"),
]


@dataclass
class AcpSession:
    """One open bridle session as the ACP agent holds it, with the state of its running turn."""

    open: Any  # engine.setup.OpenSession
    cwd: Path
    link: EditorLink
    context_window: int | None = None
    running: bool = False
    cancelled: bool = False
    asking: concurrent.futures.Future[Any] | None = None  # a permission ask in flight
    ops: queue.SimpleQueue[ev.Op] = field(default_factory=queue.SimpleQueue)
    # Held while a thread uses the engine outside a turn's own queue.
    engine_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_usage: Usage = field(default_factory=Usage)

    @property
    def id(self) -> str:
        return str(self.open.record.id)

    @property
    def engine(self) -> Any:
        return self.open.engine

    def notify(self, update: Any) -> None:
        """Send one `session/update` and wait until it is written, so updates
        arrive in the order the engine produced them."""
        conn = self.link.conn
        self.link.submit(conn.session_update(session_id=self.id, update=update)).result()

    def cancel(self) -> None:
        """`session/cancel`: interrupt the engine and give up a pending ask."""
        self.cancelled = True
        self.engine.send(ev.Interrupt())
        if self.asking is not None:
            self.asking.cancel()


def run_turn(sess: AcpSession, turn: ev.UserTurn) -> ev.TurnResult:
    """The whole turn; returns its result (updates were sent on the way)."""
    engine, cwd = sess.engine, sess.cwd
    open_calls: dict[str, Any] = {}
    result: ev.TurnResult | None = None
    for event in engine.send(turn):
        _apply_queued(sess)
        if isinstance(event, ev.TextChunk):
            sess.notify(update_agent_message_text(event.text))
        elif isinstance(event, ev.ThinkingChunk):
            sess.notify(up.thought(event.text))
        elif isinstance(event, ev.AssistantMessage):
            sess.last_usage = event.response.usage
            for call in event.response.tool_uses:
                open_calls[call.id] = call
                sess.notify(up.tool_call_start(call, cwd))
        elif isinstance(event, ev.PermissionRequest):
            engine.send(_ask(sess, event))
        elif isinstance(event, ev.ToolStarted):
            tool = engine.dispatcher.tools.get(event.call.name)
            concurrent = tool is not None and tool.concurrency_safe
            sess.link.current_call = None if concurrent else event.call.id
            sess.notify(update_tool_call(event.call.id, status="in_progress"))
        elif isinstance(event, ev.ToolFinished):
            sess.link.current_call = None
            call = open_calls.pop(event.call.id, event.call)
            sess.notify(up.tool_call_done(call, event.result, cwd))
            if call.name == "TodoWrite" and not event.result.is_error:
                plan = up.plan_of(engine.dispatcher.ctx.todos)
                if plan is not None:
                    sess.notify(plan)
        elif isinstance(event, ev.Retrying):
            sess.notify(up.thought(f"\n[retrying: {event.error}]\n"))
        elif isinstance(event, ev.Notice):
            sess.notify(up.thought(f"\n[{event.text}]\n"))
        elif isinstance(event, ev.TurnResult):
            result = event
    _apply_queued(sess)
    for call_id in open_calls:  # calls the interrupt left unrun
        sess.notify(update_tool_call(call_id, status="failed"))
    assert result is not None
    if result.error_kind in ("max_budget", "loop_guard") and result.errors:
        sess.notify(update_agent_message_text(f"\n\n{result.errors[0]}"))
    _send_usage(sess)
    return result


def _apply_queued(sess: AcpSession) -> None:
    while True:
        try:
            op = sess.ops.get_nowait()
        except queue.Empty:
            return
        for notice in sess.engine.send(op):
            sess.notify(up.thought(f"\n[{notice.text}]\n"))


def _ask(sess: AcpSession, event: ev.PermissionRequest) -> ev.ApprovalDecision:
    """Ask the client; its choice as the engine's decision. A cancelled ask (the
    turn was cancelled, or the client withdrew it) denies and ends the turn."""
    call = event.call
    if sess.cancelled:
        return ev.ApprovalDecision(call.id, False, message="the user cancelled the turn")
    start = up.tool_call_start(call, sess.cwd)
    tool_call = s.ToolCallUpdate(
        tool_call_id=call.id, title=start.title, kind=start.kind, status="pending",
        content=start.content, locations=start.locations, raw_input=call.input,
    )  # fmt: skip
    conn = sess.link.conn
    sess.asking = sess.link.submit(
        conn.request_permission(session_id=sess.id, tool_call=tool_call, options=PERMISSION_OPTIONS)
    )
    try:
        answer = sess.asking.result()
    except (concurrent.futures.CancelledError, Exception):
        answer = None
    finally:
        sess.asking = None
    outcome = getattr(answer, "outcome", None)
    if not isinstance(outcome, s.AllowedOutcome):
        if not sess.cancelled:
            sess.cancel()
        return ev.ApprovalDecision(call.id, False, message="the user cancelled the turn")
    chosen = outcome.option_id
    if chosen in (ALLOW_ONCE, ALLOW_ALWAYS):
        return ev.ApprovalDecision(call.id, True, always=chosen == ALLOW_ALWAYS)
    return ev.ApprovalDecision(call.id, False, message="the user rejected this call")


def _send_usage(sess: AcpSession) -> None:
    """The context the last request filled, against the model's window."""
    if not sess.context_window:
        return
    u = sess.last_usage
    used = u.input_tokens + u.cache_read_tokens + u.cache_write_tokens + u.output_tokens
    spent = float(sess.engine.budget.spent_usd)
    sess.notify(
        s.UsageUpdate(
            session_update="usage_update",
            used=used,
            size=int(sess.context_window),
            cost=s.Cost(amount=spent, currency="USD"),
        )
    )
