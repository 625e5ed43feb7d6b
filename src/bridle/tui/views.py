"""How a tool call looks in the app: its one-line summary, its diff, its outcome.

`call_title` is the compact line's text (`Edit stats.py`, `Bash python -m
unittest -q`), `call_diff` the coloured diff of a file-changing call (Edit,
MultiEdit, Write against the file's current text, ApplyPatch's own hunks),
`diff_stats` its `+N −M`, and `bash_exit` the exit code a Bash result reports.
`call_diff` may read the file a Write replaces, so the app calls it on the
engine's thread, before the call runs. Nothing here touches Textual.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text

if TYPE_CHECKING:  # annotations only: the app's first screen loads no message types
    from bridle.core.messages import ToolResultPart, ToolUsePart


DIFF_TOOLS = ("Edit", "MultiEdit", "Write", "ApplyPatch")
MAX_DIFF_LINES = 400
MAX_READ = 2_000_000


def short_path(path: str, cwd: Path) -> str:
    try:
        return os.path.relpath(path, cwd) if os.path.isabs(path) else path
    except ValueError:
        return path


def call_title(call: ToolUsePart, cwd: Path) -> str:
    args: dict[str, Any] = call.input if isinstance(call.input, dict) else {}
    if isinstance(args.get("file_path"), str):
        return f"{call.name} {short_path(args['file_path'], cwd)}"
    if call.name == "Bash" and isinstance(args.get("command"), str):
        return f"Bash {' '.join(args['command'].split())}"
    for key in ("pattern", "path", "url", "skill", "description"):
        if isinstance(args.get(key), str):
            return f"{call.name} {args[key]}"
    if call.name == "ApplyPatch" and isinstance(args.get("input"), str):
        files = [
            ln.split(":", 1)[1].strip()
            for ln in args["input"].splitlines()
            if ln.startswith(("*** Update File:", "*** Add File:", "*** Delete File:"))
        ]
        return f"ApplyPatch {', '.join(files)}"
    return call.name


def subject(call: ToolUsePart, cwd: Path) -> str:
    """What the permission question names: a file, a command, or the tool's target."""
    title = call_title(call, cwd)
    return title[len(call.name) + 1 :] if title.startswith(call.name + " ") else ""


def _unified(old: str, new: str, name: str) -> list[str]:
    return list(
        difflib.unified_diff(
            old.splitlines(), new.splitlines(), f"a/{name}", f"b/{name}", n=2, lineterm=""
        )
    )


def _read(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_READ:
            return ""
        return path.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        return ""


def _edited(text: str, edits: list[Any]) -> str | None:
    """The file's text after the edits, or None when one does not apply."""
    for edit in edits:
        if not isinstance(edit, dict):
            return None
        old, new = edit.get("old_string"), edit.get("new_string", "")
        if not isinstance(old, str) or not old or old not in text:
            return None
        text = text.replace(old, str(new), -1 if edit.get("replace_all") else 1)
    return text


def diff_lines(call: ToolUsePart, cwd: Path) -> list[str]:
    """The unified diff lines of a file-changing call ([] for other calls): Edit
    and MultiEdit against the file as it is (so the hunks carry line numbers),
    or between their strings when the file does not match them."""
    args: dict[str, Any] = call.input if isinstance(call.input, dict) else {}
    path = args.get("file_path")
    if call.name == "ApplyPatch" and isinstance(args.get("input"), str):
        return list(args["input"].splitlines())
    if not isinstance(path, str):
        return []
    name = short_path(path, cwd)
    full = Path(path) if os.path.isabs(path) else cwd / path
    edits: list[Any] = []
    if call.name == "Edit":
        edits = [args]
    elif call.name == "MultiEdit" and isinstance(args.get("edits"), list):
        edits = list(args["edits"])
    elif call.name == "Write" and isinstance(args.get("content"), str):
        return _unified(_read(full), args["content"], name)
    if not edits:
        return []
    before = _read(full)
    after = _edited(before, edits)
    if after is not None:
        return _unified(before, after, name)
    lines: list[str] = []
    for edit in edits:
        if isinstance(edit, dict) and isinstance(edit.get("old_string"), str):
            lines += _unified(edit["old_string"], str(edit.get("new_string", "")), name)
    return lines


def colour_diff(lines: list[str]) -> Text:
    out = Text()
    for line in lines[:MAX_DIFF_LINES]:
        if line.startswith(("+++", "---", "***")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        else:
            style = "dim"
        out.append(line + "\n", style=style)
    if len(lines) > MAX_DIFF_LINES:
        out.append(f"… {len(lines) - MAX_DIFF_LINES} more lines\n", style="dim")
    return out


def diff_counts(lines: list[str]) -> tuple[int, int]:
    """Lines added and removed by a unified diff."""
    added = sum(1 for ln in lines if ln.startswith("+") and not ln.startswith(("+++", "***")))
    removed = sum(1 for ln in lines if ln.startswith("-") and not ln.startswith(("---", "***")))
    return added, removed


def diff_stats(lines: list[str]) -> str:
    added, removed = diff_counts(lines)
    return f"+{added} −{removed}" if lines else ""


def call_input_text(call: ToolUsePart) -> str:
    if isinstance(call.input, dict) and call.name == "Bash":
        return "$ " + str(call.input.get("command", ""))
    return json.dumps(call.input, indent=2, ensure_ascii=False)


def bash_exit(result: ToolResultPart) -> int | None:
    """The exit code a Bash result reports (`[exit code N]`, else 0 on success)."""
    text = result.text
    marker = text.rfind("[exit code ")
    if marker >= 0:
        digits = text[marker + 11 :].split("]", 1)[0]
        if digits.lstrip("-").isdigit():
            return int(digits)
    return None if result.is_error else 0
