"""Defect 7: `-word` excludes whole sessions, and a leading `-` word needs no quoting.

An excluded word must drop every session that holds it anywhere, not only the
indexed chunks that hold it (a session's title, each appended batch and each
200k-character slice are chunks of their own). And `bridle sessions search fix
-approach` must read `-approach` as an excluded word, on the Click-free fast
path and in the Click command alike, while `--tool`, `-n 5`, `-n5` and `--help`
keep working and an unknown `--option` stays a usage error.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridle.cli import history_quick as quick
from bridle.history.search import Filters, search

from .helpers import index

PROJECT = "-home-ada-src-alpha"


def claude_line(sid: str, role: str, text: str, n: int) -> str:
    message: dict[str, object] = {"role": role, "content": [{"type": "text", "text": text}]}
    if role == "assistant":
        message["model"] = "claude-opus-4-1"
    return json.dumps(
        {
            "parentUuid": None,
            "isSidechain": False,
            "userType": "external",
            "cwd": "/home/ada/src/alpha",
            "sessionId": sid,
            "version": "2.1.197",
            "gitBranch": "main",
            "type": role,
            "message": message,
            "uuid": f"{sid[:4]}-{n}",
            "timestamp": f"2025-11-0{n}T08:00:00.000Z",
        }
    )


MIXED = "aaaaaaaa-1111-4222-8333-444444444444"  # alpha in one batch, charlie in a later one
CLEAN = "bbbbbbbb-1111-4222-8333-444444444444"  # alpha only


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """Two sessions; MIXED gets its charlie turn in a second batch (a chunk of its own)."""
    project = tmp_path / ".claude" / "projects" / PROJECT
    project.mkdir(parents=True)
    (project / f"{CLEAN}.jsonl").write_text(
        claude_line(CLEAN, "user", "fix the alpha parser", 1)
        + "\n"
        + claude_line(CLEAN, "assistant", "the approach: rewrite the alpha tokenizer", 2)
        + "\n"
    )
    mixed = project / f"{MIXED}.jsonl"
    mixed.write_text(claude_line(MIXED, "user", "fix the alpha build", 3) + "\n")
    index(tmp_path)  # first batch indexed
    with mixed.open("a") as f:
        f.write(claude_line(MIXED, "assistant", "charlie says the build is fine", 4) + "\n")
    index(tmp_path)  # the appended turn is a second chunk
    return tmp_path


def ids(hits: list) -> list[str]:  # type: ignore[type-arg]
    return [h.session.id[:8] for h in hits]


def test_split_query_separates_exclusions() -> None:
    from bridle.history.search import split_query

    assert split_query("alpha -charlie") == ('"alpha"', '"charlie"')
    assert split_query('deploy -staging -"dry run" x*') == (
        '"deploy" "x"*',
        '"staging" OR "dry run"',
    )
    assert split_query("alpha") == ('"alpha"', "")
    assert split_query("-charlie") == ("", '"charlie"')


def test_exclusion_drops_the_whole_session(home: Path) -> None:
    ix, _ = index(home)
    assert sorted(ids(search(ix.db, "alpha"))) == ["aaaaaaaa", "bbbbbbbb"]
    # MIXED holds alpha in chunks without charlie (its title, its first batch).
    assert ids(search(ix.db, "alpha -charlie")) == ["bbbbbbbb"]
    assert ids(search(ix.db, "alpha -charlie -tokenizer")) == []
    assert ids(search(ix.db, 'alpha -"says the build"')) == ["bbbbbbbb"]
    assert ids(search(ix.db, "alpha -nowhere")) != []
    # With a filter (the joined query) too.
    assert ids(search(ix.db, "alpha -charlie", Filters(tool="claude"))) == ["bbbbbbbb"]
    # --role narrows the exclusion too: charlie is MIXED's assistant text, build its prompt.
    assert sorted(ids(search(ix.db, "fix -charlie", Filters(role="user")))) == [
        "aaaaaaaa",
        "bbbbbbbb",
    ]
    assert ids(search(ix.db, "fix -build", Filters(role="user"))) == ["bbbbbbbb"]


def env_for(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CLAUDE_", "CODEX_", "GEMINI_", "COPILOT_"))
    }
    env.update(HOME=str(home), NO_COLOR="1", BRIDLE_HISTORY_BACKGROUND="0")
    return env


def bridle(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridle", *args],
        env=env_for(home),
        capture_output=True,
        text=True,
        timeout=60,
    )


def click_search(home: Path, *args: str) -> tuple[int, str]:
    """The Click command itself (what runs when the fast path steps aside)."""
    from bridle.cli.sessions import sessions

    result = CliRunner().invoke(sessions, ["search", *args], env=env_for(home))
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("args", "found"),
    [
        (["fix", "-approach"], ["aaaaaaaa"]),
        (["fix", "-approach", "--tool", "claude"], ["aaaaaaaa"]),
        (["-approach", "fix", "-n", "5"], ["aaaaaaaa"]),
        (["fix", "-charlie", "-n5"], ["bbbbbbbb"]),
        (["fix", "-nothing-here", "--limit=5"], ["aaaaaaaa", "bbbbbbbb"]),
        (["--", "fix", "-charlie"], ["bbbbbbbb"]),
    ],
)
def test_a_leading_dash_word_is_an_exclusion(home: Path, args: list[str], found: list[str]) -> None:
    out = bridle(home, "sessions", "search", "--json", *args)
    assert out.returncode == 0, out.stderr
    assert sorted(json.loads(x)["id"][:8] for x in out.stdout.splitlines()) == found
    env = {**env_for(home), "BRIDLE_HOME": os.environ["BRIDLE_HOME"]}
    buf = io.StringIO()
    assert quick.run(["--json", *args], env, buf) == 0  # the fast path answers it itself
    assert buf.getvalue() == out.stdout
    code, output = click_search(home, "--json", *args)
    assert code == 0, output
    assert output == out.stdout


def test_real_options_and_errors_still_work(home: Path) -> None:
    code, output = click_search(home, "fix", "-approach", "--bogus")
    assert code == 2 and "No such option '--bogus'" in output
    code, output = click_search(home, "fix", "-n", "zero")
    assert code == 2 and "'zero' is not a valid integer" in output
    code, output = click_search(home, "fix", "-h")
    assert code == 0 and "Full-text search" in output
    out = bridle(home, "sessions", "search", "fix", "--bogus")
    assert out.returncode == 64 and "No such option '--bogus'" in out.stderr
    out = bridle(home, "sessions", "search", "-charlie")
    assert out.returncode == 64 and "give at least one word" in out.stderr
