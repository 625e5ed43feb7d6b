"""Where a session was compacted, and forking from before it: `bridle sessions
show ID` marks each compaction (cleared outputs and summaries) with its event
number and the command that forks from just before it (`--json` lists them);
`bridle -r ID --fork-session --resume-session-at N` (Claude Code's flag, with
a `bridle sessions show` event number) continues a new session from the whole,
uncompacted conversation while the original stays as it was; the flag without
--fork-session, or with a number the session does not have, is a usage error."""

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
    return repo


def scenario(tmp: Path, name: str, turns: list[dict[str, Any]]) -> Path:
    path = tmp / f"{name}.json"
    path.write_text(json.dumps({"name": name, "turns": turns}))
    return path


def bridle(
    repo: Path, home: Path, *args: str, srv: MockServer | None = None, window: int = 16000
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("BRIDLE_MOCK_SCENARIO", None)
    env.update(BRIDLE_HOME=str(home / "bridle"), HOME=str(home))
    if srv is not None:
        env["BRIDLE_MOCK_BASE_URL"] = srv.base_url
        settings = json.dumps({"context_window": window})
        args = ("--model", "mock/anthropic", "--dangerously-skip-permissions",
                "--settings", settings, *args)  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "bridle", *args],
        cwd=repo, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_sessions_show_marks_compactions_and_a_fork_starts_from_before_one(
    tmp_path: Path,
) -> None:
    repo = repo_at(tmp_path)
    note = "Looking at the numbers to see where the pattern breaks. " * 20
    steps: list[dict[str, Any]] = [
        {"op": "bash", "command": f"seq {i * 10000} {i * 10000 + 2999}", "say": f"Step {i}. {note}"}
        for i in range(24)
    ]
    long = scenario(tmp_path, "long", [*steps, {"op": "final", "text": "all done"}])
    with MockServer(long, workdir=repo) as srv:
        proc = bridle(repo, tmp_path, "-p", "walk the logs", "--output-format", "json", srv=srv)
        assert srv.violations == []
    assert proc.returncode == 0, proc.stderr
    sid = json.loads(proc.stdout)["session_id"]

    shown = bridle(repo, tmp_path, "sessions", "show", sid)
    assert shown.returncode == 0, shown.stderr
    marks = [line for line in shown.stdout.splitlines() if line.startswith("── #")]
    assert any("old tool outputs cleared (auto" in m for m in marks), shown.stdout
    assert any("compaction (auto, summary)" in m for m in marks), shown.stdout
    assert all(f"bridle -r {sid} --fork-session --resume-session-at " in m for m in marks)
    # The marks sit between the entries, where the compactions happened.
    assert shown.stdout.index("[user] walk the logs") < shown.stdout.index(marks[0])
    as_json = bridle(repo, tmp_path, "sessions", "show", sid, "--json")
    assert as_json.returncode == 0, as_json.stderr
    doc = json.loads(as_json.stdout)
    first = doc["compactions"][0]
    assert first["type"] == "cleared" and first["pre_tokens"] > first["post_tokens"]
    assert [c["line"] for c in doc["compactions"]] == marks

    # Fork from just before the first compaction, on a window large enough for it all.
    at = str(first["seq"] - 1)
    db = sqlite3.connect(tmp_path / "bridle/bridle.db")
    before = db.execute("SELECT count(*) FROM events WHERE session_id = ?", (sid,)).fetchone()
    done = scenario(tmp_path, "done", [{"op": "final", "text": "forked"}])
    with MockServer(done, workdir=repo, keep_bodies=True) as srv:
        fork = bridle(
            repo, tmp_path, "-r", sid, "--fork-session", "--resume-session-at", at,
            "-p", "go on", "--output-format", "json", srv=srv, window=1_000_000,
        )  # fmt: skip
        body = json.dumps(next(r["body"] for r in srv.requests if "body" in r))
        assert srv.violations == []
    assert fork.returncode == 0, fork.stderr
    out = json.loads(fork.stdout)
    assert out["result"] == "forked" and out["session_id"] != sid
    assert "tool output cleared" not in body and "continued from an earlier" not in body
    assert "\\n1500\\n1501\\n" in body  # the first output, whole again
    kept = db.execute(
        "SELECT count(*) FROM events WHERE session_id = ? AND seq <= ?", (out["session_id"], at)
    ).fetchone()[0]
    assert kept == int(at)
    parent = db.execute("SELECT parent_id FROM sessions WHERE id = ?", (out["session_id"],))
    assert parent.fetchone()[0] == sid
    after = db.execute("SELECT count(*) FROM events WHERE session_id = ?", (sid,)).fetchone()
    db.close()
    assert after == before  # the original is untouched

    alone = bridle(repo, tmp_path, "-r", sid, "--resume-session-at", at, "-p", "x")
    assert alone.returncode == 64 and "add --fork-session" in alone.stderr
    with MockServer(done, workdir=repo) as srv:
        wrong = bridle(
            repo, tmp_path, "-r", sid, "--fork-session", "--resume-session-at", "99999",
            "-p", "x", srv=srv,
        )  # fmt: skip
    assert wrong.returncode == 64 and "bridle sessions show" in wrong.stderr
