"""Sessions written by the real CLIs are indexed with the right id, cwd, title,
times and messages, and a phrase said in each is found by `bridle sessions search`.

Each CLI fixes examples/buggy-project against `bridle mock serve` in its own
throwaway HOME (tests/realcli/harness.py); the session it wrote is then indexed
from that HOME by a real `bridle` process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from realcli.harness import BUGGY_PROJECT, MockProcess, prepare_cli, project_copy, run_cli

pytestmark = [pytest.mark.realcli, pytest.mark.slow]

PROMPT = "Fix the failing average test; the magic word is walrusbanjo"
FINAL = "Fixed `mean()` in stats.py: it divided by len(values) + 1. All 3 tests pass now."


def session_id(tool: str, home: Path) -> str:
    """The id as the tool itself names the session file."""
    if tool == "claude":
        return next((home / ".claude" / "projects").glob("*/*.jsonl")).stem
    if tool == "codex":
        return next((home / ".codex" / "sessions").rglob("rollout-*.jsonl")).stem[-36:]
    if tool == "gemini":
        chat = next((home / ".gemini" / "tmp").glob("*/chats/session-*.jsonl"))
        return str(json.loads(chat.read_text().splitlines()[0])["sessionId"])
    return next((home / ".copilot" / "session-state").glob("*/events.jsonl")).parent.name


@pytest.mark.parametrize("tool", ["claude", "codex", "gemini", "copilot"])
def test_real_cli_session_is_indexed_and_found(tmp_path: Path, tool: str) -> None:
    raw = json.loads((BUGGY_PROJECT / "scenario.json").read_text())
    for turn in raw["turns"]:
        if turn["op"] == "bash":
            turn["command"] = turn["command"].replace("python -m", "python3 -m")
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(raw))
    repo = project_copy(tmp_path / "repo")
    home = tmp_path / "home"
    started = time.time()
    with MockProcess(scenario, log=tmp_path / "mock.jsonl") as mock:
        done = run_cli(
            prepare_cli(tool, port=mock.port, cwd=repo, home=home, prompt=PROMPT), timeout=900
        )
    finished = time.time()
    assert done.returncode == 0, done.stderr[-2000:]

    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CLAUDE_", "CODEX_", "GEMINI_", "COPILOT_"))
        },
        "HOME": str(home),
        "NO_COLOR": "1",
        "BRIDLE_HISTORY_BACKGROUND": "0",
    }
    found = subprocess.run(
        [sys.executable, "-m", "bridle", "sessions", "search", "walrusbanjo", "--json"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert found.returncode == 0, found.stderr
    [hit] = [json.loads(line) for line in found.stdout.splitlines()]
    assert (hit["tool"], hit["id"], hit["cwd"], hit["title"]) == (
        tool,
        session_id(tool, home),
        str(repo),
        PROMPT,
    )
    assert started - 1 <= hit["created"] <= hit["updated"] <= finished + 1
    assert hit["snippet"] == "Fix the failing average test; the magic word is «walrusbanjo»"

    shown = subprocess.run(
        [sys.executable, "-m", "bridle", "sessions", "show", f"{tool}:{hit['id']}", "--json"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    entries = [(e["role"], e["text"]) for e in json.loads(shown.stdout)["entries"]]
    assert entries[0] == ("user", PROMPT)
    assert entries[-1] == ("assistant", FINAL)
    assert [r for r, _ in entries].count(
        "user"
    ) == 1  # preambles and context blocks are not prompts
    assert any(r == "tool" and "unittest" in t for r, t in entries)  # the command that ran
