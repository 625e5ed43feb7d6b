"""Edit: replace an exact string in a file the session has read.

`old_string` must occur exactly once unless `replace_all`. The file's mode, BOM
and line endings are preserved: a CRLF file is edited as LF text and written back
as CRLF, whichever endings the model sent. A failed match reports the closest
lines in the file (difflib) with their numbers, so the model can correct itself
without another Read. The result shows a short numbered snippet of the edited
region, then the auto-verify report. An empty `old_string` on a missing file
creates it. MultiEdit reuses `apply_edit` and `write_edited` from here.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from bridle.core.errors import ToolError
from bridle.store.atomic import atomic_write
from bridle.tools.base import Tool, ToolContext, ToolOutput
from bridle.tools.files import (
    TextFile,
    load_text,
    numbered,
    record_read,
    require_fresh,
    snippet,
)
from bridle.tools.verify import append_verify

MAX_SNIPPET_LINES = 16
MAX_SCAN_LINES = 20_000


def apply_edit(
    text: str, old: str, new: str, replace_all: bool, shown: str
) -> tuple[str, int, int]:
    """Return (new text, first changed line, last changed line), 1-based."""
    if old == new:
        raise ToolError("old_string and new_string are identical; nothing to change.")
    if not old:
        if text:
            raise ToolError(f"old_string is empty but {shown} is not; give the text to replace.")
        return new, 1, max(1, new.count("\n") + 1)
    count = text.count(old)
    if count == 0:
        raise ToolError(f"old_string was not found in {shown}. " + closest_lines(text, old))
    if count > 1 and not replace_all:
        lines = _occurrence_lines(text, old)
        raise ToolError(
            f"old_string occurs {count} times in {shown} (lines {', '.join(map(str, lines[:10]))}). "
            "Add surrounding lines to make it unique, or set replace_all to change every one."
        )
    start = text.index(old)
    first = text.count("\n", 0, start) + 1
    result = text.replace(old, new) if replace_all else text.replace(old, new, 1)
    return result, first, first + new.count("\n")


def _occurrence_lines(text: str, old: str) -> list[int]:
    out: list[int] = []
    i = text.find(old)
    while i != -1:
        out.append(text.count("\n", 0, i) + 1)
        i = text.find(old, i + 1)
    return out


def closest_lines(text: str, old: str) -> str:
    """Describe the lines of `text` most similar to `old`, numbered."""
    lines = text.split("\n")
    target = old.strip("\n").split("\n")
    k = len(target)
    if len(lines) > MAX_SCAN_LINES:
        return "Read the file again to see its current content."
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    wanted = "\n".join(target)
    matcher.set_seq2(wanted)
    best_ratio, best_at = 0.0, 0
    for i in range(max(1, len(lines) - k + 1)):
        matcher.set_seq1("\n".join(lines[i : i + k]))
        if matcher.real_quick_ratio() <= best_ratio or matcher.quick_ratio() <= best_ratio:
            continue
        ratio = matcher.ratio()
        if ratio > best_ratio:
            best_ratio, best_at = ratio, i
    if best_ratio < 0.5:
        return "Nothing similar is in the file; Read it again to see its current content."
    window = lines[best_at : best_at + k]
    hint = ""
    if [w.strip() for w in window] == [t.strip() for t in target]:
        hint = " It differs only in indentation or trailing whitespace."
    elif "".join(window).split() == "".join(target).split():
        hint = " It differs only in whitespace."
    return (
        f"The closest match is lines {best_at + 1}-{best_at + len(window)} "
        f"({best_ratio:.0%} similar).{hint}\n{numbered(window, best_at + 1)}"
    )


def load_for_edit(ctx: ToolContext, path: Path, shown: str) -> TextFile:
    require_fresh(ctx, path, shown)
    return load_text(path, shown)


def model_text(doc: TextFile, s: str) -> str:
    """The model's string in the document's in-memory convention (LF for CRLF files)."""
    return s.replace("\r\n", "\n") if doc.crlf else s


def write_edited(
    ctx: ToolContext, path: Path, doc: TextFile, text: str, summary: str
) -> ToolOutput:
    try:
        atomic_write(path, doc.encode(text))
    except OSError as e:
        raise ToolError(f"cannot write {ctx.display(path)}: {e.strerror or e}") from e
    record_read(ctx, path)
    return ToolOutput.text(append_verify(summary, [str(path)], ctx), changed_files=[str(path)])


def edited_snippet(text: str, first: int, last: int) -> str:
    last = min(last, first + MAX_SNIPPET_LINES - 1)
    return snippet(text, first, last, context=2)


class Edit(Tool):
    name = "Edit"
    description = (
        "Replace old_string with new_string in a file you have Read. old_string must "
        "match exactly (including indentation) and be unique, unless replace_all. "
        "Do not include the line-number prefix from Read."
    )
    input_schema = {
        "type": "object",
        "properties": {
            "file_path": {"type": "string"},
            "old_string": {"type": "string"},
            "new_string": {"type": "string"},
            "replace_all": {"type": "boolean", "default": False},
        },
        "required": ["file_path", "old_string", "new_string"],
        "additionalProperties": False,
    }

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        path = ctx.resolve(args["file_path"])
        shown = ctx.display(path)
        if not path.exists() and args["old_string"] == "":
            doc = TextFile("")
        else:
            if not path.exists():
                raise ToolError(f"{shown} does not exist. Use Write to create a file.")
            doc = load_for_edit(ctx, path, shown)
        old, new = model_text(doc, args["old_string"]), model_text(doc, args["new_string"])
        replace_all = bool(args.get("replace_all", False))
        n = doc.text.count(old) if old else 1
        text, first, last = apply_edit(doc.text, old, new, replace_all, shown)
        what = f"Replaced {n} occurrences in" if replace_all and n > 1 else "Edited"
        summary = f"{what} {shown}:\n{edited_snippet(text, first, last)}"
        return write_edited(ctx, path, doc, text, summary)
