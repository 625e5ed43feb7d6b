"""Turn another tool's session into bridle messages, so bridle can continue it.

`read_conversation(tool, paths)` reads Claude Code, Codex, Gemini CLI or Copilot
CLI session files into `core.messages.Message`s: user prompts, assistant text,
tool calls and their results, with each foreign tool mapped onto bridle's
Claude-Code-named tools (`exec_command`/`run_shell_command`/`bash` → `Bash`,
`read_file`/`view` → `Read`, `replace`/`edit` → `Edit`, Codex patches →
`ApplyPatch`, …); a tool bridle lacks keeps its name, so the model still sees
what happened. Injected preambles, reasoning (its signatures belong to the
original provider) and subagent side chains are left out. The result goes
through `store.conversation.repair_history`, so tool calls and results pair up
whatever the source held. `import_session` writes it into bridle's store as a
new session. This module reads whole files; it never touches the index.
"""

from __future__ import annotations

import json
import shlex
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from bridle.core.messages import Message, Part, TextPart, ToolResultPart, ToolUsePart
from bridle.history.lines import read_batches
from bridle.history.records import content_text, is_preamble

# foreign tool name -> (bridle tool, {foreign arg: bridle arg})
TOOL_MAP: dict[str, tuple[str, dict[str, str]]] = {
    "exec_command": ("Bash", {"cmd": "command"}),
    "shell": ("Bash", {"command": "command"}),
    "local_shell": ("Bash", {"command": "command"}),
    "run_shell_command": ("Bash", {"command": "command", "description": "description"}),
    "bash": ("Bash", {"command": "command", "description": "description"}),
    "read_file": ("Read", {"file_path": "file_path", "absolute_path": "file_path"}),
    "view": ("Read", {"path": "file_path"}),
    "write_file": ("Write", {"file_path": "file_path", "content": "content"}),
    "create": ("Write", {"path": "file_path", "file_text": "content"}),
    "replace": (
        "Edit",
        {"file_path": "file_path", "old_string": "old_string", "new_string": "new_string"},
    ),
    "edit": ("Edit", {"path": "file_path", "old_str": "old_string", "new_str": "new_string"}),
    "glob": ("Glob", {"pattern": "pattern", "dir_path": "path", "path": "path"}),
    "grep_search": ("Grep", {"pattern": "pattern", "dir_path": "path"}),
    "grep": ("Grep", {"pattern": "pattern", "path": "path", "glob": "glob"}),
    "list_directory": ("LS", {"dir_path": "path"}),
    "apply_patch": ("ApplyPatch", {"input": "input"}),
    "web_fetch": ("WebFetch", {"url": "url"}),
}


def map_tool(name: str, args: Any) -> tuple[str, dict[str, Any]]:
    """bridle's name and input for a foreign tool call."""
    if not isinstance(args, dict):
        args = {"input": args} if args is not None else {}
    mapped = TOOL_MAP.get(name)
    if mapped is None:
        return name, args
    target, keys = mapped
    out = {keys[k]: v for k, v in args.items() if k in keys}
    if target == "Bash" and isinstance(out.get("command"), list):
        out["command"] = shlex.join(str(c) for c in out["command"])
    if target == "Bash" and str(out.get("command", "")).lstrip().startswith("apply_patch"):
        patch = str(out["command"])
        start, end = patch.find("*** Begin Patch"), patch.rfind("*** End Patch")
        if start >= 0 and end > start:
            return "ApplyPatch", {"input": patch[start : end + len("*** End Patch")] + "\n"}
    return target, out


def _records(path: Path) -> Iterator[dict[str, Any]]:
    if path.name.endswith(".json"):
        try:
            doc = json.loads(path.read_text(encoding="utf-8", errors="replace"))
        except ValueError:
            return
        if isinstance(doc, dict):
            yield doc
        return
    for lines, _ in read_batches(path, 0):
        for line in lines:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict):
                yield rec


def _result(call_id: str, text: str, is_error: bool = False) -> ToolResultPart:
    return ToolResultPart(call_id, [TextPart(text or "(no output)")], is_error=is_error)


