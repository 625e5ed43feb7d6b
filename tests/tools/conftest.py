"""Shared fixtures for the tool tests: a ToolContext rooted in a temp git repo."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridle.tools.base import ToolContext


@pytest.fixture
def ctx(project: Path, tmp_path: Path) -> ToolContext:
    return ToolContext(cwd=project, output_dir=tmp_path / "tool-output")
