"""Start-up's collector hold: `begin` raises the young generation's threshold while
bridle loads and `done` restores it (once, whoever calls it); a real headless run
has the default thresholds back by the time the model is called."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridle.core import startup

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clean_gc(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, ...]]:
    before = gc.get_threshold()
    monkeypatch.setattr(startup, "_saved", None)
    monkeypatch.setattr("bridle.core.pycache.install", lambda path=None: None)
    yield before
    gc.set_threshold(*before)
    gc.unfreeze()


def test_begin_holds_the_collector_back_and_done_restores_it(clean_gc: tuple[int, ...]) -> None:
    startup.begin()
    assert gc.get_threshold() == (startup.LOADING_THRESHOLD, *clean_gc[1:])
    startup.begin()  # a second begin keeps the first one's saved thresholds
    frozen = gc.get_freeze_count()
    startup.done()
    assert gc.get_threshold() == clean_gc
    assert gc.get_freeze_count() >= frozen
    startup.done()  # and a second done changes nothing
    assert gc.get_threshold() == clean_gc


def test_done_without_begin_changes_nothing(clean_gc: tuple[int, ...]) -> None:
    gc.set_threshold(1234, 5, 6)
    startup.done()
    assert gc.get_threshold() == (1234, 5, 6)


def test_a_headless_run_calls_the_model_with_the_default_thresholds(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    example = ROOT / "examples" / "buggy-project"
    for name in ("stats.py", "test_stats.py"):
        (repo / name).write_bytes((example / name).read_bytes())
    seen = tmp_path / "thresholds.json"
    code = (
        "import gc, json, runpy, sys\n"
        "import bridle.wire.client as c\n"
        "orig = c.ModelClient.stream\n"
        "def stream(self, req):\n"
        f"    open({str(seen)!r}, 'a').write(json.dumps(gc.get_threshold()) + '\\n')\n"
        "    return orig(self, req)\n"
        "c.ModelClient.stream = stream\n"
        "sys.argv = ['bridle', '-p', 'fix the bug', '--model', 'mock/anthropic',"
        " '--dangerously-skip-permissions']\n"
        "runpy.run_module('bridle', run_name='__main__', alter_sys=True)\n"
    )
    env = {**os.environ, "BRIDLE_MOCK_SCENARIO": str(example / "scenario.json")}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    calls = [tuple(json.loads(line)) for line in seen.read_text().splitlines()]
    assert calls and set(calls) == {(700, 10, 10)}  # CPython's default
