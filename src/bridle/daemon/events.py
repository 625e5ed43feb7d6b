"""Engine events as JSON for a task's event log, and the log writer that batches text.

`engine_event_json` turns each engine event into a small snake_case object
(`kind` plus its fields; model responses as text, tool calls and usage; tool
results cut to 4,000 characters, since the full output lives in the session
store). `EventLog` writes them to the backend with the task's phase attached,
coalescing streamed text and thinking chunks into one event per quarter second
(one row per token would make the log the bottleneck); any other event flushes
the pending text first, so order is kept.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict
from typing import Any

from bridle.daemon.backend import TaskBackend
from bridle.engine import events as ev

MAX_RESULT_TEXT = 4000
_CHUNK_SECONDS = 0.25


def _call(call: Any) -> dict[str, Any]:
    return {"id": call.id, "name": call.name, "input": call.input}


def engine_event_json(event: ev.Event) -> dict[str, Any]:
    if isinstance(event, ev.AssistantMessage):
        r = event.response
        return {
            "kind": event.kind,
            "turn": event.turn,
            "text": r.text,
            "tool_calls": [_call(c) for c in r.tool_uses],
            "stop_reason": r.raw_stop_reason,
            "usage": asdict(r.usage),
            "cost_usd": event.cost_usd,
        }
    if isinstance(event, ev.ToolStarted):
        return {"kind": event.kind, "call": _call(event.call)}
    if isinstance(event, ev.ToolFinished):
        text = event.result.text
        return {
            "kind": event.kind,
            "call": _call(event.call),
            "is_error": event.result.is_error,
            "result": text[:MAX_RESULT_TEXT],
            "truncated": len(text) > MAX_RESULT_TEXT,
            "changed_files": list(event.changed_files),
        }
    if isinstance(event, ev.PermissionRequest | ev.PermissionDenied):
        return {"kind": event.kind, "call": _call(event.call), "reason": event.reason}
    if isinstance(event, ev.TurnResult):
        return {
            "kind": event.kind, "subtype": event.subtype, "result": event.result,
            "num_turns": event.num_turns, "cost_usd": event.cost_usd,
            "usage": asdict(event.usage), "duration_ms": event.duration_ms,
            "session_id": event.session_id, "errors": list(event.errors),
            "error_kind": event.error_kind, "changed_files": list(event.changed_files),
        }  # fmt: skip
    data = {k: v for k, v in asdict(event).items()}  # SessionStarted, chunks, Notice, Retrying
    return data


class EventLog:
    """Writes one task's events; `phase` is stamped on each."""

    def __init__(self, backend: TaskBackend, task_id: str, clock: Any = time.monotonic):
        self.backend = backend
        self.task_id = task_id
        self.phase: str | None = None
        self._clock = clock
        self._pending: dict[str, list[str]] = {}
        self._since = 0.0
        # The worker's control thread logs steers while the task's thread runs.
        self._lock = threading.RLock()

    def emit(self, kind: str, **data: Any) -> int:
        with self._lock:
            self.flush()
            return self.backend.append_event(self.task_id, kind, {"phase": self.phase, **data})

    def engine(self, event: ev.Event) -> None:
        with self._lock:
            if isinstance(event, ev.TextChunk | ev.ThinkingChunk):
                if not self._pending:
                    self._since = self._clock()
                self._pending.setdefault(event.kind, []).append(event.text)
                if self._clock() - self._since >= _CHUNK_SECONDS:
                    self.flush()
                return
            data = engine_event_json(event)
            self.emit(data.pop("kind"), **data)

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
            for kind, texts in pending.items():
                self.backend.append_event(
                    self.task_id, kind, {"phase": self.phase, "text": "".join(texts)}
                )
