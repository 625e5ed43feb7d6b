"""altergo's launcher (`bridle launch` with no account on a terminal): its rows
(accounts × tools with login state and last use, then `native` for CLIs on PATH),
every key under Pilot, the `tmuxPortal` setting as `bridle launch`'s default
(`--no-portal` overrides it), and, off a terminal, today's behaviour."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from bridle.accounts.manage import add_account
from bridle.accounts.runner import Accounts
from bridle.tui.launcher import LaunchChoice, LauncherApp, LaunchRow, launcher_rows

RECORDER = """#!{python}
import json, os, sys, pathlib
with open(os.environ["RECORD"], "a") as f:
    f.write(json.dumps({{"tool": pathlib.Path(sys.argv[0]).name, "argv": sys.argv[1:],
                         "account": os.environ.get("BRIDLE_ACCOUNT")}}) + "\\n")
"""
NOW = datetime(2026, 1, 2, 12, 0, 0)


@pytest.fixture
def clis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """BRIDLE_CLI_PATH holds claude and codex, which record how they were started."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("claude", "codex"):
        (bin_dir / name).write_text(RECORDER.format(python=sys.executable))
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("BRIDLE_CLI_PATH", str(bin_dir))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("RECORD", str(tmp_path / "record.jsonl"))
    return tmp_path / "record.jsonl"


def accounts() -> Accounts:
    ctx = Accounts(os.environ, Path.cwd())
    add_account(ctx, "work", ["claude", "codex"], "config-dir")  # the default: added first
    add_account(ctx, "alt", ["codex"], "config-dir")
    creds = ctx.store.dir("work") / "home" / ".claude" / ".credentials.json"
    creds.write_text("{}")
    work = ctx.store.load("work")
    work.last_used["claude"] = "2026-01-02T09:00:00"
    ctx.store.save(work)
    return ctx


def test_rows_default_account_first_with_login_and_last_use(clis: Path) -> None:
    rows = launcher_rows(accounts(), os.environ)
    assert rows == [
        LaunchRow("work", "claude", "logged in", "2026-01-02T09:00:00", True),
        LaunchRow("work", "codex", "not logged in", None, True),
        LaunchRow("alt", "codex", "not logged in", None, False),
        LaunchRow("native", "claude", "your setup", None, False),
        LaunchRow("native", "codex", "your setup", None, False),
    ]


def drive(rows: list[LaunchRow], keys: list[str], portal: bool = False) -> tuple[LauncherApp, str]:
    app = LauncherApp(rows, portal=portal, now=NOW)
    shown: list[str] = []

    async def run() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            shown.append(str(app.query_one("#rows").render()))
            for key in keys:
                await pilot.press(key)
                if app.is_running:
                    shown.append(str(app.query_one("#title").render()))
                    shown.append(str(app.query_one("#rows").render()))

    asyncio.run(run())
    return app, "\n".join(shown)


def test_screen_shows_rows_and_moves_with_every_key(clis: Path) -> None:
    rows = launcher_rows(accounts(), os.environ)
    app, shown = drive(rows, ["down", "j", "up", "k", "j", "j"])
    assert shown.startswith(
        "▶ work*   claude   logged in      3h ago\n"
        "  work*   codex    not logged in  never\n"
        "  alt     codex    not logged in  never\n"
        "  native  claude   your setup     never\n"
    )
    assert "  work*   codex    not logged in  never\n▶ alt     codex" in shown
    assert app.cursor == 2  # down, j, up, k, j, j
    for key, expected in (("j", 1), ("down", 1), ("k", 0), ("up", 0)):
        moved, _ = drive(rows, ["j", key] if key in ("k", "up") else [key])
        assert moved.cursor == expected
    bottom, _ = drive(rows, ["j"] * 9)
    assert bottom.cursor == len(rows) - 1  # stops at the last row


@pytest.mark.parametrize(
    ("keys", "choice"),
    [
        (["enter"], LaunchChoice("work", "claude", False, False)),
        (["j", "j", "enter"], LaunchChoice("alt", "codex", False, False)),
        (["y", "enter"], LaunchChoice("work", "claude", True, False)),
        (["p", "enter"], LaunchChoice("work", "claude", False, True)),
        (["y", "y", "p", "p", "enter"], LaunchChoice("work", "claude", False, False)),
        (["q"], None),
        (["escape"], None),
    ],
)
def test_keys_choose_what_launches(clis: Path, keys: list[str], choice: object) -> None:
    app, shown = drive(launcher_rows(accounts(), os.environ), keys)
    assert app.return_value == choice
    if "y" in keys:
        assert "yolo: on" in shown
    if "p" in keys:
        assert "portal: on" in shown


def test_portal_starts_from_the_setting_and_no_rows_says_what_to_do() -> None:
    app, shown = drive([], ["enter", "p", "q"], portal=True)
    assert "No accounts and no coding CLI on PATH" in shown
    assert "portal: on" in shown and "portal: off" in shown
    assert app.return_value is None


def bridle(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridle", *args], capture_output=True, text=True, input=""
    )


def test_the_tmux_portal_setting_is_launchs_default(clis: Path) -> None:
    accounts()
    settings = Path(os.environ["BRIDLE_HOME"]) / "settings.json"
    settings.write_text('{"tmuxPortal": true // from bridle settings\n}')
    done = bridle("launch", "work")
    assert done.returncode == 0
    assert "not on a terminal, so the portal is off: launched directly" in done.stderr
    direct = bridle("launch", "work", "--no-portal")
    assert direct.returncode == 0 and "portal" not in direct.stderr
    assert len(clis.read_text().splitlines()) == 2


def test_off_a_terminal_no_account_keeps_todays_behaviour(clis: Path) -> None:
    none = bridle("launch")
    assert none.returncode == 64 and "no account given and no default set" in none.stderr
    accounts()
    done = bridle("launch")
    assert done.returncode == 0
    (rec,) = [json.loads(line) for line in clis.read_text().splitlines()]
    assert rec["tool"] == "claude" and rec["account"] == "work"
