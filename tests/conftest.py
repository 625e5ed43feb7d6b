"""Test-suite guards: every test gets temp `HOME`/`BRIDLE_HOME`, and no test may
open a network connection outside loopback (the suite never reaches a real
provider). Shared helpers for the real CLIs live in `tests/realcli/harness.py`."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_local(address: object) -> bool:
    if isinstance(address, str | bytes):  # AF_UNIX path
        return True
    if isinstance(address, tuple) and address:
        host = address[0]
        if host in ("localhost", ""):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return False


def _guarded_connect(self: socket.socket, address: object) -> None:
    if not _is_local(address):
        raise ConnectionRefusedError(f"network is off in tests (tried {address!r})")
    return _real_connect(self, address)  # type: ignore[arg-type]


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    if not _is_local(address):
        raise ConnectionRefusedError(f"network is off in tests (tried {address!r})")
    return _real_connect_ex(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("BRIDLE_HOME", str(home / ".bridle"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    # Test projects run Python (the example's unittest) without .gitignore files:
    # no __pycache__ may appear in their diffs and commits, whatever the shell sets.
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    # Provider keys and base URLs from the developer's shell must not leak in.
    for name in list(os.environ):
        if name.endswith(("_API_KEY", "_BASE_URL")) or name in (
            "ALTLLM",
            "BRIDLE_MODEL",
            "BRIDLE_ACCOUNT",
            "BRIDLE_DAEMON_TOKEN",
        ):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    yield


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty git repository to work in."""
    import subprocess

    repo = tmp_path / "project"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "config", "user.email", "t@example.com"], check=True)
    subprocess.run(["git", "-C", str(repo), "config", "user.name", "Test"], check=True)
    return repo
