"""Defect 2 (store part): tool results, prompts and exports holding a file name
that is not UTF-8 are stored and read back losslessly instead of crashing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bridle.core.messages import (
    Message,
    TextPart,
    ToolResultPart,
    ToolUsePart,
    message_to_dict,
)
from bridle.store.conversation import tool_results_event, user_event
from bridle.store.db import open_db
from bridle.store.export import export_to_file
from bridle.store.sessions import SessionStore

NAME = b"caf\xe9.txt".decode("utf-8", "surrogateescape")


def test_a_non_utf8_name_round_trips_through_the_store(tmp_path: Path) -> None:
    conn = open_db(tmp_path / "bridle.db")
    store = SessionStore(conn)
    sid = store.create(model="m", provider="mock", cwd=str(tmp_path)).id
    prompt = Message("user", [TextPart(f"look at {NAME}")])
    call = Message("assistant", [ToolUsePart("t1", "Read", {"file_path": NAME})])
    result = Message("user", [ToolResultPart("t1", [TextPart(f"{NAME}\nplain.txt")])])
    store.append_many(sid, [user_event(prompt), ("assistant", {"message": message_to_dict(call)})])
    store.append_many(sid, [tool_results_event(result)])
    conn.close()

    again = SessionStore(open_db(tmp_path / "bridle.db"))
    messages = again.rebuild_messages(sid)
    assert messages[0].text == f"look at {NAME}"
    assert messages[1].parts[0].input == {"file_path": NAME}  # type: ignore[union-attr]
    assert messages[2].parts[0].content[0].text == f"{NAME}\nplain.txt"  # type: ignore[union-attr]
    assert again.get(sid).title == "look at caf\ufffd.txt"  # shown only: replaced

    out = export_to_file(again, sid, tmp_path / "s.jsonl")
    assert b"caf\\udce9.txt" in out.read_bytes()
    md = export_to_file(again, sid, tmp_path / "s.md")
    assert b"caf\xe9.txt" in md.read_bytes()  # the name's own bytes, as on disk


def test_raw_payload_is_valid_utf8_json(tmp_path: Path) -> None:
    conn = open_db(tmp_path / "bridle.db")
    store = SessionStore(conn)
    sid = store.create(model="m", provider="mock", cwd=str(tmp_path)).id
    store.append_many(sid, [tool_results_event(Message("user", [TextPart(NAME)]))])
    raw = sqlite3.connect(tmp_path / "bridle.db").execute("SELECT payload FROM events").fetchone()
    assert "\\udce9" in raw[0]
