"""Copilot CLI sessions: `$COPILOT_HOME/session-state/<uuid>/events.jsonl` with `workspace.yaml`.

Each events line is `{"type", "data", "id", "timestamp", "parentId"}`.
`session.start`/`session.resume`/`session.context_changed` carry the id and the
working-directory context (cwd, branch); `user.message` and `assistant.message`
(with `toolRequests`) the conversation; `tool.execution_complete` the tool
output; `session.title_changed` a title. `workspace.yaml` beside the events adds
`summary`, a user-given `name` and the cwd. Older builds wrote the same events to
a flat `session-state/<uuid>.jsonl`; those are read alike. Streaming deltas and
bookkeeping events are skipped. Resuming is `copilot --resume <id>`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from bridle.history.records import (
    ASSISTANT,
    TITLE_CUSTOM,
    TITLE_GENERATED,
    TITLE_PROMPT,
    TOOL,
    USER,
    Parsed,
    clip_result,
    is_preamble,
    json_text,
    parse_time,
)

TOOL_NAME = "copilot"
MARKER = "session-state"

_SKIP = (
    '"type":"assistant.message_delta"',
    '"type":"assistant.streaming_delta"',
    '"type":"assistant.reasoning_delta"',
)


def discover(root: Path) -> list[str]:
    """Event logs under `root`; a session dir's events.jsonl is listed without a stat
    (the indexer stats every file anyway and skips what is missing)."""
    base = os.path.join(root, MARKER)
    try:
        names = os.listdir(base)
    except OSError:
        return []
    return [
        os.path.join(base, n) if n.endswith(".jsonl") else os.path.join(base, n, "events.jsonl")
        for n in names
        if n.endswith(".jsonl") or len(n) == 36
    ]


def watch_dirs(root: Path) -> list[str]:
    return [os.path.join(root, MARKER)]


def parse(lines: list[str], state: dict[str, Any], path: Path) -> Parsed:
    out = Parsed()
    for raw in lines:
        if any(s in raw[:80] for s in _SKIP):
            continue
        try:
            rec = json.loads(raw)
        except ValueError:
            continue
        if isinstance(rec, dict) and isinstance(rec.get("data"), dict):
            _event(rec, out, state)
    if path.name == "events.jsonl":
        _workspace(path.parent / "workspace.yaml", out, state)
        state.setdefault("sid", path.parent.name)
    elif "sid" not in state and out.entries:
        state["sid"] = path.stem
    out.session_id = state.get("sid")
    return out


def _event(rec: dict[str, Any], out: Parsed, state: dict[str, Any]) -> None:
    kind = rec.get("type")
    data: dict[str, Any] = rec["data"]
    ts = parse_time(rec.get("timestamp"))
    if kind in ("session.start", "session.resume"):
        if isinstance(data.get("sessionId"), str):
            state.setdefault("sid", data["sessionId"])
        _context(data.get("context"), out)
        if isinstance(data.get("selectedModel"), str):
            out.model = data["selectedModel"]
        out.touch(parse_time(data.get("startTime")) or ts)
    elif kind == "session.context_changed":
        _context(data, out)
    elif kind == "session.title_changed":
        out.offer_title(data.get("title"), TITLE_GENERATED)
    elif kind == "session.model_change" and isinstance(data.get("newModel"), str):
        out.model = data["newModel"]
    elif kind == "user.message":
        text = data.get("content")
        if isinstance(text, str) and not is_preamble(text):
            out.add(USER, text, ts)
            if not state.get("prompted"):
                state["prompted"] = True
                out.offer_title(text, TITLE_PROMPT)
    elif kind == "assistant.message":
        if isinstance(data.get("content"), str):
            out.add(ASSISTANT, data["content"], ts)
        for req in data.get("toolRequests") or []:
            if isinstance(req, dict):
                out.add(TOOL, f"{req.get('name', '')} {json_text(req.get('arguments'))}", ts)
    elif kind == "tool.execution_complete":
        result = data.get("result")
        error = data.get("error")
        if isinstance(result, dict) and isinstance(result.get("content"), str):
            out.add(TOOL, clip_result(result["content"]), ts)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            out.add(TOOL, clip_result(error["message"]), ts)
    else:
        out.touch(ts)


def _context(ctx: Any, out: Parsed) -> None:
    if isinstance(ctx, dict):
        if isinstance(ctx.get("cwd"), str):
            out.cwd = ctx["cwd"]
        if isinstance(ctx.get("branch"), str) and ctx["branch"]:
            out.branch = ctx["branch"]


def _workspace(path: Path, out: Parsed, state: dict[str, Any]) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return
    ws = read_simple_yaml(text)
    if ws.get("id"):
        state.setdefault("sid", ws["id"])
    if ws.get("cwd") and not out.cwd:
        out.cwd = ws["cwd"]
    if ws.get("branch") and not out.branch:
        out.branch = ws["branch"]
    if ws.get("name"):
        out.offer_title(
            ws["name"], TITLE_CUSTOM if ws.get("user_named") == "true" else TITLE_GENERATED
        )
    elif ws.get("summary"):
        out.offer_title(ws["summary"], TITLE_GENERATED)
    out.touch(parse_time(ws.get("created_at")))
    out.touch(parse_time(ws.get("updated_at")))


def read_simple_yaml(text: str) -> dict[str, str]:
    """Top-level `key: scalar` pairs of a YAML mapping; nested and block values are skipped.
    workspace.yaml holds only scalars we need, and bridle carries no YAML library."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line or line[0] in " \t#-" or ":" not in line:
            continue
        key, _, value = line.partition(":")
        value = value.strip()
        if not value or value[0] in "|>":
            continue
        if value[0] == value[-1] and value[0] in "\"'" and len(value) >= 2:
            value = value[1:-1]
            if line.partition(":")[2].strip().startswith('"'):
                try:
                    value = json.loads('"' + value + '"')
                except ValueError:
                    pass
        out[key.strip()] = value
    return out
