"""Completions for the prompt box: `/` commands with their descriptions and `@` paths.

`complete(line, cursor, commands, cwd)` looks at the text before the cursor on
the current line: a line that starts with `/name` (no space yet) gets the
commands whose names start with what was typed (the app's built-ins, then the
project's commands and skills), each with its description; a word that starts
with `@` gets the files and folders of that path's folder whose names start with
the rest (folders end in `/`; dot files only when the typed name starts with a
dot; at most `LIMIT`). Each `Completion` says which columns of the line it
replaces and with what. `CompletionList` is the list shown above the prompt box;
the box moves through it (↑/↓) and takes a choice (Tab). Listing a folder is the
only I/O here, and only of the one folder the typed path names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

LIMIT = 50


@dataclass(frozen=True)
class Completion:
    """One choice for the word being typed, and the columns of the line it replaces."""

    start: int  # the first column of the line it replaces
    end: int  # the column after the last
    text: str  # what goes there
    label: str
    description: str = ""


def complete(line: str, cursor: int, commands: Mapping[str, str], cwd: Path) -> list[Completion]:
    """What the text before `cursor` on this `line` may become (see the module doc)."""
    before = line[:cursor]
    if before.startswith("/") and " " not in before:
        typed = before[1:].lower()
        return [
            Completion(0, cursor, f"/{name} ", f"/{name}", description)
            for name, description in commands.items()
            if name.lower().startswith(typed)
        ][:LIMIT]
    start = max(before.rfind(" "), before.rfind("\t")) + 1
    word = before[start:]
    if not word.startswith("@"):
        return []
    return [Completion(start, cursor, "@" + path, "@" + path) for path in paths(word[1:], cwd)]


def paths(typed: str, cwd: Path) -> list[str]:
    """The entries of `typed`'s folder (relative to `cwd`, or absolute, or `~/`)
    whose names start with its last part, folders first and ending in `/`."""
    head, _, name = typed.rpartition("/")
    folder = head + "/" if head or typed.startswith("/") else ""
    where = Path(os.path.expanduser(folder)) if folder else Path(".")
    if not where.is_absolute():
        where = cwd / where
    try:
        entries = list(os.scandir(where))
    except OSError:
        return []
    found: list[tuple[bool, str]] = []
    for entry in entries:
        if not entry.name.startswith(name):
            continue
        if entry.name.startswith(".") and not name.startswith("."):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        found.append((not is_dir, entry.name + ("/" if is_dir else "")))
    found.sort()
    return [folder + entry for _, entry in found[:LIMIT]]


class CompletionList(OptionList):
    """The choices for the word being typed, shown above the prompt box."""

    DEFAULT_CSS = """
    CompletionList { height: auto; max-height: 8; display: none; border: none;
        padding: 0 1; background: $boost; }
    CompletionList.shown { display: block; }
    """
    can_focus = False

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.choices: list[Completion] = []

    def show(self, choices: list[Completion]) -> None:
        self.choices = choices
        self.clear_options()
        if not choices:
            self.remove_class("shown")
            return
        width = max(len(c.label) for c in choices)
        options = []
        for choice in choices:
            label = Text(choice.label.ljust(width), style="bold")
            if choice.description:
                label.append("  " + choice.description, style="dim")
            options.append(Option(label))
        self.add_options(options)
        self.highlighted = 0
        self.add_class("shown")

    def hide(self) -> None:
        self.show([])

    @property
    def shown(self) -> bool:
        return bool(self.choices)

    def move(self, step: int) -> None:
        if self.choices:
            self.highlighted = ((self.highlighted or 0) + step) % len(self.choices)

    def chosen(self) -> Completion | None:
        if not self.choices:
            return None
        return self.choices[self.highlighted or 0]
