"""`bridle sessions …` end to end, as a user runs it: real process, real files, real SQLite."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bridle.history import quick

from .helpers import FIXTURES, install


@pytest.fixture
def home(tmp_path: Path) -> Path:
    for tool in ("claude", "codex", "gemini", "copilot"):
        install(FIXTURES / tool / "basic", tmp_path)
    return tmp_path


def env_for(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CLAUDE_", "CODEX_", "GEMINI_", "COPILOT_"))
    }
    env.update(HOME=str(home), NO_COLOR="1", BRIDLE_HISTORY_BACKGROUND="0")
    return env


def bridle(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridle", *args],
        env=env or env_for(home),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_search_json_lines(home: Path) -> None:
    out = bridle(home, "sessions", "search", "gateway", "--json")
    assert out.returncode == 0, out.stderr
    assert [json.loads(line) for line in out.stdout.splitlines()] == [
        {
            "tool": "gemini",
            "id": "3f1c9b2e-8d7a-4c6b-9e5f-0a1b2c3d4e5f",
            "title": "Checkout 502 from payment gateway",
            "cwd": "/home/ada/src/shop",
            "branch": None,
            "model": "gemini-2.5-pro",
            "created": 1762257600.0,
            "updated": 1762257640.0,
            "messages": 4,
            "starred": False,
            "accounts": [""],
            "snippet": "Checkout 502 from payment «gateway»",
            "score": -3.1922,
        }
    ]


def test_search_text_output_and_no_match(home: Path) -> None:
    out = bridle(home, "sessions", "search", "shlex", "--tool", "claude")
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    assert lines[0].split()[:2] == ["claude", "7f3c2a10"]
    assert "«shlex»" in lines[1]
    miss = bridle(home, "sessions", "search", "nonexistentword")
    assert (miss.returncode, miss.stdout, miss.stderr) == (
        0,
        "",
        "No session matches 'nonexistentword'.\n",
    )


def test_usage_errors_exit_64(home: Path) -> None:
    out = bridle(home, "sessions", "search", "--", "***")
    assert out.returncode == 64 and "give at least one word" in out.stderr
    out = bridle(home, "sessions", "list", "--since", "yesterday-ish")
    assert out.returncode == 64 and "use 3d, 12h, 2w or a date" in out.stderr
    out = bridle(home, "sessions", "show", "nope")
    assert out.returncode == 64 and "no session 'nope'" in out.stderr


def test_list_filters_and_stars(home: Path) -> None:
    out = bridle(home, "sessions", "list", "--json", "--tool", "codex")
    assert [json.loads(x)["id"][:8] for x in out.stdout.splitlines()] == ["019a2d7a", "5973b6c0"]
    assert bridle(home, "sessions", "star", "codex:5973").stdout == (
        "starred codex:5973b6c0-94b8-487b-a530-2aeb6098ae0e\n"
    )
    out = bridle(home, "sessions", "list", "--starred", "--json")
    assert [json.loads(x)["id"][:8] for x in out.stdout.splitlines()] == ["5973b6c0"]
    bridle(home, "sessions", "unstar", "5973b6c0")
    assert bridle(home, "sessions", "list", "--starred").stdout == ""


def test_show_and_export(home: Path, tmp_path: Path) -> None:
    out = bridle(home, "sessions", "show", "c0ffee00", "--json")
    doc = json.loads(out.stdout)
    assert doc["title"] == "Homebrew install docs"
    assert doc["entries"][0] == {
        "role": "user",
        "text": "Update the README install section for Homebrew",
        "ts": 1762351205.0,
    }
    target = tmp_path / "out.md"
    assert bridle(home, "sessions", "export", "c0ffee00", "-o", str(target)).returncode == 0
    text = target.read_text()
    assert text.startswith("# Homebrew install docs\n\n- tool: copilot\n")
    assert "```\nbash command: brew info ada-cli\ndescription: check formula\n```" in text
    again = bridle(home, "sessions", "export", "c0ffee00", "-o", str(target))
    assert again.returncode == 64 and "exists" in again.stderr


def test_quick_path_prints_what_the_click_command_prints(home: Path) -> None:
    bridle(home, "sessions", "list")  # builds the index
    for args in (
        ["gateway"],
        ["checkout", "--json", "--tool=gemini"],
        ["quoting", "-n", "1"],
        ["brew", "--role", "tool"],
    ):
        slow = bridle(home, "sessions", "search", *args)
        buf = io.StringIO()
        env = {**env_for(home), "BRIDLE_HOME": os.environ["BRIDLE_HOME"]}
        assert quick.run(args, env, buf) == 0
        assert buf.getvalue() == slow.stdout


@pytest.mark.parametrize(
    "args", [["--help"], ["x", "--tool", "vim"], ["x", "--bogus"], ["x", "--limit"]]
)
def test_quick_path_leaves_the_rest_to_click(home: Path, args: list[str]) -> None:
    bridle(home, "sessions", "list")
    env = {**env_for(home), "BRIDLE_HOME": os.environ["BRIDLE_HOME"]}
    assert quick.run(args, env, io.StringIO()) is None


def test_reindex_full_rebuilds(home: Path) -> None:
    bridle(home, "sessions", "list")
    out = bridle(home, "sessions", "reindex", "--full")
    assert out.returncode == 0
    assert out.stderr.startswith("11 files, 11 read")


def test_quick_path_hands_a_foreign_database_to_click(home: Path) -> None:
    db = Path(os.environ["BRIDLE_HOME"]) / "bridle.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    db.write_text("not a database\n")
    env = {**env_for(home), "BRIDLE_HOME": os.environ["BRIDLE_HOME"]}
    assert quick.run(["gateway"], env, io.StringIO()) is None
    out = bridle(home, "sessions", "search", "gateway")
    assert out.returncode != 0 and "bridle.db" in out.stderr
    assert db.read_text() == "not a database\n"  # untouched
