"""What a headless run has done so far, so that a run cut short still reports it.

A `RunProgress` watches the events of one run (the session id, the model
responses and their usage and cost, the last text) and, when SIGINT or SIGTERM
ends the run before the engine's own result, makes the result a json or
stream-json reader expects: `error_during_execution`, `is_error`, the session id
and the usage so far. In a batch it is also the handle the batch stops an item
through: it holds the item's engine, sends it `Interrupt`, and sends it again
on every event after a stop, so an interrupt cannot be lost to a turn that was
just starting. It renders nothing and decides nothing about exit codes.
"""

from __future__ import annotations

import dataclasses
import signal
import time
from collections.abc import Callable
from typing import Any

from bridle.core.messages import Usage
from bridle.engine import events as ev

INTERRUPTED = "interrupted by the user"
TERMINATED = "terminated by SIGTERM"
# What each signal means for a run: the reason its result gives, and the exit code.
SIGNALS = {signal.SIGINT: (INTERRUPTED, 130), signal.SIGTERM: (TERMINATED, 143)}


class NotStarted(Exception):
    """A batch item reached its session after the batch was stopped: it never ran."""


class RunProgress:
    def __init__(
        self,
        *,
        on_attach: Callable[[RunProgress, Any], None] | None = None,
        stopped: Callable[[], int | None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # A batch checks, under its lock, that it is not stopping (else NotStarted).
        self._on_attach = on_attach
        # The signal a batch was stopped by, if it was.
        self._stopped = stopped
        self._clock = clock
        self.started = clock()
        self.session_id = ""
        self.turns = 0
        self.usage = Usage()
        self.cost_usd = 0.0
        self.last_text = ""
        self.result: ev.TurnResult | None = None
        self._engine: Any = None

    def attach(self, session: Any) -> None:
        """The run's session is open and its turn about to start."""
        self.session_id = session.started_event.session_id
        self._engine = session.engine
        if self._on_attach is not None:
            self._on_attach(self, session)

    def interrupt(self) -> None:
        """Ask the engine to stop the turn (safe from another thread)."""
        engine = self._engine
        if engine is not None:
            engine.send(ev.Interrupt())

    def see(self, event: ev.Event) -> ev.Event:
        """Record an event; returns it as it should be shown."""
        if isinstance(event, ev.AssistantMessage):
            self.turns = event.turn
            self.usage = self.usage + event.response.usage
            self.cost_usd += event.cost_usd
            if event.response.text:
                self.last_text = event.response.text
        signum = self._stopped()
        if signum is not None and isinstance(event, ev.TurnResult):
            if event.errors == [INTERRUPTED]:
                # The batch's signal, not the engine's generic words, says why.
                reason, code = SIGNALS[signal.Signals(signum)]
                event = dataclasses.replace(event, errors=[reason], exit_code=code)
        elif signum is not None:
            self.interrupt()
        if isinstance(event, ev.TurnResult):
            self.result = event
        return event

    def cut_short(self, signum: int) -> ev.TurnResult:
        """The result of a run a signal ended before the engine could say so."""
        reason, code = SIGNALS[signal.Signals(signum)]
        return ev.TurnResult(
            subtype="error_during_execution",
            result=self.last_text,
            num_turns=self.turns,
            usage=self.usage,
            cost_usd=self.cost_usd,
            duration_ms=int((self._clock() - self.started) * 1000),
            duration_api_ms=0,
            session_id=self.session_id,
            stop_reason=None,
            permission_denials=[],
            errors=[reason],
            exit_code=code,
        )
