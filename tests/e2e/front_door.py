"""Shared helpers for the front-door tests: the real `bridle` in a subprocess,
optionally with a pseudo-terminal as stdin, and a one-answer mock scenario."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CLAUDE_FIXTURE = ROOT / "tests" / "fixtures" / "sessions" / "claude" / "real" / "input"


def bridle(
    args: list[str],
    cwd: Path,
    env: dict[str, str] | None = None,
    stdin: str | None = "",
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "bridle", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        timeout=timeout,
    )


def on_terminal(args: list[str], cwd: Path, typed: str, env: dict[str, str] | None = None) -> Any:
    """Run bridle with a pseudo-terminal as stdin (stdout and stderr piped), with
    `typed` already waiting on the terminal."""
    master, slave = pty.openpty()
    try:
        os.write(master, typed.encode())
        return subprocess.run(
            [sys.executable, "-m", "bridle", *args],
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=slave,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.close(slave)
        os.close(master)


def scenario(tmp_path: Path, text: str = "hi back") -> dict[str, str]:
    path = tmp_path / "scenario.json"
    path.write_text(
        json.dumps(
            {"name": "s", "prompt": "p", "final": text, "turns": [{"op": "final", "text": text}]}
        )
    )
    return {"BRIDLE_MOCK_SCENARIO": str(path)}


def first_session(tmp_path: Path) -> str:
    env = scenario(tmp_path)
    done = bridle(
        ["-p", "hello there friend", "--model", "mock/anthropic", "--output-format", "json"],
        tmp_path,
        env,
    )
    assert done.returncode == 0, done.stderr
    sid: str = json.loads(done.stdout)["session_id"]
    return sid
