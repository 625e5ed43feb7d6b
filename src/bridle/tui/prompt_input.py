"""The prompt box: a multiline text area where Enter sends and ↑/↓ walk the history.

Enter posts `PromptInput.Submitted` with the text and clears the box;
Shift+Enter (in terminals that report it) and Ctrl+J add a line; ↑ on the
first line and ↓ on the last walk the prompts sent (`sent`, which a resumed
session seeds with its prompts; `history` is the undo history), and the text
being typed comes back after the newest. While the text before the cursor is a
`/command` or an `@path` being typed, the app's `completer` offers choices in
`popup` (`tui.completion`): ↑/↓ move, Tab takes one, Enter takes one too (and
sends a `/command` at once), Esc closes the list. Ctrl+S sends the text as
`/steer TEXT` (guidance for the running turn). PageUp/PageDown scroll the
transcript a page, Ctrl+Home to its top and Ctrl+End back to the newest text
(which it then follows again), the box keeping the keys; at the top of a
resumed session they bring in its earlier messages (`tui.past`). A paste the app's `attach`
takes (an image file's path, `tui.images`) is replaced by the label it returns. The cursor does not blink: a
blinking cursor is a timer that wakes the app twice a second while it idles.
`typed_at` is when the last key came: a streaming answer holds its repaints
while keys come (`tui.answer`), so what is typed shows first.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual import events
from textual.message import Message
from textual.widgets import TextArea

from bridle.tui.completion import Completion, CompletionList

# Keys the transcript takes from the prompt box: a page up or down, the top, the end.
SCROLL_KEYS = ("pageup", "pagedown", "ctrl+home", "ctrl+end")
Completer = Callable[[str, int], list[Completion]]
Attacher = Callable[[str], str | None]  # pasted text -> the label that stands for it


class PromptInput(TextArea):
    DEFAULT_CSS = """
    PromptInput { height: auto; max-height: 10; min-height: 3; border: round $primary; }
    PromptInput:focus { border: round $accent; }
    """

    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, **kwargs: object) -> None:
        super().__init__(
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            **kwargs,  # type: ignore[arg-type]
        )
        self.cursor_blink = False
        self.sent: list[str] = []
        self._position: int | None = None  # index into history while walking it
        self._draft = ""
        self.completer: Completer | None = None
        self.attach: Attacher | None = None
        self.popup: CompletionList | None = None
        self.typed_at = 0.0  # when the last key came (`time.monotonic()`)

    def send(self) -> None:
        text = self.text
        if text.strip():
            self.remember(text)
            self.clear()
            self.post_message(self.Submitted(text))

    async def _on_paste(self, event: events.Paste) -> None:
        label = self.attach(event.text) if self.attach is not None else None
        if label is None:
            return  # TextArea's own handler (Textual calls each class's) inserts the text
        event.stop()
        event.prevent_default()
        self.insert(label)

    async def _on_key(self, event: events.Key) -> None:
        self.typed_at = time.monotonic()  # a streaming answer holds its repaints meanwhile
        key = event.key
        popup = self.popup
        if popup is not None and popup.shown and key in ("tab", "enter", "up", "down", "escape"):
            event.stop()
            event.prevent_default()
            if key in ("up", "down"):
                popup.move(-1 if key == "up" else 1)
            elif key == "escape":
                popup.hide()
            else:
                choice = self.take(popup.chosen())
                if key == "enter" and choice is not None and choice.text.startswith("/"):
                    self.send()
            return
        if key == "enter":
            event.stop()
            event.prevent_default()
            self.send()
            return
        if key == "ctrl+s":  # guidance for the running turn: `/steer` with the box's text
            event.stop()
            event.prevent_default()
            if self.text.strip():
                text = self.text
                self.clear()
                self.post_message(self.Submitted(f"/steer {text}"))
            return
        if key in SCROLL_KEYS:  # the transcript scrolls while the prompt keeps the keys
            event.stop()
            event.prevent_default()
            self.scroll_transcript(key)
            return
        if key in ("shift+enter", "ctrl+j"):
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        if key == "up" and self.cursor_location[0] == 0 and self.sent:
            event.stop()
            event.prevent_default()
            self.walk(-1)
            return
        last_row = self.cursor_location[0] == self.document.line_count - 1
        if key == "down" and last_row and self._position is not None:
            event.stop()
            event.prevent_default()
            self.walk(1)
            return
        await super()._on_key(event)

    def scroll_transcript(self, key: str) -> None:
        transcript = getattr(self.app, "transcript", None)
        if transcript is None:
            return
        if key in ("pageup", "ctrl+home"):
            transcript.release_anchor()  # new text no longer pulls the view down
            if transcript.scroll_y == 0 and getattr(self.app, "earlier", None) is not None:
                from bridle.tui.past import show_earlier

                self.run_worker(show_earlier(self.app), group="earlier")  # type: ignore[arg-type]
                return
        # At the bottom again, Textual anchors it back: new text is followed.
        {
            "pageup": transcript.scroll_page_up,
            "pagedown": transcript.scroll_page_down,
            "ctrl+home": transcript.scroll_home,
            "ctrl+end": transcript.scroll_end,
        }[key](animate=False)

    def on_text_area_changed(self, message: TextArea.Changed) -> None:
        self.offer()

    def offer(self) -> None:
        """Show what the word before the cursor may become (or nothing)."""
        if self.popup is None or self.completer is None:
            return
        row, column = self.cursor_location
        line = self.document.get_line(row)
        self.popup.show(self.completer(line, column) if self._position is None else [])

    def take(self, choice: Completion | None) -> Completion | None:
        """Put `choice` in place of what it completes."""
        if choice is None:
            return None
        row = self.cursor_location[0]
        self.replace(choice.text, (row, choice.start), (row, choice.end))
        if self.popup is not None:
            self.popup.hide()
        if choice.text.endswith("/") and not choice.text.startswith("/"):
            self.offer()  # a folder: its entries next
        return choice

    def remember(self, text: str) -> None:
        if not self.sent or self.sent[-1] != text:
            self.sent.append(text)
        self._position = None
        self._draft = ""

    def walk(self, step: int) -> None:
        if self._position is None:
            if step > 0:
                return
            self._draft = self.text
            self._position = len(self.sent)
        self._position = max(0, self._position + step)
        if self._position >= len(self.sent):
            self._position = None
            self.load_text(self._draft)
        else:
            self.load_text(self.sent[self._position])
        self.move_cursor(self.document.end)
