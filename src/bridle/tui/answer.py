"""The streamed model answer, drawn by Rich's Markdown (code highlighted) in a few widgets.

A fast reply arrives as hundreds of small fragments. `Answer` keeps them as
text and repaints at most once a frame (`FRAME`): only its tail, the part
after the last finished block, is drawn again; once the tail grows past
`COMMIT_CHARS` its finished blocks (up to a blank line outside a code fence,
before a line that does not continue a list) become a part that is never
drawn again. So a long answer is a handful of widgets, each repaint costs
about the same however long the answer is, and keys typed meanwhile echo at
once (Textual's Markdown widget made one widget per block and laid them all
out again on every update). Keys come first: while the user types (a key in
the prompt box within `QUIET`), the answer holds its repaints, for at most
`HOLD_MAX` since the last one, so a key's echo is not queued behind a repaint
of the whole scrolling transcript. `text` is the whole answer (for `/copy`).
"""

from __future__ import annotations

import asyncio
import bisect
import re
import time

from rich.console import Console
from rich.markdown import Markdown
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Size
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static

FRAME = 1 / 20  # seconds between two repaints of a streaming answer
QUIET = 0.15  # seconds after a key during which the answer holds its repaints
HOLD_MAX = 0.4  # ... but it repaints at least this often
COMMIT_CHARS = 600  # a tail longer than this has its finished blocks set apart
FENCE = re.compile(r"^\s{0,3}(```|~~~)")
CONTINUES = re.compile(r"^(\s|[-*+] |\d+[.)] |>|\||$)")  # indented, a list item, a quote, a table


def split_point(text: str) -> int:
    """Where `text` can be cut so both sides render as they would together: just
    after the last blank line outside a code fence whose next line starts a new
    block (not indented, not a list item, quote or table row); 0 if nowhere."""
    best, fenced, offset = 0, False, 0
    lines = text.split("\n")
    for i, line in enumerate(lines[:-1]):
        offset += len(line) + 1
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced and not line.strip() and not CONTINUES.match(lines[i + 1]):
            best = offset
    return best


def draw_markdown(text: str, width: int) -> list[Strip]:
    """`text` as Markdown in lines of `width` cells (any thread: a console of its own)."""
    console = _console()
    lines = console.render_lines(Markdown(text), console.options.update_width(width))
    return [Strip(line, width) for line in lines]


def as_text(strips: list[Strip]) -> Text:
    """Drawn lines as one styled `Text` (a Static shows it without drawing it again)."""
    out = Text()
    for i, strip in enumerate(strips):
        if i:
            out.append("\n")
        for segment in strip:
            if not segment.control:
                out.append(segment.text, segment.style)
    out.rstrip()
    return out


_CONSOLE: list[Console] = []


def _console() -> Console:
    if not _CONSOLE:
        _CONSOLE.append(Console(force_terminal=True, color_system="truecolor", width=80))
    return _CONSOLE[0]


class Finished(Widget):
    """The answer's finished blocks, drawn only where they are on screen: each
    block's height is counted once per width, and the rows Textual asks for
    (its line API) are drawn from the few blocks kept drawn. So a long answer
    costs a layout pass no more than a short one and holds little but its text
    (a line per segment list would make each garbage collection slower)."""

    DEFAULT_CSS = "Finished { height: auto; }"
    KEPT = 6  # blocks kept drawn

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.width = 0
        self.starts: list[int] = [0]  # each block's first row at `width`, then the end
        self.kept: dict[int, list[Strip]] = {}  # block -> its rows at `width`

    def add(self, text: str, width: int, strips: list[Strip]) -> None:
        """`text`, already drawn at `width` (other widths are drawn when laid out)."""
        self.texts.append(text)
        if width == self.width or len(self.texts) == 1:
            self.width = width
            self.starts.append(self.starts[-1] + len(strips) + 1)
            self.keep(len(self.texts) - 1, [*strips, Strip.blank(width)])
        else:
            self.width = 0  # counted again at the next layout
        self.refresh(layout=True)

    def clear(self) -> None:
        self.texts, self.width, self.starts, self.kept = [], 0, [0], {}
        self.refresh(layout=True)

    def keep(self, block: int, strips: list[Strip]) -> None:
        self.kept[block] = strips
        while len(self.kept) > self.KEPT:
            del self.kept[next(iter(self.kept))]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width <= 0:
            return 0
        if width != self.width:  # a resize, or the scrollbar came or went
            self.width, self.starts, self.kept = width, [0], {}
            for text in self.texts:
                self.starts.append(self.starts[-1] + len(draw_markdown(text, width)) + 1)
        return self.starts[-1]

    def render_line(self, y: int) -> Strip:
        block = bisect.bisect_right(self.starts, y) - 1
        if not 0 <= block < len(self.texts):
            return Strip.blank(self.size.width)
        if block not in self.kept:
            drawn = [*draw_markdown(self.texts[block], self.width), Strip.blank(self.width)]
            self.keep(block, drawn)
        strips = self.kept[block]
        row = y - self.starts[block]
        return strips[row] if row < len(strips) else Strip.blank(self.width)


