"""Fixtures for the accounts tests: the real HOME and BRIDLE_HOME the suite-wide
conftest made, an `Accounts` context on them, a CLI runner that runs `python -m
bridle` as a user would, and a snapshot of every file under a directory (to prove
that nothing was lost)."""

from __future__ import annotations

import hashlib
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


def snapshot(root: Path) -> dict[str, str]:
    """relative path -> sha256 (files) or 'link:<target>' (symlinks), not following links."""
    out: dict[str, str] = {}
    for parent, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(parent) / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = "link:" + os.readlink(path)
            elif path.is_file():
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def contents(root: Path) -> set[bytes]:
    """Every regular file's bytes under `root` (links not followed)."""
    found = set()
    for parent, _dirs, files in os.walk(root):
        for name in files:
            path = Path(parent) / name
            if not path.is_symlink():
                found.add(path.read_bytes())
    return found


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
