"""Bash: merged output, exit codes, process-group kill on timeout and cancel,
secret scrubbing, cwd persistence inside the project, and output capping."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from bridle.core.errors import ToolError
from bridle.tools.base import ToolContext
from bridle.tools.bash import Bash
from tests.tools.conftest import alive


def run(ctx: ToolContext, command: str, **kw: object) -> tuple[str, bool]:
    out = Bash().run({"command": command, **kw}, ctx)
    return out.content[0].text, out.is_error


def wait_dead(pid: int) -> bool:
    # The orphan is reaped by init asynchronously; wait for that, not for a time.
    for _ in range(200):
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_output_is_merged_in_order_with_exit_code(ctx: ToolContext) -> None:
    text, is_error = run(ctx, "echo out1; echo err1 >&2; echo out2; exit 3")
    assert (text, is_error) == ("out1\nerr1\nout2\n[exit code 3]", False)
    assert run(ctx, "true") == ("(no output)", False)
    assert ctx.output_dir is not None and list(ctx.output_dir.iterdir()) == []


def test_stdin_is_dev_null(ctx: ToolContext) -> None:
    assert run(ctx, "cat; echo done") == ("done", False)


def test_syntax_errors_are_reported_not_swallowed(ctx: ToolContext) -> None:
    text, _ = run(ctx, "echo 'unclosed")
    assert "unexpected EOF" in text and text.endswith("[exit code 2]")
    with pytest.raises(ToolError, match=r"command is empty"):
        run(ctx, "  ")


def test_timeout_kills_the_whole_process_group(ctx: ToolContext, project: Path) -> None:
    command = "bash -c 'sleep 300 & echo $! > grandchild.pid; wait' & echo $! > child.pid; wait"
    text, is_error = run(ctx, command, timeout=1500)
    assert is_error
    assert (
        text == "(no output)\n[timed out after 1500 ms; the command and its children were killed]"
    )
    for name in ("child.pid", "grandchild.pid"):
        pid = int((project / name).read_text())
        assert wait_dead(pid), f"{name} {pid} survived the timeout"


def test_cancel_event_kills_the_group(ctx: ToolContext, project: Path) -> None:
    ctx.cancel = threading.Event()
    timer = threading.Timer(0.5, ctx.cancel.set)
    timer.start()
    text, is_error = run(ctx, "sleep 300 & echo $! > bg.pid; wait")
    timer.join()
    assert is_error and text.endswith("[interrupted; the command and its children were killed]")
    assert wait_dead(int((project / "bg.pid").read_text()))


def test_secrets_are_scrubbed_unless_allowed(ctx: ToolContext) -> None:
    ctx.env = {
        "PATH": os.environ["PATH"],
        "OPENAI_API_KEY": "sk-1",
        "GITHUB_TOKEN": "gh-1",
        "AWS_SECRET_ACCESS_KEY": "aws",
        "DB_PASSWORD": "pw",
        "GOOGLE_APPLICATION_CREDENTIALS": "/c.json",
        "NPM_TOKEN": "npm",
        "VISIBLE": "yes",
    }
    ctx.env_allow = ["NPM_TOKEN"]
    text, _ = run(ctx, "env | grep -v '^PWD=\\|^SHLVL=\\|^_=\\|^OLDPWD=\\|^PATH=' | sort")
    assert text == "NPM_TOKEN=npm\nVISIBLE=yes"


def test_cwd_persists_inside_the_project_and_resets_outside(
    ctx: ToolContext, project: Path
) -> None:
    (project / "sub" / "deeper").mkdir(parents=True)
    assert run(ctx, "cd sub/deeper") == ("(no output)", False)
    assert ctx.shell_cwd == project / "sub" / "deeper"
    assert run(ctx, "pwd") == (str((project / "sub" / "deeper").resolve()), False)
    text, _ = run(ctx, "cd / && echo moved")
    assert text == f"moved\n[cwd / is outside the project; the shell was reset to {project}]"
    assert ctx.shell_cwd == project
    assert run(ctx, "pwd") == (str(project.resolve()), False)


def test_a_vanished_cwd_falls_back_to_the_project(ctx: ToolContext, project: Path) -> None:
    (project / "gone").mkdir()
    run(ctx, "cd gone")
    (project / "gone").rmdir()
    text, _ = run(ctx, "pwd")
    assert (
        text
        == f"{project.resolve()}\n[previous directory {project / 'gone'} is gone; ran in {project}]"
    )


def test_large_output_is_capped_and_saved(ctx: ToolContext) -> None:
    text, _ = run(ctx, "seq 1 20000")
    assert len(text) < 31_000
    assert text.startswith("1\n2\n3\n") and text.endswith("\n19999\n20000")
    saved = text.split("saved to ", 1)[1].split(" — ", 1)[0]
    assert Path(saved).read_text() == "".join(f"{i}\n" for i in range(1, 20001))
    assert Path(saved).parent == ctx.output_dir
