"""The app's greeting, launch animation and goodbye: each a setting the user can turn off.

`showGreeting` (on unless set false): the transcript opens with a line naming
the session and the keys. `launchAnimation` (off unless set true): that line's
head, `bridle · new session 1a2b3c4d`, is revealed by a bright band sweeping
across it, about half a second on a timer of its own; the prompt takes keys from
the first frame, and the animation never delays the session. `showGoodbye` (on
unless set false): when the app has ended, a line on the restored terminal sums
up the time in the app (tokens in and out, cost, duration); the resume command
after it is printed whatever the setting. `bridle settings` turns each on and off.
The settings are the merged layers read before the first paint
(`BridleApp.settings`), so the first screen already follows them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.text import Text

if TYPE_CHECKING:
    from bridle.tui.app import BridleApp

GREETING, ANIMATION, GOODBYE = "showGreeting", "launchAnimation", "showGoodbye"
DEFAULTS: Mapping[str, bool] = {GREETING: True, ANIMATION: False, GOODBYE: True}
FRAME_S = 0.03  # seconds a frame of the sweep stays
BAND = 6  # characters the bright band covers
STEP = 2  # characters it moves a frame


def enabled(settings: Any, key: str) -> bool:
    """A switch's value in the settings (a non-boolean counts as unset)."""
    value = settings.get(key) if settings is not None else None
    return value if isinstance(value, bool) else DEFAULTS[key]


def greeting_text(app: BridleApp, keys: str) -> str:
    """`bridle · new session 1a2b3c4d · <the keys>` (or `resumed session`)."""
    resumed = app.options.resuming
    sid = f" {app.session_id[:8]}" if app.session_id else ""
    if app.session is not None:
        started = app.session.started_event
        resumed, sid = started.resumed, f" {started.session_id[:8]}"
    return f"bridle · {'resumed' if resumed else 'new'} session{sid} · {keys}"


def sweep_frames(text: str) -> list[Text]:
    """The launch animation: `text`'s head (up to the second ` · `) muted, with a
    bright band moving across it; the last frame is the plain line."""
    cut = text.find(" · ", text.find(" · ") + 3)
    head = len(text) if cut < 0 else cut
    out: list[Text] = []
    for at in range(-BAND, head + 1, STEP):
        frame = Text(text)
        frame.stylize("dim", 0, head)
        lo, hi = max(0, at), max(0, min(head, at + BAND))
        if hi > lo:
            frame.stylize("bold not dim", lo, hi)
        out.append(frame)
    out.append(Text(text))
    return out


async def show_greeting(app: BridleApp) -> None:
    """Mount the greeting line (when it is on) and start its sweep (when that is on)."""
    if not enabled(app.settings, GREETING):
        return
    await app.mount_in_transcript(app.greeting)
    if not enabled(app.settings, ANIMATION):
        return
    start = time.monotonic()

    def step() -> None:  # the frame for the time elapsed: a late tick skips, never stalls
        frames = sweep_frames(str(app.greeting.content))
        i = min(int((time.monotonic() - start) / FRAME_S), len(frames) - 1)
        app.greeting.update(frames[i])
        if i == len(frames) - 1:
            timer.stop()  # the plain line is drawn: no more ticks

    timer = app.set_interval(FRAME_S, step)


def goodbye_line(app: BridleApp, seconds: float) -> str | None:
    """The goodbye line for the restored terminal, or None when it is off."""
    if not enabled(app.settings, GOODBYE):
        return None
    from bridle.tui.hud import tokens_text

    hud = app.hud
    minutes, secs = divmod(int(seconds), 60)
    spent = f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
    return (
        f"bridle: goodbye · {tokens_text(hud.tokens_in)} tokens in, "
        f"{tokens_text(hud.tokens_out)} out · ${hud.cost_usd:.4f} · {spent} in the app"
    )
