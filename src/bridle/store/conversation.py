"""Session events as conversation values: building payloads and folding them back.

A session is an append-only log of `Event`s. Four kinds exist:

- `user`: a user `Message` (`message_to_dict` form);
- `assistant`: a `ModelResponse`: `{"message", "usage", "stop_reason", ...}`;
- `tool_result`: a user message made of tool_result parts;
- `system`: information that is not a message (`{"type": "model_switch", ...}`).
  Two system types change the conversation: `{"type": "cleared", "stubs": {id:
  text}}` replaces old tool outputs by stubs, and `{"type": "compaction", "messages":
  [...]}` replaces everything folded so far with the given messages.

`fold_messages` turns events into messages and `repair_history` makes any such
list valid for every provider, whatever point a crash interrupted it at: tool
calls without results get a synthetic "interrupted" error result, results
without their call are dropped, empty messages vanish, and consecutive messages
of one role merge, with tool results first in a user message (Anthropic requires
that). Everything here is pure: storage lives in `store.sessions`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bridle.core.messages import (
    Message,
    ModelResponse,
    Part,
    StopReason,
    TextPart,
    ToolResultPart,
    Usage,
    message_from_dict,
    message_to_dict,
)

USER, ASSISTANT, TOOL_RESULT, SYSTEM = "user", "assistant", "tool_result", "system"
EVENT_KINDS = frozenset({USER, ASSISTANT, TOOL_RESULT, SYSTEM})

_STOP_VALUES = frozenset(s.value for s in StopReason)
_SURROGATE = re.compile("[\ud800-\udfff]")

INTERRUPTED_TEXT = "interrupted: the session ended before this tool call finished"

_USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)


@dataclass(slots=True)
class Event:
    """One stored event. `seq` counts from 1 within its session; `ts` is ISO 8601 UTC."""

    session_id: str
    seq: int
    ts: str
    kind: str
    payload: dict[str, Any]


def decode_message(d: dict[str, Any]) -> Message:
    """`message_from_dict`, also reading tool calls stored without `input`."""
    content = d["content"]
    if any(p.get("type") == "tool_use" and "input" not in p for p in content):
        content = [
            {**p, "input": None} if p.get("type") == "tool_use" and "input" not in p else p
            for p in content
        ]
        d = {**d, "content": content}
    return message_from_dict(d)


def user_event(message: Message) -> tuple[str, dict[str, Any]]:
    return USER, message_to_dict(message)


def tool_results_event(message: Message) -> tuple[str, dict[str, Any]]:
    return TOOL_RESULT, message_to_dict(message)


def response_event(response: ModelResponse) -> tuple[str, dict[str, Any]]:
    payload: dict[str, Any] = {
        "message": message_to_dict(response.to_message()),
        "usage": usage_to_dict(response.usage),
        "stop_reason": response.stop_reason.value if response.stop_reason else None,
    }
    for key in ("raw_stop_reason", "id", "model"):
        value = getattr(response, key)
        if value is not None:
            payload[key] = value
    return ASSISTANT, payload


def system_event(type: str, **data: Any) -> tuple[str, dict[str, Any]]:
    return SYSTEM, {"type": type, **data}


def compaction_event(messages: Iterable[Message], **data: Any) -> tuple[str, dict[str, Any]]:
    """The history after compaction; folding restarts from these messages."""
    return system_event("compaction", messages=[message_to_dict(m) for m in messages], **data)


def usage_to_dict(usage: Usage) -> dict[str, int]:
    return {name: getattr(usage, name) for name in _USAGE_FIELDS if getattr(usage, name)}


def usage_from_dict(d: dict[str, Any] | None) -> Usage:
    d = d or {}
    return Usage(**{name: int(d.get(name, 0)) for name in _USAGE_FIELDS})


def response_from_payload(payload: dict[str, Any]) -> ModelResponse:
    stop = payload.get("stop_reason")
    return ModelResponse(
        parts=decode_message(payload["message"]).parts,
        stop_reason=StopReason(stop) if isinstance(stop, str) and stop in _STOP_VALUES else None,
        usage=usage_from_dict(payload.get("usage")),
        raw_stop_reason=payload.get("raw_stop_reason"),
        id=payload.get("id"),
        model=payload.get("model"),
    )


def title_from(message: Message, limit: int = 80) -> str | None:
    """A session title from a prompt: its first non-blank line, whitespace collapsed.
    A title is only shown, and SQLite text must be valid UTF-8, so bytes that were
    not UTF-8 (lone surrogates) show as U+FFFD."""
    for line in _SURROGATE.sub("\ufffd", message.text).splitlines():
        line = " ".join(line.split())
        if line:
            return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
    return None


def fold_messages(events: Iterable[Event]) -> list[Message]:
    """The messages the events record, in order, before any repair."""
    messages: list[Message] = []
    for ev in events:
        if ev.kind in (USER, TOOL_RESULT):
            messages.append(decode_message(ev.payload))
        elif ev.kind == ASSISTANT:
            messages.append(decode_message(ev.payload["message"]))
        elif ev.kind == SYSTEM and ev.payload.get("type") == "compaction":
            messages = [decode_message(m) for m in ev.payload.get("messages", [])]
        elif ev.kind == SYSTEM and ev.payload.get("type") == "cleared":
            messages = _clear(messages, ev.payload.get("stubs") or {})
    return messages


def pinned_facts(events: Iterable[Event]) -> list[str]:
    """The facts pinned (`anchor` system events, less those removed since), in order."""
    facts: list[str] = []
    for ev in events:
        if ev.kind == SYSTEM and ev.payload.get("type") == "anchor":
            text = str(ev.payload.get("text", ""))
            if ev.payload.get("removed"):
                facts = [f for f in facts if f != text]
            elif text and text not in facts:
                facts.append(text)
    return facts


def cleared_event(stubs: dict[str, str], **data: Any) -> tuple[str, dict[str, Any]]:
    """Old tool outputs replaced by stubs (a compaction's cheap step): only the
    stubs are recorded, by tool_use id; folding applies them."""
    return system_event("cleared", stubs=dict(stubs), **data)


def _clear(messages: list[Message], stubs: dict[str, Any]) -> list[Message]:
    out = []
    for m in messages:
        if any(isinstance(p, ToolResultPart) and p.tool_use_id in stubs for p in m.parts):
            parts: list[Part] = [
                ToolResultPart(p.tool_use_id, [TextPart(str(stubs[p.tool_use_id]))], p.is_error)
                if isinstance(p, ToolResultPart) and p.tool_use_id in stubs
                else p
                for p in m.parts
            ]
            m = Message(m.role, parts)
        out.append(m)
    return out


def repair_history(messages: Iterable[Message]) -> list[Message]:
    """A copy of `messages` that every provider accepts as a conversation.

    Roles alternate (same-role neighbours merge); each assistant tool call is
    answered in the next user message, by its real result or by a synthetic
    `INTERRUPTED_TEXT` error; results answering no call of the message just
    before are dropped, as are duplicate results and empty messages. The input
    is not modified."""
    out: list[Message] = []
    asked: list[str] = []  # tool_use ids of the last assistant message, in order
    answers: dict[str, ToolResultPart] = {}
    others: list[Part] = []  # non-result parts of the user message being gathered

    def close_user_turn() -> None:
        results: list[Part] = [answers.get(i) or _interrupted(i) for i in asked]
        if results or others:
            out.append(Message("user", results + others))
        asked.clear()
        answers.clear()
        others.clear()

    for message in messages:
        if not message.parts:
            continue
        if message.role == "assistant":
            if not asked and not others and out and out[-1].role == "assistant":
                # e.g. an output continued after max_tokens: one assistant turn.
                out[-1] = Message("assistant", out[-1].parts + list(message.parts))
            else:
                close_user_turn()
                out.append(Message("assistant", list(message.parts)))
            asked[:] = list(dict.fromkeys(p.id for p in out[-1].tool_uses))
            continue
        for part in message.parts:
            if isinstance(part, ToolResultPart):
                if part.tool_use_id in asked and part.tool_use_id not in answers:
                    answers[part.tool_use_id] = part
            else:
                others.append(part)
    close_user_turn()
    return out


def _interrupted(tool_use_id: str) -> ToolResultPart:
    return ToolResultPart(tool_use_id, [TextPart(INTERRUPTED_TEXT)], is_error=True)
