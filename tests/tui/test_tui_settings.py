"""`bridle settings`: every key of the settings screens (Pilot), the save that keeps
a commented settings file's comments and other keys, sharing saved to the
account (and its links), cancel writing nothing, and the no-terminal error."""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from bridle.accounts.runner import Accounts
from bridle.config.jsonc import parse_jsonc
from bridle.tui.settings_app import SettingsApp
from bridle.tui.settings_pages import THEMES, SettingsForm

COMMENTED = """\
// my bridle settings
{
  "model": "mock/echo", // the model I use
  /* keep this */
  "theme": "nord",
}
"""


def sync(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async Pilot test on its own event loop."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


def settings_file() -> Path:
    path = Path(os.environ["BRIDLE_HOME"]) / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def body(app: SettingsApp) -> str:
    return str(app.query_one("#body").render())


def tabs(app: SettingsApp) -> str:
    return str(app.query_one("#tabs").render())


def home_account(name: str = "work") -> None:
    from bridle.accounts.manage import add_account

    add_account(Accounts(os.environ, Path.cwd()), name, ["claude"], "home")


@sync
async def test_theme_toggle_and_save_keeps_comments() -> None:
    path = settings_file()
    path.write_text(COMMENTED)
    app = SettingsApp(SettingsForm.load(os.environ))
    async with app.run_test(size=(80, 24)) as pilot:
        assert "▶ Theme" in body(app) and "[nord]" in body(app)
        await pilot.press("space")
        nxt = THEMES[THEMES.index("nord") + 1]
        assert f"[{nxt}] *" in body(app)
        assert app.theme == nxt  # previewed at once
        await pilot.press("s")
    assert app.return_value == [f'theme = "{nxt}" in {path}']
    assert path.read_text() == COMMENTED.replace('"nord"', f'"{nxt}"')


@sync
async def test_pages_move_and_toggle_behaviour() -> None:
    path = settings_file()
    app = SettingsApp(SettingsForm.load(os.environ))
    async with app.run_test(size=(80, 24)) as pilot:
        for key, page in (("right", "Behaviour"), ("l", "Credentials"), ("tab", "Appearance")):
            await pilot.press(key)
            assert app.form.pages[app.page].title == page
        for key, page in (("left", "Credentials"), ("h", "Behaviour")):
            await pilot.press(key)
            assert app.form.pages[app.page].title == page
        await pilot.press("shift+tab")
        assert app.page == 0
        await pilot.press("right")
        assert "▶ tmux portal by default" in body(app) and "[off]" in body(app)
        await pilot.press("j")
        assert "▶ Auto-compact" in body(app)
        await pilot.press("k")
        assert "▶ tmux portal" in body(app)
        await pilot.press("down", "up", "space")  # tmuxPortal on
        await pilot.press("down", "space")  # autoCompactEnabled off
        assert "[on] *" in body(app) and "[off] *" in body(app)
        await pilot.press("s")
    assert parse_jsonc(path.read_text()) == {"tmuxPortal": True, "autoCompactEnabled": False}


@pytest.mark.parametrize("key", ["q", "escape"])
@sync
async def test_cancel_writes_nothing(key: str) -> None:
    path = settings_file()
    path.write_text(COMMENTED)
    app = SettingsApp(SettingsForm.load(os.environ))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space", "right", "space", key)
    assert app.return_value is None
    assert path.read_text() == COMMENTED


@sync
async def test_credentials_page_saves_the_accounts_sharing() -> None:
    home = Path(os.environ["HOME"])
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_ed25519").write_text("key")
    home_account("work")
    app = SettingsApp(SettingsForm.load(os.environ))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("left")
        assert app.form.pages[app.page].title == "Credentials"
        assert "▶ work: AWS CLI" in body(app) and "[shared]" in body(app)
        ssh = next(i for i, r in enumerate(app.form.pages[2].rows) if r.share == ("work", "ssh"))
        for _ in range(ssh):
            await pilot.press("down")
        assert "▶ work: SSH keys" in body(app) and "[isolated]" in body(app)  # kept in view
        await pilot.press("space", "s")
    assert app.return_value == ["ssh is now shared for work"]
    link = Path(os.environ["BRIDLE_HOME"]) / "accounts" / "work" / "home" / ".ssh"
    assert link.is_symlink() and (link / "id_ed25519").read_text() == "key"
    again = SettingsForm.load(os.environ)
    assert next(r for r in again.pages[2].rows if r.share == ("work", "ssh")).value is True


@sync
async def test_notes_without_home_accounts_and_save_with_nothing_changed() -> None:
    from bridle.accounts.manage import add_account

    add_account(Accounts(os.environ, Path.cwd()), "plain", ["claude"], "config-dir")
    app = SettingsApp(SettingsForm.load(os.environ))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("left", "space", "down")
        notes = str(app.query_one("#notes").render())
        assert "No account uses home isolation" in notes and "(plain)" in notes
        await pilot.press("s")
    assert app.return_value == ["nothing changed"]
    assert not settings_file().exists()


@sync
async def test_a_file_broken_meanwhile_is_not_overwritten() -> None:
    path = settings_file()
    path.write_text(COMMENTED)
    app = SettingsApp(SettingsForm.load(os.environ))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        path.write_text('{"theme": ')
        await pilot.press("s")
        status = str(app.query_one("#status").render())
        assert "not saved" in status and "invalid JSON" in status
        await pilot.press("q")
    assert path.read_text() == '{"theme": '


def test_without_a_terminal_exit_64_names_the_file() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bridle", "settings"], capture_output=True, text=True, input=""
    )
    assert done.returncode == 64
    assert "needs a terminal" in done.stderr and "settings.json" in done.stderr


@sync
async def test_auto_compact_saved_off_reaches_the_engine(tmp_path: Path) -> None:
    """The engine a session opens with has no compactor once auto-compact is saved off."""
    from bridle.engine.options import SessionOptions
    from bridle.engine.setup import open_session

    env = {**os.environ, "BRIDLE_MOCK_BASE_URL": "http://127.0.0.1:9"}  # never called

    def compactor() -> object:
        session = open_session(SessionOptions(model="mock/anthropic"), tmp_path, env)
        try:
            return session.engine.compactor
        finally:
            session.close()

    assert compactor() is not None
    app = SettingsApp(SettingsForm.load(os.environ))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("right", "down", "space", "s")
    assert compactor() is None
