"""`--include-partial-messages`: the model's answer as Anthropic stream events.

Claude Code, asked for partial messages, writes each raw Messages API stream
event as a stream-json line `{"type": "stream_event", "event": {...}}` before
the complete `assistant` lines; Agent SDK applications (`StreamEvent`) show text
as it arrives from them. bridle's engine streams text and thinking chunks on
every wire, so `PartialMessages` rebuilds the same event sequence from engine
events, whatever the provider: `message_start`, then per content block
`content_block_start`, its deltas (`text_delta`, `thinking_delta`, and one
`input_json_delta` with a tool call's whole input, which the engine hands over
complete) and `content_block_stop`, then `message_delta` (stop reason, usage)
and `message_stop`. A retried request starts a new message: what was streamed
of the broken one is dropped, as the `assistant` lines never carried it. This
module only builds the events; `render.StreamJsonRenderer` writes them.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from bridle.core.messages import TextPart, ThinkingPart, ToolUsePart
from bridle.engine import events as ev

_EMPTY_USAGE = {
    "input_tokens": 0,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
    "output_tokens": 0,
}


class PartialMessages:
    """Engine events in, Anthropic stream events out (one assistant message at a time)."""

    def __init__(self, model: str = ""):
        self.model = model
        self.message_id: str | None = None  # the open message, once it has started
        self.block: str | None = None  # "text" or "thinking": the block being streamed
        self.index = -1
        self.streamed = {"text": 0, "thinking": 0}

    def see(self, event: ev.Event) -> list[dict[str, Any]]:
        """The stream events `event` adds (usually none or one)."""
        if isinstance(event, ev.SessionStarted):
            self.model = event.model
        elif isinstance(event, ev.Retrying):
            self._reset()
        elif isinstance(event, ev.TextChunk | ev.ThinkingChunk):
            kind = "text" if isinstance(event, ev.TextChunk) else "thinking"
            out = self._open()
            if self.block != kind:
                out += self._stop_block()
                out.append(self._start_block(_empty(kind)))
                self.block = kind
                self.streamed[kind] += 1
            field = "text" if kind == "text" else "thinking"
            out.append(self._delta({"type": f"{kind}_delta", field: event.text}))
            return out
        elif isinstance(event, ev.AssistantMessage):
            return self._finish(event)
        return []

    def _finish(self, event: ev.AssistantMessage) -> list[dict[str, Any]]:
        r = event.response
        out = self._open() + self._stop_block()
        for part in r.parts:
            kind = "text" if isinstance(part, TextPart) else "thinking"
            if isinstance(part, TextPart | ThinkingPart) and not getattr(part, "redacted", False):
                if self.streamed[kind]:
                    self.streamed[kind] -= 1  # its deltas went out as it arrived
                    continue
                out.append(self._start_block(_empty(kind)))
                text = part.text
                out.append(self._delta({"type": f"{kind}_delta", kind: text}))
            elif isinstance(part, ThinkingPart):
                out.append(
                    self._start_block({"type": "redacted_thinking", "data": part.data or ""})
                )
            elif isinstance(part, ToolUsePart):
                start = {"type": "tool_use", "id": part.id, "name": part.name, "input": {}}
                out.append(self._start_block(start))
                text = json.dumps(part.input or {}, ensure_ascii=False)
                out.append(self._delta({"type": "input_json_delta", "partial_json": text}))
            else:
                continue
            out += self._stop_block(force=True)
        stop = r.raw_stop_reason or (r.stop_reason.value if r.stop_reason else None)
        out.append(
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": r.usage.output_tokens},
            }
        )
        out.append({"type": "message_stop"})
        self._reset()
        return out

    # ------------------------------------------------------------ pieces
    def _open(self) -> list[dict[str, Any]]:
        if self.message_id is not None:
            return []
        self.message_id = f"msg_{uuid.uuid4().hex[:24]}"
        message: dict[str, Any] = {
            "id": self.message_id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": dict(_EMPTY_USAGE),
        }
        return [{"type": "message_start", "message": message}]

    def _start_block(self, block: dict[str, Any]) -> dict[str, Any]:
        self.index += 1
        return {"type": "content_block_start", "index": self.index, "content_block": block}

    def _delta(self, delta: dict[str, Any]) -> dict[str, Any]:
        return {"type": "content_block_delta", "index": self.index, "delta": delta}

    def _stop_block(self, force: bool = False) -> list[dict[str, Any]]:
        if self.block is None and not force:
            return []
        self.block = None
        return [{"type": "content_block_stop", "index": self.index}]

    def _reset(self) -> None:
        self.message_id, self.block, self.index = None, None, -1
        self.streamed = {"text": 0, "thinking": 0}


def _empty(kind: str) -> dict[str, Any]:
    if kind == "text":
        return {"type": "text", "text": ""}
    return {"type": "thinking", "thinking": "", "signature": ""}
