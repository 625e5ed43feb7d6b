"""`bridle settings` and the launcher in a real terminal (a tmux pane of 80×24):
a change saved with `s` lands in the commented settings file with its comments
kept, and `bridle launch` with no account opens the launcher, whose Enter runs the
chosen account's CLI with the toggled yolo flag."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bridle.accounts.manage import add_account
from bridle.accounts.runner import Accounts

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

COMMENTED = '// mine\n{\n  "model": "mock/echo", /* kept */\n  "autoCompactEnabled": true\n}\n'


def wait_until(check: Callable[[], object], what: str, timeout: float = 60) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"never saw {what}")


@pytest.fixture
def pane(tmp_path: Path) -> Iterator[Callable[[str], object]]:
    import libtmux

    server = libtmux.Server(socket_name=f"bridle-test-{uuid.uuid4().hex[:8]}")

    def start(args: str) -> object:
        names = ("HOME", "BRIDLE_HOME", "PATH", "BRIDLE_CLI_PATH", "RECORD")
        env = {k: os.environ[k] for k in names if k in os.environ}
        command = f'cd {tmp_path} && {sys.executable} -m bridle {args}; echo "EXIT=$?"; sleep 600'
        session = server.new_session(
            session_name="t", x=80, y=24, window_command=f"sh -c '{command}'", environment=env
        )
        return session.active_window.active_pane

    try:
        yield start
    finally:
        server.kill()


def screen(pane: object) -> str:
    return "\n".join(pane.capture_pane())  # type: ignore[attr-defined]


def test_settings_saves_a_change_in_a_real_terminal(pane: Callable[[str], object]) -> None:
    path = Path(os.environ["BRIDLE_HOME"]) / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(COMMENTED)
    p = pane("settings")
    wait_until(lambda: "▶ Theme" in screen(p), "the appearance page")
    p.send_keys("l", enter=False)  # type: ignore[attr-defined]
    wait_until(lambda: "▶ tmux portal by default" in screen(p), "the behaviour page")
    for key in ("j", "Space"):
        p.send_keys(key, enter=False)  # type: ignore[attr-defined]
    wait_until(lambda: "[off] *" in screen(p), "auto-compact switched off")
    p.send_keys("s", enter=False)  # type: ignore[attr-defined]
    wait_until(lambda: "EXIT=0" in screen(p), "the app to exit")
    assert f"saved: autoCompactEnabled = false in {path}" in screen(p).replace("\n", "")
    assert path.read_text() == COMMENTED.replace("true", "false")


def test_launcher_enter_runs_the_chosen_cli(
    pane: Callable[[str], object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "codex").write_text(
        f"#!{sys.executable}\nimport json, os, sys\n"
        "open(os.environ['RECORD'], 'a').write(json.dumps([os.environ['BRIDLE_ACCOUNT'], "
        "sys.argv[1:]]) + '\\n')\n"
    )
    (bin_dir / "codex").chmod(0o755)
    monkeypatch.setenv("BRIDLE_CLI_PATH", str(bin_dir))
    monkeypatch.setenv("RECORD", str(tmp_path / "record.jsonl"))
    ctx = Accounts(os.environ, tmp_path)
    add_account(ctx, "work", ["claude"], "config-dir")
    add_account(ctx, "alt", ["codex"], "config-dir")
    p = pane("launch")
    wait_until(lambda: "▶ work*" in screen(p), "the launcher")
    for key in ("j", "y"):
        p.send_keys(key, enter=False)  # type: ignore[attr-defined]
    wait_until(lambda: "yolo: on" in screen(p) and "▶ alt" in screen(p), "yolo on, alt chosen")
    p.send_keys("Enter", enter=False)  # type: ignore[attr-defined]
    wait_until(lambda: "EXIT=0" in screen(p), "the launch to end")
    record = tmp_path / "record.jsonl"
    assert [json.loads(line) for line in record.read_text().splitlines()] == [
        ["alt", ["--dangerously-bypass-approvals-and-sandbox"]]
    ]
