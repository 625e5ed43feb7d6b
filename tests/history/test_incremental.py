"""The index follows the files: appended bytes only, deletions, rewrites, rewinds, accounts."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import zstandard

from bridle.history.index import SessionIndex
from bridle.history.roots import all_roots
from bridle.history.search import Filters, list_sessions, search, set_star

from .helpers import FIXTURES, index, install

CLAUDE_ID = "7f3c2a10-5b6d-4e8f-9a01-23456789abcd"


def claude_file(home: Path) -> Path:
    return home / ".claude" / "projects" / "-home-ada-src-parser" / f"{CLAUDE_ID}.jsonl"


def user_line(text: str, ts: str = "2025-11-02T11:00:00.000Z") -> str:
    return json.dumps(
        {
            "type": "user",
            "sessionId": CLAUDE_ID,
            "cwd": "/home/ada/src/parser",
            "timestamp": ts,
            "message": {"role": "user", "content": text},
        }
    )


def found(ix: SessionIndex, query: str) -> list[str]:
    return [h.session.id for h in search(ix.db, query)]


def test_append_reads_only_new_complete_lines(tmp_path: Path) -> None:
    install(FIXTURES / "claude" / "basic", tmp_path)
    ix, env = index(tmp_path)
    path = claude_file(tmp_path)
    original = path.read_bytes()
    indexed_up_to = original.rfind(b"\n") + 1  # the fixture ends with a half-written line
    line = user_line("the zebracorn regression is back") + "\n"
    with open(path, "a") as f:
        f.write('dexed"}}\n')  # completes the half-written line
        f.write(line)
        f.write(user_line("never finished okapiword")[:40])
    stats = ix.refresh(all_roots(env))
    complete_up_to = path.read_bytes().rfind(b"\n") + 1
    row = ix.db.execute(
        "SELECT offset FROM history_files WHERE path = ?", (os.path.realpath(path),)
    ).fetchone()
    assert row == (complete_up_to,)
    assert (stats.read, stats.bytes) == (1, complete_up_to - indexed_up_to)
    assert found(ix, "zebracorn") == [CLAUDE_ID]
    assert found(ix, "okapiword") == []
    with open(path, "a") as f:
        f.write(user_line("never finished okapiword")[40:] + "\n")
    ix.refresh(all_roots(env))
    assert found(ix, "okapiword") == [CLAUDE_ID]


def test_unchanged_files_are_not_read(tmp_path: Path) -> None:
    install(FIXTURES / "claude" / "basic", tmp_path)
    ix, env = index(tmp_path)
    stats = ix.refresh(all_roots(env))
    assert (stats.read, stats.bytes, stats.removed) == (0, 0, 0)


def test_deleted_file_leaves_the_index(tmp_path: Path) -> None:
    install(FIXTURES / "codex" / "basic", tmp_path)
    ix, env = index(tmp_path)
    assert found(ix, "TokenBucket") == ["019a2d7a-41c4-78b1-b7cc-a45d62a89cd5"]
    for p in (tmp_path / ".codex" / "sessions").rglob("rollout-2025-10-29*"):
        p.unlink()
    stats = ix.refresh(all_roots(env))
    assert stats.removed == 1
    assert found(ix, "TokenBucket") == []
    assert [s.id for s in list_sessions(ix.db)] == ["5973b6c0-94b8-487b-a530-2aeb6098ae0e"]
    assert ix.db.execute(
        "SELECT count(*) FROM history_chunks WHERE session NOT IN (SELECT id FROM history_sessions)"
    ).fetchone() == (0,)


def test_rewritten_file_is_read_again(tmp_path: Path) -> None:
    install(FIXTURES / "claude" / "basic", tmp_path)
    ix, env = index(tmp_path)
    path = claude_file(tmp_path)
    tmp = path.with_suffix(".new")
    tmp.write_text(user_line("only this prompt is left: quokka") + "\n")
    os.replace(tmp, path)
    ix.refresh(all_roots(env))
    assert found(ix, "quokka") == [CLAUDE_ID]
    assert found(ix, "shlex") == []
    # The subagent transcript still belongs to the session.
    assert found(ix, "tokenizer") == [CLAUDE_ID]


def test_gemini_rewind_after_indexing_drops_the_rewound_text(tmp_path: Path) -> None:
    install(FIXTURES / "gemini" / "basic", tmp_path)
    ix, env = index(tmp_path)
    assert found(ix, "gateway timeout") == ["3f1c9b2e-8d7a-4c6b-9e5f-0a1b2c3d4e5f"]
    chat = next((tmp_path / ".gemini" / "tmp" / "shop" / "chats").glob("*.jsonl"))
    with open(chat, "a") as f:
        f.write(json.dumps({"$rewindTo": "g4"}) + "\n")
    ix.refresh(all_roots(env))
    assert found(ix, '"raise it to 10 s"') == []
    assert found(ix, "checkout") == ["3f1c9b2e-8d7a-4c6b-9e5f-0a1b2c3d4e5f"]


def test_codex_zstd_rollout_reads_like_plain(tmp_path: Path) -> None:
    install(FIXTURES / "codex" / "basic", tmp_path)
    plain = next((tmp_path / ".codex" / "sessions").rglob("rollout-2025-10-29*.jsonl"))
    plain.with_name(plain.name + ".zst").write_bytes(
        zstandard.ZstdCompressor().compress(plain.read_bytes())
    )
    plain.unlink()
    ix, _ = index(tmp_path)
    [hit] = search(ix.db, "TokenBucket")
    assert (hit.session.id, hit.session.title, hit.session.cwd) == (
        "019a2d7a-41c4-78b1-b7cc-a45d62a89cd5",
        "Rate limiter work",
        "/home/ada/src/api",
    )


def test_account_dirs_share_sessions_and_keep_their_own(tmp_path: Path) -> None:
    install(FIXTURES / "claude" / "basic", tmp_path)
    accounts = Path(os.environ["BRIDLE_HOME"]) / "accounts"
    # "work" shares the primary projects dir through a symlink, as `bridle accounts` lays it out.
    work = accounts / "work" / "home" / ".claude"
    work.mkdir(parents=True)
    (work / "projects").symlink_to(tmp_path / ".claude" / "projects")
    # "solo" keeps its own, unshared projects dir: one session of its own, and a
    # copy of a primary session (same id), which stays one session seen by all three.
    solo = accounts / "solo" / "home" / ".claude" / "projects" / "-home-ada-src-web"
    solo.mkdir(parents=True)
    web = (
        tmp_path
        / ".claude"
        / "projects"
        / "-home-ada-src-web"
        / "11111111-2222-4333-8444-555555555555.jsonl"
    )
    shutil.copy(web, solo / web.name)
    own = web.read_text().replace(
        "11111111-2222-4333-8444-555555555555", "22222222-2222-4333-8444-555555555555"
    )
    (solo / "22222222-2222-4333-8444-555555555555.jsonl").write_text(own)
    ix, _ = index(tmp_path)
    seen = {s.id: s.accounts for s in list_sessions(ix.db)}
    assert seen == {
        CLAUDE_ID: ["", "work"],
        "11111111-2222-4333-8444-555555555555": ["", "solo", "work"],
        "22222222-2222-4333-8444-555555555555": ["solo"],
    }
    # Each shared file was read once, through its resolved path.
    assert ix.db.execute("SELECT count(*) FROM history_files").fetchone() == (6,)
    assert sorted(s.id for s in list_sessions(ix.db, Filters(account="solo"))) == [
        "11111111-2222-4333-8444-555555555555",
        "22222222-2222-4333-8444-555555555555",
    ]


def test_stars_survive_a_full_rebuild(tmp_path: Path) -> None:
    install(FIXTURES / "copilot" / "basic", tmp_path)
    ix, env = index(tmp_path)
    set_star(ix.db, "copilot", "c0ffee00-1234-4abc-8def-0123456789ab", True, 1.0)
    ix.clear()
    assert list_sessions(ix.db) == []
    ix.refresh(all_roots(env))
    assert [s.id for s in list_sessions(ix.db, Filters(starred=True))] == [
        "c0ffee00-1234-4abc-8def-0123456789ab"
    ]


def test_budget_stops_between_files_and_the_next_refresh_carries_on(tmp_path: Path) -> None:
    install(FIXTURES / "codex" / "basic", tmp_path)
    env = {"HOME": str(tmp_path), "BRIDLE_HOME": os.environ["BRIDLE_HOME"]}
    from bridle.store.db import open_db

    ticks = iter(range(1000))
    ix = SessionIndex(
        open_db(Path(os.environ["BRIDLE_HOME"]) / "bridle.db"), clock=lambda: float(next(ticks))
    )
    first = ix.refresh(all_roots(env), budget_s=1.5)
    assert not first.complete and first.read == 1
    assert ix.meta("last_scan") is None
    second = ix.refresh(all_roots(env))
    assert second.complete and second.read == 2
    assert len(list_sessions(ix.db)) == 2


def test_concurrent_refreshes_index_each_file_once(tmp_path: Path) -> None:
    import subprocess
    import sys

    for tool in ("claude", "codex", "gemini", "copilot"):
        install(FIXTURES / tool / "basic", tmp_path)
    env = {**os.environ, "HOME": str(tmp_path), "BRIDLE_HISTORY_BACKGROUND": "0"}
    argv = [sys.executable, "-m", "bridle", "sessions", "reindex"]
    procs = [subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    ix, _ = index(tmp_path)
    counts = ix.db.execute("SELECT count(*), count(DISTINCT path) FROM history_files").fetchone()
    assert counts == (11, 11)
    assert {s.id[:8]: s.entries for s in list_sessions(ix.db)} == {
        "c0ffee00": 7, "3f1c9b2e": 4, "11111111": 2, "7f3c2a10": 9,
        "019a2d7a": 6, "deadbeef": 2, "aaaabbbb": 4, "5973b6c0": 2,
    }  # fmt: skip
