"""Ctrl+R: search the prompts sent before and put one back in the prompt box.

`HistorySearch(prompts)` is a small modal over the screen: a line to type in and
the prompts that contain every typed word (any case), newest first. ↑/↓ move,
Enter takes the highlighted prompt (the screen is dismissed with its text),
Ctrl+R (the app's key) moves to the next older match as in a shell, and Esc
closes it with None.
`matches` is the pure search, tested without an app.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

SHOWN = 200


def matches(prompts: list[str], query: str) -> list[str]:
    """The distinct prompts holding every word of `query` (any case), newest first."""
    words = query.lower().split()
    seen: set[str] = set()
    out: list[str] = []
    for prompt in reversed(prompts):
        if prompt in seen:
            continue
        seen.add(prompt)
        low = prompt.lower()
        if all(w in low for w in words):
            out.append(prompt)
            if len(out) >= SHOWN:
                break
    return out


class HistorySearch(ModalScreen[str | None]):
    DEFAULT_CSS = """
    HistorySearch { align: center bottom; }
    HistorySearch > Vertical { height: auto; max-height: 20; width: 100%;
        border: round $accent; background: $surface; }
    HistorySearch OptionList { height: auto; max-height: 14; border: none; }
    HistorySearch Input { border: none; height: 1; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", show=False),
        Binding("up", "move(-1)", show=False, priority=True),
        Binding("down", "move(1)", show=False, priority=True),
    ]

    def __init__(self, prompts: list[str]) -> None:
        super().__init__()
        self.prompts = prompts
        self.found: list[str] = matches(prompts, "")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("search prompts (Enter takes, Esc closes)", style="dim"))
            yield OptionList(id="found")
            yield Input(placeholder="type to search", id="query")

    def on_mount(self) -> None:
        self.show()
        self.query_one(Input).focus()

    def show(self) -> None:
        found = self.query_one(OptionList)
        found.clear_options()
        found.add_options([Option(Text(" ".join(p.split())[:300])) for p in self.found])
        if self.found:
            found.highlighted = 0

    def on_input_changed(self, message: Input.Changed) -> None:
        self.found = matches(self.prompts, message.value)
        self.show()

    def on_input_submitted(self, message: Input.Submitted) -> None:
        message.stop()
        index = self.query_one(OptionList).highlighted
        self.dismiss(self.found[index] if self.found and index is not None else None)

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        self.dismiss(self.found[message.option_index])

    def action_move(self, step: int) -> None:
        found = self.query_one(OptionList)
        if self.found:
            found.highlighted = ((found.highlighted or 0) + step) % len(self.found)

    def action_older(self) -> None:
        self.action_move(1)

    def action_close(self) -> None:
        self.dismiss(None)
