"""Provider-neutral stream events: what wire adapters emit while bytes arrive.

Each wire module translates its provider's deltas into these events and nothing
else; `wire/_assembler.py` folds them into the final `ModelResponse`, for streaming
and non-streaming calls alike, so the two can never disagree. Front ends may render
`TextDelta`/`ThinkingDelta` live. Blocks are keyed by an `index` the adapter
chooses (the provider's own block/choice/item index where it has one); a block's
kind is fixed by the first event that names it. `RetryScheduled` is the client's,
not a provider's: it says a failed attempt (which yielded nothing) will be sent again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class MessageStart:
    """The response began; carries the provider's message id and model when it sends them."""

    id: str | None = None
    model: str | None = None


@dataclass(slots=True)
class TextDelta:
    """A piece of visible text for the block at `index`, appended in order."""

    index: int
    text: str


@dataclass(slots=True)
class ThinkingDelta:
    """A piece of reasoning for the block at `index`; may bring only a signature or opaque blob."""

    index: int
    text: str = ""
    signature: str | None = None  # set (possibly alone) when the provider sends one
    redacted_data: str | None = None  # opaque/encrypted reasoning
    item_id: str | None = None


@dataclass(slots=True)
class ToolCallStart:
    """A tool call begins at `index`: its id and tool name; the arguments follow as deltas."""

    index: int
    id: str
    name: str
    item_id: str | None = None
    signature: str | None = None


@dataclass(slots=True)
class ToolCallDelta:
    """A fragment of a tool call's JSON arguments, concatenated in order."""

    index: int
    arguments: str


@dataclass(slots=True)
class ToolCallEnd:
    """The tool call at `index` has all its arguments."""

    index: int


@dataclass(slots=True)
class UsageUpdate:
    """Absolute (not incremental) counts; a None field leaves the previous value.
    Normalised as in `core.messages.Usage` (input excludes cache reads/writes)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None


@dataclass(slots=True)
class StopUpdate:
    """The stop reason: raw provider value plus its mapped `StopReason` value."""

    raw: str | None
    mapped: str | None


@dataclass(slots=True)
class StreamErrorEvent:
    """An error reported inside a 200 stream; the assembler raises `StreamError`."""

    status: int | None
    error_type: str | None
    message: str


@dataclass(slots=True)
class MessageEnd:
    """The provider finished the response; a stream cut off early never sends this."""

    pass


@dataclass(slots=True)
class RetryScheduled:
    """The client sends the request again after `delay` seconds. `attempt` counts
    retries from 1; `reason` is the failure, as the user would read it. Nothing of
    the failed attempt was yielded, so the assembler ignores this event."""

    attempt: int
    delay: float
    reason: str


StreamEvent = (
    MessageStart
    | TextDelta
    | ThinkingDelta
    | ToolCallStart
    | ToolCallDelta
    | ToolCallEnd
    | UsageUpdate
    | StopUpdate
    | StreamErrorEvent
    | MessageEnd
    | RetryScheduled
)
