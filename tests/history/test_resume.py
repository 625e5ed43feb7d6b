"""Resume: the right command line for each tool, account and directory.

`plan_resume` is checked as a pure function; `bridle sessions resume` is then run
for real with a recording launcher: a stand-in executable for each CLI, found
through BRIDLE_CLI_PATH, that writes down the argv, cwd and environment it was
exec'd with.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bridle.core.errors import UsageError
from bridle.history.resume import plan_resume

from .helpers import FIXTURES, install

ACCESS = {"": "/home/u/.claude", "work": "/b/accounts/work/home/.claude"}


@pytest.mark.parametrize(
    ("tool", "access", "account", "argv", "env"),
    [
        ("claude", ACCESS, None, ["claude", "--resume", "S1"], {}),
        (
            "claude",
            ACCESS,
            "work",
            ["claude", "--resume", "S1"],
            {"CLAUDE_CONFIG_DIR": "/b/accounts/work/home/.claude"},
        ),
        ("codex", {"": "/home/u/.codex"}, None, ["codex", "resume", "S1"], {}),
        (
            "codex",
            {"ci": "/b/accounts/ci/home/.codex"},
            None,
            ["codex", "resume", "S1"],
            {"CODEX_HOME": "/b/accounts/ci/home/.codex"},
        ),
        (
            "gemini",
            {"g": "/b/accounts/g/home/.gemini"},
            "g",
            ["gemini", "--resume", "S1"],
            {"GEMINI_CLI_HOME": "/b/accounts/g/home"},
        ),
        ("copilot", {"": "/home/u/.copilot"}, None, ["copilot", "--resume=S1"], {}),
        ("bridle", {"": ""}, None, ["bridle", "--resume", "S1"], {}),
        ("bridle", {"team": ""}, "team", ["bridle", "--resume", "S1", "--account", "team"], {}),
    ],
)
def test_plan_for_each_tool(
    tool: str, access: dict[str, str], account: str | None, argv: list[str], env: dict[str, str]
) -> None:
    plan = plan_resume(tool, "S1", "/proj", access, account=account, is_dir=lambda p: True)
    assert (plan.argv, plan.cwd, plan.env, plan.notice) == (argv, "/proj", env, None)


def test_missing_directory_gives_a_notice() -> None:
    plan = plan_resume("claude", "S1", "/gone", ACCESS, is_dir=lambda p: False)
    assert plan.cwd is None
    assert plan.notice == (
        "the session's directory /gone no longer exists; starting in the current directory"
        " (claude keeps sessions per directory, so it may not find this one)"
    )


def test_account_that_cannot_see_the_session_is_refused() -> None:
    with pytest.raises(
        UsageError, match=r"cannot see this claude session \(accounts that can: default, work\)"
    ):
        plan_resume("claude", "S1", "/proj", ACCESS, account="other")


RECORDER = """#!{python}
import json, os, sys
with open(os.environ["RECORD_FILE"], "w") as f:
    json.dump({{"argv": sys.argv[1:], "cwd": os.getcwd(),
               "env": {{k: v for k, v in os.environ.items() if k in
                       ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_CLI_HOME", "COPILOT_HOME", "CLAUDECODE")}}}}, f)
"""


@pytest.mark.parametrize(
    ("tool", "ref", "argv"),
    [
        ("claude", "7f3c2a10", ["--resume", "7f3c2a10-5b6d-4e8f-9a01-23456789abcd"]),
        ("codex", "019a2d7a", ["resume", "019a2d7a-41c4-78b1-b7cc-a45d62a89cd5"]),
        ("gemini", "3f1c9b2e", ["--resume", "3f1c9b2e-8d7a-4c6b-9e5f-0a1b2c3d4e5f"]),
        ("copilot", "c0ffee00", ["--resume=c0ffee00-1234-4abc-8def-0123456789ab"]),
    ],
)
def test_resume_execs_the_tool_in_the_session_directory(
    tmp_path: Path, tool: str, ref: str, argv: list[str]
) -> None:
    home = tmp_path / "home"
    install(FIXTURES / tool / "basic", home)
    # The sessions' directories exist on this machine.
    project = {
        "claude": "/home/ada/src/parser",
        "codex": "/home/ada/src/api",
        "gemini": "/home/ada/src/shop",
        "copilot": "/home/ada/src/cli",
    }[tool]
    real_dir = tmp_path / "project"
    real_dir.mkdir()
    for p in home.rglob("*"):
        if p.is_file():
            p.write_text(p.read_text().replace(project, str(real_dir)))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / tool
    script.write_text(RECORDER.format(python=sys.executable))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    record = tmp_path / "record.json"
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CLAUDE_", "CODEX_", "GEMINI_", "COPILOT_"))
        },
        "HOME": str(home),
        "BRIDLE_CLI_PATH": str(bin_dir),
        "RECORD_FILE": str(record),
        "BRIDLE_HISTORY_BACKGROUND": "0",
        "CLAUDECODE": "1",  # inherited from a parent Claude Code session: must not leak
    }
    done = subprocess.run(
        [sys.executable, "-m", "bridle", "sessions", "resume", ref],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(record.read_text()) == {"argv": argv, "cwd": str(real_dir), "env": {}}


def test_resume_under_an_account_selects_its_config_dir(tmp_path: Path) -> None:
    home = tmp_path / "home"
    install(FIXTURES / "claude" / "basic", home)
    work = Path(os.environ["BRIDLE_HOME"]) / "accounts" / "work" / "home" / ".claude"
    work.mkdir(parents=True)
    (work / "projects").symlink_to(home / ".claude" / "projects")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "claude").write_text(RECORDER.format(python=sys.executable))
    (bin_dir / "claude").chmod(0o755)
    record = tmp_path / "record.json"
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CLAUDE_", "CODEX_", "GEMINI_", "COPILOT_"))
        },
        "HOME": str(home),
        "BRIDLE_CLI_PATH": str(bin_dir),
        "RECORD_FILE": str(record),
        "BRIDLE_HISTORY_BACKGROUND": "0",
    }
    argv = [sys.executable, "-m", "bridle", "sessions", "resume", "11111111", "--account", "work"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        "bridle: the session's directory /home/ada/src/web no longer exists; starting in the current"
        " directory (claude keeps sessions per directory, so it may not find this one)\n"
    )
    assert json.loads(record.read_text()) == {
        "argv": ["--resume", "11111111-2222-4333-8444-555555555555"],
        "cwd": os.getcwd(),
        "env": {"CLAUDE_CONFIG_DIR": str(work)},
    }
    refused = subprocess.run(
        [*argv[:-1], "nobody"], env=env, capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 64 and "cannot see this claude session" in refused.stderr
