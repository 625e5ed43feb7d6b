"""Defect 12: a one- or two-word prompt whose first word is close to a subcommand
(`bridle sesions list`) is not sent to a model: on a terminal bridle asks, headless
it refuses with "did you mean" (exit 64). `-p` and real sentences still run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from front_door import bridle, on_terminal, scenario


@pytest.mark.parametrize(
    ("argv", "meant"),
    [
        (["sesions", "list"], "bridle sessions list"),
        (["sessions list"], "bridle sessions list"),
        (["acounts"], "bridle accounts"),
        (["modles"], "bridle models"),
    ],
)
def test_a_mistyped_subcommand_is_refused_without_a_terminal(
    tmp_path: Path, argv: list[str], meant: str
) -> None:
    # A working model is configured: the check comes before any model is called.
    env = {**scenario(tmp_path), "BRIDLE_MODEL": "mock/anthropic"}
    done = bridle(argv, tmp_path, env)
    assert done.returncode == 64, (done.stdout, done.stderr)
    assert f"did you mean `{meant}`" in done.stderr
    assert "hi back" not in done.stdout
    assert not (Path(os.environ["BRIDLE_HOME"]) / "bridle.db").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["fix the tests"],
        ["hello"],
        ["-p", "sesions", "list"],  # -p: the user asked for a prompt run
        ["sesions", "list", "please"],  # three words are a sentence
    ],
)
def test_real_prompts_still_run(tmp_path: Path, argv: list[str]) -> None:
    env = {**scenario(tmp_path), "BRIDLE_MODEL": "mock/anthropic"}
    done = bridle(argv, tmp_path, env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "hi back"


def test_a_mistyped_subcommand_asks_on_a_terminal(tmp_path: Path) -> None:
    env = {**scenario(tmp_path), "BRIDLE_MODEL": "mock/anthropic"}
    yes = on_terminal(["sesions", "list"], tmp_path, "y\n", env)
    assert yes.returncode == 0, yes.stderr
    assert "did you mean `bridle sessions list`? [y/N]" in yes.stderr
    assert "hi back" not in yes.stdout
    no = on_terminal(["sesions", "list"], tmp_path, "n\n", env)
    assert no.returncode == 0, no.stderr
    assert no.stdout.strip() == "hi back"


def test_p_makes_even_a_command_name_a_prompt(tmp_path: Path) -> None:
    env = {**scenario(tmp_path), "BRIDLE_MODEL": "mock/anthropic"}
    done = bridle(["-p", "sessions"], tmp_path, env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "hi back"
    # Without -p the word is the command.
    listed = bridle(["sessions", "list"], tmp_path, env)
    assert listed.returncode == 0, listed.stderr
    assert "hi back" not in listed.stdout
