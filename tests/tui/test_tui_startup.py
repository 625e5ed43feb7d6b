"""What the app's first screen waits for: importing `bridle.tui.app` and making
the run's options load Textual and the widgets on that screen, not the engine's
events and messages, the permission rules, the slash commands or the runner,
which come with the session on its own thread after the first frame. Checked in
a fresh interpreter, as `bridle` starts. And the first screen's focus goes to the
prompt box at once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tui_helpers import before_the_session

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

    def look(app: BridleApp) -> None:
        assert app.focused is app.prompt

    before_the_session(tmp_path, look, app_class=Watched)
    assert focused == ["prompt"]
