"""A Ctrl-C or SIGTERM that lands while a tool starts its child process: the
exception waits until the child is held, then the child's whole group is killed
and the exception goes on. Real signals, real processes (`sleep` in a shell)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bridle.tools import _process
from bridle.tools.interrupts import deliver, held
from tests.tools.conftest import alive


class Stop(Exception):
    pass


@pytest.fixture
def raising_sigterm() -> Iterator[None]:
    old = signal.signal(signal.SIGTERM, lambda s, f: deliver(Stop()))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def test_deliver_raises_at_once_outside_a_held_block() -> None:
    with pytest.raises(Stop):
        deliver(Stop())


def test_a_held_block_raises_the_first_signal_when_it_ends(raising_sigterm: None) -> None:
    reached = []
    with pytest.raises(Stop), held():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)  # the handler has run: it only noted the signal
        reached.append("end of block")
    assert reached == ["end of block"]
    with pytest.raises(Stop):
        os.kill(os.getpid(), signal.SIGTERM)  # nothing held now: raised at once
        time.sleep(1)


def test_a_held_block_in_another_thread_does_not_hold_signals(raising_sigterm: None) -> None:
    inside, leave = threading.Event(), threading.Event()

    def worker() -> None:
        with held():
            inside.set()
            leave.wait(5)

    t = threading.Thread(target=worker)
    t.start()
    inside.wait(5)
    try:
        with pytest.raises(Stop):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
    finally:
        leave.set()
        t.join()


def test_a_signal_while_the_child_starts_still_kills_its_group(
    raising_sigterm: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[int] = []
    real = subprocess.Popen

    def popen_then_signal(*args: Any, **kwargs: Any) -> Any:
        proc = real(*args, **kwargs)
        started.append(proc.pid)
        os.kill(os.getpid(), signal.SIGTERM)  # lands before run_group holds `proc`
        time.sleep(0.05)
        return proc

    monkeypatch.setattr(_process.subprocess, "Popen", popen_then_signal)
    with pytest.raises(Stop):
        _process.run_group(
            ["sh", "-c", "sleep 30 & wait"], cwd=tmp_path, env=dict(os.environ), timeout=60,
            spool_dir=tmp_path,
        )  # fmt: skip
    (pid,) = started
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid), "the shell outlived the signal"
    group = [
        p.parent.name
        for p in Path("/proc").glob("[0-9]*/stat")
        if alive(int(p.parent.name)) and _pgrp(p) == pid
    ]
    assert group == [], "the shell's `sleep` outlived the signal"
    assert list(tmp_path.glob("bridle-out-*")) == []  # no spool left behind


def _pgrp(stat: Path) -> int | None:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[3])
    except (OSError, IndexError, ValueError):
        return None
