"""Provider-neutral conversation values: parts, messages, requests and responses.

These are the pure values every layer speaks. A wire adapter turns a `ModelRequest`
into bytes for one provider and folds that provider's bytes back into a
`ModelResponse`; the engine builds requests and appends responses; the store
serialises them. Nothing here performs I/O, knows about a provider's JSON shape,
or carries identity or storage concerns (those belong to `store/`). Values are
plain slotted dataclasses rather than pydantic models because they sit on the hot
path of every streamed event; `to_dict`/`from_dict` give a stable JSON form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

Role = Literal["user", "assistant"]


class StopReason(StrEnum):
    """Why the model stopped, mapped from each provider's own vocabulary."""

    END_TURN = "end_turn"
    TOOL_USE = "tool_use"
    MAX_TOKENS = "max_tokens"
    STOP_SEQUENCE = "stop_sequence"
    PAUSE_TURN = "pause_turn"
    REFUSAL = "refusal"
    CONTENT_FILTER = "content_filter"
    ERROR = "error"
    OTHER = "other"


@dataclass(slots=True)
class TextPart:
    """Plain text, from the user, the model or a tool result."""

    text: str
    type: Literal["text"] = "text"


@dataclass(slots=True)
class ThinkingPart:
    """Model reasoning. `signature` must be sent back verbatim (Anthropic thinking
    signatures, Gemini thought signatures). A redacted part has no readable text
    and carries the provider's opaque blob in `data` (Anthropic `redacted_thinking`,
    OpenAI Responses `encrypted_content`)."""

    text: str
    signature: str | None = None
    redacted: bool = False
    data: str | None = None
    # Provider item id (OpenAI Responses reasoning item id), passed back unchanged.
    item_id: str | None = None
    # Which wire produced it; opaque blobs are only replayed to the same wire.
    wire: str | None = None
    type: Literal["thinking"] = "thinking"


@dataclass(slots=True)
class ImagePart:
    """An image carried inline as base64 `data`, in a user message or a tool result."""

    media_type: str
    data: str  # base64
    type: Literal["image"] = "image"


@dataclass(slots=True)
class ToolUsePart:
    """A client-side tool call. `input` is None when the arguments never became
    valid JSON (e.g. cut off by max_tokens); `raw_arguments` keeps what arrived."""

    id: str
    name: str
    input: dict[str, Any] | None
    raw_arguments: str | None = None
    # Gemini thought signature attached to a functionCall part.
    signature: str | None = None
    # OpenAI Responses function_call item id (distinct from call_id == id).
    item_id: str | None = None
    type: Literal["tool_use"] = "tool_use"


@dataclass(slots=True)
class ToolResultPart:
    """What a tool call returned, sent back to the model in a user message under the call's id."""

    tool_use_id: str
    content: list[TextPart | ImagePart]
    is_error: bool = False
    type: Literal["tool_result"] = "tool_result"

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.content if isinstance(p, TextPart))


Part = TextPart | ThinkingPart | ImagePart | ToolUsePart | ToolResultPart


@dataclass(slots=True)
class Message:
    """One turn of the conversation: the parts one role sent, in order."""

    role: Role
    parts: list[Part]

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.parts if isinstance(p, TextPart))

    @property
    def tool_uses(self) -> list[ToolUsePart]:
        return [p for p in self.parts if isinstance(p, ToolUsePart)]

    @property
    def tool_results(self) -> list[ToolResultPart]:
        return [p for p in self.parts if isinstance(p, ToolResultPart)]


@dataclass(slots=True)
class ToolSpec:
    """A tool offered to the model: name, description and JSON schema of its input."""

    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(slots=True)
class Usage:
    """Token counts for one response, normalised across wires.

    `input_tokens` excludes cache reads and writes (Anthropic's convention); wires
    whose prompt count includes cached tokens (OpenAI, Gemini) subtract them.
    `output_tokens` includes reasoning; `reasoning_tokens` says how much of it was.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_input_tokens(self) -> int:
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
        )


@dataclass(slots=True)
class ModelRequest:
    """Everything one model call needs, independent of the wire that carries it."""

    model: str
    messages: list[Message]
    system: str = ""
    tools: list[ToolSpec] = field(default_factory=list)
    max_tokens: int = 8192
    temperature: float | None = None
    stream: bool = True
    # Reasoning effort/budget: "low" | "medium" | "high", or None for the model default.
    reasoning: str | None = None
    stop_sequences: list[str] = field(default_factory=list)
    # Wire-specific extras merged into the request body last (escape hatch for users).
    extra_body: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ModelResponse:
    """What one model call returned, folded from the stream into parts, stop reason and usage."""

    parts: list[Part]
    stop_reason: StopReason | None
    usage: Usage = field(default_factory=Usage)
    # The provider's own stop value, unmapped ("end_turn", "length", "STOP", ...).
    raw_stop_reason: str | None = None
    id: str | None = None
    model: str | None = None

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.parts if isinstance(p, TextPart))

    @property
    def thinking(self) -> str | None:
        t = "".join(p.text for p in self.parts if isinstance(p, ThinkingPart))
        return t or None

    @property
    def tool_uses(self) -> list[ToolUsePart]:
        return [p for p in self.parts if isinstance(p, ToolUsePart)]

    def to_message(self) -> Message:
        return Message("assistant", list(self.parts))


# ---------------------------------------------------------------------------
# JSON form, used by the store, the mock's request log and exports.

_PART_TYPES: dict[str, type] = {
    "text": TextPart,
    "thinking": ThinkingPart,
    "image": ImagePart,
    "tool_use": ToolUsePart,
    "tool_result": ToolResultPart,
}


def part_to_dict(part: Part) -> dict[str, Any]:
    if isinstance(part, ToolResultPart):
        d: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": part.tool_use_id,
            "content": [part_to_dict(p) for p in part.content],
        }
        if part.is_error:
            d["is_error"] = True
        return d
    out: dict[str, Any] = {"type": part.type}
    for name in part.__slots__:
        if name == "type":
            continue
        value = getattr(part, name)
        if (value is None and name != "input") or value is False:
            # A tool call's `input` stays even when None: its arguments never parsed.
            continue
        out[name] = value
    return out


def part_from_dict(d: dict[str, Any]) -> Part:
    kind = d.get("type")
    cls = _PART_TYPES.get(kind or "")
    if cls is None:
        raise ValueError(f"unknown part type {kind!r}")
    if cls is ToolResultPart:
        content = [part_from_dict(p) for p in d.get("content", [])]
        return ToolResultPart(
            tool_use_id=d["tool_use_id"],
            content=[p for p in content if isinstance(p, TextPart | ImagePart)],
            is_error=bool(d.get("is_error", False)),
        )
    kwargs = {k: v for k, v in d.items() if k != "type"}
    return cls(**kwargs)


def message_to_dict(m: Message) -> dict[str, Any]:
    return {"role": m.role, "content": [part_to_dict(p) for p in m.parts]}


def message_from_dict(d: dict[str, Any]) -> Message:
    return Message(d["role"], [part_from_dict(p) for p in d["content"]])
