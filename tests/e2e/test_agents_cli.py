"""Another coding CLI as a subagent: bridle's model hands the bug in
examples/buggy-project to `claude@work`, the real Claude Code (from
BRIDLE_TEST_CLIS) run headless under the account `work` against the same mock
server; it fixes the file under that account's config (acceptEdits maps onto its
own --permission-mode), its answer comes back as the Agent result, and its session
is a real Claude Code session that `bridle sessions search` finds."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from realcli.harness import BUGGY_PROJECT, MockProcess, cli_bin

pytestmark = [pytest.mark.realcli, pytest.mark.slow]

FIX = {
    "description": "fix the mean bug",
    "prompt": "[claude-fix] Fix the off-by-one in stats.mean (quokka).",
    "subagent_type": "claude@work",
}
SCENARIO = {
    "turns": [
        {"op": "call", "tool": "Agent", "input": json.dumps(FIX)},
        {"op": "final", "text": "claude fixed it"},
    ],
    "agents": {
        "[claude-fix]": {
            "turns": [
                {"op": "read", "path": "stats.py"},
                {
                    "op": "edit",
                    "path": "stats.py",
                    "old": "return sum(values) / (len(values) + 1)",
                    "new": "return sum(values) / len(values)",
                },
                {"op": "final", "text": "Fixed mean() in stats.py."},
            ]
        }
    },
}


def test_claude_at_work_fixes_the_bug_and_its_session_is_found(tmp_path: Path) -> None:
    binary = cli_bin("claude")
    project = tmp_path / "buggy"
    shutil.copytree(BUGGY_PROJECT, project)
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    home = tmp_path / "home"
    (home / "tmp").mkdir(parents=True)
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(SCENARIO))
    env = {
        **os.environ,
        "HOME": str(home),
        "BRIDLE_HOME": str(home / ".bridle"),
        "TMPDIR": str(home / "tmp"),
        "BRIDLE_CLI_PATH": str(binary.parent),
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
    }
    env.pop("BRIDLE_MOCK_SCENARIO", None)

    def bridle(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bridle", *args], cwd=project, env=env,
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600,
        )  # fmt: skip

    added = bridle("accounts", "add", "work", "--provider", "claude")
    assert added.returncode == 0, added.stderr
    with MockProcess(scenario, log=tmp_path / "mock.jsonl") as mock:
        env.update(
            BRIDLE_MOCK_BASE_URL=mock.base_url, ANTHROPIC_BASE_URL=mock.base_url,
            ANTHROPIC_API_KEY="x",
        )  # fmt: skip
        proc = bridle(
            "-p", "fix the failing test", "--model", "mock/anthropic",
            "--permission-mode", "acceptEdits", "--output-format", "json",
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["result"] == "claude fixed it"
    assert "return sum(values) / len(values)" in (project / "stats.py").read_text()
    tests = subprocess.run(
        [sys.executable, "-m", "unittest", "-q"], cwd=project, capture_output=True, text=True
    )
    assert tests.returncode == 0, tests.stderr
    log = [json.loads(x) for x in (tmp_path / "mock.jsonl").read_text().splitlines()]
    claude_turns = [r for r in log if r.get("agent") == "[claude-fix]"]
    assert [r.get("tool") for r in claude_turns][:2] == ["Read", "Edit"]
    # Claude ran under the account's own config dir, not the primary one.
    last = json.loads((home / ".bridle" / "last-sessions.json").read_text())["work:claude"]
    found = bridle("sessions", "search", "quokka", "--json")
    assert found.returncode == 0, found.stderr
    hits = [json.loads(x) for x in found.stdout.splitlines() if x.strip()]
    assert any(h.get("tool") == "claude" and last["id"] in json.dumps(h) for h in hits), hits
