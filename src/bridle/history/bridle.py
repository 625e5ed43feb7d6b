"""bridle's own sessions: the `sessions` and `events` tables of the same database.

Unlike the other tools, bridle's sessions are not files: the indexer reads
events appended since the highest event id it has seen (one query per refresh)
and the session rows updated since the newest `updated_at` it has seen. Event
payloads are `store.conversation`'s: a user or tool-result message
(`{"role", "content": [parts]}`) or an assistant response (`{"message": …}`),
whose parts are text, `tool_use` and `tool_result` blocks. System events
(model switches, compaction summaries) carry no conversation text of their own
and are skipped. Resuming is `bridle --resume <id>`.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from bridle.history.records import (
    ASSISTANT,
    TOOL,
    USER,
    Entry,
    clean,
    clip_result,
    content_text,
    json_text,
    parse_time,
)

TOOL_NAME = "bridle"
EVENT_BATCH = 5000


def has_tables(db: sqlite3.Connection) -> bool:
    names = {
        r[0]
        for r in db.execute("SELECT name FROM sqlite_master WHERE name IN ('sessions', 'events')")
    }
    return names == {"sessions", "events"}


def event_entries(kind: str, payload_text: str, ts_text: str) -> list[Entry]:
    """The indexed entries of one event; malformed payloads give none."""
    try:
        payload = json.loads(payload_text)
    except ValueError:
        return []
    if not isinstance(payload, dict):
        return []
    message = payload.get("message") if kind == "assistant" else payload
    if not isinstance(message, dict) or not isinstance(message.get("content"), list):
        return []
    ts = parse_time(ts_text)
    role = ASSISTANT if kind == "assistant" else USER
    out: list[Entry] = []
    for part in message["content"]:
        if not isinstance(part, dict):
            continue
        ptype = part.get("type")
        if ptype == "text" and isinstance(part.get("text"), str) and part["text"].strip():
            out.append(Entry(role, clean(part["text"]), ts))
        elif ptype == "tool_use":
            call = f"{part.get('name', '')} {json_text(part.get('input'))}"
            out.append(Entry(TOOL, clean(call), ts))
        elif ptype == "tool_result":
            text = content_text(part.get("content"))
            if text.strip():
                out.append(Entry(TOOL, clean(clip_result(text)), ts))
    return out


def new_events(db: sqlite3.Connection, after: int) -> list[tuple[int, str, str, str, str]]:
    """(event id, session id, ts, kind, payload) of up to EVENT_BATCH events past `after`."""
    return db.execute(
        "SELECT id, session_id, ts, kind, payload FROM events WHERE id > ? AND kind != 'system' ORDER BY id LIMIT ?",
        (after, EVENT_BATCH),
    ).fetchall()


def changed_sessions(db: sqlite3.Connection, since: str) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT id, title, cwd, git_branch, model, created_at, updated_at, account FROM sessions"
        " WHERE updated_at > ? ORDER BY updated_at",
        (since,),
    ).fetchall()
    names = ("id", "title", "cwd", "branch", "model", "created", "updated", "account")
    return [dict(zip(names, r, strict=True)) for r in rows]


def watermarks(db: sqlite3.Connection) -> tuple[int, str]:
    """The newest event id and session `updated_at` in the store, to compare with the index's."""
    event = db.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
    updated = db.execute("SELECT coalesce(max(updated_at), '') FROM sessions").fetchone()[0]
    return int(event), str(updated)


def session_entries(db: sqlite3.Connection, session_id: str) -> list[Entry]:
    """Every entry of one of bridle's sessions, in order (for show and export)."""
    out: list[Entry] = []
    for kind, payload, ts in db.execute(
        "SELECT kind, payload, ts FROM events WHERE session_id = ? AND kind != 'system' ORDER BY seq",
        (session_id,),
    ):
        out.extend(event_entries(kind, payload, ts))
    return out
