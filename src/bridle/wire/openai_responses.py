"""OpenAI Responses wire: `POST {base}/responses`, streaming and not.

Requests are stateless (`store: false`), so everything the model needs is sent
back as input items: assistant text as `message` items, tool calls as
`function_call` items, tool results as `function_call_output`, and reasoning as
`reasoning` items carrying their `encrypted_content` (requested with
`include: ["reasoning.encrypted_content"]` unless the profile turns
`encrypted_reasoning` off, for a gateway that rejects it). Item ids are left out on purpose:
with `store: false` the server cannot look them up and rejects them. Responses
are folded per output item: `output_text` deltas, reasoning summary and
reasoning-text deltas, `function_call` argument deltas (or the finished item's
arguments when no delta came), usage and status from the terminal
`response.completed` / `response.incomplete` / `response.failed`, and the `error`
event. Server-side tool items (`web_search_call`, ...) are not tool calls and
are skipped. Data-only streams without `event:` lines (OpenRouter) work the same,
because the payload's own `type` decides.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
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
    int_or_none,
    join_url,
    load_error_body,
    protocol_errors,
)
from bridle.wire.endpoint import Endpoint

WIRE = "openai-responses"
_TERMINAL = ("response.completed", "response.incomplete", "response.failed")
_INCOMPLETE = {
    "max_output_tokens": StopReason.MAX_TOKENS,
    "content_filter": StopReason.CONTENT_FILTER,
}


# ---------------------------------------------------------------------------
# Request


def build_request(req: ModelRequest, endpoint: Endpoint) -> HTTPRequest:
    headers = {"content-type": "application/json"}
    if endpoint.api_key:
        headers["authorization"] = f"Bearer {endpoint.api_key}"
    if req.stream:
        headers["accept"] = "text/event-stream"
    headers.update(endpoint.headers)
    encrypted = endpoint.profile.encrypted_reasoning
    items: list[dict[str, Any]] = []
    for m in req.messages:
        items.extend(_items(m, encrypted))
    body: dict[str, Any] = {
        "model": req.model or endpoint.model,
        "input": items,
        "max_output_tokens": req.max_tokens,
        "store": False,
    }
    if encrypted:
        body["include"] = ["reasoning.encrypted_content"]
    if req.system:
        body["instructions"] = req.system
    if req.tools:
        body["tools"] = [
            {
                "type": "function",
                "name": t.name,
                "description": t.description,
                "parameters": t.input_schema,
            }
            for t in req.tools
        ]
    if req.temperature is not None and endpoint.profile.supports_temperature:
        body["temperature"] = req.temperature
    if req.reasoning:
        body["reasoning"] = {"effort": req.reasoning, "summary": "auto"}
    if req.stream:
        body["stream"] = True
    body.update(req.extra_body)
    return HTTPRequest(join_url(endpoint.base_url, "/responses"), headers, body)


def _items(m: Message, encrypted: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if m.role == "assistant":
        for p in m.parts:
            if isinstance(p, TextPart) and p.text:
                text = {"type": "output_text", "text": p.text, "annotations": []}
                last = out[-1] if out else None
                if last is not None and last["type"] == "message":
                    last["content"].append(text)
                else:
                    out.append({"type": "message", "role": "assistant", "content": [text]})
            elif isinstance(p, ToolUsePart):
                args = dumps(p.input) if p.input is not None else (p.raw_arguments or "{}")
                out.append(
                    {"type": "function_call", "call_id": p.id, "name": p.name, "arguments": args}
                )
            elif isinstance(p, ThinkingPart) and p.wire == WIRE and p.data and encrypted:
                # Without its encrypted content a stateless reasoning item is useless.
                summary = [{"type": "summary_text", "text": p.text}] if p.text else []
                out.append({"type": "reasoning", "summary": summary, "encrypted_content": p.data})
        return out
    content: list[dict[str, Any]] = []
    for p in m.parts:
        if isinstance(p, ToolResultPart):
            output: str | list[dict[str, Any]] = p.text
            if p.is_error:
                output = f"Error: {output}"
            if any(isinstance(c, ImagePart) for c in p.content):
                output = [_input(c) for c in p.content]
            out.append({"type": "function_call_output", "call_id": p.tool_use_id, "output": output})
        elif isinstance(p, TextPart | ImagePart):
            content.append(_input(p))
    if content:
        out.append({"role": "user", "content": content})
    return out


def _input(p: TextPart | ImagePart) -> dict[str, Any]:
    if isinstance(p, TextPart):
        return {"type": "input_text", "text": p.text}
    return {"type": "input_image", "image_url": f"data:{p.media_type};base64,{p.data}"}


# ---------------------------------------------------------------------------
# Response


def _finish(resp: dict[str, Any], saw_calls: bool) -> Iterator[StreamEvent]:
    inc = resp.get("incomplete_details")
    reason = inc.get("reason") if isinstance(inc, dict) else None
    raw = reason or resp.get("status")
    if raw is not None:
        if reason:
            mapped = _INCOMPLETE.get(reason, StopReason.MAX_TOKENS)
        elif raw == "completed":
            mapped = StopReason.TOOL_USE if saw_calls else StopReason.END_TURN
        elif raw == "failed":
            mapped = StopReason.ERROR
        else:
            mapped = StopReason.OTHER
        yield StopUpdate(raw, mapped.value)
    u = resp.get("usage")
    if isinstance(u, dict):
        details = u.get("input_tokens_details")
        cached = (details.get("cached_tokens") if isinstance(details, dict) else None) or 0
        out_details = u.get("output_tokens_details")
        reasoning = out_details.get("reasoning_tokens") if isinstance(out_details, dict) else None
        yield UsageUpdate(
            input_tokens=(u.get("input_tokens") or 0) - cached,
            output_tokens=u.get("output_tokens") or 0,
            cache_read_tokens=cached,
            cache_write_tokens=0,
            reasoning_tokens=reasoning or 0,
        )


def _error_event(err: dict[str, Any]) -> StreamErrorEvent:
    etype = err.get("type")
    if etype in (None, "error"):
        etype = err.get("code")
    message = err.get("message") or "error in stream"
    return StreamErrorEvent(int_or_none(err.get("status")), etype, message)


def decode_stream(sse: Iterable[SSEEvent], provider: str | None = None) -> Iterator[StreamEvent]:
    kinds: dict[int, str] = {}  # output_index -> item type, for client-visible items
    by_item: dict[str, int] = {}  # item id -> output_index
    got_args: set[int] = set()
    failed = False
    with protocol_errors(WIRE, provider):
        for name, data in sse:
            p = json.loads(data)
            t = p.get("type") or name
            if t == "response.output_text.delta":
                at = _at(p, by_item)
                if kinds.get(at) == "message" and p.get("delta"):
                    yield TextDelta(at, p["delta"])
            elif t in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
                at = _at(p, by_item)
                if kinds.get(at) == "reasoning" and p.get("delta"):
                    yield ThinkingDelta(at, p["delta"])
            elif t == "response.function_call_arguments.delta":
                at = _at(p, by_item)
                if kinds.get(at) == "function_call" and p.get("delta"):
                    got_args.add(at)
                    yield ToolCallDelta(at, p["delta"])
            elif t == "response.output_item.added":
                at, item = p["output_index"], p["item"]
                kind = item.get("type")
                if item.get("id"):
                    by_item[item["id"]] = at
                if kind in ("message", "reasoning", "function_call"):
                    kinds[at] = kind
                if kind == "reasoning":
                    yield ThinkingDelta(at, item_id=item.get("id"))
                elif kind == "function_call":
                    yield ToolCallStart(
                        at, item.get("call_id") or "", item.get("name") or "", item.get("id")
                    )
            elif t == "response.output_item.done":
                at, item = p["output_index"], p["item"]
                kind = item.get("type")
                if kind == "reasoning":
                    if at not in kinds:
                        kinds[at] = kind
                        yield ThinkingDelta(at, item_id=item.get("id"))
                    if item.get("encrypted_content"):
                        yield ThinkingDelta(at, redacted_data=item["encrypted_content"])
                elif kind == "function_call":
                    if at not in kinds:
                        kinds[at] = kind
                        yield ToolCallStart(
                            at, item.get("call_id") or "", item.get("name") or "", item.get("id")
                        )
                    if at not in got_args and item.get("arguments"):
                        yield ToolCallDelta(at, item["arguments"])
                    yield ToolCallEnd(at)
            elif t == "response.created":
                resp = p.get("response") or {}
                yield MessageStart(resp.get("id"), resp.get("model"))
            elif t in _TERMINAL:
                resp = p.get("response") or {}
                if t == "response.failed" and not failed:
                    failed = True
                    yield _error_event(resp.get("error") or {})
                yield from _finish(resp, "function_call" in kinds.values())
                yield MessageEnd()
                return
            elif t == "error":
                failed = True
                err = p.get("error") if isinstance(p.get("error"), dict) else p
                yield _error_event(err)


def _at(p: dict[str, Any], by_item: dict[str, int]) -> int:
    at = p.get("output_index")
    if at is None:
        at = by_item[p["item_id"]]
    return int(at)


def parse_response(doc: Any, provider: str | None = None) -> Iterator[StreamEvent]:
    with protocol_errors(WIRE, provider):
        if doc.get("error") and not doc.get("output"):
            yield _error_event(doc["error"])
            return
        yield MessageStart(doc.get("id"), doc.get("model"))
        saw_calls = False
        for at, item in enumerate(doc.get("output") or ()):
            kind = item.get("type")
            if kind == "message":
                for part in item.get("content") or ():
                    if part.get("type") == "output_text" and part.get("text"):
                        yield TextDelta(at, part["text"])
            elif kind == "reasoning":
                texts = [s.get("text") or "" for s in item.get("summary") or ()]
                texts += [
                    c.get("text") or ""
                    for c in item.get("content") or ()
                    if c.get("type") == "reasoning_text"
                ]
                secret = item.get("encrypted_content")
                yield ThinkingDelta(
                    at, "".join(texts), redacted_data=secret, item_id=item.get("id")
                )
            elif kind == "function_call":
                saw_calls = True
                yield ToolCallStart(
                    at, item.get("call_id") or "", item.get("name") or "", item.get("id")
                )
                if item.get("arguments"):
                    yield ToolCallDelta(at, item["arguments"])
                yield ToolCallEnd(at)
        yield from _finish(doc, saw_calls)
        yield MessageEnd()


def http_error(status: int, body: bytes, provider: str | None = None) -> ProviderHTTPError:
    err = load_error_body(body).get("error")
    err = err if isinstance(err, dict) else {}
    etype = err.get("type") or err.get("code")
    return http_error_for(
        status,
        err.get("message") or error_text(body, status),
        provider=provider,
        error_type=etype if isinstance(etype, str) else None,
        body=body.decode("utf-8", "replace"),
    )


ADAPTER = WireAdapter(WIRE, build_request, decode_stream, parse_response, http_error)