def _claude(paths: list[Path]) -> list[Message]:
    out: list[Message] = []
    for path in paths:
        if path.parent.name == "subagents" or path.name.startswith("agent-"):
            continue
        for rec in _records(path):
            kind = rec.get("type")
            message = rec.get("message")
            if (
                kind not in ("user", "assistant")
                or rec.get("isSidechain")
                or not isinstance(message, dict)
            ):
                continue
            content = message.get("content")
            blocks = (
                [{"type": "text", "text": content}] if isinstance(content, str) else content or []
            )
            parts: list[Part] = []
            for b in blocks:
                if not isinstance(b, dict):
                    continue
                if b.get("type") == "text" and isinstance(b.get("text"), str):
                    if kind == "assistant" or not (rec.get("isMeta") or is_preamble(b["text"])):
                        parts.append(TextPart(b["text"]))
                elif b.get("type") == "tool_use" and kind == "assistant":
                    name, args = map_tool(str(b.get("name")), b.get("input"))
                    parts.append(ToolUsePart(str(b.get("id")), name, args))
                elif b.get("type") == "tool_result" and kind == "user":
                    text = content_text(b.get("content"))
                    parts.append(_result(str(b.get("tool_use_id")), text, bool(b.get("is_error"))))
            if parts:
                out.append(Message(kind, parts))
    return out


def _codex(paths: list[Path]) -> list[Message]:
    out: list[Message] = []
    for path in paths:
        for rec in _records(path):
            item = rec.get("payload") if rec.get("type") == "response_item" else None
            if not isinstance(item, dict):
                continue
            itype = item.get("type")
            if itype == "message" and item.get("role") in ("user", "assistant"):
                text = content_text(item.get("content"))
                if text.strip() and (item["role"] == "assistant" or not is_preamble(text)):
                    out.append(Message(item["role"], [TextPart(text)]))
            elif itype in ("function_call", "custom_tool_call"):
                raw = item.get("arguments", item.get("input"))
                args: Any = raw
                if isinstance(raw, str) and itype == "function_call":
                    try:
                        args = json.loads(raw)
                    except ValueError:
                        args = {"input": raw}
                name, mapped = map_tool(str(item.get("name")), args)
                out.append(
                    Message("assistant", [ToolUsePart(str(item.get("call_id")), name, mapped)])
                )
            elif itype in ("function_call_output", "custom_tool_call_output"):
                output = item.get("output")
                text = output if isinstance(output, str) else content_text(output)
                out.append(Message("user", [_result(str(item.get("call_id")), text)]))
    return out


def _gemini(paths: list[Path]) -> list[Message]:
    messages: dict[str, dict[str, Any]] = {}
    for path in paths:
        for rec in _records(path):
            if isinstance(rec.get("$rewindTo"), str):
                ids = list(messages)
                if rec["$rewindTo"] in messages:
                    for mid in ids[ids.index(rec["$rewindTo"]) :]:
                        del messages[mid]
                else:
                    messages.clear()
            elif isinstance(rec.get("$set"), dict) and isinstance(
                rec["$set"].get("messages"), list
            ):
                messages = {
                    str(m["id"]): m
                    for m in rec["$set"]["messages"]
                    if isinstance(m, dict) and "id" in m
                }
            elif isinstance(rec.get("messages"), list):  # legacy whole-file chat
                messages = {
                    str(m["id"]): m for m in rec["messages"] if isinstance(m, dict) and "id" in m
                }
            elif isinstance(rec.get("id"), str):
                messages[rec["id"]] = rec
    out: list[Message] = []
    for m in messages.values():
        text = content_text(m.get("content"))
        if m.get("type") == "user":
            stripped = text.strip()
            if stripped and not stripped.startswith(("/", "?")) and not is_preamble(stripped):
                out.append(Message("user", [TextPart(text)]))
        elif m.get("type") == "gemini":
            parts: list[Part] = [TextPart(text)] if text.strip() else []
            results: list[Part] = []
            for call in m.get("toolCalls") or []:
                if not isinstance(call, dict):
                    continue
                cid = str(call.get("id"))
                name, args = map_tool(str(call.get("name")), call.get("args"))
                parts.append(ToolUsePart(cid, name, args))
                results.append(_result(cid, _gemini_result(call), call.get("status") == "error"))
            if parts:
                out.append(Message("assistant", parts))
            if results:
                out.append(Message("user", results))
    return out


