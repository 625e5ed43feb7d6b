"""Defect 10: `bridle recall` without a terminal (stdin or stdout not a tty) exits
64 naming what to use instead, rather than looping forever writing escape codes."""

from __future__ import annotations

from pathlib import Path

from front_door import bridle, on_terminal


def test_recall_without_a_terminal_refuses(tmp_path: Path) -> None:
    done = bridle(["recall"], tmp_path, stdin=None, timeout=30)
    assert done.returncode == 64
    assert "terminal" in done.stderr
    assert "bridle sessions list" in done.stderr
    assert "\x1b[" not in done.stdout


def test_recall_with_its_output_piped_refuses(tmp_path: Path) -> None:
    done = on_terminal(["recall"], tmp_path, "")
    assert done.returncode == 64
    assert "terminal" in done.stderr
    assert "\x1b[" not in done.stdout
