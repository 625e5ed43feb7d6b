"""Codex CLI sessions: `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<ts>-<uuid>.jsonl[.zst]`.

Each line is `{"timestamp", "type", "payload"}`: `session_meta` (id, cwd, git,
cli version), `turn_context` (cwd and model per turn), `response_item` (messages,
`function_call`/`custom_tool_call`/`local_shell_call` and their outputs) and
`event_msg` (UI events that mostly repeat the response items, so only their
clean `user_message` text is used, for the title). Injected user turns
(`<environment_context>`, `<permissions …>`, AGENTS.md instructions) are indexed
as nothing. The rollouts of early 2025 (a bare `{id, timestamp, instructions}`
first line, then bare items) are read too. Thread names set with `/rename` live
in `$CODEX_HOME/session_index.jsonl` and become titles. Resuming is
`codex resume <id>`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from bridle.history.records import (
    ASSISTANT,
    TITLE_CUSTOM,
    TITLE_PROMPT,
    TOOL,
    USER,
    Parsed,
    clip_result,
    content_text,
    is_preamble,
    json_text,
    parse_time,
)

TOOL_NAME = "codex"
MARKER = "sessions"
INDEX_FILE = "session_index.jsonl"

_SKIP = ('"type":"token_count"', '"type":"reasoning"')


def discover(root: Path) -> list[str]:
    out: list[str] = []
    index = os.path.join(root, INDEX_FILE)
    if os.path.isfile(index):
        out.append(index)
    stack = [os.path.join(root, MARKER), os.path.join(root, "archived_sessions")]
    while stack:
        try:
            entries = os.scandir(stack.pop())
        except OSError:
            continue
        with entries:
            for e in entries:
                name = e.name
                if name.startswith("rollout-") and name.endswith((".jsonl", ".jsonl.zst")):
                    out.append(e.path)
                elif "." not in name:
                    stack.append(e.path)
    return out


def watch_dirs(root: Path) -> list[str]:
    """sessions/ and its newest year, month and day dirs: a new rollout lands in
    today's dir, and a new day (month, year) dir changes its parent's mtime."""
    out = [os.path.join(root, MARKER)]
    for _ in range(3):
        try:
            subs = [n for n in os.listdir(out[-1]) if n.isdigit()]
        except OSError:
            break
        if not subs:
            break
        out.append(os.path.join(out[-1], max(subs)))
    return out


def parse(lines: list[str], state: dict[str, Any], path: Path) -> Parsed:
    out = Parsed()
    if path.name == INDEX_FILE:
        _thread_names(lines, out)
        return out
    for raw in lines:
        if len(raw) < 400 and any(s in raw for s in _SKIP):
            continue
        try:
            rec = json.loads(raw)
        except ValueError:
            continue
        if isinstance(rec, dict):
            _record(rec, out, state)
    if "sid" not in state and out.entries:
        state["sid"] = _id_from_name(path.name)
    out.session_id = state.get("sid")
    return out


def _record(rec: dict[str, Any], out: Parsed, state: dict[str, Any]) -> None:
    kind = rec.get("type")
    payload = rec.get("payload")
    ts = parse_time(rec.get("timestamp"))
    if not isinstance(payload, dict):
        # Early-2025 rollouts: a bare meta line, then bare response items.
        if "id" in rec and "instructions" in rec and kind is None:
            _meta(rec, out, state)
        elif kind in ("message", "function_call", "function_call_output", "local_shell_call"):
            _item(rec, ts, out, state)
        return
    if kind == "session_meta":
        _meta(payload, out, state)
    elif kind == "turn_context":
        if isinstance(payload.get("cwd"), str):
            out.cwd = payload["cwd"]
        if isinstance(payload.get("model"), str):
            out.model = payload["model"]
    elif kind == "response_item":
        _item(payload, ts, out, state)
    elif kind == "event_msg":
        if payload.get("type") == "user_message":
            text = payload.get("message")
            if isinstance(text, str) and not is_preamble(text) and not state.get("prompted"):
                state["prompted"] = True
                out.offer_title(text, TITLE_PROMPT)
        elif payload.get("type") == "thread_name_updated":
            out.offer_title(payload.get("thread_name"), TITLE_CUSTOM)
        out.touch(ts)


def _meta(meta: dict[str, Any], out: Parsed, state: dict[str, Any]) -> None:
    sid = meta.get("id")
    if isinstance(sid, str) and "sid" not in state:
        state["sid"] = sid
    if isinstance(meta.get("cwd"), str):
        out.cwd = meta["cwd"]
    git = meta.get("git")
    if isinstance(git, dict) and isinstance(git.get("branch"), str):
        out.branch = git["branch"]
    out.touch(parse_time(meta.get("timestamp")))


def _item(item: dict[str, Any], ts: float | None, out: Parsed, state: dict[str, Any]) -> None:
    itype = item.get("type")
    if itype == "message":
        role = item.get("role")
        text = content_text(item.get("content"))
        if role == "assistant":
            out.add(ASSISTANT, text, ts)
        elif role == "user" and not is_preamble(text):
            out.add(USER, text, ts)
            if not state.get("prompted"):
                state["prompted"] = True
                out.offer_title(text, TITLE_PROMPT)
        else:
            out.touch(ts)
    elif itype in ("function_call", "custom_tool_call"):
        args = item.get("arguments", item.get("input"))
        if isinstance(args, str) and args.startswith("{"):
            try:
                args = json.loads(args)
            except ValueError:
                pass
        out.add(TOOL, f"{item.get('name', '')} {json_text(args)}", ts)
    elif itype == "local_shell_call":
        action = item.get("action")
        command = action.get("command") if isinstance(action, dict) else None
        out.add(TOOL, "shell " + json_text(command), ts)
    elif itype in ("function_call_output", "custom_tool_call_output"):
        out.add(TOOL, clip_result(_output_text(item.get("output"))), ts)


def _output_text(output: Any) -> str:
    if isinstance(output, str):
        if output.startswith('{"output"'):
            try:
                inner = json.loads(output)
            except ValueError:
                return output
            if isinstance(inner, dict) and isinstance(inner.get("output"), str):
                return str(inner["output"])
        return output
    if isinstance(output, dict):
        return content_text(output.get("content")) or str(output.get("output") or "")
    return content_text(output)


def _thread_names(lines: list[str], out: Parsed) -> None:
    for raw in lines:
        try:
            rec = json.loads(raw)
        except ValueError:
            continue
        if isinstance(rec, dict) and isinstance(rec.get("id"), str):
            name = rec.get("thread_name")
            if isinstance(name, str) and name.strip():
                out.renames.append((rec["id"], name))


def _id_from_name(name: str) -> str | None:
    # rollout-2025-05-07T17-24-21-<uuid>.jsonl: the uuid is the last 36 characters of the stem.
    stem = name.split(".", 1)[0]
    return stem[-36:] if len(stem) > 45 else None
