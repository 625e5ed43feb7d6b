"""Defect 9 (export part): `sessions export -o` into a place bridle cannot write.

The real CLI in a subprocess: exit 64, a message naming the file, the reason
and the fix, no traceback, and no temp file left behind. A parent path that is
a file stops root as well; a read-only directory is run as root in a user
namespace (`unshare -U`), where mode 555 holds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import FIXTURES, install


def env_for(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CLAUDE_", "CODEX_", "GEMINI_", "COPILOT_"))
    }
    env.update(HOME=str(home), NO_COLOR="1", BRIDLE_HISTORY_BACKGROUND="0")
    return env


def export(
    home: Path, target: Path, *, unprivileged: bool = False
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "bridle", "sessions", "export", "c0ffee00", "-o", str(target)]
    if unprivileged and os.geteuid() == 0:
        argv = ["unshare", "-U", *argv]
    return subprocess.run(argv, env=env_for(home), capture_output=True, text=True, timeout=60)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    install(FIXTURES / "copilot" / "basic", tmp_path)
    return tmp_path


def assert_refused(out: subprocess.CompletedProcess[str], target: Path, reason: str) -> None:
    assert out.returncode == 64, out.stderr
    assert "Traceback" not in out.stderr, out.stderr
    assert f"cannot write {target}" in out.stderr and reason in out.stderr
    assert "-o" in out.stderr  # the fix: another -o, or none to print


def test_export_under_a_file_is_refused(home: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine\n")
    target = blocker / "out.md"
    out = export(home, target)
    assert_refused(out, target, "Not a directory")
    assert blocker.read_text() == "mine\n"


def _can_drop_root() -> bool:
    if os.geteuid() != 0:
        return True
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-U", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(
    not _can_drop_root(), reason="running as root without user namespaces: chmod does not stop root"
)
def test_export_into_a_read_only_directory_is_refused(home: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    assert export(home, tmp_path / "warm.md").returncode == 0  # index built
    out_dir.chmod(0o555)
    try:
        target = out_dir / "out.md"
        out = export(home, target, unprivileged=True)
        assert_refused(out, target, "Permission denied")
        assert list(out_dir.iterdir()) == []  # no temp file left
    finally:
        out_dir.chmod(0o755)
