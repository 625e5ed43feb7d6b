"""Auto memory across real headless runs: the scripted model writes a topic file
and MEMORY.md in the project's memory folder with the Write tool, without a
permission ask (a headless run would deny one), and the next session's system
prompt holds the index's first 200 lines; with CLAUDE_CODE_DISABLE_AUTO_MEMORY=1 the section is
gone and the folder is an ordinary place that needs approval."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bridle.extensions.memory import memory_dir
from bridle.mock.server import MockServer

INDEX_LINE = "- [prefs](prefs.md): the user wants tabs, never spaces"
# An index longer than the 200 lines a session loads.
INDEX = INDEX_LINE + "\n" + "".join(f"- note {i}\n" for i in range(2, 251))


def run(
    repo: Path, env: dict[str, str], turns: list[dict[str, Any]], tmp: Path
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    scenario = tmp / "scenario.json"
    scenario.write_text(json.dumps({"name": "memory", "turns": turns}))
    with MockServer(scenario, workdir=repo, keep_bodies=True) as srv:
        proc = subprocess.run(
            [sys.executable, "-m", "bridle", "-p", "remember: tabs", "--model", "mock/anthropic",
             "--output-format", "json"],
            cwd=repo, env={**env, "BRIDLE_MOCK_BASE_URL": srv.base_url},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        return proc, [r["body"] for r in srv.requests if "body" in r]


def system_text(body: dict[str, Any]) -> str:
    system = body["system"]
    return system if isinstance(system, str) else "".join(b["text"] for b in system)


def test_the_model_keeps_memory_for_the_next_session(tmp_path: Path) -> None:
    repo, home = tmp_path / "repo", tmp_path / "home"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    env = {k: v for k, v in os.environ.items() if k != "BRIDLE_MOCK_SCENARIO"}
    env.update(HOME=str(home), BRIDLE_HOME=str(home / ".bridle"))
    folder = memory_dir(repo, env)
    assert folder.is_relative_to(home / ".bridle" / "projects")

    proc, bodies = run(repo, env, [
        {"op": "write", "path": str(folder / "prefs.md"), "content": "Tabs, never spaces.\n"},
        {"op": "write", "path": str(folder / "MEMORY.md"), "content": INDEX},
        {"op": "final", "text": "saved"},
    ], tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["result"] == "saved" and out["permission_denials"] == []
    assert (folder / "prefs.md").read_text() == "Tabs, never spaces.\n"
    assert (folder / "MEMORY.md").read_text() == INDEX
    first = system_text(bodies[0])
    assert f"You have a persistent memory folder for this project: {folder}/." in first
    assert "It does not exist yet" in first

    proc, bodies = run(repo, env, [{"op": "final", "text": "ok"}], tmp_path)
    assert proc.returncode == 0, proc.stderr
    second = system_text(bodies[0])
    assert f"## Contents of {folder / 'MEMORY.md'}\n{INDEX_LINE}\n- note 2\n" in second
    assert "- note 200\n" in second and "- note 201" not in second
    assert "MEMORY.md has 250 lines; only the part above was loaded" in second

    off = {**env, "CLAUDE_CODE_DISABLE_AUTO_MEMORY": "1"}
    proc, bodies = run(repo, off, [
        {"op": "write", "path": str(folder / "more.md"), "content": "x"},
        {"op": "final", "text": "tried"},
    ], tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert [d["tool_name"] for d in json.loads(proc.stdout)["permission_denials"]] == ["Write"]
    assert not (folder / "more.md").exists()
    assert "# Memory" not in system_text(bodies[0]) and INDEX_LINE not in system_text(bodies[0])
