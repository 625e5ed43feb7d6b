"""`bridle sessions …` end to end, as a user runs it: real process, real files, real SQLite."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bridle.cli import history_quick as quick

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


def test_list_role_keeps_sessions_with_that_kind_of_text(home: Path) -> None:
    out = bridle(home, "sessions", "list", "--role", "tool", "--json")
    assert [json.loads(x)["id"][:8] for x in out.stdout.splitlines()] == [
        "c0ffee00", "3f1c9b2e", "7f3c2a10", "019a2d7a", "aaaabbbb",
    ]  # fmt: skip
    out = bridle(home, "sessions", "list", "--role", "assistant", "--tool", "claude", "--json")
    assert [json.loads(x)["id"][:8] for x in out.stdout.splitlines()] == ["11111111", "7f3c2a10"]


@pytest.mark.parametrize(
    ("args", "found"),
    [
        (
            ["checkout", "--account", "default", "--project", "shop", "--since", "2025-11-01",
             "--until=2025-11-05"],
            ["3f1c9b2e"],
        ),
        (["checkout", "--account=work"], []),
        (["checkout", "--until", "2025-11-01"], []),
        (["checkout", "--project", "/src/api"], []),
        (["gateway", "--since", "2025-11-05"], []),
    ],
)  # fmt: skip
def test_search_filters_from_the_command_line(
    home: Path, args: list[str], found: list[str]
) -> None:
    out = bridle(home, "sessions", "search", "--json", *args)
    assert out.returncode == 0, out.stderr
    assert [json.loads(x)["id"][:8] for x in out.stdout.splitlines()] == found
    buf = io.StringIO()
    env = {**env_for(home), "BRIDLE_HOME": os.environ["BRIDLE_HOME"]}
    assert quick.run(["--json", *args], env, buf) == 0
    assert buf.getvalue() == out.stdout


def test_each_search_first_reads_new_sessions_and_appended_turns(home: Path) -> None:
    """No reindex in between: the search itself picks up what the tools just wrote."""
    assert bridle(home, "sessions", "list").returncode == 0  # first index
    sid = "99999999-2222-4333-8444-555555555555"
    project = home / ".claude" / "projects" / "-home-ada-src-new"
    project.mkdir()
    path = project / f"{sid}.jsonl"

    def line(text: str) -> str:
        rec = {"type": "user", "sessionId": sid, "cwd": "/home/ada/src/new",
               "timestamp": "2025-11-06T10:00:00Z", "message": {"role": "user", "content": text}}  # fmt: skip
        return json.dumps(rec) + "\n"

    path.write_text(line("a brand new session about the narwhal cache"))
    out = bridle(home, "sessions", "search", "narwhal", "--json")
    assert [json.loads(x)["id"] for x in out.stdout.splitlines()] == [sid]
    with open(path, "a") as f:
        f.write(line("and a second turn about the axolotl queue"))
    out = bridle(home, "sessions", "search", "axolotl", "--json")
    assert [(json.loads(x)["id"], json.loads(x)["messages"]) for x in out.stdout.splitlines()] == [
        (sid, 2)
    ]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_appears_only_after_a_moment_and_only_on_a_terminal() -> None:
    from bridle.cli.sessions import _progress_bar

    assert _progress_bar(io.StringIO()) is None
    ticks = iter([0.0, 0.1, 0.7, 0.9])
    term = _Terminal()
    show = _progress_bar(term, clock=lambda: next(ticks))
    show(1 << 20, 4 << 20)  # at 0.1 s: nothing yet
    show(2 << 20, 4 << 20)
    show(4 << 20, 4 << 20)
    assert term.getvalue() == (
        "\rIndexing sessions [###############...............] 2/4 MB"
        "\rIndexing sessions [##############################] 4/4 MB\n"
    )


def test_first_index_reports_its_progress(home: Path) -> None:
    from bridle.history.fresh import Freshness, ensure_fresh
    from bridle.store.db import open_db

    calls: list[tuple[int, int]] = []
    db = open_db(Path(os.environ["BRIDLE_HOME"]) / "bridle.db")
    env = {"HOME": str(home), "BRIDLE_HOME": os.environ["BRIDLE_HOME"]}
    did = ensure_fresh(
        db,
        env,
        Freshness(background=False),
        first_progress=lambda: lambda d, t: calls.append((d, t)),
    )
    total = sum(p.stat().st_size for p in home.rglob("*") if p.is_file() and p.suffix in (".jsonl", ".json") and p.name != "projects.json")  # fmt: skip
    assert did == "first"
    assert len(calls) == 12 and calls[-1][0] == calls[-1][1]  # the last one fills the bar
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert 0 < calls[-1][1] <= total
    assert ensure_fresh(db, env, Freshness(background=False)) == "none"
