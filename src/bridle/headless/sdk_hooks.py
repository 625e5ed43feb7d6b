"""The Claude Agent SDK's hook callbacks, answered over the control channel.

An SDK application registers Python functions as hooks; its `initialize`
request names them, `{"hooks": {EVENT: [{"matcher", "hookCallbackIds",
"timeout"?, "onFailure"?}]}}`. `attach` turns each id into a `callback` hook of
the session (`hooks.config.parse_sdk_hooks`, `engine.hooks_setup.add_hooks`),
so it fires where Claude Code fires the event, in parallel with the settings'
hooks. Firing one sends a `hook_callback` control request (`callback_id`, the
event's stdin JSON as `input`, `tool_use_id`) and waits for its
`control_response`, whose `response` is read as the hook's JSON output
(`hookSpecificOutput.permissionDecision`, `updatedInput`, `decision`,
`systemMessage`, ...). `HookChannel.route` is called by the stdin reader
thread, so an answer reaches the waiting hook while the engine is busy; a hook
still waiting when the user interrupts, the SDK closes its input or the
matcher's timeout passes fails with that reason (a `control_cancel_request`
tells the SDK). This module does not decide what an answer changes (the
hooks runner and the engine do).
"""

from __future__ import annotations

import queue
import sys
import threading
import uuid
from collections.abc import Mapping
from typing import Any

_INTERRUPTED = "interrupted"
_CLOSED = "closed"


class HookChannel:
    """Hook callbacks in flight; thread-safe."""

    def __init__(self, writer: Any):
        self.writer = writer  # sdk.LineWriter
        self._pending: dict[str, queue.Queue[Any]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def call(self, callback_id: str, payload: Mapping[str, Any], timeout: float) -> Any:
        """The callback's answer (its hook output); raises when it failed."""
        request_id = str(uuid.uuid4())
        box: queue.Queue[Any] = queue.Queue(maxsize=1)
        with self._lock:
            if self._closed:
                raise ConnectionError("the SDK closed its input")
            self._pending[request_id] = box
        request = {
            "subtype": "hook_callback",
            "callback_id": callback_id,
            "input": dict(payload),
            "tool_use_id": payload.get("tool_use_id"),
        }
        self.writer.send({"type": "control_request", "request_id": request_id, "request": request})
        try:
            item = box.get(timeout=timeout)
        except queue.Empty:
            item = None
        finally:
            with self._lock:
                self._pending.pop(request_id, None)
        if item is None or item == _INTERRUPTED:
            self.writer.send({"type": "control_cancel_request", "request_id": request_id})
            if item is None:
                raise TimeoutError
            raise InterruptedError("the user interrupted")
        if item == _CLOSED:
            raise ConnectionError("the SDK closed its input before answering")
        response = item.get("response") or {}
        if response.get("subtype") == "error":
            raise RuntimeError(str(response.get("error") or "no reason given"))
        return response.get("response") or {}

    def route(self, msg: Mapping[str, Any]) -> bool:
        """Hand a `control_response` to the hook waiting for it; False when none is."""
        response = msg.get("response")
        if msg.get("type") != "control_response" or not isinstance(response, Mapping):
            return False
        with self._lock:
            box = self._pending.pop(str(response.get("request_id")), None)
        if box is None:
            return False
        box.put(msg)
        return True

    def interrupt(self) -> None:
        self._fail_all(_INTERRUPTED)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._fail_all(_CLOSED)

    def _fail_all(self, why: str) -> None:
        with self._lock:
            boxes, self._pending = list(self._pending.values()), {}
        for box in boxes:
            box.put(why)


def attach(session: Any, hooks: Any, writer: Any) -> HookChannel:
    """The session runs the `initialize` request's hooks from now on."""
    from bridle.engine.hooks_setup import add_hooks
    from bridle.hooks.config import parse_sdk_hooks

    entries, warnings = parse_sdk_hooks(hooks)
    for warning in warnings:
        sys.stderr.write(f"bridle: {warning}\n")
    channel = HookChannel(writer)
    add_hooks(session, entries, sdk_call=channel.call)
    return channel
