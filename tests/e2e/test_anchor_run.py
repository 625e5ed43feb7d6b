"""Pinned facts (`--anchor`, the engine's `Anchor` op behind the app's
`/anchor`) are part of the system prompt: a long session on a small window
compacts (cleared outputs, then a summary) over every wire, and every request,
before and after each compaction, carries the anchored fact and CLAUDE.md;
the mock's pairing checks stay clean. The facts are saved with the session:
`-c` sends them again without the flag, a second `--anchor` of the same fact
does not repeat it, and an unpinned fact is gone after a restart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bridle.mock.server import MockServer

FACT = "the staging database is read-only (anchor-7d1f)"
CLAUDE_MD = "Run the linter before every commit (claude-md-5e2a)."
WIRES = ["mock/anthropic", "mock/openai-chat", "mock/openai-responses", "mock/gemini"]


def repo_at(tmp: Path) -> Path:
    repo = tmp / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "CLAUDE.md").write_text(f"# Project\n\n{CLAUDE_MD}\n")
    return repo


def scenario(tmp: Path, turns: int) -> Path:
    note = "Looking at the numbers to see where the pattern breaks. " * 20
    steps: list[dict[str, Any]] = [
        {"op": "bash", "command": f"seq {i} {i + 2999}", "say": f"Step {i}. {note}"}
        for i in range(turns)
    ]
    steps.append({"op": "final", "text": "all done"})
    path = tmp / "long.json"
    path.write_text(json.dumps({"name": "long", "prompt": "walk the logs", "turns": steps}))
    return path


def final(tmp: Path, text: str) -> Path:
    path = tmp / f"{text}.json"
    path.write_text(json.dumps({"name": text, "turns": [{"op": "final", "text": text}]}))
    return path


def run(
    repo: Path, home: Path, srv: MockServer, model: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("BRIDLE_MOCK_SCENARIO", None)
    env.update(BRIDLE_HOME=str(home / "bridle"), HOME=str(home), BRIDLE_MOCK_BASE_URL=srv.base_url)
    settings = json.dumps({"context_window": 16000})
    return subprocess.run(
        [sys.executable, "-m", "bridle", "-p", "walk the logs", "--model", model,
         "--dangerously-skip-permissions", "--settings", settings, *extra],
        cwd=repo, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def system_text(body: dict[str, Any]) -> str:
    """The system prompt of a request, whatever its wire."""
    parts: list[Any] = [body.get("system"), body.get("instructions"), body.get("systemInstruction")]
    for item in [*body.get("messages", []), *body.get("input", [])]:
        if isinstance(item, dict) and item.get("role") in ("system", "developer"):
            parts.append(item.get("content"))
    return json.dumps([p for p in parts if p])


@pytest.mark.parametrize("model", WIRES)
def test_an_anchored_fact_and_claude_md_are_in_every_request_through_compactions(
    tmp_path: Path, model: str
) -> None:
    repo = repo_at(tmp_path)
    with MockServer(scenario(tmp_path, 24), workdir=repo, keep_bodies=True) as srv:
        proc = run(
            repo, tmp_path, srv, model, "--anchor", FACT, "--output-format", "stream-json",
            "--verbose",
        )  # fmt: skip
        bodies = [r["body"] for r in srv.requests if "body" in r]
        summaries = [r for r in srv.requests if r.get("compaction")]
        assert srv.violations == []
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    steps = [x["compact_metadata"]["step"] for x in lines if x.get("subtype") == "compact_boundary"]
    assert "summary" in steps and summaries, steps
    assert lines[-1]["result"] == "all done"
    assert len(bodies) > 24
    for i, body in enumerate(bodies):
        system = system_text(body)
        assert FACT in system, f"request {i} lost the anchored fact"
        assert "claude-md-5e2a" in system, f"request {i} lost CLAUDE.md"

    # -c: the fact comes back from the store; pinning it again does not repeat it.
    with MockServer(final(tmp_path, "resumed"), workdir=repo, keep_bodies=True) as srv:
        again = run(repo, tmp_path, srv, model, "-c", "--anchor", FACT, "--output-format", "json")
        system = system_text(next(r["body"] for r in srv.requests if "body" in r))
        assert srv.violations == []
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["result"] == "resumed"
    assert system.count("anchor-7d1f") == 1 and "claude-md-5e2a" in system


def test_anchors_are_saved_and_an_unpinned_one_stays_gone(tmp_path: Path) -> None:
    """Through the engine's op (the app's `/anchor`): pin two, unpin one by its
    number, close; the next process sees only the other."""
    from bridle.engine import events as ev
    from bridle.engine.options import SessionOptions
    from bridle.engine.setup import open_session

    repo = repo_at(tmp_path)
    env = {**os.environ, "BRIDLE_HOME": str(tmp_path / "bridle"), "HOME": str(tmp_path)}
    env["BRIDLE_MOCK_SCENARIO"] = str(final(tmp_path, "ok"))
    session = open_session(SessionOptions(model="mock/anthropic"), repo, env)
    try:
        engine = session.engine
        notes = [e.text for op in (ev.Anchor("first fact"), ev.Anchor("second fact"))
                 for e in engine.send(op)]  # fmt: skip
        assert notes[0].startswith("anchored: first fact")
        listed = [e.text for e in engine.send(ev.Anchor())]
        assert listed == ["anchors:\n- first fact\n- second fact"]
        assert "second fact" in engine.system
        [gone] = engine.send(ev.Anchor("1", remove=True))
        assert gone.text == "unpinned: first fact"
        [missing] = engine.send(ev.Anchor("no such fact", remove=True))
        assert missing.code == "error" and "its number in the list" in missing.text
        assert "first fact" not in engine.system
        list(engine.send(ev.UserTurn("hello")))
    finally:
        session.close()
    again = open_session(SessionOptions(model="mock/anthropic", continue_latest=True), repo, env)
    try:
        assert again.engine.anchors == ["second fact"]
        assert "- second fact" in again.engine.system
    finally:
        again.close()
