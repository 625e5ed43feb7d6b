"""One bad session file never takes the history down (defect 1).

A Claude Code transcript whose text was cut in the middle of an emoji holds a
lone surrogate (`"\\ud83d"` in its JSON), and some hold bytes that are not
UTF-8. `sessions list`, `search`, `show`, `export` and the recall picker must
all keep working, index what can be read, and print valid UTF-8. A file its
importer cannot read at all is skipped, and the user is told which and why."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import FIXTURES, install

BAD_ID = "22222222-3333-4444-5555-666666666666"
DEEP_ID = "33333333-4444-4555-8666-777777777777"


def _record(kind: str, text: str, ts: str, **extra: object) -> str:
    content: object = text if kind == "user" else [{"type": "text", "text": text}]
    rec = {
        "type": kind,
        "sessionId": BAD_ID,
        "cwd": "/home/ada/src/bad",
        "gitBranch": "main",
        "timestamp": ts,
        "message": {"role": kind, "content": content},
        **extra,
    }
    return json.dumps(rec)  # ensure_ascii: a lone surrogate is written as `\ud83d`


@pytest.fixture
def home(tmp_path: Path) -> Path:
    install(FIXTURES / "claude" / "basic", tmp_path)
    project = tmp_path / ".claude" / "projects" / "-home-ada-src-bad"
    project.mkdir(parents=True)
    lines = [
        json.dumps(
            {"type": "custom-title", "customTitle": "emoji \ud83d cut", "sessionId": BAD_ID}
        ),
        _record("user", "alpha cut emoji \ud83d here", "2025-11-02T00:00:00.000Z"),
        _record("assistant", "a reply \udc80 with a low half", "2025-11-02T00:00:01.000Z"),
    ]
    data = ("\n".join(lines) + "\n").encode()
    # A line of bytes that are not UTF-8 at all (a latin-1 é, a stray continuation byte).
    data += (
        _record("user", "beta XX", "2025-11-02T00:00:02.000Z")
        .encode()
        .replace(b"XX", b"caf\xe9 \x80")
    )
    data += b"\n"
    (project / f"{BAD_ID}.jsonl").write_bytes(data)
    return tmp_path


def env_for(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CLAUDE_", "CODEX_", "GEMINI_", "COPILOT_"))
    }
    env.update(HOME=str(home), NO_COLOR="1", BRIDLE_HISTORY_BACKGROUND="0")
    return env


def bridle(home: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "bridle", *args],
        env=env_for(home),
        capture_output=True,
        timeout=60,
    )


def utf8(out: subprocess.CompletedProcess[bytes]) -> str:
    assert out.returncode == 0, out.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in out.stderr
    return out.stdout.decode("utf-8")  # strict: raises on anything that is not UTF-8


def test_a_cut_emoji_keeps_list_search_show_and_export_working(home: Path) -> None:
    rows = [
        json.loads(line)
        for line in utf8(bridle(home, "sessions", "list", "--json")).split("\n")
        if line
    ]
    ids = {r["id"] for r in rows}
    assert {BAD_ID, "7f3c2a10-5b6d-4e8f-9a01-23456789abcd"} <= ids
    bad = next(r for r in rows if r["id"] == BAD_ID)
    assert bad["title"] == "emoji \ufffd cut"
    assert "emoji \ufffd cut" in utf8(bridle(home, "sessions", "list"))

    found = utf8(bridle(home, "sessions", "search", "alpha"))
    assert BAD_ID[:8] in found and "\ufffd" in found
    assert BAD_ID[:8] in utf8(bridle(home, "sessions", "search", "beta"))

    shown = utf8(bridle(home, "sessions", "show", BAD_ID[:8]))
    assert "[user] alpha cut emoji \ufffd here" in shown
    assert "[assistant] a reply \ufffd with a low half" in shown
    assert "[user] beta caf\ufffd \ufffd" in shown
    doc = json.loads(utf8(bridle(home, "sessions", "show", BAD_ID[:8], "--json")))
    assert [e["text"] for e in doc["entries"]][:2] == [
        "alpha cut emoji \ufffd here",
        "a reply \ufffd with a low half",
    ]
    target = home / "bad.md"
    assert bridle(home, "sessions", "export", BAD_ID[:8], "-o", str(target)).returncode == 0
    assert "alpha cut emoji \ufffd here" in target.read_text(encoding="utf-8")


def test_the_recall_picker_lists_a_session_with_a_cut_emoji(home: Path) -> None:
    from bridle.config.paths import database_path
    from bridle.history.fresh import Freshness, ensure_fresh
    from bridle.store.db import open_db
    from bridle.tui.recall import RecallApp

    db = open_db(database_path())
    ensure_fresh(db, env_for(home), Freshness(interval=0, background=False))
    app = RecallApp(db, clock=lambda: 1762300000.0)

    async def go() -> None:
        async with app.run_test(size=(110, 30)) as pilot:
            await pilot.pause()
            assert "emoji \ufffd cut" in [s.title for s in app.rows if s]
            await pilot.press("p")
            await pilot.pause()

    asyncio.run(go())


def test_a_file_its_importer_cannot_read_is_skipped_and_named(home: Path) -> None:
    project = home / ".claude" / "projects" / "-home-ada-src-deep"
    project.mkdir(parents=True)
    deep = project / f"{DEEP_ID}.jsonl"
    # Valid JSON nested deeper than Python's parser recurses: json.loads raises RecursionError.
    nested = "[" * 100_000 + "]" * 100_000
    deep.write_text(
        _record("user", "gamma first", "2025-11-03T00:00:00.000Z").replace(BAD_ID, DEEP_ID)
        + "\n"
        + nested
        + "\n"
    )
    os.utime(deep, (1e9, 1e9))  # read first: the files after it must still be indexed
    first = bridle(home, "sessions", "list", "--json")
    ids = {json.loads(line)["id"] for line in utf8(first).splitlines()}
    assert BAD_ID in ids and DEEP_ID not in ids  # everything else is indexed
    notice = first.stderr.decode()
    assert str(deep) in notice and "RecursionError" in notice and "skipped" in notice
    # Said once, not on every command; `reindex` lists what is still skipped.
    again = bridle(home, "sessions", "list")
    assert str(deep) not in again.stderr.decode()
    reindex = bridle(home, "sessions", "reindex")
    assert reindex.returncode == 0 and str(deep) in reindex.stderr.decode()
    # Once the file is repaired it is read like any other.
    deep.write_text(
        _record("user", "gamma first", "2025-11-03T00:00:00.000Z").replace(BAD_ID, DEEP_ID) + "\n"
    )
    found = utf8(bridle(home, "sessions", "search", "gamma"))
    assert DEEP_ID[:8] in found
    assert str(deep) not in bridle(home, "sessions", "reindex").stderr.decode()
