"""Encode a scripted reply as each wire's response bytes, streamed or whole.

One `Reply` (text, at most one tool call, why it stopped) becomes an Anthropic
Messages, OpenAI Chat Completions, OpenAI Responses or Gemini response: a JSON
body, or a list of SSE events each ending in its wire's separator (`\\r\\n\\r\\n`
for Gemini). Error bodies have each provider's shape. These encoders are written
from the providers' documented formats, independently of `bridle.wire`'s
decoders, so one cannot mask a bug in the other. Nothing here does I/O.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from bridle.core import jsontext
from bridle.mock.requests import ANTHROPIC, CHAT, GEMINI, RESPONSES
from bridle.mock.vocab import ToolCall

_ANTHROPIC_ERRORS = {
    400: "invalid_request_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    503: "overloaded_error",
    529: "overloaded_error",
}
_OPENAI_ERRORS = {
    400: "invalid_request_error",
    404: "not_found_error",
    429: "rate_limit_exceeded",
    500: "server_error",
    529: "server_overloaded",
}
_GEMINI_STATUS = {
    400: "INVALID_ARGUMENT",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    529: "UNAVAILABLE",
}


@dataclass(slots=True)
class Reply:
    """What the scripted model says this turn."""

    model: str
    text: str = ""
    call: ToolCall | None = None
    # Further calls in the same response (a `calls` turn; the Anthropic wire
    # carries them, the others send the first call only).
    more: list[ToolCall] = field(default_factory=list)
    input_tokens: int = 0
    call_id: str = field(default_factory=lambda: uuid.uuid4().hex[:24])

    @property
    def output_tokens(self) -> int:
        args = json.dumps(self.call.arguments) if self.call else ""
        return max(1, (len(self.text) + len(args)) // 4)


def _dump(obj: Any) -> str:
    return jsontext.dumps(obj)  # a non-UTF-8 file name goes out as `\udcXX` escapes


def _pieces(text: str, size: int = 48) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _sse(data: Any, event: str | None = None, sep: str = "\n\n") -> bytes:
    head = f"event: {event}\n" if event else ""
    payload = data if isinstance(data, str) else _dump(data)
    return f"{head}data: {payload}{sep}".encode()


class AnthropicEncoder:
    wire = ANTHROPIC

    def body(self, r: Reply) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if r.text:
            content.append({"type": "text", "text": r.text})
        if r.call:
            content += [
                {
                    "type": "tool_use",
                    "id": "toolu_" + r.call_id + (f"_{i}" if i else ""),
                    "name": call.name,
                    "input": call.arguments,
                }
                for i, call in enumerate([r.call, *r.more])
            ]
        return {
            "id": "msg_" + r.call_id,
            "type": "message",
            "role": "assistant",
            "model": r.model,
            "content": content,
            "stop_reason": "tool_use" if r.call else "end_turn",
            "stop_sequence": None,
            "usage": self._usage(r, r.output_tokens),
        }

    def _usage(self, r: Reply, output: int) -> dict[str, int]:
        return {
            "input_tokens": r.input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": output,
        }

    def events(self, r: Reply) -> list[bytes]:
        start = self.body(r) | {"content": [], "stop_reason": None, "usage": self._usage(r, 1)}
        out = [_sse({"type": "message_start", "message": start}, "message_start")]
        out.append(_sse({"type": "ping"}, "ping"))
        index = 0
        if r.text:
            block: dict[str, Any] = {"type": "text", "text": ""}
            out.append(
                _sse(
                    {"type": "content_block_start", "index": 0, "content_block": block},
                    "content_block_start",
                )
            )
            for piece in _pieces(r.text):
                delta = {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": piece},
                }
                out.append(_sse(delta, "content_block_delta"))
            out.append(_sse({"type": "content_block_stop", "index": 0}, "content_block_stop"))
            index = 1
        for i, call in enumerate([r.call, *r.more] if r.call else []):
            block = {
                "type": "tool_use",
                "id": "toolu_" + r.call_id + (f"_{i}" if i else ""),
                "name": call.name,
                "input": {},
            }
            out.append(
                _sse(
                    {"type": "content_block_start", "index": index, "content_block": block},
                    "content_block_start",
                )
            )
            for piece in _pieces(_dump(call.arguments), 64):
                delta = {"type": "input_json_delta", "partial_json": piece}
                out.append(
                    _sse(
                        {"type": "content_block_delta", "index": index, "delta": delta},
                        "content_block_delta",
                    )
                )
            out.append(_sse({"type": "content_block_stop", "index": index}, "content_block_stop"))
            index += 1
        stop = {"stop_reason": "tool_use" if r.call else "end_turn", "stop_sequence": None}
        usage = {"output_tokens": r.output_tokens}
        out.append(_sse({"type": "message_delta", "delta": stop, "usage": usage}, "message_delta"))
        out.append(_sse({"type": "message_stop"}, "message_stop"))
        return out

    def error(self, status: int, message: str) -> dict[str, Any]:
        kind = _ANTHROPIC_ERRORS.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}


class ChatEncoder:
    wire = CHAT

    def _tool_call(self, r: Reply, args: str) -> dict[str, Any]:
        assert r.call is not None
        return {
            "id": "call_" + r.call_id,
            "type": "function",
            "function": {"name": r.call.name, "arguments": args},
        }

    def _usage(self, r: Reply) -> dict[str, int]:
        total = r.input_tokens + r.output_tokens
        return {
            "prompt_tokens": r.input_tokens,
            "completion_tokens": r.output_tokens,
            "total_tokens": total,
        }

    def body(self, r: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": r.text or None}
        if r.call:
            message["tool_calls"] = [self._tool_call(r, _dump(r.call.arguments))]
        return {
            "id": "chatcmpl-" + r.call_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": r.model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if r.call else "stop",
                }
            ],
            "usage": self._usage(r),
        }

    def events(self, r: Reply) -> list[bytes]:
        head = {
            "id": "chatcmpl-" + r.call_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": r.model,
        }

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            return _sse(head | {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

        out = [chunk({"role": "assistant", "content": ""})]
        if r.text:
            out.extend(chunk({"content": piece}) for piece in _pieces(r.text))
        if r.call:
            out.append(chunk({"tool_calls": [{"index": 0, **self._tool_call(r, "")}]}))
            for piece in _pieces(_dump(r.call.arguments), 64):
                out.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
        out.append(chunk({}, "tool_calls" if r.call else "stop"))
        out.append(_sse(head | {"choices": [], "usage": self._usage(r)}))
        out.append(b"data: [DONE]\n\n")
        return out

    def error(self, status: int, message: str) -> dict[str, Any]:
        kind = _OPENAI_ERRORS.get(status, "server_error")
        return {"error": {"message": message, "type": kind, "param": None, "code": kind}}


class ResponsesEncoder:
    wire = RESPONSES

    def _items(self, r: Reply) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        if r.text:
            part = {"type": "output_text", "text": r.text, "annotations": []}
            items.append(
                {
                    "id": "msg_" + r.call_id,
                    "type": "message",
                    "status": "completed",
                    "role": "assistant",
                    "content": [part],
                }
            )
        if r.call:
            items.append(
                {
                    "id": "fc_" + r.call_id,
                    "type": "function_call",
                    "status": "completed",
                    "call_id": "call_" + r.call_id,
                    "name": r.call.name,
                    "arguments": _dump(r.call.arguments),
                }
            )
        return items

    def body(self, r: Reply, status: str = "completed") -> dict[str, Any]:
        done = status == "completed"
        return {
            "id": "resp_" + r.call_id,
            "object": "response",
            "created_at": int(time.time()),
            "status": status,
            "model": r.model,
            "output": self._items(r) if done else [],
            "usage": {
                "input_tokens": r.input_tokens,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": r.output_tokens,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": r.input_tokens + r.output_tokens,
            }
            if done
            else None,
            "error": None,
            "incomplete_details": None,
        }

    def events(self, r: Reply) -> list[bytes]:
        out: list[bytes] = []

        def emit(kind: str, **data: Any) -> None:
            out.append(_sse({"type": kind, "sequence_number": len(out), **data}, kind))

        emit("response.created", response=self.body(r, "in_progress"))
        emit("response.in_progress", response=self.body(r, "in_progress"))
        for index, item in enumerate(self._items(r)):
            if item["type"] == "message":
                emit(
                    "response.output_item.added",
                    output_index=index,
                    item=item | {"status": "in_progress", "content": []},
                )
                ids = {"item_id": item["id"], "output_index": index, "content_index": 0}
                emit(
                    "response.content_part.added",
                    **ids,
                    part={"type": "output_text", "text": "", "annotations": []},
                )
                for piece in _pieces(r.text):
                    emit("response.output_text.delta", **ids, delta=piece)
                emit("response.output_text.done", **ids, text=r.text)
                emit("response.content_part.done", **ids, part=item["content"][0])
            else:
                emit(
                    "response.output_item.added",
                    output_index=index,
                    item=item | {"status": "in_progress", "arguments": ""},
                )
                for piece in _pieces(item["arguments"], 64):
                    emit(
                        "response.function_call_arguments.delta",
                        item_id=item["id"],
                        output_index=index,
                        delta=piece,
                    )
                emit(
                    "response.function_call_arguments.done",
                    item_id=item["id"],
                    output_index=index,
                    arguments=item["arguments"],
                )
            emit("response.output_item.done", output_index=index, item=item)
        emit("response.completed", response=self.body(r))
        return out

    def error(self, status: int, message: str) -> dict[str, Any]:
        kind = _OPENAI_ERRORS.get(status, "server_error")
        return {"error": {"message": message, "type": kind, "param": None, "code": kind}}


class GeminiEncoder:
    wire = GEMINI

    def _chunk(self, r: Reply, parts: list[dict[str, Any]], final: bool) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
        usage: dict[str, int] = {"promptTokenCount": r.input_tokens}
        if final:
            candidate["finishReason"] = "STOP"
            usage |= {
                "candidatesTokenCount": r.output_tokens,
                "totalTokenCount": r.input_tokens + r.output_tokens,
            }
        return {
            "candidates": [candidate],
            "usageMetadata": usage,
            "modelVersion": r.model,
            "responseId": r.call_id,
        }

    def _parts(self, r: Reply) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = [{"text": r.text}] if r.text else []
        if r.call:
            parts.append({"functionCall": {"name": r.call.name, "args": r.call.arguments}})
        return parts or [{"text": ""}]

    def body(self, r: Reply) -> dict[str, Any]:
        return self._chunk(r, self._parts(r), final=True)

    def chunks(self, r: Reply) -> list[dict[str, Any]]:
        pieces = _pieces(r.text) if r.text else []
        out = [self._chunk(r, [{"text": p}], final=False) for p in pieces]
        last = [{"functionCall": {"name": r.call.name, "args": r.call.arguments}}] if r.call else []
        if not last and out:
            out[-1] = self._chunk(r, [{"text": pieces[-1]}], final=True)
        else:
            out.append(self._chunk(r, last or [{"text": ""}], final=True))
        return out

    def events(self, r: Reply) -> list[bytes]:
        return [_sse(c, sep="\r\n\r\n") for c in self.chunks(r)]

    def error(self, status: int, message: str, retry_after: float | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": status,
            "message": message,
            "status": _GEMINI_STATUS.get(status, "INTERNAL"),
        }
        if retry_after is not None:
            delay = f"{retry_after:g}s"
            error["details"] = [
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}
            ]
        return {"error": error}


ENCODERS: dict[str, Any] = {
    ANTHROPIC: AnthropicEncoder(),
    CHAT: ChatEncoder(),
    RESPONSES: ResponsesEncoder(),
    GEMINI: GeminiEncoder(),
}


def error_body(wire: str, status: int, message: str, retry_after: float | None = None) -> bytes:
    enc = ENCODERS[wire]
    data = enc.error(status, message, retry_after) if wire == GEMINI else enc.error(status, message)
    return _dump(data).encode()
