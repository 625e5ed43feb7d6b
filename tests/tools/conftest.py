"""Shared fixtures for the tool tests: a ToolContext rooted in a temp git repo, and
`alive`, whether a process the test started still runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridle.tools.base import ToolContext


@pytest.fixture
def ctx(project: Path, tmp_path: Path) -> ToolContext:
    return ToolContext(cwd=project, output_dir=tmp_path / "tool-output")


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (`/proc/PID/stat`'s state)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
