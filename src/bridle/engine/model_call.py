"""One model call as the loop's events: the stream folded into a `ModelResponse`,
its text and thinking passed on as chunks while they arrive, a stream that breaks
after content started sent again, and an interrupt honoured between two chunks.

The client (`wire`) retries what fails before any content (a refused connection,
an error status) and reports it as `RetryScheduled`; a stream that breaks once
content has started (cut, stall, garbled chunk), or is garbled before, is sent
again here (front ends drop the partial text on `Retrying`). When the user
interrupts while the model writes (Esc in the app, Ctrl+C headless), the stream
is closed at once: the call runs in a `core.cancel` scope the interrupt cancels,
which shuts the socket a read may be blocked on (the model thinking before its
first byte, a silent stretch) and ends a wait before a retry; otherwise it is
closed at the next chunk. `Cut` carries what had arrived: its text is kept in
the conversation, as the user saw it; thinking and tool calls cut short are
dropped (a provider refuses them unsigned or incomplete).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any

from bridle.core import cancel
from bridle.core.errors import ConnectionFailed, ProtocolError, ProviderError, StreamTimeout
from bridle.core.messages import ModelRequest, ModelResponse, Part, TextPart
from bridle.core.stream import RetryScheduled, StreamEvent
from bridle.core.stream import TextDelta as WireText
from bridle.core.stream import ThinkingDelta as WireThinking
from bridle.engine import events as ev

if TYPE_CHECKING:
    from bridle.wire import Assembler

MID_STREAM_RETRIES = 2


class Cut(Exception):
    """The user interrupted the turn while the model was answering; `partial` is
    the answer so far, its text only."""

    def __init__(self, partial: ModelResponse) -> None:
        super().__init__("interrupted while the model answered")
        self.partial = partial


def call_model(
    binding: Any,
    request: ModelRequest,
    interrupted: Callable[[], bool],
    scope: cancel.CancelScope,
) -> Generator[ev.Event, None, ModelResponse]:
    """One model response through `binding` (the loop's `ModelBinding`); raises
    `Cut` when `interrupted()` turns true while it streams (cancel `scope` too, so
    a read blocked on the network returns)."""
    from bridle.wire import Assembler

    assembler = Assembler(binding.wire, binding.provider)
    for attempt in range(1, MID_STREAM_RETRIES + 2):
        assembler.reset()
        try:
            with cancel.within(scope):
                stream = binding.client.stream(request)
            return (yield from _stream_once(stream, assembler, interrupted, scope))
        except ProviderError as e:
            if interrupted():  # the socket was shut under the read: not a failure
                raise Cut(_text_of(assembler)) from None
            if not isinstance(e, (ConnectionFailed, StreamTimeout, ProtocolError)):
                raise
            # The client already retried what broke before content (a refused
            # connection, a stall); a garbled chunk it does not retry, and
            # resending is safe while nothing was shown.
            garbled = isinstance(e, ProtocolError)
            if not (assembler.started or garbled) or attempt > MID_STREAM_RETRIES:
                raise
            how = "broke mid-response" if assembler.started else "was garbled"
            yield ev.Retrying(attempt, 0.0, f"{e}; the stream {how}, sending the request again")
    raise AssertionError("unreachable")


def _text_of(assembler: Assembler) -> ModelResponse:
    partial = assembler.partial()
    text: list[Part] = [p for p in partial.parts if isinstance(p, TextPart)]
    return dataclasses.replace(partial, parts=text)


def _stream_once(
    stream: Iterator[StreamEvent],
    assembler: Assembler,
    interrupted: Callable[[], bool],
    scope: cancel.CancelScope,
) -> Generator[ev.Event, None, ModelResponse]:
    try:
        while True:
            with cancel.within(scope):  # the client's reads see the scope, nothing else
                event = next(stream, None)
            if event is None:
                return assembler.result()
            if isinstance(event, RetryScheduled):  # the client sends the request again
                assembler.reset()
                yield ev.Retrying(event.attempt, event.delay, event.reason)
            else:
                assembler.feed(event)
                if isinstance(event, WireText) and event.text:
                    yield ev.TextChunk(event.text)
                elif isinstance(event, WireThinking) and event.text:
                    yield ev.ThinkingChunk(event.text)
            if interrupted():
                raise Cut(_text_of(assembler))
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()  # a stream left early gives its connection back
