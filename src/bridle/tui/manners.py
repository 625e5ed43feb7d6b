"""Terminal manners: a desktop notification when a long turn ends while the user is away.

`turn_ended(app, started, result)` runs when a turn ends: if it took at least
`NOTIFY_AFTER` seconds and the terminal is not focused (Textual turns on the
terminal's focus reports and keeps `App.app_focus`), it writes an OSC 9
notification (`ESC ] 9 ; text BEL`: iTerm2, WezTerm, kitty, Windows Terminal,
foot and others show it on the desktop), wrapped for tmux's passthrough when
`$TMUX` is set. Claude Code's `preferredNotifChannel` setting is honoured:
`notifications_disabled` writes nothing, `terminal_bell` rings the bell
instead. The text is one line, control characters removed.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bridle.tui.app import BridleApp

NOTIFY_AFTER = 20.0  # seconds a turn must take before it is worth a notification
TEXT_MAX = 120


def notification_text(seconds: float, result: Any) -> str:
    if result is None or getattr(result, "is_error", False):
        why = "; ".join(getattr(result, "errors", None) or []) or "it did not finish"
        text = f"bridle: the turn ended ({why})"
    else:
        answer = " ".join(str(getattr(result, "result", "") or "").split())
        text = f"bridle: done in {seconds:.0f}s" + (f": {answer}" if answer else "")
    text = "".join(c for c in text if c.isprintable())
    return text if len(text) <= TEXT_MAX else text[: TEXT_MAX - 1] + "…"


def osc9(text: str, env: Any) -> str:
    sequence = f"\x1b]9;{text}\x07"
    if env.get("TMUX"):  # tmux passes it on to the outer terminal when wrapped
        sequence = "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return sequence


def write_terminal(app: BridleApp, data: str) -> None:
    """Write `data` to the terminal as the app's own output (as OSC 52 copies are)."""
    driver = getattr(app, "_driver", None)
    if driver is not None:
        driver.write(data)


def turn_ended(app: BridleApp, started: float | None, result: Any) -> str | None:
    """Notify when a long turn ends while the terminal is unfocused; what was written."""
    if started is None or app.app_focus:
        return None
    seconds = time.monotonic() - started
    if seconds < NOTIFY_AFTER:
        return None
    settings = getattr(getattr(app, "session", None), "settings", None)
    channel = settings.get("preferredNotifChannel") if settings is not None else None
    if channel == "notifications_disabled":
        return None
    data = "\a" if channel == "terminal_bell" else osc9(notification_text(seconds, result), app.env)
    write_terminal(app, data)
    return data
