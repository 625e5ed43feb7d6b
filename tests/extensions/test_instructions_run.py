"""Instruction files in a real headless run (`python -m bridle -p` against the mock
model): the first request's system prompt holds every kind of file in order (the
managed one through `$BRIDLE_MANAGED_CLAUDE_MD`), imports stop after four hops,
AGENTS.override.md wins and the AGENTS chain is cut at 32 KiB; reading a file a
`paths:` rule names puts that rule into the tool result the next request sends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bridle.mock.server import MockServer
from tests.extensions.test_instructions import tree


def system_text(body: dict[str, Any]) -> str:
    system = body["system"]
    return system if isinstance(system, str) else "".join(b["text"] for b in system)


def test_the_cascade_reaches_the_model(tmp_path: Path) -> None:
    t = tree(tmp_path)
    (t["app"] / "tool.py").write_text("print('hi')\n")
    scenario = tmp_path / "scenario.json"
    turns = [{"op": "read", "path": "tool.py"}, {"op": "final", "text": "done"}]
    scenario.write_text(json.dumps({"name": "instructions", "turns": turns}))
    env = dict(os.environ)
    env.pop("BRIDLE_MOCK_SCENARIO", None)
    with MockServer(scenario, workdir=t["app"], keep_bodies=True) as srv:
        env.update(
            HOME=str(t["home"]), BRIDLE_HOME=str(t["home"] / ".bridle"),
            BRIDLE_MANAGED_CLAUDE_MD=str(t["managed"]), BRIDLE_MOCK_BASE_URL=srv.base_url,
        )  # fmt: skip
        proc = subprocess.run(
            [sys.executable, "-m", "bridle", "-p", "look", "--model", "mock/anthropic",
             "--output-format", "json"],
            cwd=t["app"], env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        bodies = [r["body"] for r in srv.requests if "body" in r]
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["result"] == "done"
    first, second = bodies
    system = system_text(first)
    order = [
        "MANAGED rule", "USER rule", "USER-RULE always", "BRIDLE-USER rule", "ABOVE-REPO claude",
        "ROOT rule", "HOP1", "HOP2", "HOP3", "HOP4", "DOT-CLAUDE rule", "PROJECT-RULE always",
        "LOCAL rule", "OVERRIDE wins", "GEMINI rule", "PKG rule", "PKG-AGENTS",
    ]  # fmt: skip
    assert [system.index(s) for s in order] == sorted(system.index(s) for s in order)
    for absent in ("HOP5", "SPAN", "BLOCK", "PLAIN-AGENTS", "ABOVE-REPO agents", "PYTHON-RULE"):
        assert absent not in system
    assert system.count("ROOT rule") == 1
    assert "cut at 32 KiB for AGENTS files in all" in system
    assert "y" * (33 * 1024) not in system
    assert f"Contents of {t['managed']} (managed instructions" in system
    # The Read brought the Python rule in; the model sees it with the file.
    results = [
        b for m in second["messages"] if isinstance(m["content"], list) for b in m["content"]
        if b.get("type") == "tool_result"
    ]  # fmt: skip
    text = json.dumps(results)
    assert "print('hi')" in text and "PYTHON-RULE" in text
    assert "project rule for files matching pkg/**/*.{py,pyi}" in text
    assert "PYTHON-RULE" not in system_text(second)


def test_the_session_lists_its_files_and_reports_new_ones(tmp_path: Path) -> None:
    """`OpenSession.instruction_files` (the InstructionsLoaded data) holds the
    start-up files, then the rule a Read brought in; `on_load` hears about it."""
    from bridle.engine import events as ev
    from bridle.engine.options import SessionOptions
    from bridle.engine.setup import open_session

    t = tree(tmp_path)
    (t["app"] / "tool.py").write_text("x = 1\n")
    scenario = tmp_path / "scenario.json"
    turns = [{"op": "read", "path": "tool.py"}, {"op": "final", "text": "done"}]
    scenario.write_text(json.dumps({"name": "instructions", "turns": turns}))
    with MockServer(scenario, workdir=t["app"]) as srv:
        env = {
            **os.environ, "HOME": str(t["home"]), "BRIDLE_HOME": str(t["home"] / ".bridle"),
            "BRIDLE_MANAGED_CLAUDE_MD": str(t["managed"]), "BRIDLE_MOCK_BASE_URL": srv.base_url,
        }  # fmt: skip
        session = open_session(SessionOptions(model="mock/anthropic", headless=True), t["app"], env)
        try:
            start = [(Path(f.file_path).name, f.load_reason) for f in session.instruction_files]
            heard: list[str] = []
            session.engine.dispatcher.instructions.on_load = lambda files: heard.extend(
                f"{Path(f.file_path).name}:{f.load_reason}" for f in files
            )
            events = list(session.engine.send(ev.UserTurn("look")))
            after = session.instruction_files
        finally:
            session.close()
    assert start[0] == ("CLAUDE.md", "session_start")  # the managed file comes first
    assert ("hop4.md", "include") in start and ("py.md", "path_glob_match") not in start
    assert isinstance(events[-1], ev.TurnResult)
    assert heard == ["py.md:path_glob_match"]
    assert after[-1].hook_fields() == {
        "file_path": str(t["repo"] / ".claude/rules/py.md"), "memory_type": "Project",
        "load_reason": "path_glob_match", "globs": ["pkg/**/*.{py,pyi}"],
        "trigger_file_path": str(t["app"] / "tool.py"), "parent_file_path": None,
    }  # fmt: skip