def _gemini_result(call: dict[str, Any]) -> str:
    result = call.get("result")
    if isinstance(result, str):
        return result
    texts: list[str] = []
    for part in result if isinstance(result, list) else []:
        response = (
            (part.get("functionResponse") or {}).get("response") if isinstance(part, dict) else None
        )
        if isinstance(response, dict):
            texts.extend(
                str(response[k]) for k in ("output", "error") if isinstance(response.get(k), str)
            )
    return "\n".join(texts) or str(call.get("resultDisplay") or "")


def _copilot(paths: list[Path]) -> list[Message]:
    out: list[Message] = []
    for path in paths:
        for rec in _records(path):
            kind, data = rec.get("type"), rec.get("data")
            if not isinstance(data, dict):
                continue
            if kind == "user.message" and isinstance(data.get("content"), str):
                if not is_preamble(data["content"]):
                    out.append(Message("user", [TextPart(data["content"])]))
            elif kind == "assistant.message":
                parts: list[Part] = []
                if isinstance(data.get("content"), str) and data["content"].strip():
                    parts.append(TextPart(data["content"]))
                for req in data.get("toolRequests") or []:
                    if isinstance(req, dict):
                        name, args = map_tool(str(req.get("name")), req.get("arguments"))
                        parts.append(ToolUsePart(str(req.get("toolCallId")), name, args))
                if parts:
                    out.append(Message("assistant", parts))
            elif kind == "tool.execution_complete":
                result, error = data.get("result"), data.get("error")
                text = result.get("content") if isinstance(result, dict) else None
                if not isinstance(text, str):
                    text = error.get("message") if isinstance(error, dict) else ""
                out.append(
                    Message(
                        "user",
                        [
                            _result(
                                str(data.get("toolCallId")),
                                str(text),
                                not data.get("success", True),
                            )
                        ],
                    )
                )
    return out


READERS = {"claude": _claude, "codex": _codex, "gemini": _gemini, "copilot": _copilot}


def read_conversation(tool: str, paths: list[Path]) -> list[Message]:
    """The session's conversation as valid bridle messages (see the module docstring)."""
    from bridle.store.conversation import repair_history

    reader = READERS.get(tool)
    if reader is None:
        raise ValueError(f"cannot import {tool} sessions; importable tools: {', '.join(READERS)}")
    # Tools write parallel calls (and their results) as one record each: merge
    # neighbours of one role first, so every call meets its result.
    merged: list[Message] = []
    for m in reader(paths):
        if merged and merged[-1].role == m.role:
            merged[-1] = Message(m.role, merged[-1].parts + m.parts)
        else:
            merged.append(m)
    return repair_history(merged)


def import_session(
    db: sqlite3.Connection,
    ref: str,
    *,
    model: str,
    provider: str,
    account: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Copy the indexed session `ref` (`claude:<id>`, `codex:<id>`, an id or a
    unique prefix) into bridle's store as a new session; returns its id.

    `db` is bridle's database (`store.db.open_db`); the index is refreshed first
    so a session that just ended is found."""
    import os

    from bridle.core.errors import UsageError
    from bridle.core.messages import ModelResponse, StopReason
    from bridle.history.fresh import Freshness, ensure_fresh
    from bridle.history.search import find_session, session_files
    from bridle.store.conversation import response_event, tool_results_event, user_event
    from bridle.store.sessions import SessionStore

    env = os.environ if env is None else env
    ensure_fresh(db, env, Freshness.from_env(env))
    found = [s for s in find_session(db, ref) if s.tool in READERS]
    if len(found) != 1:
        what = "no" if not found else "more than one"
        raise UsageError(
            f"{what} Claude Code, Codex, Gemini CLI or Copilot CLI session matches {ref!r}: "
            f"see `bridle sessions search`, and give tool:id (for example claude:1d0d0a34)."
        )
    source = found[0]
    paths = [Path(p) for _, p, _ in session_files(db, source.key)]
    messages = read_conversation(source.tool, paths)
    events: list[tuple[str, dict[str, Any]]] = []
    for m in messages:
        if m.role == "user":
            events.append(tool_results_event(m) if m.tool_results and not m.text else user_event(m))
        else:
            stop = StopReason.TOOL_USE if m.tool_uses else StopReason.END_TURN
            events.append(response_event(ModelResponse(list(m.parts), stop)))
    store = SessionStore(db)
    title = f"{source.title or source.id} (from {source.tool})"
    record = store.create(
        model, provider, source.cwd or os.getcwd(), title, source.branch, account=account
    )
    if events:
        store.append_many(record.id, events)
    return record.id
