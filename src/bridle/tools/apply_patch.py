"""ApplyPatch: apply a Codex `*** Begin Patch` envelope across files, atomically.

Every hunk is computed in memory first, against an overlay so a later hunk sees
an earlier one's result; any failure (a context line not found, a missing file,
an Add over an existing file) leaves the disk untouched. Then each file is
written atomically, and if a write fails the ones already written are rolled
back from their saved originals. Updates keep each file's mode, BOM and line
endings (a CRLF file stays CRLF) and the file's own context lines; new files
end with a newline. Changed files
are auto-verified. Unlike Write, files need not have been Read: every context
line is checked against the file instead. Parsing lives in `_patch`.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from bridle.core.errors import ToolError
from bridle.store.atomic import atomic_write
from bridle.tools._patch import Hunk, parse_patch, seek_sequence
from bridle.tools.base import Tool, ToolContext, ToolOutput
from bridle.tools.files import TextFile, load_text, record_read
from bridle.tools.verify import append_verify

# path -> the file's state after the hunks so far; None means deleted/absent.
Overlay = dict[Path, TextFile | None]


def apply_chunks(doc: TextFile, hunk: Hunk, shown: str) -> str:
    """The new text of `doc` after `hunk`'s chunks (Codex's replacement algorithm)."""
    lines = doc.text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    replacements: list[tuple[int, int, list[str]]] = []
    at = 0
    for chunk in hunk.chunks:
        if chunk.context is not None:
            found = seek_sequence(lines, [chunk.context], at, False)
            if found is None:
                raise ToolError(f"context line {chunk.context!r} was not found in {shown}.")
            at = found + 1
        if not chunk.old:
            replacements.append((len(lines), 0, chunk.new))
            continue
        old, new = chunk.old, chunk.new
        found = seek_sequence(lines, old, at, chunk.end_of_file)
        if found is None and old[-1] == "":
            # A trailing empty context line often stands for the file's final newline.
            old = old[:-1]
            new = new[:-1] if new and new[-1] == "" else new
            found = seek_sequence(lines, old, at, chunk.end_of_file)
        if found is None:
            want = "\n".join(chunk.old)
            raise ToolError(
                f"these lines were not found in {shown} (after line {at}); Read the file "
                f"and retry with its current content:\n{want}"
            )
        replacements.append(
            (found, len(old), _keep_context(lines[found : found + len(old)], chunk.tags, new))
        )
        at = found + len(old)
    for start, length, new in sorted(replacements, key=lambda r: r[0], reverse=True):
        lines[start : start + length] = new
    return "\n".join(lines) + "\n"


def _keep_context(matched: list[str], tags: list[str], new: list[str]) -> list[str]:
    """`new` with each context line taken from the file rather than the patch.

    Codex writes the patch's version of context lines, so a tolerant match (say,
    on trailing whitespace) silently rewrites them; keeping the file's own lines
    changes only what the patch marks with `-` and `+`.
    """
    out: list[str] = []
    k_old = k_new = 0
    for tag in tags:
        if k_new >= len(new) and tag != "-":
            break  # the trailing empty context line dropped on retry
        if tag == " ":
            out.append(matched[k_old] if k_old < len(matched) else new[k_new])
            k_old += 1
            k_new += 1
        elif tag == "-":
            k_old += 1
        else:
            out.append(new[k_new])
            k_new += 1
    return out


class ApplyPatch(Tool):
    name = "ApplyPatch"
    description = (
        "Edit files with a patch: `*** Begin Patch`, then per file `*** Add File: p` "
        "(+lines), `*** Delete File: p`, or `*** Update File: p` (optional `*** Move to: q`) "
        "with `@@ context` chunks of ' ', '-', '+' lines (3 context lines around changes), "
        "then `*** End Patch`. All files change or none."
    )
    input_schema = {
        "type": "object",
        "properties": {"input": {"type": "string", "description": "The whole patch"}},
        "required": ["input"],
        "additionalProperties": False,
    }

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        hunks = parse_patch(args["input"])
        overlay: Overlay = {}
        summary: list[str] = []
        for hunk in hunks:
            summary.append(self._plan(hunk, overlay, ctx))
        written = _commit(overlay, ctx)
        report = "Success. Updated the following files:\n" + "\n".join(summary)
        kept = [str(p) for p, doc in overlay.items() if doc is not None]
        return ToolOutput.text(append_verify(report, kept, ctx), changed_files=written)

    def _plan(self, hunk: Hunk, overlay: Overlay, ctx: ToolContext) -> str:
        path = ctx.resolve(hunk.path)
        shown = ctx.display(path)
        current = _current(path, overlay, shown)
        if hunk.kind == "add":
            if current is not None:
                raise ToolError(f"cannot add {shown}: it already exists. Use Update File.")
            overlay[path] = TextFile(hunk.content)
            return f"A {shown}"
        if current is None:
            raise ToolError(f"cannot {hunk.kind} {shown}: it does not exist.")
        if hunk.kind == "delete":
            overlay[path] = None
            return f"D {shown}"
        text = apply_chunks(current, hunk, shown)
        updated = TextFile(text, crlf=current.crlf, bom=current.bom)
        if hunk.move_to:
            dest = ctx.resolve(hunk.move_to)
            if dest != path and _current(dest, overlay, ctx.display(dest)) is not None:
                raise ToolError(f"cannot move {shown} to {ctx.display(dest)}: it already exists.")
            overlay[path] = None
            overlay[dest] = updated
            return f"M {shown} -> {ctx.display(dest)}"
        overlay[path] = updated
        return f"M {shown}"


def _current(path: Path, overlay: Overlay, shown: str) -> TextFile | None:
    if path in overlay:
        return overlay[path]
    if path.is_dir():
        raise ToolError(f"{shown} is a directory.")
    if not path.exists():
        return None
    return load_text(path, shown)


def _commit(overlay: Overlay, ctx: ToolContext) -> list[str]:
    """Write the overlay to disk; on any failure restore what was already written."""
    originals: dict[Path, tuple[bytes | None, int | None]] = {}
    for path in overlay:
        try:
            originals[path] = (path.read_bytes(), os.stat(path).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            originals[path] = (None, None)
        except OSError as e:
            raise ToolError(f"cannot read {ctx.display(path)}: {e.strerror or e}") from e
    done: list[Path] = []
    try:
        for path, doc in overlay.items():
            if doc is None:
                if originals[path][0] is not None:
                    path.unlink()
                ctx.read_files.pop(str(path), None)
            else:
                atomic_write(path, doc.encode(doc.text))
                record_read(ctx, path)
            done.append(path)
    except OSError as e:
        failed = ctx.display(path)
        for undo in reversed(done):
            data, mode = originals[undo]
            with contextlib.suppress(OSError):
                if data is None:
                    undo.unlink(missing_ok=True)
                else:
                    # A deleted original comes back with its own mode.
                    atomic_write(undo, data, mode=None if mode is None else mode & 0o7777)
        raise ToolError(
            f"writing {failed} failed ({e.strerror or e}); all changes were rolled back."
        ) from e
    return [str(p) for p in done]
