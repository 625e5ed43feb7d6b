"""Google Gemini wire: `{base}/v1beta/models/{model}:streamGenerateContent?alt=sse`
and `:generateContent`.

Requests: `systemInstruction`, `contents` with `user`/`model` roles, tools as
`functionDeclarations` with `parametersJsonSchema` (full JSON Schema), tool
results as `functionResponse` parts (named after the call they answer), images
as `inlineData`, and thought signatures put back on the very part that carried
them. Responses: candidate 0; `thought: true` parts are thinking; whole
`functionCall` parts and Vertex's streamed `partialArgs`/`willContinue` calls both
become tool calls; code-execution parts are server-side and skipped; usage counts
cached tokens inside `promptTokenCount` and reports thoughts apart, so they are
normalised here. A signature on a text part is kept as an empty thinking part
just before that text (as pydantic-ai does), so it round-trips onto the next
part. Gemini usually sends no call ids; one is made up (`SYNTHETIC_ID_PREFIX`) so
results can be paired, and it is never sent back.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
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

WIRE = "gemini"
SYNTHETIC_ID_PREFIX = "bridle-gemini-"
_BUDGETS = {"low": 1024, "medium": 8192, "high": 24576}
_FILTERED = ("SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY")
_PATH = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\['([^']*)'\]")


# ---------------------------------------------------------------------------
# Request


def build_request(req: ModelRequest, endpoint: Endpoint) -> HTTPRequest:
    headers = {"content-type": "application/json"}
    if endpoint.api_key:
        headers["x-goog-api-key"] = endpoint.api_key
    headers.update(endpoint.headers)
    model = req.model or endpoint.model
    names = {p.id: p.name for m in req.messages for p in m.parts if isinstance(p, ToolUsePart)}
    body: dict[str, Any] = {"contents": [_content(m, names) for m in req.messages]}
    if req.system:
        body["systemInstruction"] = {"parts": [{"text": req.system}]}
    if req.tools:
        decls = [
            {"name": t.name, "description": t.description, "parametersJsonSchema": t.input_schema}
            for t in req.tools
        ]
        body["tools"] = [{"functionDeclarations": decls}]
    config: dict[str, Any] = {"maxOutputTokens": req.max_tokens}
    if req.temperature is not None and endpoint.profile.supports_temperature:
        config["temperature"] = req.temperature
    if req.stop_sequences:
        config["stopSequences"] = list(req.stop_sequences)
    if req.reasoning:
        budget = _BUDGETS.get(req.reasoning, _BUDGETS["medium"])
        config["thinkingConfig"] = {"includeThoughts": True, "thinkingBudget": budget}
    body["generationConfig"] = config
    body.update(req.extra_body)
    if req.stream:
        path = f"/v1beta/models/{model}:streamGenerateContent?alt=sse"
    else:
        path = f"/v1beta/models/{model}:generateContent"
    return HTTPRequest(join_url(endpoint.base_url, path), headers, body)


def _content(m: Message, names: dict[str, str]) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    pending: str | None = None  # a signature waiting for the part it belongs to
    for p in m.parts:
        part: dict[str, Any] | None = None
        if isinstance(p, TextPart):
            part = {"text": p.text}
        elif isinstance(p, ThinkingPart):
            if p.wire != WIRE:
                continue  # another wire's reasoning means nothing to Gemini
            if not p.text:
                pending = p.signature or pending
                continue
            part = {"text": p.text, "thought": True}
            if p.signature:
                part["thoughtSignature"] = p.signature
        elif isinstance(p, ToolUsePart):
            call: dict[str, Any] = {"name": p.name, "args": p.input or {}}
            if not p.id.startswith(SYNTHETIC_ID_PREFIX):
                call["id"] = p.id
            part = {"functionCall": call}
            if p.signature:
                part["thoughtSignature"] = p.signature
        elif isinstance(p, ToolResultPart):
            key = "error" if p.is_error else "output"
            response: dict[str, Any] = {
                "name": names.get(p.tool_use_id, ""),
                "response": {key: p.text},
            }
            if not p.tool_use_id.startswith(SYNTHETIC_ID_PREFIX):
                response["id"] = p.tool_use_id
            parts.append({"functionResponse": response})
            parts += [_inline(c) for c in p.content if isinstance(c, ImagePart)]
        elif isinstance(p, ImagePart):
            part = _inline(p)
        if part is not None:
            if pending and "thoughtSignature" not in part:
                part["thoughtSignature"] = pending
            pending = None
            parts.append(part)
    if pending:
        parts.append({"text": "", "thoughtSignature": pending})
    return {"role": "model" if m.role == "assistant" else "user", "parts": parts}


def _inline(p: ImagePart) -> dict[str, Any]:
    return {"inlineData": {"mimeType": p.media_type, "data": p.data}}


# ---------------------------------------------------------------------------
# Response


class _Fold:
    """Per-response state: block numbering and the function call being streamed."""

    def __init__(self) -> None:
        self.blocks = 0
        self.open_kind = ""  # "text" | "thinking" | "" (next text starts a block)
        self.open_at = -1
        self.call: dict[str, Any] | None = None
        self.call_at = -1
        self.calls = 0
        self.finished = False
        self.started = False

    def _new(self, kind: str) -> int:
        self.open_kind, self.open_at = kind, self.blocks
        self.blocks += 1
        return self.open_at

    def _close_call(self) -> Iterator[StreamEvent]:
        if self.call is not None:
            if self.call:
                yield ToolCallDelta(self.call_at, dumps(self.call))
            yield ToolCallEnd(self.call_at)
            self.call = None

    def doc(self, doc: dict[str, Any]) -> Iterator[StreamEvent]:
        if "error" in doc and not doc.get("candidates"):
            err = doc["error"] or {}
            self.finished = True
            yield StreamErrorEvent(
                int_or_none(err.get("code")), err.get("status"), err.get("message") or "error"
            )
            return
        if not self.started:
            self.started = True
            yield MessageStart(doc.get("responseId"), doc.get("modelVersion"))
        for cand in doc.get("candidates") or ():
            if cand.get("index", 0) != 0:
                continue
            for part in (cand.get("content") or {}).get("parts") or ():
                yield from self._part(part)
            if cand.get("finishReason"):
                self.finished = True
                yield from self._close_call()
                raw = cand["finishReason"]
                if raw == "STOP":
                    mapped = StopReason.TOOL_USE if self.calls else StopReason.END_TURN
                elif raw == "MAX_TOKENS":
                    mapped = StopReason.MAX_TOKENS
                elif raw in _FILTERED:
                    mapped = StopReason.CONTENT_FILTER
                else:
                    mapped = StopReason.OTHER
                yield StopUpdate(raw, mapped.value)
        block = (doc.get("promptFeedback") or {}).get("blockReason")
        if block:
            self.finished = True
            yield StopUpdate(block, StopReason.CONTENT_FILTER.value)
        u = doc.get("usageMetadata")
        if u and (
            u.get("promptTokenCount") is not None or u.get("candidatesTokenCount") is not None
        ):
            cached = u.get("cachedContentTokenCount") or 0
            thoughts = u.get("thoughtsTokenCount") or 0
            yield UsageUpdate(
                input_tokens=(u.get("promptTokenCount") or 0) - cached,
                output_tokens=(u.get("candidatesTokenCount") or 0) + thoughts,
                cache_read_tokens=cached,
                cache_write_tokens=0,
                reasoning_tokens=thoughts,
            )

    def _part(self, part: dict[str, Any]) -> Iterator[StreamEvent]:
        signature = part.get("thoughtSignature")
        if "functionCall" in part:
            fc = part["functionCall"] or {}
            if fc.get("name"):
                yield from self._close_call()
                self.open_kind = ""
                self.call_at = self.blocks
                self.blocks += 1
                self.calls += 1
                tool_id = fc.get("id") or SYNTHETIC_ID_PREFIX + uuid.uuid4().hex[:16]
                yield ToolCallStart(self.call_at, tool_id, fc["name"], signature=signature)
                self.call = dict(fc.get("args") or {})
            elif self.call is None:
                return  # a continuation with no call open: nothing to attach it to
            for pa in fc.get("partialArgs") or ():
                _apply_partial_arg(self.call, pa)
            if not fc.get("willContinue"):
                yield from self._close_call()
            return
        if "text" not in part:
            return  # executableCode / codeExecutionResult run server-side; inlineData etc.
        text = part["text"] or ""
        if part.get("thought"):
            at = self.open_at if self.open_kind == "thinking" else self._new("thinking")
            if text or signature:
                yield ThinkingDelta(at, text, signature)
            return
        if signature:
            # Keep the signature ahead of its text so it goes back on the same part.
            yield ThinkingDelta(self._new(""), signature=signature)
        if text:
            at = self.open_at if self.open_kind == "text" else self._new("text")
            yield TextDelta(at, text)

    def end(self) -> Iterator[StreamEvent]:
        yield from self._close_call()
        if self.finished:
            yield MessageEnd()


def _apply_partial_arg(root: dict[str, Any], pa: dict[str, Any]) -> None:
    """Set one `partialArgs` entry; string pieces for the same path concatenate."""
    path = pa.get("jsonPath", "$")
    keys: list[Any] = []
    pos = 1
    while pos < len(path):
        m = _PATH.match(path, pos)
        if m is None:
            raise ValueError(f"unsupported partialArgs jsonPath {path!r}")
        keys.append(
            m.group(1) if m.group(1) is not None else int(m.group(2)) if m.group(2) else m.group(3)
        )
        pos = m.end()
    for k in (
        "stringValue",
        "numberValue",
        "boolValue",
        "nullValue",
        "structValue",
        "listValue",
        "value",
    ):
        if k in pa:
            value = None if k == "nullValue" else pa[k]
            break
    else:
        return
    if not keys:
        return
    cur: Any = root
    for key, nxt in itertools.pairwise(keys):
        empty: Any = [] if isinstance(nxt, int) else {}
        if isinstance(key, int):
            cur.extend([None] * (key + 1 - len(cur)))
        elif key not in cur:
            cur[key] = None
        if cur[key] is None:
            cur[key] = empty
        cur = cur[key]
    last = keys[-1]
    if isinstance(last, int):
        cur.extend([None] * (last + 1 - len(cur)))
        old = cur[last]
    else:
        old = cur.get(last)
    cur[last] = old + value if isinstance(old, str) and isinstance(value, str) else value


def decode_stream(sse: Iterable[SSEEvent], provider: str | None = None) -> Iterator[StreamEvent]:
    fold = _Fold()
    with protocol_errors(WIRE, provider):
        for _name, data in sse:
            yield from fold.doc(json.loads(data))
        yield from fold.end()


def parse_response(doc: Any, provider: str | None = None) -> Iterator[StreamEvent]:
    """A `generateContent` object, or the JSON array `streamGenerateContent` sends
    without `alt=sse`."""
    fold = _Fold()
    with protocol_errors(WIRE, provider):
        for d in doc if isinstance(doc, list) else (doc,):
            yield from fold.doc(d)
        yield from fold.end()


def http_error(status: int, body: bytes, provider: str | None = None) -> ProviderHTTPError:
    err = load_error_body(body).get("error")
    err = err if isinstance(err, dict) else {}
    return http_error_for(
        status,
        err.get("message") or error_text(body, status),
        provider=provider,
        error_type=err.get("status"),
        retry_after=retry_delay(err),
        body=body.decode("utf-8", "replace"),
    )


def retry_delay(err: dict[str, Any]) -> float | None:
    """Seconds from a `google.rpc.RetryInfo` detail (`"retryDelay": "26s"`)."""
    for detail in err.get("details") or ():
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("RetryInfo"):
            delay = str(detail.get("retryDelay", ""))
            try:
                return float(delay.rstrip("s"))
            except ValueError:
                return None
    return None


ADAPTER = WireAdapter(WIRE, build_request, decode_stream, parse_response, http_error)
