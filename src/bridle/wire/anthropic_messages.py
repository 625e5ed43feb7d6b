"""Anthropic Messages wire: `POST {base}/v1/messages`, streaming and not.

Builds the request body (system and tools with optional `cache_control`
breakpoints, thinking blocks sent back with their signatures, redacted thinking
as its opaque `data`, tool results with `is_error`, base64 images) and turns the
answer into `core.stream` events: text, thinking (with `signature_delta`),
`tool_use` with `input_json_delta` fragments, usage (`message_delta` overrides
`message_start`), stop reason, and the `error` event. Server-side tool blocks
(`server_tool_use`, `*_tool_result`, `mcp_tool_use`) are the provider's business
and are skipped. When the endpoint's profile has `prompt_caching`, breakpoints go
where `anthropic_cache.plan_breakpoints` puts them; the conversation carries no
cache flags of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from typing import Any

from bridle.core.errors import ProviderHTTPError, http_error_for
from bridle.core.messages import (
    ImagePart,
    Message,
    ModelRequest,
    StopReason,
    TextPart,
    ThinkingPart,
    ToolResultPart,
    ToolUsePart,
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
    ToolCallEnd,
    ToolCallStart,
    UsageUpdate,
)
from bridle.wire._sse import SSEEvent
from bridle.wire.adapter import (
    HTTPRequest,
    WireAdapter,
    dumps,
    error_text,
    join_url,
    load_error_body,
    protocol_errors,
)
from bridle.wire.anthropic_cache import NO_CACHE, plan_breakpoints
from bridle.wire.endpoint import Endpoint

WIRE = "anthropic-messages"
API_VERSION = "2023-06-01"
_EPHEMERAL = {"type": "ephemeral"}
# Thinking budgets for ModelRequest.reasoning; Anthropic's minimum is 1024.
_BUDGETS = {"low": 2048, "medium": 8192, "high": 24576}
_STOPS = {
    "end_turn": StopReason.END_TURN,
    "tool_use": StopReason.TOOL_USE,
    "max_tokens": StopReason.MAX_TOKENS,
    "model_context_window_exceeded": StopReason.MAX_TOKENS,
    "stop_sequence": StopReason.STOP_SEQUENCE,
    "pause_turn": StopReason.PAUSE_TURN,
    "refusal": StopReason.REFUSAL,
}


# ---------------------------------------------------------------------------
# Request


_NONE: frozenset[int] = frozenset()


def build_request(req: ModelRequest, endpoint: Endpoint) -> HTTPRequest:
    headers = {"content-type": "application/json", "anthropic-version": API_VERSION}
    if endpoint.api_key:
        headers["x-api-key"] = endpoint.api_key
    if req.stream:
        headers["accept"] = "text/event-stream"
    headers.update(endpoint.headers)
    plan = plan_breakpoints(req) if endpoint.profile.prompt_caching else NO_CACHE
    marks: dict[int, set[int]] = {}  # message index -> its parts that get a breakpoint
    for i, j in plan.parts:
        marks.setdefault(i, set()).add(j)
    body: dict[str, Any] = {
        "model": req.model or endpoint.model,
        "max_tokens": req.max_tokens,
        "messages": [_message(m, marks.get(at, _NONE)) for at, m in enumerate(req.messages)],
    }
    if req.system:
        if plan.system:
            body["system"] = [{"type": "text", "text": req.system, "cache_control": _EPHEMERAL}]
        else:
            body["system"] = req.system
    if req.tools:
        tools: list[dict[str, Any]] = [
            {"name": t.name, "description": t.description, "input_schema": t.input_schema}
            for t in req.tools
        ]
        if plan.tools:
            tools[-1]["cache_control"] = _EPHEMERAL
        body["tools"] = tools
    if req.reasoning:
        budget = _BUDGETS.get(req.reasoning, _BUDGETS["medium"])
        budget = max(1024, min(budget, req.max_tokens - 1))
        body["thinking"] = {"type": "enabled", "budget_tokens": budget}
    elif req.temperature is not None and endpoint.profile.supports_temperature:
        # Thinking rejects any temperature but 1.
        body["temperature"] = req.temperature
    if req.stop_sequences:
        body["stop_sequences"] = list(req.stop_sequences)
    if req.stream:
        body["stream"] = True
    body.update(req.extra_body)
    return HTTPRequest(join_url(endpoint.base_url, "/v1/messages"), headers, body)


def _message(m: Message, marked: AbstractSet[int]) -> dict[str, Any]:
    """One message; the parts at `marked` indexes get a cache breakpoint."""
    blocks: list[dict[str, Any]] = []
    for at, p in enumerate(m.parts):
        if isinstance(p, TextPart):
            if p.text:  # Anthropic rejects empty text blocks
                blocks.append(_cached({"type": "text", "text": p.text}, at in marked))
        elif isinstance(p, ToolUsePart):
            inp = p.input if p.input is not None else {}
            blocks.append({"type": "tool_use", "id": p.id, "name": p.name, "input": inp})
        elif isinstance(p, ToolResultPart):
            block: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": p.tool_use_id,
                "content": [_content(c) for c in p.content],
            }
            if p.is_error:
                block["is_error"] = True
            blocks.append(_cached(block, at in marked))
        elif isinstance(p, ImagePart):
            blocks.append(_content(p))
        elif isinstance(p, ThinkingPart) and p.wire == WIRE:
            # Only our own blocks: another wire's reasoning has no valid signature here.
            if p.redacted and p.data:
                blocks.append({"type": "redacted_thinking", "data": p.data})
            elif p.signature:
                blocks.append({"type": "thinking", "thinking": p.text, "signature": p.signature})
    if m.role == "user":
        # Tool results must open the user turn that answers the tool calls.
        blocks.sort(key=lambda b: b["type"] != "tool_result")
    return {"role": m.role, "content": blocks}


def _content(p: TextPart | ImagePart) -> dict[str, Any]:
    if isinstance(p, TextPart):
        return {"type": "text", "text": p.text}
    source = {"type": "base64", "media_type": p.media_type, "data": p.data}
    return {"type": "image", "source": source}


def _cached(block: dict[str, Any], cache: bool) -> dict[str, Any]:
    if cache:
        block["cache_control"] = _EPHEMERAL
    return block


# ---------------------------------------------------------------------------
# Response


def _usage(u: Any) -> UsageUpdate | None:
    if not isinstance(u, dict):
        return None
    return UsageUpdate(
        input_tokens=u.get("input_tokens"),
        output_tokens=u.get("output_tokens"),
        cache_read_tokens=u.get("cache_read_input_tokens"),
        cache_write_tokens=u.get("cache_creation_input_tokens"),
    )


def _stop(raw: str) -> StopUpdate:
    return StopUpdate(raw, _STOPS.get(raw, StopReason.OTHER).value)


def _error_event(err: Any) -> StreamErrorEvent:
    err = err if isinstance(err, dict) else {}
    return StreamErrorEvent(None, err.get("type"), err.get("message") or "error event in stream")


def decode_stream(sse: Iterable[SSEEvent], provider: str | None = None) -> Iterator[StreamEvent]:
    kinds: dict[int, str] = {}  # client-visible blocks only: index -> block type
    start_input: dict[int, Any] = {}
    got_args: set[int] = set()
    with protocol_errors(WIRE, provider):
        for name, data in sse:
            payload = json.loads(data)
            t = payload.get("type") or name
            if t == "content_block_delta":
                index = payload["index"]
                kind = kinds.get(index)
                d = payload["delta"]
                dt = d.get("type")
                if dt == "text_delta" and kind == "text":
                    yield TextDelta(index, d["text"])
                elif dt == "input_json_delta" and kind == "tool_use":
                    if d.get("partial_json"):
                        got_args.add(index)
                        yield ToolCallDelta(index, d["partial_json"])
                elif dt == "thinking_delta" and kind == "thinking":
                    yield ThinkingDelta(index, d.get("thinking") or "")
                elif dt == "signature_delta" and kind == "thinking":
                    yield ThinkingDelta(index, signature=d.get("signature"))
            elif t == "content_block_start":
                index = payload["index"]
                cb = payload["content_block"]
                bt = cb.get("type")
                if bt == "text":
                    kinds[index] = bt
                    if cb.get("text"):
                        yield TextDelta(index, cb["text"])
                elif bt == "thinking":
                    kinds[index] = bt
                    if cb.get("thinking") or cb.get("signature"):
                        yield ThinkingDelta(
                            index, cb.get("thinking") or "", cb.get("signature") or None
                        )
                elif bt == "redacted_thinking":
                    kinds[index] = bt
                    yield ThinkingDelta(index, redacted_data=cb.get("data") or "")
                elif bt == "tool_use":
                    kinds[index] = bt
                    start_input[index] = cb.get("input")
                    yield ToolCallStart(index, cb.get("id") or "", cb.get("name") or "")
            elif t == "content_block_stop":
                index = payload["index"]
                if kinds.get(index) == "tool_use":
                    inp = start_input.get(index)
                    # Whole input on the start event and no deltas: send it as one piece.
                    if index not in got_args and isinstance(inp, dict) and inp:
                        yield ToolCallDelta(index, dumps(inp))
                    yield ToolCallEnd(index)
            elif t == "message_delta":
                d = payload.get("delta") or {}
                if d.get("stop_reason") is not None:
                    yield _stop(d["stop_reason"])
                usage = _usage(payload.get("usage"))
                if usage is not None:
                    yield usage
            elif t == "message_start":
                msg = payload.get("message") or {}
                yield MessageStart(msg.get("id"), msg.get("model"))
                usage = _usage(msg.get("usage"))
                if usage is not None:
                    yield usage
            elif t == "message_stop":
                yield MessageEnd()
                return
            elif t == "error":
                yield _error_event(payload.get("error"))
            # ping and unknown future events are ignored on purpose


def parse_response(doc: Any, provider: str | None = None) -> Iterator[StreamEvent]:
    with protocol_errors(WIRE, provider):
        if doc.get("type") == "error":
            yield _error_event(doc.get("error"))
            return
        yield MessageStart(doc.get("id"), doc.get("model"))
        for index, block in enumerate(doc.get("content") or []):
            bt = block.get("type")
            if bt == "text":
                if block.get("text"):
                    yield TextDelta(index, block["text"])
            elif bt == "thinking":
                yield ThinkingDelta(index, block.get("thinking") or "", block.get("signature"))
            elif bt == "redacted_thinking":
                yield ThinkingDelta(index, redacted_data=block.get("data") or "")
            elif bt == "tool_use":
                yield ToolCallStart(index, block.get("id") or "", block.get("name") or "")
                if block.get("input"):
                    yield ToolCallDelta(index, dumps(block["input"]))
                yield ToolCallEnd(index)
        if doc.get("stop_reason") is not None:
            yield _stop(doc["stop_reason"])
        usage = _usage(doc.get("usage"))
        if usage is not None:
            yield usage
        yield MessageEnd()


def http_error(status: int, body: bytes, provider: str | None = None) -> ProviderHTTPError:
    err = load_error_body(body).get("error")
    err = err if isinstance(err, dict) else {}
    return http_error_for(
        status,
        err.get("message") or error_text(body, status),
        provider=provider,
        error_type=err.get("type"),
        body=body.decode("utf-8", "replace"),
    )


ADAPTER = WireAdapter(WIRE, build_request, decode_stream, parse_response, http_error)
