"""Defect 14: an unknown model and a missing key are usage errors (exit 64), as
the README's exit-code table says."""

from __future__ import annotations

from pathlib import Path

from front_door import bridle


def test_an_unknown_model_is_a_usage_error(tmp_path: Path) -> None:
    done = bridle(["-p", "hi", "--model", "nosuch/model"], tmp_path)
    assert done.returncode == 64
    assert "unknown model 'nosuch/model'" in done.stderr


def test_a_missing_key_is_a_usage_error(tmp_path: Path) -> None:
    done = bridle(["-p", "hi", "--model", "anthropic/claude-sonnet-4-5"], tmp_path)
    assert done.returncode == 64
    assert "ANTHROPIC_API_KEY" in done.stderr
