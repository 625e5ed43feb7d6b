"""A long session on a model declared with a small window completes: old tool
outputs are cleared to stubs naming saved files, then the model's hand-off
summary replaces the conversation; every request stays under the window and
valid (the mock rejects broken tool pairing), stream-json reports each
compaction as Claude Code does (`system/compact_boundary` with the tokens
before), the store keeps the whole history and `-c` resumes after it; with
compaction off the same run fails on the provider's "too long" answer path."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from bridle.mock.server import MockServer


def repo_at(tmp: Path) -> Path:
    repo = tmp / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "notes.txt").write_text("hello\n")
    return repo


def scenario(tmp: Path, turns: int) -> Path:
    # Big outputs (step 1 clears them) and long notes of the model's (only a
    # summary can shrink those).
    note = "Looking at the numbers to see where the pattern breaks. " * 20
    steps: list[dict[str, Any]] = [
        {"op": "bash", "command": f"seq {i} {i + 2999}", "say": f"Step {i}. {note}"}
        for i in range(turns)
    ]
    steps.append({"op": "final", "text": "all done"})
    path = tmp / "long.json"
    path.write_text(json.dumps({"name": "long", "prompt": "walk the logs", "turns": steps}))
    return path


def run(
    repo: Path, home: Path, srv: MockServer, settings: dict[str, Any], *extra: str
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("BRIDLE_MOCK_SCENARIO", None)
    env.update(BRIDLE_HOME=str(home / "bridle"), HOME=str(home), BRIDLE_MOCK_BASE_URL=srv.base_url)
    return subprocess.run(
        [sys.executable, "-m", "bridle", "-p", "walk the logs", "--model", "mock/anthropic",
         "--dangerously-skip-permissions", "--settings", json.dumps(settings), *extra],
        cwd=repo, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def request_tokens(body: dict[str, Any]) -> int:
    return len(json.dumps(body)) // 4


def test_a_long_session_on_a_small_window_completes(tmp_path: Path) -> None:
    repo = repo_at(tmp_path)
    settings = {"context_window": 16000}
    with MockServer(scenario(tmp_path, 30), workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv, settings, "--output-format", "stream-json", "--verbose")
        bodies = [r["body"] for r in srv.requests if "body" in r]
        summaries = [r for r in srv.requests if r.get("compaction")]
        assert srv.violations == []
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    boundaries = [x for x in lines if x.get("subtype") == "compact_boundary"]
    assert boundaries, "no compaction reported"
    for b in boundaries:
        assert b["type"] == "system" and b["compact_metadata"]["trigger"] == "auto"
        assert b["compact_metadata"]["pre_tokens"] > b["compact_metadata"]["post_tokens"]
    steps = {b["compact_metadata"]["step"] for b in boundaries}
    assert steps == {"clear", "summary"}, steps
    assert len(summaries) == sum(b["compact_metadata"]["step"] == "summary" for b in boundaries)
    assert lines[-1]["type"] == "result" and lines[-1]["result"] == "all done"
    # Every request the model answered stayed inside the window (4 chars a token, roughly).
    assert max(request_tokens(b) for b in bodies) < 16000
    # A cleared output names the saved file, which holds the full text.
    text = json.dumps(bodies)
    assert "tool output cleared to save context" in text
    saved = list((tmp_path / "bridle/tool-output").rglob("compacted-*.txt"))
    assert saved and saved[0].read_text().startswith(tuple("0123456789"))

    # The store keeps everything: the compactions are events, not deletions.
    db = sqlite3.connect(tmp_path / "bridle/bridle.db")
    kinds = [k for (k,) in db.execute("SELECT kind FROM events ORDER BY seq")]
    payloads = [
        json.loads(p)
        for (p,) in db.execute("SELECT payload FROM events WHERE kind = 'system' ORDER BY seq")
    ]
    db.close()
    assert kinds.count("tool_result") == 30
    # A clearing stores only its stubs; only a summary stores the new conversation.
    assert all("messages" not in p for p in payloads if p.get("type") == "cleared")
    assert all(p["stubs"] for p in payloads if p.get("type") == "cleared")
    assert [p["step"] for p in payloads if p.get("type") in ("compaction", "cleared")] == [
        b["compact_metadata"]["step"] for b in boundaries
    ]

    # -c resumes after the compaction with a valid, small conversation.
    final = tmp_path / "final.json"
    final.write_text(json.dumps({"name": "f", "turns": [{"op": "final", "text": "resumed"}]}))
    with MockServer(final, workdir=repo, keep_bodies=True) as srv:
        again = run(repo, tmp_path, srv, settings, "-c", "--output-format", "json")
        first = next(r["body"] for r in srv.requests if "body" in r)
        assert srv.violations == []
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["result"] == "resumed"
    assert request_tokens(first) < 16000


def test_compaction_off_lets_the_conversation_outgrow_the_window(tmp_path: Path) -> None:
    repo = repo_at(tmp_path)
    settings = {"context_window": 16000, "autoCompactEnabled": False}
    with MockServer(scenario(tmp_path, 6), workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv, settings, "--output-format", "json")
        bodies = [r["body"] for r in srv.requests if "body" in r]
    assert proc.returncode == 0, proc.stderr  # the mock has no window of its own
    assert max(request_tokens(b) for b in bodies) > 16000
    assert "compact" not in proc.stderr
