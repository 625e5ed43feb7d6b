"""The one fold from `core.stream` events to a `ModelResponse`.

Every wire, streaming or not, ends here, so two wires (or a stream and its JSON
twin) can only disagree in their adapters. Blocks keep the order in which their
index first appeared; text and thinking pieces are joined once at the end; tool
arguments are parsed once, when the response is built: empty arguments give `{}`,
arguments that never become a JSON object give `input=None` with
`raw_arguments` kept. Usage is last-wins per field. An in-stream error is kept
with whatever content came before it: `result()` raises `StreamError`, while
`partial()` still shows that content (the corpus rule: content produced before
an error is reported alongside it). Per event this does a dict lookup and a list
append, nothing more; it validates nothing an adapter already guarantees.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from bridle.core.errors import stream_error_for
from bridle.core.messages import (
    ModelResponse,
    Part,
    StopReason,
    TextPart,
    ThinkingPart,
    ToolUsePart,
    Usage,
)
from bridle.core.stream import (
    MessageEnd,
    MessageStart,
    StopUpdate,
    StreamErrorEvent,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallStart,
    UsageUpdate,
)

_TEXT, _THINKING, _TOOL = 0, 1, 2


class _Block:
    __slots__ = ("data", "id", "item_id", "kind", "name", "pieces", "signature")

    def __init__(self, kind: int) -> None:
        self.kind = kind
        self.pieces: list[str] = []
        self.signature: str | None = None
        self.data: str | None = None
        self.item_id: str | None = None
        self.id = ""
        self.name = ""


class Assembler:
    """Feed events in order with `feed`; then `result()` (or `partial()`)."""

    __slots__ = (
        "_blocks",
        "_usage",
        "ended",
        "error",
        "id",
        "model",
        "provider",
        "raw_stop",
        "stop",
        "wire",
    )

    def __init__(self, wire: str | None = None, provider: str | None = None) -> None:
        self.wire = wire
        self.provider = provider
        self.reset()

    def reset(self) -> None:
        """Forget everything fed so far (the request is being sent again)."""
        self._blocks: dict[int, _Block] = {}
        self._usage = [0, 0, 0, 0, 0]
        self.id: str | None = None
        self.model: str | None = None
        self.raw_stop: str | None = None
        self.stop: str | None = None
        self.error: StreamErrorEvent | None = None
        self.ended = False

    def feed(self, ev: StreamEvent) -> None:
        kind = type(ev)
        if kind is TextDelta:
            self._block(ev.index, _TEXT).pieces.append(ev.text)  # type: ignore[union-attr]
        elif kind is ToolCallDelta:
            self._block(ev.index, _TOOL).pieces.append(ev.arguments)  # type: ignore[union-attr]
        elif kind is ThinkingDelta:
            assert isinstance(ev, ThinkingDelta)
            b = self._block(ev.index, _THINKING)
            if ev.text:
                b.pieces.append(ev.text)
            if ev.signature is not None:
                b.signature = ev.signature
            if ev.redacted_data is not None:
                b.data = ev.redacted_data
            if ev.item_id is not None:
                b.item_id = ev.item_id
        elif kind is ToolCallStart:
            assert isinstance(ev, ToolCallStart)
            b = self._block(ev.index, _TOOL)
            # A later start fills in what an earlier one lacked (Qwen sends the id once).
            b.id = b.id or ev.id
            b.name = b.name or ev.name
            b.item_id = b.item_id or ev.item_id
            b.signature = b.signature or ev.signature
        elif kind is UsageUpdate:
            assert isinstance(ev, UsageUpdate)
            u = self._usage
            for i, v in enumerate(
                (
                    ev.input_tokens,
                    ev.output_tokens,
                    ev.cache_read_tokens,
                    ev.cache_write_tokens,
                    ev.reasoning_tokens,
                )
            ):
                if v is not None:
                    u[i] = v
        elif kind is StopUpdate:
            assert isinstance(ev, StopUpdate)
            self.raw_stop, self.stop = ev.raw, ev.mapped
        elif kind is MessageStart:
            assert isinstance(ev, MessageStart)
            self.id = ev.id or self.id
            self.model = ev.model or self.model
        elif kind is StreamErrorEvent:
            assert isinstance(ev, StreamErrorEvent)
            if self.error is None:
                self.error = ev
        elif kind is MessageEnd:
            self.ended = True
        # ToolCallEnd carries nothing the fold needs (arguments are parsed at the end);
        # RetryScheduled is the client's, and its reader resets the fold (`reset`).

    @property
    def started(self) -> bool:
        """Whether content (text, thinking, a tool call or the stop reason) has
        arrived: a stream that breaks now has shown the user something."""
        return bool(self._blocks) or self.raw_stop is not None or self.stop is not None

    def feed_all(self, events: Iterable[StreamEvent]) -> Assembler:
        for ev in events:
            self.feed(ev)
        return self

    def _block(self, index: int, kind: int) -> _Block:
        b = self._blocks.get(index)
        if b is None:
            b = self._blocks[index] = _Block(kind)
        return b

    def partial(self) -> ModelResponse:
        """The response built so far, even after an in-stream error."""
        parts: list[Part] = []
        for b in self._blocks.values():
            if b.kind == _TEXT:
                text = "".join(b.pieces)
                if text:
                    parts.append(TextPart(text))
            elif b.kind == _THINKING:
                text = "".join(b.pieces)
                if text or b.signature or b.data:
                    parts.append(
                        ThinkingPart(
                            text,
                            signature=b.signature,
                            redacted=bool(b.data) and not text,
                            data=b.data,
                            item_id=b.item_id,
                            wire=self.wire,
                        )
                    )
            else:
                raw = "".join(b.pieces)
                args, kept = _parse_arguments(raw)
                parts.append(
                    ToolUsePart(
                        b.id,
                        b.name,
                        args,
                        raw_arguments=kept,
                        signature=b.signature,
                        item_id=b.item_id,
                    )
                )
        stop = StopReason(self.stop) if self.stop is not None else None
        return ModelResponse(
            parts=parts,
            stop_reason=stop,
            usage=Usage(*self._usage),
            raw_stop_reason=self.raw_stop,
            id=self.id,
            model=self.model,
        )

    def result(self) -> ModelResponse:
        """The final response; raises the in-stream error if the provider reported one
        (`StreamError`, or `QuotaExceeded`/`ContextWindowExceeded` when it says so)."""
        if self.error is not None:
            e = self.error
            raise stream_error_for(e.status, e.error_type, e.message, provider=self.provider)
        return self.partial()


def _parse_arguments(raw: str) -> tuple[dict[str, Any] | None, str | None]:
    if not raw or raw.isspace():
        return {}, None
    try:
        value = json.loads(raw)
    except ValueError:
        return None, raw
    if isinstance(value, dict):
        return value, None
    return None, raw


def assemble(
    events: Iterable[StreamEvent], wire: str | None = None, provider: str | None = None
) -> ModelResponse:
    """Fold a whole event sequence; raises `StreamError` on an in-stream error."""
    return Assembler(wire, provider).feed_all(events).result()
