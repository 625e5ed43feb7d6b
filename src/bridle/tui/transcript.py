"""The transcript's widgets: the user's prompts, streamed answers, tool calls and notices.

The streamed answer is `tui.answer.Answer` (imported when the first answer
streams, so Markdown is not loaded before the first screen). `ToolLine` is one compact line per tool
call (`⏺ Edit stats.py +1 −1 ✓ 0.1s`, Bash with its exit code and duration)
that a click or Ctrl+O expands to the call's input (a coloured diff for file
changes) and its output; an Agent call's line gathers its subagent's tool
calls as a nested, collapsible group (`step`). `PastAnswer` is a resumed session's answer, drawn by
Rich in one widget. `Note` is a one-line notice. The widgets only show
what they are given; the app decides what goes where.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import Static

from bridle.tui.views import bash_exit, call_input_text, colour_diff, diff_counts, diff_stats

if TYPE_CHECKING:  # annotations only: the app's first screen loads no message types
    from bridle.core.messages import ToolResultPart, ToolUsePart

MAX_OUTPUT_LINES = 60


class Prompt(Static):
    DEFAULT_CSS = "Prompt { margin: 1 0 0 0; color: $text-primary; text-style: bold; }"

    def __init__(self, text: str) -> None:
        super().__init__(Text("› " + text), markup=False)


class Note(Static):
    DEFAULT_CSS = "Note { color: $text-muted; } Note.error { color: $text-error; }"

    def __init__(self, text: str, error: bool = False) -> None:
        super().__init__(Text(text), markup=False, classes="error" if error else "")


class PastAnswer(Static):
    """An answer from before the app opened (a resumed session): Rich's markdown in
    one widget, not a widget per block, so a long session opens fast."""

    DEFAULT_CSS = "PastAnswer { margin: 0 0 1 0; padding: 0 1 0 0; }"

    def __init__(self, text: str) -> None:
        from rich.markdown import Markdown as RichMarkdown

        super().__init__(RichMarkdown(text), markup=False)
        self.text = text


class ToolLine(Static):
    """One tool call: a compact line; click or Ctrl+O for its input and output."""

    DEFAULT_CSS = """
    ToolLine { margin: 0 0 0 1; }
    ToolLine:hover { background: $boost; }
    """

    def __init__(self, call: ToolUsePart, title: str, diff: list[str]) -> None:
        super().__init__(markup=False)
        self.call = call
        self.title = title
        self.diff = diff
        self.result: ToolResultPart | None = None
        self.denied = ""
        self.started = time.monotonic()
        self.seconds: float | None = None
        self.expanded = False
        self.steps: list[str] = []  # an Agent call's subagent tool calls, as they start

    @property
    def added(self) -> int:
        return diff_counts(self.diff)[0]

    @property
    def removed(self) -> int:
        return diff_counts(self.diff)[1]

    def on_mount(self) -> None:
        self.show()

    def finish(self, result: ToolResultPart) -> None:
        self.result = result
        self.seconds = time.monotonic() - self.started
        self.show()

    def deny(self, reason: str) -> None:
        self.denied = reason
        self.show()

    def step(self, text: str) -> None:
        self.steps.append(text)
        self.show()

    def toggle(self) -> None:
        self.expanded = not self.expanded
        self.show()

    def on_click(self) -> None:
        self.toggle()

    def status(self) -> Text:
        if self.denied:
            return Text(" ✗ denied", style="red")
        if self.result is None:
            return Text(" …", style="dim")
        took = f" · {self.seconds:.1f}s" if self.seconds is not None else ""
        if self.call.name == "Bash":
            code = bash_exit(self.result)
            what = f"exit {code}" if code is not None else "failed"
            ok = code == 0
            return Text(f" {'✓' if ok else '✗'} {what}{took}", style="green" if ok else "red")
        if self.result.is_error:
            return Text(f" ✗ error{took}", style="red")
        return Text(f" ✓{took}", style="green")

    def show(self) -> None:
        line = Text("⏺ ", style="cyan")
        line.append(self.title if len(self.title) <= 200 else self.title[:199] + "…")
        stats = diff_stats(self.diff)
        if stats:
            line.append(f" {stats}", style="dim")
        if self.steps:
            many = "s" if len(self.steps) > 1 else ""
            line.append(f" · {len(self.steps)} subagent step{many}", style="dim")
        line.append_text(self.status())
        if not self.expanded:
            self.update(line)
            return
        parts = line
        body = colour_diff(self.diff) if self.diff else Text(call_input_text(self.call) + "\n")
        parts.append("\n").append_text(_indent(body))
        if self.steps:
            shown = Text("\n".join(f"↳ {s}" for s in self.steps), style="cyan")
            parts.append("\n").append_text(_indent(shown))
        if self.denied:
            parts.append("\n").append_text(_indent(Text(self.denied, style="red")))
        elif self.result is not None:
            lines = self.result.text.splitlines()
            out = "\n".join(lines[:MAX_OUTPUT_LINES])
            if len(lines) > MAX_OUTPUT_LINES:
                out += f"\n… {len(lines) - MAX_OUTPUT_LINES} more lines"
            style = "red" if self.result.is_error else ""
            parts.append("\n").append_text(_indent(Text(out, style=style)))
        self.update(parts)


def _indent(text: Text) -> Text:
    out = Text()
    for line in text.split("\n", allow_blank=True):
        out.append("  │ ", style="dim")
        out.append_text(line)
        out.append("\n")
    out.rstrip()
    return out


def __getattr__(name: str) -> Any:
    """`Answer` is still importable from here, loaded (with Markdown) on first use."""
    if name == "Answer":
        from bridle.tui.answer import Answer

        return Answer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
