"""The app's side of the instant screen (`tui.instant`): keeping its first frame, and
taking the terminal over from the frame drawn before it loaded.

`remember(app)` runs once the app has drawn its first frame. When that frame is
the plain start of a new session (an empty prompt box, nothing typed or queued,
no dialog, no launch animation, no prompt on the command line), it renders the
screen as the terminal shows it (Textual's compositor, the app's console and
colours) and keeps it with what the next launch checks: the key `instant.begin`
computed, the files that could change the picture (each settings layer,
`.git/HEAD`, the modules that draw it, a `--settings` file), the prompt box's
cursor cell and the styles to echo keys with. The session id is kept as a
placeholder, filled in with each launch's own. `driver_class()` is Textual's
terminal driver for a launch that drew an instant screen: it takes the bytes
typed meanwhile and feeds them to Textual as keys before its own input thread
starts (so they arrive in the order typed; a key cut short by the hand-over, a lone
Esc or the start of an arrow key or of a UTF-8 character, is completed from the
terminal or ends as Textual would end it), does not enter the alternate screen
a second time (some terminals clear it on that, which would blank the screen
until the first frame), and restores the terminal mode the user had, not the
one the instant screen set.
"""

from __future__ import annotations

import codecs
import os
import select
import sys
import time
from typing import TYPE_CHECKING, Any

from bridle.tui import instant

if TYPE_CHECKING:
    from textual.driver import Driver

    from bridle.tui.app import BridleApp

# The modules whose code shapes the first frame: a change to one is a miss.
SHAPERS = (
    "bridle.tui.app",
    "bridle.tui.hud",
    "bridle.tui.welcome",
    "bridle.tui.themes",
    "bridle.tui.prompt_input",
    "bridle.tui.first_screen",
    "textual",
)


# How long a key cut short by the hand-over waits for its rest: past Textual's own
# Esc timeout (0.1 s), so a lone Esc ends as the Escape key, as it would in the app.
REST_WAIT = 0.25


def handed_keys(typed: bytes, fileno: int, debug: bool = False) -> list[Any]:
    """Textual's key events for the bytes typed on the instant screen, in order.

    The bytes can end inside a key: an Esc the parser holds until it knows it is
    alone, an escape sequence or a UTF-8 character whose rest is still in the
    terminal. Those are finished here, reading the terminal (`fileno`) until the
    key is complete or Textual's Esc timeout has passed, before its input thread
    starts."""
    from textual._xterm_parser import XTermParser

    parser = XTermParser(debug)
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    events: list[Any] = []

    def feed(data: bytes, final: bool = False) -> None:
        if text := decoder.decode(data, final):  # an empty feed is the end of input
            events.extend(parser.feed(text))

    feed(typed)
    deadline = time.monotonic() + REST_WAIT
    while parser._timeout_time is not None or decoder.getstate()[0]:
        events.extend(parser.tick())
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            ready = select.select([fileno], [], [], min(left, 0.02))[0]
            data = os.read(fileno, 4096) if ready else b""
        except OSError:
            break
        if ready and not data:  # the terminal closed
            break
        feed(data)
    feed(b"", final=True)
    return [*events, *parser.tick()]


def driver_class() -> type[Driver] | None:
    """The driver that takes over from an instant screen; None when none is up."""
    if not instant.shown():
        return None
    from textual.drivers.linux_driver import LinuxDriver

    class HandOverDriver(LinuxDriver):
        skip_alternate = False

        def start_application_mode(self) -> None:
            handed = instant.hand_over()
            if handed is not None:
                saved, typed = handed
                self.skip_alternate = True
                for event in handed_keys(typed, self.fileno, self._debug):
                    self.process_message(event)
            super().start_application_mode()
            if handed is not None:
                self.attrs_before = saved  # what the user's shell gets back

        def write(self, data: str) -> None:
            if self.skip_alternate and data == "\x1b[?1049h":
                self.skip_alternate = False  # already there; a suspend's resume enters again
                return
            super().write(data)

    return HandOverDriver


def pristine(app: BridleApp) -> bool:
    """Whether the screen is the plain start of a new session, as every launch with
    these arguments draws it first."""
    from bridle.tui.welcome import ANIMATION, enabled

    return (
        bool(app.session_id)
        and not app.options.resuming
        and app.first_prompt is None
        and not app.prompt.text
        and not app.queue
        and app.session is None  # still opening, as on the first frame
        and not app.hud.notice  # no Ctrl+C pressed yet
        and not app.running
        and len(app.screen_stack) == 1
        and not enabled(app.settings, ANIMATION)
        and all(child is app.greeting for child in app.transcript.children)
    )


def watched_files(app: BridleApp, args: tuple[str, ...]) -> list[str]:
    """The files whose change could change the first frame."""
    from bridle.config.settings import find_project_root, settings_files

    root = find_project_root(app.cwd)
    files = [str(p) for p in settings_files(root, app.env)]
    files.append(str(root / ".git" / "HEAD"))
    files += [str(getattr(sys.modules.get(name), "__file__", "") or "") for name in SHAPERS]
    files += [os.path.abspath(a) for a in args if os.path.isfile(a)]  # --settings FILE
    return [f for f in files if f]


def remember(app: BridleApp) -> None:
    """Keep the frame just drawn for the next launch's instant screen (see the module)."""
    key = instant.key()
    if key is None or not pristine(app) or key[4] != (app.size.width, app.size.height):
        return
    from rich.segment import Segment
    from textual.strip import Strip

    console = app.console
    strips = app.screen._compositor.render_strips()  # no side effect, unlike a full update
    frame = "".join(f"\x1b[{y + 1};1H" + strip.render(console) for y, strip in enumerate(strips))
    sid = app.session_id[:8]
    if sid not in frame:
        return  # the greeting is off: the id is nowhere to fill in, and nothing else moves
    cursor = app.prompt.cursor_screen_offset
    x, y = cursor.x, cursor.y
    room = app.prompt.content_region.right - x

    def template(cell: int, text: str) -> str:
        segments = list(strips[y].crop(cell, cell + 1))
        style = segments[0].style if segments else None
        return Strip([Segment(text, style)]).render(console)

    entry = (
        instant.FORMAT,
        key,
        tuple(instant.stamp(f) for f in watched_files(app, key[2])),
        frame.replace(sid, instant.SID),
        (x, y),
        template(x + 1, "\x00"),  # a typed key: the style of the box's empty cells
        template(x, " "),  # the cursor cell, as drawn now
        room,
    )
    try:
        instant.save(entry)
    except OSError:
        pass  # a read-only home: the next launch loads as before
