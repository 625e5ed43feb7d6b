"""Gemini CLI sessions: `<home>/.gemini/tmp/<slug-or-hash>/chats/session-*.jsonl` (and legacy `.json`).

A JSONL session starts with a metadata line (`sessionId`, `projectHash`,
`startTime`, `kind`), then message records (`id`, `type` user/gemini/info/error,
`content`, `toolCalls` with `args` and `result`). A message is appended again
under the same `id` whenever it changes (tool results arrive, tokens are
counted), so parts already indexed are not indexed twice. `{"$set": {...}}`
lines update metadata (`summary`, `lastUpdated`, or a whole `messages` list) and
`{"$rewindTo": id}` drops that message and everything after it. Legacy `.json`
files hold the whole conversation in one object and are re-read whenever they
change. The project directory comes from `.project_root` beside `chats/`, else
from `projects.json`, else from matching the SHA-256 `projectHash` of known
paths. Subagent chats (`chats/<parent id>/<id>.jsonl`) join their parent.
Resuming is `gemini --resume <id>` from the project directory.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from bridle.history.records import (
    ASSISTANT,
    TITLE_GENERATED,
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

TOOL_NAME = "gemini"
MARKER = "tmp"
_RECENT = 64  # messages are only ever re-appended while they are recent


def discover(root: Path) -> list[str]:
    out: list[str] = []
    try:
        projects = os.listdir(os.path.join(root, MARKER))
    except OSError:
        return out
    for project in projects:
        chats = os.path.join(root, MARKER, project, "chats")
        try:
            entries = os.scandir(chats)
        except OSError:
            continue
        with entries:
            for e in entries:
                name = e.name
                if name.startswith("session-") and name.endswith((".jsonl", ".json")):
                    out.append(e.path)
                elif "." not in name and e.is_dir():
                    try:
                        out.extend(
                            os.path.join(e.path, n)
                            for n in os.listdir(e.path)
                            if n.endswith(".jsonl")
                        )
                    except OSError:
                        pass
    return out


def watch_dirs(root: Path) -> list[str]:
    base = os.path.join(root, MARKER)
    try:
        projects = os.listdir(base)
    except OSError:
        return [base]
    return [base, *(os.path.join(base, p, "chats") for p in projects)]


def rewrites(path: Path) -> bool:
    """Legacy `.json` chats are rewritten whole, never appended."""
    return path.name.endswith(".json")


def parse(lines: list[str], state: dict[str, Any], path: Path) -> Parsed:
    out = Parsed()
    if "cwd" not in state:
        state["cwd"] = _project_dir(path)
    if path.parent.name != "chats":
        state.setdefault("sid", path.parent.name)  # subagent: chats/<parent id>/<id>.jsonl
    if rewrites(path):
        try:
            doc = json.loads("\n".join(lines))
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            _metadata(doc, out, state)
            for msg in doc.get("messages") or []:
                if isinstance(msg, dict):
                    _message(msg, out, state, [])
    else:
        positions: list[tuple[str, int]] = []
        for raw in lines:
            try:
                rec = json.loads(raw)
            except ValueError:
                continue
            if isinstance(rec, dict):
                _record(rec, out, state, positions)
                if out.restart:
                    return out
    if state.get("cwd"):
        out.cwd = state["cwd"]
    out.session_id = state.get("sid")
    return out


def _record(
    rec: dict[str, Any], out: Parsed, state: dict[str, Any], positions: list[tuple[str, int]]
) -> None:
    if isinstance(rec.get("$rewindTo"), str):
        target = rec["$rewindTo"]
        for mid, at in positions:
            if mid == target:
                del out.entries[at:]
                positions[:] = [(m, a) for m, a in positions if a < at]
                return
        if not state.get("restarted"):
            out.restart = True  # the rewound text was indexed earlier: read the file again
        return
    changes = rec.get("$set")
    if isinstance(changes, dict):
        if isinstance(changes.get("messages"), list):
            # A whole new message list. New sessions open with one (the session
            # context); only text indexed by an earlier read needs a re-read.
            if state.get("seen") and not state.get("restarted") and not positions:
                out.restart = True
                return
            del out.entries[:]
            positions.clear()
            state.pop("seen", None)
        _metadata(changes, out, state)
        for msg in changes.get("messages") or []:
            if isinstance(msg, dict):
                _message(msg, out, state, positions)
        return
    if isinstance(rec.get("id"), str):
        _message(rec, out, state, positions)
    elif isinstance(rec.get("sessionId"), str):
        _metadata(rec, out, state)


def _metadata(meta: dict[str, Any], out: Parsed, state: dict[str, Any]) -> None:
    if isinstance(meta.get("sessionId"), str) and "sid" not in state:
        state["sid"] = meta["sessionId"]
    out.offer_title(meta.get("summary"), TITLE_GENERATED)
    out.touch(parse_time(meta.get("startTime")))
    out.touch(parse_time(meta.get("lastUpdated")))


def _message(
    msg: dict[str, Any], out: Parsed, state: dict[str, Any], positions: list[tuple[str, int]]
) -> None:
    mid = str(msg["id"])
    seen: dict[str, list[Any]] = state.setdefault("seen", {})
    done = seen.get(mid) or [False, []]
    positions.append((mid, len(out.entries)))
    ts = parse_time(msg.get("timestamp"))
    kind = msg.get("type")
    text = content_text(msg.get("content"))
    if not done[0] and text.strip():
        if kind == "user":
            stripped = text.strip()
            if not (stripped.startswith(("/", "?")) or is_preamble(stripped)):
                out.add(USER, text, ts)
                if not state.get("prompted"):
                    state["prompted"] = True
                    out.offer_title(text, TITLE_PROMPT)
            done[0] = True
        elif kind == "gemini":
            out.add(ASSISTANT, text, ts)
            done[0] = True
    if isinstance(msg.get("model"), str):
        out.model = msg["model"]
    for call in msg.get("toolCalls") or []:
        if not isinstance(call, dict):
            continue
        cid = str(call.get("id") or call.get("name"))
        if cid + ":call" not in done[1]:
            done[1].append(cid + ":call")
            out.add(TOOL, f"{call.get('name', '')} {json_text(call.get('args'))}", ts)
        result = _result_text(call)
        if result and cid + ":result" not in done[1]:
            done[1].append(cid + ":result")
            out.add(TOOL, clip_result(result), ts)
    out.touch(ts)
    seen[mid] = done
    if len(seen) > _RECENT:
        for old in list(seen)[: len(seen) - _RECENT]:
            del seen[old]


def _result_text(call: dict[str, Any]) -> str:
    result = call.get("result")
    texts: list[str] = []
    if isinstance(result, str):
        texts.append(result)
    elif isinstance(result, list):
        for part in result:
            if not isinstance(part, dict):
                continue
            response = (part.get("functionResponse") or {}).get("response")
            if isinstance(response, dict):
                for key in ("output", "error", "llmContent"):
                    if isinstance(response.get(key), str):
                        texts.append(response[key])
            elif isinstance(part.get("text"), str):
                texts.append(part["text"])
    if not texts and isinstance(call.get("resultDisplay"), str):
        texts.append(call["resultDisplay"])
    return "\n".join(texts)


def _project_dir(path: Path) -> str | None:
    slug_dir = next((p for p in path.parents if p.parent.name == MARKER), None)
    if slug_dir is None:
        return None
    try:
        marker = (slug_dir / ".project_root").read_text(encoding="utf-8").strip()
        if marker:
            return marker
    except OSError:
        pass
    try:
        registry = json.loads(
            (slug_dir.parent.parent / "projects.json").read_text(encoding="utf-8")
        )
    except (OSError, ValueError):
        return None
    projects = registry.get("projects") if isinstance(registry, dict) else None
    if isinstance(projects, dict):
        for cwd, slug in projects.items():
            if slug == slug_dir.name or hashlib.sha256(cwd.encode()).hexdigest() == slug_dir.name:
                return str(cwd)
    return None
