"""Defect 3: `bridle -r ID` / `-c` without a prompt, `sessions resume` of a bridle
session and the `sessions import` hint say how to give the prompt (exit 64)
instead of printing the help and exiting 0; bare `bridle` without a terminal says
to run headless with -p (exit 64)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from front_door import CLAUDE_FIXTURE, bridle, first_session, on_terminal, scenario


def test_resume_without_a_prompt_says_how_to_give_one(tmp_path: Path) -> None:
    sid = first_session(tmp_path)
    for stdin in ("", None):  # an empty pipe, /dev/null
        done = bridle(["-r", sid[:8]], tmp_path, stdin=stdin)
        assert done.returncode == 64, done.stdout
        assert "Usage:" not in done.stdout
        assert f'bridle -r {sid[:8]} -p "' in done.stderr
        assert "hello there friend" in done.stderr  # the session's title


def test_resume_without_a_prompt_on_a_terminal_refuses_too(tmp_path: Path) -> None:
    sid = first_session(tmp_path)
    done = on_terminal(["--resume", sid], tmp_path, "")
    assert done.returncode == 64
    assert f'bridle -r {sid[:8]} -p "' in done.stderr


def test_continue_without_a_prompt_says_how_to_give_one(tmp_path: Path) -> None:
    first_session(tmp_path)
    done = bridle(["-c"], tmp_path)
    assert done.returncode == 64
    assert 'bridle -c -p "' in done.stderr
    assert "hello there friend" in done.stderr


def test_resume_of_an_unknown_id_without_a_prompt_names_the_id(tmp_path: Path) -> None:
    done = bridle(["-r", "nosuchid"], tmp_path)
    assert done.returncode == 64
    assert "no session matches 'nosuchid'" in done.stderr


def test_resume_with_the_prompt_on_stdin_runs(tmp_path: Path) -> None:
    sid = first_session(tmp_path)
    done = bridle(
        ["-r", sid, "--output-format", "json"], tmp_path, scenario(tmp_path, "again"), "go on"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["session_id"] == sid


def test_bare_bridle_without_a_terminal_says_to_use_p(tmp_path: Path) -> None:
    # On a terminal `bridle` opens the interactive app; from a pipe there is
    # nothing to run, so it says how to run headless (and `--help` still helps).
    for stdin in ("", None):
        done = bridle([], tmp_path, stdin=stdin)
        assert done.returncode == 64
        assert "needs a terminal" in done.stderr
        assert 'bridle -p "' in done.stderr
    assert bridle(["--help"], tmp_path).stdout.startswith("Usage: bridle")


def test_sessions_resume_of_a_bridle_session_gives_the_guidance(tmp_path: Path) -> None:
    sid = first_session(tmp_path)
    done = bridle(["sessions", "resume", sid[:8]], tmp_path)
    assert done.returncode == 64, (done.stdout, done.stderr)
    assert "Usage:" not in done.stdout
    assert f'bridle -r {sid[:8]} -p "' in done.stderr


def test_sessions_import_hint_gives_a_prompt(tmp_path: Path) -> None:
    home = Path(os.environ["HOME"])
    shutil.copytree(CLAUDE_FIXTURE, home, dirs_exist_ok=True)
    done = bridle(
        ["sessions", "import", "claude:1d0d0a34"], tmp_path, {"BRIDLE_HISTORY_BACKGROUND": "0"}
    )
    assert done.returncode == 0, done.stderr
    new_id = done.stdout.strip()
    assert f'bridle -r {new_id[:8]} -p "' in done.stderr
