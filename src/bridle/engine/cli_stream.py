"""Reading another coding CLI's headless output line by line as it arrives.

Each CLI runs in its streaming headless mode (`STREAM_FLAGS`): Claude Code's
`--output-format stream-json --verbose`, Codex's `exec --json`, Gemini CLI's
`--output-format stream-json` and Copilot CLI's `--output-format json`, all one
JSON event a line. `CliStream.line` turns each line into bridle's own event
kinds through `emit(kind, **fields)`: `assistant_message` (text and the tool
calls it starts: `{"id", "name", "input"}`), `tool_finished` (the call, its
result, is_error) and `agent_output` (a line that is not one of the CLI's
events). When the run ends it holds the final answer (`answer()`), the reported
cost (Claude Code's `total_cost_usd`; None when the CLI reports none), the
number of turns and whether the CLI reported an error. The Agent tool's
external subagents (`engine.agents_external`) and the daemon's CLI phases
(`daemon.agent_cli`) both read their CLI through this class.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

MAX_TEXT = 4000
# The flags (after the CLI's own subcommand) that make it stream JSON events.
STREAM_FLAGS: dict[str, list[str]] = {
    "claude": ["--output-format", "stream-json", "--verbose"],
    "codex": ["--json"],
    "gemini": ["--output-format", "stream-json"],
    "copilot": ["--output-format", "json"],
}
# Codex item types that are work (a tool call), not talk.
_CODEX_WORK = ("command_execution", "file_change", "mcp_tool_call", "web_search", "todo_list")


def call_line(call: dict[str, Any]) -> str:
    """One line naming a tool call: its name and its main argument."""
    args = call.get("input")
    brief = ""
    if isinstance(args, dict):
        for key in ("command", "cmd", "file_path", "path", "pattern", "query", "url", "paths"):
            value = args.get(key)
            if value:
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                brief = text.strip().splitlines()[0][:100] if text.strip() else ""
                break
    return f"{call.get('name') or '?'} {brief}".rstrip()


class CliStream:
    """One CLI run's stdout, fed a line at a time (`line`); see the module doc."""

    def __init__(self, tool: str, emit: Callable[..., Any]):
        self.tool = tool
        self.emit = emit
        self.lines: list[str] = []  # lines that were not the CLI's JSON events
        self.result: str | None = None
        self.texts: list[str] = []  # the assistant's text, in order (CLIs without a result)
        self.errors: list[str] = []
        self.cost: float | None = None
        self.turns = 0
        # Tokens the CLI reports: input, output, cache read, cache write.
        self.tokens = [0, 0, 0, 0]
        self.is_error = False
        self.calls: dict[str, dict[str, Any]] = {}
        self._pending = ""  # Gemini's streamed text, flushed as one message

    def line(self, raw: str) -> None:
        text = raw.rstrip("\n")
        try:
            doc = json.loads(text) if text.startswith("{") else None
        except ValueError:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("type"), str):
            getattr(self, "_" + self.tool, self._other)(doc)
            return
        if text.strip():
            self.lines.append(text)
            self.emit("agent_output", cli=self.tool, text=text[:MAX_TEXT])

    def answer(self) -> str:
        """The CLI's final answer (its result, else its last words, else its output)."""
        self._flush()
        if self.result is not None:
            return self.result
        if self.texts:
            return self.texts[-1].strip()
        return "\n".join(self.lines).strip()

    # ------------------------------------------------------------ helpers
    def _other(self, doc: dict[str, Any]) -> None:
        self.lines.append(json.dumps(doc)[:MAX_TEXT])

    def _started(self, call: dict[str, Any], text: str = "") -> None:
        self.calls[str(call["id"])] = call
        self.emit("assistant_message", cli=self.tool, text=text, tool_calls=[call])

    def _finished(self, call_id: Any, out: Any, is_error: bool) -> None:
        if isinstance(out, list):
            out = "".join(str(x.get("text", "")) for x in out if isinstance(x, dict))
        out = str(out or "")
        call = self.calls.get(str(call_id)) or {"id": call_id, "name": "?", "input": {}}
        self.emit(
            "tool_finished", cli=self.tool, call=call, is_error=is_error,
            result=out[:MAX_TEXT], truncated=len(out) > MAX_TEXT,
        )  # fmt: skip

    def _said(self, text: str) -> None:
        if text.strip():
            self.texts.append(text)
            self.emit("assistant_message", cli=self.tool, text=text, tool_calls=[])

    def _flush(self) -> None:
        text, self._pending = self._pending, ""
        self._said(text)

    def _count(self, usage: Any, *keys: str) -> None:
        if isinstance(usage, dict):
            for i, key in enumerate(keys):
                value = usage.get(key) if key else None
                self.tokens[i] += value if isinstance(value, int) else 0

    # ---------------------------------------------------------- per CLI
    def _claude(self, doc: dict[str, Any]) -> None:
        kind = doc.get("type")
        content = (doc.get("message") or {}).get("content")
        blocks = [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
        if kind == "assistant":
            self.turns += 1
            calls = [
                {"id": b.get("id"), "name": b.get("name"), "input": b.get("input")}
                for b in blocks
                if b.get("type") == "tool_use"
            ]
            self.calls.update({str(c["id"]): c for c in calls})
            text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
            if text.strip():
                self.texts.append(text)
            self.emit("assistant_message", cli="claude", text=text, tool_calls=calls)
        elif kind == "user":
            for b in blocks:
                if b.get("type") == "tool_result":
                    self._finished(b.get("tool_use_id"), b.get("content"), bool(b.get("is_error")))
        elif kind == "result":
            self.result = str(doc.get("result") or "")
            self.is_error = bool(doc.get("is_error"))
            cost = doc.get("total_cost_usd")
            self.cost = float(cost) if isinstance(cost, int | float) else None
            if isinstance(doc.get("num_turns"), int):
                self.turns = int(doc["num_turns"])
            self._count(doc.get("usage"), "input_tokens", "output_tokens",
                        "cache_read_input_tokens", "cache_creation_input_tokens")  # fmt: skip

    def _codex(self, doc: dict[str, Any]) -> None:
        kind = doc.get("type")
        item: dict[str, Any] = doc["item"] if isinstance(doc.get("item"), dict) else {}
        itype = str(item.get("type") or "")
        if kind == "turn.started":
            self.turns += 1
        elif kind == "turn.completed":  # its input counts the cached part too
            usage: dict[str, Any] = doc["usage"] if isinstance(doc.get("usage"), dict) else {}
            cached = usage.get("cached_input_tokens")
            cached = cached if isinstance(cached, int) else 0
            self._count(usage, "input_tokens", "output_tokens", "cached_input_tokens", "")
            self.tokens[0] -= cached
        elif kind in ("turn.failed", "error"):  # a bare error may be a retried stream
            err = doc.get("error")
            msg = err.get("message") if isinstance(err, dict) else doc.get("message")
            self.is_error = self.is_error or kind == "turn.failed"
            self.errors.append(str(msg or kind))
        elif kind in ("item.started", "item.completed") and itype in _CODEX_WORK:
            known = str(item.get("id")) in self.calls
            if not known:  # some items (file changes) only arrive completed
                self._started({"id": item.get("id"), "name": itype, "input": _codex_input(item)})
            if kind == "item.completed":
                out = item.get("aggregated_output") or item.get("result") or ""
                failed = item.get("status") == "failed" or item.get("exit_code") not in (0, None)
                self._finished(
                    item.get("id"), out if isinstance(out, str) else json.dumps(out), failed
                )
        elif kind == "item.completed" and itype == "agent_message":
            self._said(str(item.get("text") or ""))

    def _gemini(self, doc: dict[str, Any]) -> None:
        kind = doc.get("type")
        if kind == "message" and doc.get("role") == "assistant":
            self._pending += str(doc.get("content") or "")
            if not doc.get("delta"):
                self._flush()
        elif kind == "tool_use":
            self._flush()
            self.turns += 1
            call = {"id": doc.get("tool_id"), "name": doc.get("tool_name"),
                    "input": doc.get("parameters") or {}}  # fmt: skip
            self._started(call)
        elif kind == "tool_result":
            err = doc.get("error")
            out = doc.get("output") or (err.get("message") if isinstance(err, dict) else err)
            self._finished(doc.get("tool_id"), out, doc.get("status") != "success")
        elif kind in ("result", "error"):
            self._flush()
            if kind == "error" or doc.get("status") not in (None, "success"):
                err = doc.get("error") or doc.get("message")
                self.is_error = self.is_error or kind == "result"  # an error event may pass
                self.errors.append(str(err.get("message") if isinstance(err, dict) else err))

    def _copilot(self, doc: dict[str, Any]) -> None:
        kind = doc.get("type")
        data: dict[str, Any] = doc["data"] if isinstance(doc.get("data"), dict) else {}
        if kind == "assistant.turn_start":
            self.turns += 1
        elif kind == "assistant.message":
            self._said(str(data.get("content") or ""))
        elif kind == "tool.execution_start":
            call = {"id": data.get("toolCallId"), "name": data.get("toolName"),
                    "input": data.get("arguments") or {}}  # fmt: skip
            self._started(call)
        elif kind == "tool.execution_complete":
            res: dict[str, Any] = data["result"] if isinstance(data.get("result"), dict) else {}
            out = res.get("content") or data.get("error") or ""
            self._finished(data.get("toolCallId"), out, not data.get("success", True))
        elif kind == "result":
            code = doc.get("exitCode")
            self.is_error = isinstance(code, int) and code != 0


def _codex_input(item: dict[str, Any]) -> dict[str, Any]:
    if item.get("type") == "command_execution":
        return {"command": item.get("command")}
    if item.get("type") == "file_change":
        changes = item.get("changes") or []
        paths = [c.get("path") for c in changes if isinstance(c, dict)]
        return {"paths": ", ".join(str(p) for p in paths)}
    if item.get("type") == "mcp_tool_call":
        return {"query": f"{item.get('server')}.{item.get('tool')}"}
    if item.get("type") == "web_search":
        return {"query": item.get("query")}
    return {}
