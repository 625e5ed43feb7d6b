"""OpenAI Chat Completions wire (`POST {base}/chat/completions`), as spoken by
OpenAI and the compatible providers (DeepSeek, GLM, Qwen, Kimi, OpenRouter, Groq,
Ollama, LM Studio...).

Requests: system message first, tool results as `role: tool` messages right after
the assistant turn that called them, images as data URLs, and what the endpoint's
`Profile` asks for: reasoning sent back (`reasoning_roundtrip`: DeepSeek, Kimi
and GLM thinking tool loops need `reasoning_content`), `max_completion_tokens`
instead of `max_tokens` (OpenAI), no `temperature`. Responses: choice 0 only; content deltas;
reasoning from `reasoning_content`, else `reasoning` (OpenRouter, Ollama, Groq);
tool-call deltas keyed by their `index`, never by id (Qwen sends empty ids on
follow-up deltas); usage from whichever chunk carries it, `x_groq.usage`
included; `[DONE]`; and error objects inside a 200 stream. It does not guess at
deviations the recorded traffic does not show.
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
from bridle.wire.profile import ReasoningRoundtrip

WIRE = "openai-chat"
_STOPS = {
    "stop": StopReason.END_TURN,
    "tool_calls": StopReason.TOOL_USE,
    "function_call": StopReason.TOOL_USE,
    "length": StopReason.MAX_TOKENS,
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
    messages: list[dict[str, Any]] = []
    if req.system:
        messages.append({"role": "system", "content": req.system})
    profile = endpoint.profile
    for m in req.messages:
        messages.extend(_messages(m, profile.reasoning_roundtrip))
    body: dict[str, Any] = {"model": req.model or endpoint.model, "messages": messages}
    body[profile.max_tokens_field] = req.max_tokens
    if req.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": t.input_schema,
                },
            }
            for t in req.tools
        ]
    if req.temperature is not None and profile.supports_temperature:
        body["temperature"] = req.temperature
    if req.reasoning:
        body["reasoning_effort"] = req.reasoning
    if req.stop_sequences:
        body["stop"] = list(req.stop_sequences)
    if req.stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    body.update(req.extra_body)
    return HTTPRequest(join_url(endpoint.base_url, "/chat/completions"), headers, body)


def _messages(m: Message, roundtrip: ReasoningRoundtrip | None) -> list[dict[str, Any]]:
    if m.role == "assistant":
        text = "".join(p.text for p in m.parts if isinstance(p, TextPart))
        out: dict[str, Any] = {"role": "assistant", "content": text or None}
        calls = [
            {
                "id": p.id,
                "type": "function",
                "function": {"name": p.name, "arguments": _arguments(p)},
            }
            for p in m.parts
            if isinstance(p, ToolUsePart)
        ]
        if calls:
            out["tool_calls"] = calls
        thinking = [p for p in m.parts if isinstance(p, ThinkingPart) and p.wire == WIRE]
        if roundtrip in ("reasoning_content", "reasoning"):
            # Sent even when empty: a thinking model checks every tool-call turn has it.
            out[roundtrip] = "".join(p.text for p in thinking)
        elif roundtrip == "reasoning_details":
            details = [{"type": "reasoning.encrypted", "data": p.data} for p in thinking if p.data]
            if details:
                out["reasoning_details"] = details
        return [out]
    results: list[dict[str, Any]] = []
    content: list[dict[str, Any]] = []
    images_from_results: list[dict[str, Any]] = []
    for p in m.parts:
        if isinstance(p, ToolResultPart):
            text = p.text
            results.append(
                {
                    "role": "tool",
                    "tool_call_id": p.tool_use_id,
                    "content": f"Error: {text}" if p.is_error else text,
                }
            )
            # A tool message holds text only; its images follow as user content.
            images_from_results += [_image(c) for c in p.content if isinstance(c, ImagePart)]
        elif isinstance(p, TextPart):
            content.append({"type": "text", "text": p.text})
        elif isinstance(p, ImagePart):
            content.append(_image(p))
    content = images_from_results + content
    if content:
        if all(c["type"] == "text" for c in content):
            results.append({"role": "user", "content": "".join(c["text"] for c in content)})
        else:
            results.append({"role": "user", "content": content})
    return results


def _arguments(p: ToolUsePart) -> str:
    if p.input is None:
        return p.raw_arguments or "{}"
    return dumps(p.input)


def _image(p: ImagePart) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": f"data:{p.media_type};base64,{p.data}"}}


# ---------------------------------------------------------------------------
# Response


def _usage(u: dict[str, Any]) -> UsageUpdate:
    details = u.get("prompt_tokens_details")
    details = details if isinstance(details, dict) else {}
    cached = details.get("cached_tokens")
    if cached is None:
        cached = u.get("prompt_cache_hit_tokens")  # DeepSeek's older field
    write = details.get("cache_write_tokens", details.get("cache_creation_input_tokens"))
    cached, write = cached or 0, write or 0
    completion = u.get("completion_tokens_details")
    reasoning = completion.get("reasoning_tokens") if isinstance(completion, dict) else None
    return UsageUpdate(
        input_tokens=(u.get("prompt_tokens") or 0) - cached - write,
        output_tokens=u.get("completion_tokens") or 0,
        cache_read_tokens=cached,
        cache_write_tokens=write,
        reasoning_tokens=reasoning or 0,
    )


def _error_event(err: Any) -> StreamErrorEvent:
    if not isinstance(err, dict):
        return StreamErrorEvent(None, None, str(err))
    etype = err.get("type")
    if not isinstance(etype, str):
        etype = err.get("code") if isinstance(err.get("code"), str) else None
    status = int_or_none(err.get("status_code")) or int_or_none(err.get("code"))
    return StreamErrorEvent(status, etype, err.get("message") or "error in stream")


def _content(content: Any, thinking: list[str]) -> str:
    """Content is a string, or for some compatible servers a list of parts."""
    if isinstance(content, str) or content is None:
        return content or ""
    text = ""
    for part in content:
        if part.get("type") == "text":
            text += part.get("text") or ""
        elif part.get("type") == "thinking":
            thinking += [s["text"] for s in part.get("thinking") or [] if s.get("text")]
    return text


def _encrypted(msg: dict[str, Any]) -> str | None:
    for d in msg.get("reasoning_details") or ():
        if d.get("type") == "reasoning.encrypted" and d.get("data"):
            return str(d["data"])
    return None


def decode_stream(sse: Iterable[SSEEvent], provider: str | None = None) -> Iterator[StreamEvent]:
    blocks = 0  # next block index
    text_at = think_at = -1  # index of the open text / thinking block, -1 if none
    tools: dict[Any, int] = {}  # provider tool index -> our block index
    named: set[int] = set()
    finished = started = False
    with protocol_errors(WIRE, provider):
        for _name, data in sse:
            if data == "[DONE]":
                finished = True
                break
            chunk = json.loads(data)
            if not started:
                started = True
                yield MessageStart(chunk.get("id"), chunk.get("model"))
            for ch in chunk.get("choices") or ():
                if ch.get("index", 0) != 0:
                    continue
                d = ch.get("delta") or {}
                thinking: list[str] = []
                text = _content(d.get("content"), thinking)
                reasoning = d.get("reasoning_content") or d.get("reasoning")
                if reasoning:
                    thinking.append(reasoning)
                secret = _encrypted(d)
                if thinking or secret:
                    if think_at < 0:
                        think_at, text_at, blocks = blocks, -1, blocks + 1
                    for piece in thinking:
                        yield ThinkingDelta(think_at, piece)
                    if secret:
                        yield ThinkingDelta(think_at, redacted_data=secret)
                if text:
                    if text_at < 0:
                        text_at, think_at, blocks = blocks, -1, blocks + 1
                    yield TextDelta(text_at, text)
                for pos, tc in enumerate(d.get("tool_calls") or ()):
                    key = tc.get("index", pos)
                    fn = tc.get("function") or {}
                    at = tools.get(key)
                    if at is None:
                        at = tools[key] = blocks
                        blocks += 1
                        text_at = think_at = -1
                    if at not in named and (tc.get("id") or fn.get("name")):
                        if tc.get("id") and fn.get("name"):
                            named.add(at)
                        yield ToolCallStart(at, tc.get("id") or "", fn.get("name") or "")
                    if fn.get("arguments"):
                        yield ToolCallDelta(at, fn["arguments"])
                if ch.get("finish_reason") is not None:
                    finished = True
                    raw = ch["finish_reason"]
                    yield StopUpdate(raw, _STOPS.get(raw, StopReason.OTHER).value)
            usage = chunk.get("usage")
            if usage is None and isinstance(chunk.get("x_groq"), dict):
                usage = chunk["x_groq"].get("usage")
            if usage:
                yield _usage(usage)
            if chunk.get("error") is not None:
                finished = True
                yield _error_event(chunk["error"])
        for at in tools.values():
            yield ToolCallEnd(at)
        if finished:
            yield MessageEnd()


def parse_response(doc: Any, provider: str | None = None) -> Iterator[StreamEvent]:
    with protocol_errors(WIRE, provider):
        if "error" in doc and not doc.get("choices"):
            yield _error_event(doc["error"])
            return
        yield MessageStart(doc.get("id"), doc.get("model"))
        choice = (doc.get("choices") or [{}])[0]
        msg = choice.get("message") or {}
        thinking: list[str] = []
        text = _content(msg.get("content"), thinking)
        reasoning = msg.get("reasoning_content") or msg.get("reasoning")
        if reasoning:
            thinking.append(reasoning)
        secret = _encrypted(msg)
        if thinking or secret:
            yield ThinkingDelta(0, "".join(thinking), redacted_data=secret)
        if text:
            yield TextDelta(1, text)
        for i, tc in enumerate(msg.get("tool_calls") or (), start=2):
            fn = tc.get("function") or {}
            yield ToolCallStart(i, tc.get("id") or "", fn.get("name") or "")
            args = fn.get("arguments")
            if args:
                yield ToolCallDelta(i, args if isinstance(args, str) else dumps(args))
            yield ToolCallEnd(i)
        raw = choice.get("finish_reason")
        if raw is not None:
            yield StopUpdate(raw, _STOPS.get(raw, StopReason.OTHER).value)
        if doc.get("usage"):
            yield _usage(doc["usage"])
        yield MessageEnd()


def http_error(status: int, body: bytes, provider: str | None = None) -> ProviderHTTPError:
    doc = load_error_body(body)
    err = doc.get("error")
    message: str | None
    etype: str | None
    if isinstance(err, str):
        message, etype = err, None
    else:
        err = err if isinstance(err, dict) else {}
        message = err.get("message")
        etype = err.get("type") if isinstance(err.get("type"), str) else None
        if etype is None and isinstance(err.get("code"), str):
            etype = err["code"]
    return http_error_for(
        status,
        message or error_text(body, status),
        provider=provider,
        error_type=etype,
        body=body.decode("utf-8", "replace"),
    )


ADAPTER = WireAdapter(WIRE, build_request, decode_stream, parse_response, http_error)
