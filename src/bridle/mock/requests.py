"""Read what the mock needs out of a request body, for each of the four wires.

`parse_request(wire, body)` returns a `RequestView`: the tools offered, how many
tool calls the conversation already holds (the stateless turn index), the text a
client's working directory can be found in, whether a JSON answer is wanted, and
the request-invariant violations (a tool result with no preceding call, duplicate
ids, calls left unanswered). It reads provider JSON shapes directly and shares
nothing with `bridle.wire`, so a bug in one cannot hide a bug in the other.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

ANTHROPIC = "anthropic-messages"
CHAT = "openai-chat"
RESPONSES = "openai-responses"
GEMINI = "gemini"

_CWD_PATTERNS = (
    re.compile(r"<cwd>\s*([^<\n]+?)\s*</cwd>"),
    re.compile(r"[Ww]orking directory:\s*`?(/[^\s`]*)"),
    re.compile(r"working in the directory:?\s*`?(/[^\s`]*)"),
    re.compile(r"Workspace Directories:\**\s*\n\s*-\s*(/[^\s`]*)"),
    re.compile(r"[Cc]urrent working directory(?: is)?:?\s*`?(/[^\s`]*)"),
    re.compile(r"\bcwd[\"']?\s*[:=]\s*[\"'`]?(/[^\s\"'`]*)"),
)


# What the mock writes into a compaction summary, and reads back afterwards, so the
# scenario goes on from the turn it had reached (it derives turns from tool calls).
COMPACTED_MARK = re.compile(r"\[mock: (\d+) tool calls before this summary\]")
# The asks with which a client wants its conversation summarised (bridle, Claude Code).
COMPACTION_ASKS = ("will be replaced by a summary", "create a detailed summary of the conversation")


@dataclass(slots=True)
class RequestView:
    """What the mock reads out of one request body, the same for every wire."""

    wire: str
    model: str = ""
    stream: bool = False
    tools: dict[str, dict[str, Any]] = field(default_factory=dict)
    tool_calls: int = 0
    text: list[str] = field(default_factory=list)
    wants_json: bool = False
    json_schema: dict[str, Any] | None = None
    violations: list[str] = field(default_factory=list)
    fingerprint: str = ""

    def compaction_ask(self) -> bool:
        """Whether the client asks for a summary of its conversation (compaction)."""
        last = self.text[-1].lower() if self.text else ""
        return any(ask in last for ask in COMPACTION_ASKS)

    def cwd(self) -> str | None:
        """The client's working directory as its prompt states it, if it does."""
        found: list[str] = []
        for chunk in self.text:
            for pattern in _CWD_PATTERNS:
                found.extend(m.group(1).rstrip(".,;") for m in pattern.finditer(chunk))
        for path in found:
            if os.path.isdir(path):
                return path
        return found[0] if found else None


def parse_request(
    wire: str, body: dict[str, Any], *, model: str = "", stream: bool = False
) -> RequestView:
    view = RequestView(wire=wire, model=str(body.get("model") or model), stream=stream)
    parse = {ANTHROPIC: _anthropic, CHAT: _chat, RESPONSES: _responses, GEMINI: _gemini}[wire]
    conversation = parse(body, view)
    # A conversation compacted after a summary the mock wrote: the calls before it count.
    marks = [int(m.group(1)) for chunk in view.text for m in COMPACTED_MARK.finditer(chunk)]
    view.tool_calls += max(marks, default=0)
    view.fingerprint = hashlib.sha1(
        json.dumps(conversation, sort_keys=True, default=str).encode()
    ).hexdigest()[:24]
    return view


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    out: list[str] = []
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                out.append(part["text"])
            elif isinstance(part, str):
                out.append(part)
    return out


class _Pairing:
    """Tool-call/result bookkeeping shared by the wires: ids must be unique and
    every result must answer a call that is still open."""

    def __init__(self, view: RequestView, call: str, result: str):
        self.view, self.call, self.result = view, call, result
        self.seen: set[str] = set()
        self.open: dict[str, str] = {}
        self.answered: set[str] = set()

    def add_call(self, call_id: str, where: str) -> None:
        self.view.tool_calls += 1
        if not call_id:
            return
        if call_id in self.seen:
            self.view.violations.append(f"{where}: duplicate {self.call} id {call_id!r}")
        self.seen.add(call_id)
        self.open[call_id] = where

    def add_result(self, call_id: str, where: str) -> None:
        if call_id in self.answered:
            self.view.violations.append(f"{where}: second {self.result} for id {call_id!r}")
        elif call_id in self.open:
            del self.open[call_id]
        elif call_id in self.seen:
            self.view.violations.append(
                f"{where}: {self.result} {call_id!r} does not directly follow its {self.call}"
            )
        else:
            self.view.violations.append(
                f"{where}: {self.result} {call_id!r} has no preceding {self.call} with that id"
            )
        self.answered.add(call_id)

    def require_answered(self, where: str) -> None:
        for call_id, origin in self.open.items():
            self.view.violations.append(
                f"{where}: {self.call} {call_id!r} from {origin} got no {self.result}"
            )
        self.open.clear()


