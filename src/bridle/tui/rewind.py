"""Esc Esc: rewind the conversation and/or the files to before an earlier prompt.

`Checkpoints` keeps, for each prompt of this app's run, what every file a
tool call changed held before that prompt's turn first touched it (its bytes,
or None when it did not exist): the runner records Edit, MultiEdit, Write and
ApplyPatch targets on the engine's thread just before the call runs (Bash's
side effects are not tracked, as in Claude Code). A prompt is known by its
index in the conversation's messages. `restore(index)` puts back every file as
it was before that prompt (the earliest copy among that prompt's and later
turns), deleting the files those turns created, and forgets those turns.
A compaction or /clear renumbers the messages, so the app drops them all.

`RewindScreen(prompts, changed)` lists the conversation's prompts (newest
highlighted, each with how many files its turns changed); Enter on one asks
what to restore (the conversation and the files, the conversation only, the
files only) and the screen is dismissed with (message index, what), or None.
`open_rewind(app)` opens it and `rewind` carries the choice out: the files are
restored here, the conversation part goes to the engine as a `Clear(keep=index)`
op, and the prompt comes back in the prompt box to be edited and sent again.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from bridle.core.messages import ToolUsePart

CHOICES = (
    ("both", "restore the conversation and the files"),
    ("conversation", "restore the conversation only"),
    ("files", "restore the files only"),
    ("cancel", "never mind"),
)
_PATCH_HEADS = ("*** Update File:", "*** Add File:", "*** Delete File:", "*** Move to:")


def changed_paths(call: ToolUsePart, cwd: Path) -> list[Path]:
    """The files a call is about to change (absolute)."""
    args: dict[str, Any] = call.input if isinstance(call.input, dict) else {}
    names: list[str] = []
    if call.name in ("Edit", "MultiEdit", "Write") and isinstance(args.get("file_path"), str):
        names.append(args["file_path"])
    elif call.name == "ApplyPatch" and isinstance(args.get("input"), str):
        for line in args["input"].splitlines():
            if line.startswith(_PATCH_HEADS):
                names.append(line.split(":", 1)[1].strip())
    return [Path(n) if os.path.isabs(n) else cwd / n for n in names if n]


class Checkpoints:
    def __init__(self) -> None:
        # message index of a prompt -> {file: its bytes before that turn, None: absent}
        self.turns: dict[int, dict[Path, bytes | None]] = {}
        self.current: int | None = None

    def start(self, index: int) -> None:
        self.current = index
        self.turns.setdefault(index, {})

    def record(self, call: ToolUsePart, cwd: Path) -> None:
        if self.current is None:
            return
        saved = self.turns[self.current]
        for path in changed_paths(call, cwd):
            if path not in saved:
                try:
                    saved[path] = path.read_bytes()
                except FileNotFoundError:
                    saved[path] = None
                except OSError:
                    continue  # unreadable: it cannot be restored either

    def changed(self, index: int) -> int:
        """How many files the turns from the prompt at `index` on changed."""
        return len({p for i, files in self.turns.items() if i >= index for p in files})

    def restore(self, index: int) -> list[Path]:
        """Every file back as it was before the prompt at `index`; returns them."""
        earliest: dict[Path, bytes | None] = {}
        for i in sorted(self.turns):
            if i >= index:
                for path, data in self.turns[i].items():
                    earliest.setdefault(path, data)
        for path, data in earliest.items():
            if data is None:
                path.unlink(missing_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        self.drop(index)
        return sorted(earliest)

    def drop(self, index: int = 0) -> None:
        """Forget the turns from the prompt at `index` on (all by default)."""
        for i in [i for i in self.turns if i >= index]:
            del self.turns[i]
        self.current = None


class RewindScreen(ModalScreen[tuple[int, str] | None]):
    DEFAULT_CSS = """
    RewindScreen { align: center bottom; }
    RewindScreen > Vertical { height: auto; max-height: 22; width: 100%;
        border: round $accent; background: $surface; }
    RewindScreen OptionList { height: auto; max-height: 16; border: none; }
    """
    BINDINGS = [Binding("escape", "close", "Close", show=False)]

    def __init__(self, prompts: list[tuple[int, str]], changed: dict[int, int]) -> None:
        super().__init__()
        self.prompts = prompts  # (message index, text), oldest first
        self.changed = changed
        self.picked: int | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("rewind to before which prompt? (Enter picks, Esc closes)"), id="ask")
            yield OptionList(id="choices")

    def on_mount(self) -> None:
        choices = self.query_one(OptionList)
        for index, text in self.prompts:
            line = Text("↶ " + " ".join(text.split())[:200])
            files = self.changed.get(index, 0)
            if files:
                line.append(f"  ({files} file{'s' if files > 1 else ''} changed since)", "dim")
            choices.add_option(Option(line))
        if self.prompts:
            choices.highlighted = len(self.prompts) - 1
        choices.focus()

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        message.stop()
        if self.picked is None:
            self.picked = self.prompts[message.option_index][0]
            self.query_one("#ask", Static).update(Text("what should go back?"))
            choices = self.query_one(OptionList)
            choices.clear_options()
            choices.add_options([Option(label) for _, label in CHOICES])
            choices.highlighted = 0
            return
        what = CHOICES[message.option_index][0]
        self.dismiss(None if what == "cancel" else (self.picked, what))

    def action_close(self) -> None:
        self.dismiss(None)


def open_rewind(app: Any) -> None:
    """Esc Esc (idle): the screen over the conversation's prompts, then the rewind."""
    from bridle.engine.compaction import real_prompts

    messages = app.session.engine.messages  # read while the engine's thread is idle
    prompts = [(i, messages[i].text) for i in real_prompts(messages)]
    if not prompts:
        app.run_worker(app.note("nothing to rewind yet"))
        return
    changed = {i: app.runner.checkpoints.changed(i) for i, _ in prompts}
    texts = dict(prompts)

    async def chosen(choice: tuple[int, str] | None) -> None:
        await rewind(app, choice, texts)

    app.push_screen(RewindScreen(prompts, changed), chosen)


async def rewind(app: Any, choice: tuple[int, str] | None, texts: dict[int, str]) -> None:
    from bridle.engine import events as ev
    from bridle.tui.views import short_path

    if choice is None or app.running:
        return
    index, what = choice
    checkpoints: Checkpoints = app.runner.checkpoints
    if what in ("both", "files"):
        try:
            restored = checkpoints.restore(index)
        except OSError as e:
            await app.note(f"could not restore the files: {e}", error=True)
            return
        names = ", ".join(short_path(str(p), app.cwd) for p in restored) or "none changed"
        await app.note(f"files restored ({len(restored)}): {names}")
    if what in ("both", "conversation"):
        checkpoints.drop(index)
        app.runner.control(ev.Clear(keep=index))
        app.prompt.load_text(texts[index])
        app.prompt.move_cursor(app.prompt.document.end)
