"""`acpx` from npm (a real ACP client) runs a prompt end to end against `bridle acp`.

acpx starts `python -m bridle acp --model mock/anthropic` as its agent,
advertises fs and terminal, approves every ask (`--approve-all`) and prints the
JSON-RPC traffic (`--format json`); the mock plays examples/buggy-project's own
scenario, so the bug gets fixed through acpx's file writes and terminals.
scripts/test installs acpx (pinned in tests/acp/package.json) and exports
BRIDLE_TEST_ACPX.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from acp_client import agent_env

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "buggy-project"
BIN = os.environ.get("BRIDLE_TEST_ACPX", "")
pytestmark = pytest.mark.skipif(
    not BIN or not (Path(BIN) / "acpx").exists(),
    reason="BRIDLE_TEST_ACPX is not set (scripts/test installs acpx from npm)",
)


def test_acpx_fixes_the_example_project_through_bridle_acp(tmp_path: Path) -> None:
    repo = tmp_path / "buggy"
    shutil.copytree(EXAMPLE, repo)
    env = agent_env(tmp_path / "home", repo / "scenario.json")
    command = shlex.join([sys.executable, "-m", "bridle", "acp", "--model", "mock/anthropic"])
    proc = subprocess.run(
        [str(Path(BIN) / "acpx"), "--agent", command, "--approve-all", "--format", "json",
         "--cwd", str(repo), "--timeout", "90", "exec", "fix the failing test"],
        env=env, capture_output=True, text=True, timeout=150,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    methods = [m.get("method") for m in lines if "method" in m]
    assert {"initialize", "session/new", "session/prompt"} <= set(methods)
    assert {"fs/read_text_file", "fs/write_text_file", "terminal/create"} <= set(methods)
    assert methods.count("session/request_permission") == 3  # unittest, edit, unittest
    results = [m["result"] for m in lines if isinstance(m.get("result"), dict)]
    assert any(r.get("stopReason") == "end_turn" for r in results)
    assert "return sum(values) / len(values)" in (repo / "stats.py").read_text()
    said = "".join(
        m["params"]["update"]["content"]["text"]
        for m in lines
        if m.get("method") == "session/update"
        and m["params"]["update"]["sessionUpdate"] == "agent_message_chunk"
    )
    assert "All 3 tests pass now." in said