def _anthropic(body: dict[str, Any], view: RequestView) -> Any:
    for tool in body.get("tools") or []:
        if isinstance(tool, dict) and tool.get("name") and tool.get("type") in (None, "custom"):
            view.tools[tool["name"]] = tool.get("input_schema") or {}
    view.text.extend(_texts(body.get("system")))
    messages = body.get("messages") or []
    pairing = _Pairing(view, "tool_use", "tool_result")
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict):
            view.violations.append(f"messages[{i}]: not an object")
            continue
        content = msg.get("content")
        blocks = content if isinstance(content, list) else []
        where = f"messages[{i}]"
        if msg.get("role") == "assistant":
            pairing.require_answered(where)
            for b in blocks:
                if isinstance(b, dict) and b.get("type") == "tool_use":
                    pairing.add_call(str(b.get("id") or ""), where)
        else:
            for b in blocks:
                if isinstance(b, dict) and b.get("type") == "tool_result":
                    pairing.add_result(str(b.get("tool_use_id") or ""), where)
            pairing.require_answered(where)
            view.text.extend(
                t
                for b in blocks
                if isinstance(b, dict) and b.get("type") == "text"
                for t in _texts([b])
            )
            if isinstance(content, str):
                view.text.append(content)
    fmt = body.get("output_format") or (body.get("output_config") or {}).get("format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        view.wants_json, view.json_schema = True, fmt.get("schema") or {}
    elif view.text and "json" in view.text[-1].lower():
        view.wants_json = True
    return messages


def _chat(body: dict[str, Any], view: RequestView) -> Any:
    for tool in body.get("tools") or []:
        fn = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(fn, dict) and fn.get("name"):
            view.tools[fn["name"]] = fn.get("parameters") or {}
    messages = body.get("messages") or []
    pairing = _Pairing(view, "tool_call", "tool message")
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict):
            view.violations.append(f"messages[{i}]: not an object")
            continue
        where, role = f"messages[{i}]", msg.get("role")
        if role == "tool":
            pairing.add_result(str(msg.get("tool_call_id") or ""), where)
            continue
        pairing.require_answered(where)
        if role == "assistant":
            for call in msg.get("tool_calls") or []:
                if isinstance(call, dict):
                    pairing.add_call(str(call.get("id") or ""), where)
        else:
            view.text.extend(_texts(msg.get("content")))
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") in ("json_object", "json_schema"):
        view.wants_json = True
        view.json_schema = (fmt.get("json_schema") or {}).get("schema") or {}
    return messages


def _responses(body: dict[str, Any], view: RequestView) -> Any:
    for tool in body.get("tools") or []:
        if (
            isinstance(tool, dict)
            and tool.get("name")
            and tool.get("type") in ("function", "custom")
        ):
            view.tools[tool["name"]] = tool.get("parameters") or {}
    view.text.extend(_texts(body.get("instructions")))
    items = body.get("input") or []
    if isinstance(items, str):
        view.text.append(items)
        items = [{"role": "user", "content": items}]
    pairing = _Pairing(view, "function_call", "function_call_output")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            view.violations.append(f"input[{i}]: not an object")
            continue
        kind, where = item.get("type", "message"), f"input[{i}]"
        if kind in ("function_call", "custom_tool_call", "local_shell_call"):
            pairing.add_call(str(item.get("call_id") or ""), where)
        elif kind in ("function_call_output", "custom_tool_call_output", "local_shell_call_output"):
            pairing.add_result(str(item.get("call_id") or ""), where)
        elif kind == "message" and item.get("role") in ("user", "developer", "system"):
            view.text.extend(_texts(item.get("content")))
    pairing.require_answered("end of input")
    fmt = (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
    if isinstance(fmt, dict) and fmt.get("type") in ("json_schema", "json_object"):
        view.wants_json, view.json_schema = True, fmt.get("schema") or {}
    return items


def _gemini(body: dict[str, Any], view: RequestView) -> Any:
    for tool in body.get("tools") or []:
        for decl in (tool.get("functionDeclarations") or []) if isinstance(tool, dict) else []:
            if isinstance(decl, dict) and decl.get("name"):
                view.tools[decl["name"]] = (
                    decl.get("parametersJsonSchema") or decl.get("parameters") or {}
                )
    system = body.get("systemInstruction") or body.get("system_instruction")
    if isinstance(system, dict):
        view.text.extend(_texts(system.get("parts")))
    contents = body.get("contents") or []
    open_calls: list[str] = []
    for i, content in enumerate(contents):
        if not isinstance(content, dict):
            view.violations.append(f"contents[{i}]: not an object")
            continue
        parts = [p for p in content.get("parts") or [] if isinstance(p, dict)]
        calls = [
            p["functionCall"].get("name", "")
            for p in parts
            if isinstance(p.get("functionCall"), dict)
        ]
        answers = [
            p["functionResponse"].get("name", "")
            for p in parts
            if isinstance(p.get("functionResponse"), dict)
        ]
        where = f"contents[{i}]"
        if answers:
            if not open_calls:
                view.violations.append(
                    f"{where}: functionResponse without a preceding functionCall turn"
                )
            elif sorted(answers) != sorted(open_calls):
                view.violations.append(
                    f"{where}: functionResponse parts {answers} do not answer the functionCall parts {open_calls}"
                )
        elif open_calls:
            view.violations.append(
                f"{where}: functionCall parts {open_calls} got no functionResponse"
            )
        open_calls = calls
        view.tool_calls += len(calls)
        if content.get("role", "user") == "user":
            view.text.extend(str(p["text"]) for p in parts if isinstance(p.get("text"), str))
    config = body.get("generationConfig") or {}
    schema = config.get("responseJsonSchema") or config.get("responseSchema")
    if schema or config.get("responseMimeType") == "application/json":
        view.wants_json, view.json_schema = True, schema or {}
    return contents
