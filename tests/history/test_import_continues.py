"""An imported Claude Code session continues in bridle against the mock server.

The real Claude Code session fixture (five tool rounds fixing the buggy example)
is imported into bridle's store, then `bridle -p … -r <new id>` resumes it: the
mock sees the whole imported history in the first request (it derives the
scenario turn from the tool rounds it carries) and reports no tool_use /
tool_result pairing violation. `bridle -p … --resume <tool>:<id>` does the import
itself, for a real Claude Code, Codex, Gemini CLI and Copilot CLI session alike."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bridle.history.convert import import_session
from bridle.mock.server import MockServer
from bridle.store.db import open_db

from .helpers import FIXTURES

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "buggy-project"


def _claude_home(tmp_path: Path, tool: str = "claude") -> tuple[Path, dict[str, str]]:
    """A HOME holding the real `tool` session fixture, its project paths moved to a
    fresh copy of the buggy example."""
    repo = tmp_path / "buggy-project"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("scenario.json", "__pycache__"))
    home = tmp_path / "home"
    source = FIXTURES / tool / "real" / "input"
    for src in (p for p in source.rglob("*") if p.is_file()):
        rel = src.relative_to(source)
        dest = home / str(rel).replace(
            "-home-ada-src-buggy-project", "".join(c if c.isalnum() else "-" for c in str(repo))
        )
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(src.read_text().replace("/home/ada/src/buggy-project", str(repo)))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE_", "CODEX_", "GEMINI_", "COPILOT_"))},
        "HOME": str(home),
        "BRIDLE_HISTORY_BACKGROUND": "0",
    }  # fmt: skip
    return repo, env


def test_imported_claude_session_continues_in_bridle(tmp_path: Path) -> None:
    repo, env = _claude_home(tmp_path)
    db = open_db(Path(os.environ["BRIDLE_HOME"]) / "bridle.db")
    new_id = import_session(db, "claude:1d0d0a34", model="mock/anthropic", provider="mock", env=env)
    db.close()

    with MockServer(EXAMPLE / "scenario.json", workdir=repo) as srv:
        done = subprocess.run(
            [sys.executable, "-m", "bridle", "-p", "go on", "-r", new_id, "--model", "mock/anthropic",
             "--max-turns", "1", "--output-format", "json", "--dangerously-skip-permissions"],
            cwd=repo, env={**env, "BRIDLE_MOCK_BASE_URL": srv.base_url},
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        turns = [r.get("turn") for r in srv.requests if not r.get("side")]
        violations = list(srv.violations)
    result = json.loads(done.stdout)
    assert (result["session_id"], result["subtype"]) == (new_id, "success")
    # The five imported tool rounds put the scenario at its final turn.
    assert turns == [5]
    assert violations == []


@pytest.mark.parametrize(
    ("tool", "sid"),
    [
        ("claude", "1d0d0a34"),
        ("codex", "01a233e3"),
        ("gemini", "f02e90f0"),
        ("copilot", "cec10289"),
    ],
)
def test_resume_another_tools_session_with_another_model(
    tmp_path: Path, tool: str, sid: str
) -> None:
    """`bridle -p … --resume <tool>:<id> --model <any>`: think with one model,
    sprint with another. Here the other model speaks the OpenAI chat wire."""
    repo, env = _claude_home(tmp_path, tool)
    with MockServer(EXAMPLE / "scenario.json", workdir=repo) as srv:
        done = subprocess.run(
            [sys.executable, "-m", "bridle", "-p", "go on", "--resume", f"{tool}:{sid}",
             "--model", "mock/openai-chat", "--output-format", "json", "--dangerously-skip-permissions"],
            cwd=repo, env={**env, "BRIDLE_MOCK_BASE_URL": srv.base_url},
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        turns = [r.get("turn") for r in srv.requests if not r.get("side")]
        wires = {r.get("wire") for r in srv.requests if not r.get("side")}
        violations = list(srv.violations)
    result = json.loads(done.stdout)
    assert result["subtype"] == "success" and not result["session_id"].startswith(sid)
    assert turns == [5] and wires == {"openai-chat"} and violations == []
