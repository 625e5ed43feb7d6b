"""Fixtures for the accounts tests: the real HOME and BRIDLE_HOME the suite-wide
conftest made, an `Accounts` context on them, a CLI runner that runs `python -m
bridle` as a user would, and a snapshot of every file under a directory (to prove
that nothing was lost)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bridle.accounts.runner import Accounts


@pytest.fixture
def home() -> Path:
    return Path(os.environ["HOME"])


@pytest.fixture
def ctx(home: Path) -> Accounts:
    return Accounts(os.environ, home)


@pytest.fixture
def bridle(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(
        *args: str,
        input: str | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bridle", *args],
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            cwd=cwd or tmp_path,
            timeout=120,
        )

    return run
