"""What the app's first screen waits for: importing `bridle.tui.app` and making
the run's options load Textual and the widgets on that screen, not the engine's
events and messages, the permission rules, the slash commands or the runner,
which come with the session on its own thread after the first frame. Checked in
a fresh interpreter, as `bridle` starts. And the first screen's focus goes to the
prompt box at once."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from bridle.core.errors import UsageError
from bridle.engine.options import SessionOptions

LATER = (
    "bridle.core.messages",
    "bridle.engine.events",
    "bridle.engine.setup",
    "bridle.policy",
    "bridle.tui.commands",
    "bridle.tui.permission",
    "bridle.tui.runner",
    "bridle.tui.shown",
)


def test_the_first_screen_imports_no_session_code() -> None:
    code = (
        "import json, sys\n"
        "from bridle.engine.options import SessionOptions\n"
        "import bridle.tui.app\n"
        "SessionOptions(model='mock/anthropic', headless=False)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    assert "textual.app" in loaded and "bridle.tui.prompt_input" in loaded
    early = [m for m in loaded if m.startswith(LATER)]
    assert early == []


def test_permission_flags_are_still_checked_when_given() -> None:
    with pytest.raises(UsageError, match="unbalanced"):
        SessionOptions(model="mock/anthropic", allow_rules=("Bash(git push",))
    with pytest.raises(UsageError, match="mode"):
        SessionOptions(model="mock/anthropic", permission_mode="sometimes")
    with pytest.raises(UsageError, match="dry-run"):
        SessionOptions(model="mock/anthropic", dry_run=True, permission_mode="acceptEdits")


def test_the_prompt_box_is_the_only_widget_focused_at_start(tmp_path: Path) -> None:
    """The screen focuses the prompt box itself: the transcript is never focused and
    then blurred (each change restyles widgets before the first frame)."""
    from textual import events

    from bridle.tui.app import BridleApp

    focused: list[str | None] = []

    class Watched(BridleApp):
        def on_descendant_focus(self, event: events.DescendantFocus) -> None:
            focused.append(event.widget.id)

    gate = threading.Event()

    def opener() -> tuple[Any, int]:
        gate.wait(30)
        raise RuntimeError("this test ends before the session opens")

    options = SessionOptions(model="mock/anthropic", headless=False)
    app = Watched(None, cwd=tmp_path, env=dict(os.environ), options=options, opener=opener)

    async def drive() -> None:
        async with app.run_test() as pilot:
            await pilot.pause()
            assert app.focused is app.prompt
            gate.set()
            assert app.opening is not None
            await asyncio.to_thread(app.opening.join, 10)
            await pilot.pause()

    asyncio.run(drive())
    assert focused == ["prompt"]