class Answer(Vertical):
    """A model answer, streamed."""

    DEFAULT_CSS = "Answer { height: auto; margin: 0; padding: 0 1 0 0; }"

    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        self.tail = ""  # what the live part shows
        self.finished = Finished()
        self.live = Static("", markup=False)
        self._timer: Timer | None = None
        self._drawing = False  # a repaint is drawing on its thread
        self._rows = 0  # the live part's height when last drawn
        self._painted = 0.0  # when it last repainted (`time.monotonic()`)

    def compose(self) -> ComposeResult:
        yield self.finished
        yield self.live

    async def add(self, fragment: str) -> None:
        self.text += fragment
        self.tail += fragment
        if self._timer is None and not self._drawing and self.is_mounted:
            self._timer = self.set_timer(FRAME, self.repaint)

    def held(self) -> float:
        """How much longer to hold the next repaint while the user types (0: none)."""
        typed_at = getattr(getattr(self.app, "prompt", None), "typed_at", 0.0)
        now = time.monotonic()
        return max(0.0, min(typed_at + QUIET, self._painted + HOLD_MAX) - now)

    async def repaint(self, hold: bool = True) -> None:
        """Draw the tail (and the blocks it finished) on a thread, then show it: the
        app's loop stays free for keys while Rich lays out Markdown and code."""
        self._timer = None
        if hold and (wait := self.held()) > 0:
            self._timer = self.set_timer(wait, self.repaint)
            return
        self._painted = time.monotonic()
        width = self.content_size.width
        if width <= 0 or self._drawing:
            self.live.update(Markdown(self.tail) if self.tail.strip() else "")
            return
        done = ""
        if len(self.tail) > COMMIT_CHARS:
            cut = split_point(self.tail)
            if cut:
                done, self.tail = self.tail[:cut].rstrip("\n"), self.tail[cut:]
        tail = self.tail
        self._drawing = True
        try:
            finished, live = await asyncio.to_thread(self._draw, done, tail, width)
        finally:
            self._drawing = False
        if done:
            self.finished.add(done, width, finished)
        rows = len(live)
        # The same height: no layout pass over the transcript, only this part repaints.
        self.live.update(as_text(live), layout=rows != self._rows or bool(done))
        self._rows = rows
        if self.tail != tail and self._timer is None:  # more came while drawing
            self._timer = self.set_timer(FRAME, self.repaint)

    @staticmethod
    def _draw(done: str, tail: str, width: int) -> tuple[list[Strip], list[Strip]]:
        finished = draw_markdown(done, width) if done else []
        return finished, draw_markdown(tail, width) if tail.strip() else []

    async def finish(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        while self._drawing:
            await asyncio.sleep(FRAME / 4)
        await self.repaint(hold=False)

    async def reset(self) -> None:
        """The response is sent again: what was shown is void."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        while self._drawing:
            await asyncio.sleep(FRAME / 4)
        self.text = self.tail = ""
        self.finished.clear()
        self.live.update("")
