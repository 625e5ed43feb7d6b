"""Claude Code sessions: `<config>/projects/<encoded cwd>/<uuid>.jsonl`.

Each line is one record. `user` and `assistant` records carry the message (text,
`tool_use` and `tool_result` blocks), `cwd`, `gitBranch`, `sessionId` and a
timestamp; `summary`, `custom-title` and `ai-title` records name the session;
`system`, `progress`, `file-history-snapshot`, `queue-operation` and the other
bookkeeping records are skipped. Subagent transcripts (`<uuid>/subagents/agent-*.jsonl`,
or older `agent-*.jsonl` beside the sessions, with `isSidechain: true`) are
indexed under their parent session, and a file holding only snapshots never
becomes a session. Records this version does not know are ignored, not errors.
Resuming is `claude --resume <id>` from the session's cwd.
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
    TITLE_SUMMARY,
    TOOL,
    USER,
    Parsed,
    clip_result,
    content_text,
    is_preamble,
    json_text,
    parse_time,
)

TOOL_NAME = "claude"
MARKER = "projects"

# Record types that never hold conversation text; skipped before json.loads.
_SKIP_PREFIXES = (
    '{"type":"file-history-snapshot"',
    '{"type":"progress"',
    '{"type":"queue-operation"',
)


def discover(root: Path) -> list[str]:
    """Every transcript under `root` (a Claude config dir), as path strings."""
    out: list[str] = []
    for project in _subdirs(os.path.join(root, MARKER)):
        try:
            entries = os.scandir(project)
        except OSError:
            continue
        with entries:
            for entry in entries:
                name = entry.name
                if name.endswith(".jsonl"):
                    out.append(entry.path)
                elif len(name) == 36 and entry.is_dir():
                    sub = os.path.join(entry.path, "subagents")
                    try:
                        out.extend(
                            os.path.join(sub, n) for n in os.listdir(sub) if n.endswith(".jsonl")
                        )
                    except OSError:
                        pass
    return out


def watch_dirs(root: Path) -> list[str]:
    """Directories whose mtime changes when a new session file appears."""
    base = os.path.join(root, MARKER)
    return [base, *_subdirs(base)]


def _subdirs(path: str) -> list[str]:
    try:
        with os.scandir(path) as it:
            return [e.path for e in it if e.is_dir()]
    except OSError:
        return []


def parse(lines: list[str], state: dict[str, Any], path: Path) -> Parsed:
    out = Parsed()
    for raw in lines:
        if raw.startswith(_SKIP_PREFIXES):
            continue
        try:
            rec = json.loads(raw)
        except ValueError:
            continue
        if isinstance(rec, dict):
            _record(rec, out, state)
    # A subagent's records carry its parent's sessionId, so its text lands in the
    # parent session; `<session>/subagents/` says so even before the first record.
    if "sid" not in state and path.parent.name == "subagents" and out.entries:
        state["sid"] = path.parent.parent.name
    if "sid" not in state and out.entries and not path.name.startswith("agent-"):
        state["sid"] = path.stem
    out.session_id = state.get("sid")
    out.sidechain = bool(state.get("sidechain"))
    return out


def _record(rec: dict[str, Any], out: Parsed, state: dict[str, Any]) -> None:
    kind = rec.get("type")
    sid = rec.get("sessionId")
    if isinstance(sid, str) and "sid" not in state:
        state["sid"] = sid
    if kind == "custom-title":
        out.offer_title(rec.get("customTitle"), TITLE_CUSTOM)
    elif kind == "ai-title":
        out.offer_title(rec.get("aiTitle"), TITLE_GENERATED)
    elif kind == "summary":
        out.offer_title(rec.get("summary"), TITLE_SUMMARY)
    elif kind == "relocated" and isinstance(rec.get("relocatedCwd"), str):
        out.cwd = rec["relocatedCwd"]
    if kind not in ("user", "assistant"):
        return
    if rec.get("isSidechain"):
        state["sidechain"] = True
    if isinstance(rec.get("cwd"), str):
        out.cwd = rec["cwd"]
    if isinstance(rec.get("gitBranch"), str) and rec["gitBranch"]:
        out.branch = rec["gitBranch"]
    ts = parse_time(rec.get("timestamp"))
    message = rec.get("message")
    if not isinstance(message, dict):
        return
    content = message.get("content")
    if kind == "assistant":
        if isinstance(message.get("model"), str) and message["model"] != "<synthetic>":
            out.model = message["model"]
        _assistant(content, ts, out)
    else:
        _user(content, ts, out, state, bool(rec.get("isMeta")))


def _assistant(content: Any, ts: float | None, out: Parsed) -> None:
    if isinstance(content, str):
        out.add(ASSISTANT, content, ts)
        return
    if not isinstance(content, list):
        return
    for block in content:
        if not isinstance(block, dict):
            continue
        btype = block.get("type")
        if btype == "text":
            out.add(ASSISTANT, str(block.get("text") or ""), ts)
        elif btype == "tool_use":
            out.add(TOOL, f"{block.get('name', '')} {json_text(block.get('input'))}", ts)


def _user(content: Any, ts: float | None, out: Parsed, state: dict[str, Any], meta: bool) -> None:
    if isinstance(content, str):
        _prompt(content, ts, out, state, meta)
        return
    if not isinstance(content, list):
        return
    for block in content:
        if not isinstance(block, dict):
            continue
        btype = block.get("type")
        if btype == "text":
            _prompt(str(block.get("text") or ""), ts, out, state, meta)
        elif btype == "tool_result":
            out.add(TOOL, clip_result(content_text(block.get("content"))), ts)


def _prompt(text: str, ts: float | None, out: Parsed, state: dict[str, Any], meta: bool) -> None:
    if meta or is_preamble(text):
        out.touch(ts)
        return
    out.add(USER, text, ts)
    if not state.get("prompted") and not state.get("sidechain"):
        state["prompted"] = True
        out.offer_title(text, TITLE_PROMPT)
