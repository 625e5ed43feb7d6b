"""A reference for `tui_bench.py`: the smallest Textual app with a line of text
and a prompt box, launched the way bridle is, so the benchmark shows the floor a
Textual app starts from on the machine (Python, asyncio, Rich and Textual loading,
a first frame) next to bridle and the peers."""

from textual.app import App, ComposeResult
from textual.widgets import Static, TextArea


class Hello(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("hello · a two-widget Textual app")
        yield TextArea()


if __name__ == "__main__":
    Hello().run()
