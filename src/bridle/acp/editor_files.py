"""Read, Write, Edit, MultiEdit and ApplyPatch on the editor's buffers.

An ACP client that announces `fs.readTextFile`/`fs.writeTextFile` holds buffers
the disk does not see yet (unsaved edits). These tools replace the built-in
ones of the same names, schemas and result texts, taking file text from
`fs/read_text_file` and giving it back with `fs/write_text_file`. The built-in
rules hold: a file is written only after the session read it and while it is
unchanged since, which here means the editor's text still has the digest it
had when the session last read or wrote it (`EditorLink.seen`; buffers have no
mtime); a file read by a disk tool or in an earlier process falls back to the
built-in mtime check. Edits keep a file's BOM and CRLF endings, MultiEdit is
all or nothing, and ApplyPatch checks that every file applies before it writes
any (then rolls back what it wrote if a later write fails; deletions happen on
disk, last, since the protocol cannot delete). Each written file is checked
with settings `verify` once the editor has saved it to disk. Images and
directories are still read from disk.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from bridle.acp.link import EditorLink, client_error, digest
from bridle.core.errors import ToolError
from bridle.tools import apply_patch as patch_tool
from bridle.tools.apply_patch import ApplyPatch as DiskApplyPatch
from bridle.tools.base import ToolContext, ToolOutput
from bridle.tools.edit import Edit as DiskEdit
from bridle.tools.edit import apply_edit, edited_snippet, model_text
from bridle.tools.files import BOM, TextFile, numbered, record_read, require_fresh
from bridle.tools.multi_edit import MultiEdit as DiskMultiEdit
from bridle.tools.multi_edit import apply_edits
from bridle.tools.read import DEFAULT_LIMIT, IMAGE_TYPES, MAX_LINE
from bridle.tools.read import Read as DiskRead
from bridle.tools.verify import append_verify
from bridle.tools.write import Write as DiskWrite


def fetch(link: EditorLink, path: Path, shown: str) -> str:
    """The editor's text of `path` (its buffer, or the file it opens)."""
    try:
        return str(link.call(link.conn.read_text_file, path=str(path)).content)
    except Exception as e:
        raise client_error(e, f"read {shown}") from e


def current(link: EditorLink, ctx: ToolContext, path: Path, shown: str) -> str:
    """The buffer a write replaces, once it is known the session has seen it as it is."""
    key = str(path)
    if key not in link.seen and key not in ctx.read_files:
        raise ToolError(f"{shown} has not been read in this session. Read it first, then retry.")
    text = fetch(link, path, shown)
    seen = link.seen.get(key)
    if seen is None:
        require_fresh(ctx, path, shown)  # read from disk (or before a restart): its mtime
    elif digest(text) != seen:
        raise ToolError(
            f"{shown} changed in the editor since it was last read (an unsaved edit, the "
            "user or another process). Read it again, then retry."
        )
    return text


def store(link: EditorLink, ctx: ToolContext, path: Path, text: str) -> None:
    try:
        link.call(link.conn.write_text_file, path=str(path), content=text)
    except Exception as e:
        raise client_error(e, f"write {ctx.display(path)}") from e
    record_read(ctx, path)
    link.seen[str(path)] = digest(text)


def verified(summary: str, written: dict[Path, str], ctx: ToolContext) -> str:
    """`summary` with settings `verify` run on the written files the editor has
    saved (the checks read the disk); a file still unsaved is named instead."""
    saved: list[str] = []
    unsaved: list[str] = []
    for path, text in written.items():
        try:
            on_disk = path.read_bytes().decode("utf-8", "replace").removeprefix(BOM)
        except OSError:
            on_disk = None
        (saved if on_disk is not None and digest(on_disk) == digest(text) else unsaved).append(
            str(path)
        )
    out = append_verify(summary, saved, ctx)
    if unsaved:
        names = ", ".join(ctx.display(Path(p)) for p in unsaved)
        out += f"\nNot verified: the editor has not saved {names} to disk yet."
    return out


def as_doc(text: str) -> TextFile:
    """The editor's text in the built-in tools' convention (`\\n`, no BOM), with
    how to give it back (see `files.load_text`)."""
    bom = text.startswith(BOM)
    text = text.removeprefix(BOM)
    newlines = text.count("\n")
    crlf = newlines > 0 and text.count("\r\n") == newlines
    return TextFile(text.replace("\r\n", "\n") if crlf else text, crlf=crlf, bom=bom)


def as_text(doc: TextFile, text: str) -> str:
    if doc.crlf:
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    return (BOM if doc.bom else "") + text


class EditorRead(DiskRead):
    def __init__(self, link: EditorLink):
        self.link = link

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        path = ctx.resolve(args["file_path"])
        if path.suffix.lower() in IMAGE_TYPES or path.is_dir():
            return super().run(args, ctx)
        shown = ctx.display(path)
        try:
            text = fetch(self.link, path, shown)
        except ToolError:
            if not path.exists():
                return super().run(args, ctx)  # the disk tool's "did you mean"
            raise
        record_read(ctx, path)
        self.link.seen[str(path)] = digest(text)
        return ToolOutput.text(render(text, args.get("offset") or 1, args.get("limit"), shown))


def render(text: str, offset: int, limit: int | None, shown: str) -> str:
    """`cat -n` lines as the disk Read shows them."""
    if not text:
        return f"({shown} is empty)"
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if offset > len(lines):
        raise ToolError(f"offset {offset} is past the end: {shown} has {len(lines)} lines.")
    end = min(len(lines), offset - 1 + (limit or DEFAULT_LIMIT))
    picked = [
        ln if len(ln) <= MAX_LINE else ln[:MAX_LINE] + f"… [line cut at {MAX_LINE} chars]"
        for ln in (line.removesuffix("\r") for line in lines[offset - 1 : end])
    ]
    body = numbered(picked, offset)
    if end < len(lines):
        body += (
            f"\n[showing lines {offset}-{end} of {len(lines)}; use offset={end + 1} to read more]"
        )
    return body


class EditorWrite(DiskWrite):
    def __init__(self, link: EditorLink):
        self.link = link

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        path = ctx.resolve(args["file_path"])
        shown = ctx.display(path)
        content: str = args["content"]
        if path.is_dir():
            raise ToolError(f"{shown} is a directory; give a file path.")
        existed = path.exists()
        if existed:
            current(self.link, ctx, path, shown)
        store(self.link, ctx, path, content)
        lines = content.count("\n") + (0 if content.endswith("\n") or not content else 1)
        verb = "Overwrote" if existed else "Created"
        text = verified(f"{verb} {shown} ({lines} lines).", {path: content}, ctx)
        return ToolOutput.text(text, changed_files=[str(path)])


def _buffer_for_edit(link: EditorLink, ctx: ToolContext, path: Path, shown: str,
                     creates: bool) -> TextFile:  # fmt: skip
    if path.exists():
        return as_doc(current(link, ctx, path, shown))
    if creates:  # an empty old_string makes a new file
        return TextFile("")
    raise ToolError(f"{shown} does not exist. Use Write to create a file.")


def _save_edit(link: EditorLink, ctx: ToolContext, path: Path, doc: TextFile, text: str,
               summary: str) -> ToolOutput:  # fmt: skip
    out = as_text(doc, text)
    store(link, ctx, path, out)
    return ToolOutput.text(verified(summary, {path: out}, ctx), changed_files=[str(path)])


class EditorEdit(DiskEdit):
    def __init__(self, link: EditorLink):
        self.link = link

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        path = ctx.resolve(args["file_path"])
        shown = ctx.display(path)
        doc = _buffer_for_edit(self.link, ctx, path, shown, args["old_string"] == "")
        old, new = model_text(doc, args["old_string"]), model_text(doc, args["new_string"])
        replace_all = bool(args.get("replace_all", False))
        n = doc.text.count(old) if old else 1
        text, first, last = apply_edit(doc.text, old, new, replace_all, shown)
        what = f"Replaced {n} occurrences in" if replace_all and n > 1 else "Edited"
        summary = f"{what} {shown}:\n{edited_snippet(text, first, last)}"
        return _save_edit(self.link, ctx, path, doc, text, summary)


class EditorMultiEdit(DiskMultiEdit):
    def __init__(self, link: EditorLink):
        self.link = link

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        path = ctx.resolve(args["file_path"])
        shown = ctx.display(path)
        edits: list[dict[str, Any]] = args["edits"]
        creates = bool(edits) and edits[0]["old_string"] == ""
        doc = _buffer_for_edit(self.link, ctx, path, shown, creates)
        text, summary = apply_edits(doc, edits, shown)
        return _save_edit(self.link, ctx, path, doc, text, summary)


class EditorApplyPatch(DiskApplyPatch):
    """The built-in patch planner run on the editor's buffers: every file the
    patch names is taken from the editor first, so a hunk that does not apply
    fails before anything is written."""

    def __init__(self, link: EditorLink):
        self.link = link

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        hunks = patch_tool.parse_patch(args["input"])
        overlay: patch_tool.Overlay = {}
        for hunk in hunks:
            for name in (hunk.path, hunk.move_to):
                path = ctx.resolve(name) if name else None
                if path is not None and path not in overlay:
                    overlay[path] = self._load(path, ctx)
        before = dict(overlay)
        summary = [self._plan(hunk, overlay, ctx) for hunk in hunks]
        changed = {p: doc for p, doc in overlay.items() if doc is not before[p]}
        written = self._commit_all(changed, before, ctx)
        report = "Success. Updated the following files:\n" + "\n".join(summary)
        kept = {p: as_text(d, d.text) for p, d in changed.items() if d is not None}
        return ToolOutput.text(verified(report, kept, ctx), changed_files=written)

    def _load(self, path: Path, ctx: ToolContext) -> TextFile | None:
        shown = ctx.display(path)
        if path.is_dir():
            raise ToolError(f"{shown} is a directory.")
        if not path.exists():
            return None
        return as_doc(fetch(self.link, path, shown))

    def _commit_all(
        self, changed: dict[Path, TextFile | None], before: patch_tool.Overlay, ctx: ToolContext
    ) -> list[str]:
        """Writes through the editor, then deletions on disk; on a failure what
        was done is undone and nothing is left half applied."""
        done: list[Path] = []
        try:
            for path, doc in changed.items():
                if doc is not None:
                    store(self.link, ctx, path, as_text(doc, doc.text))
                    done.append(path)
            for path, doc in changed.items():
                if doc is None and before[path] is not None:
                    try:
                        path.unlink(missing_ok=True)
                    except OSError as e:
                        raise ToolError(f"cannot delete {ctx.display(path)}: {e.strerror}") from e
                    ctx.read_files.pop(str(path), None)
                    self.link.seen.pop(str(path), None)
                    done.append(path)
        except ToolError as e:
            for undo in reversed(done):
                old = before[undo]
                with contextlib.suppress(ToolError, OSError):
                    if old is None:
                        undo.unlink(missing_ok=True)
                    else:
                        store(self.link, ctx, undo, as_text(old, old.text))
            raise ToolError(f"{e}; all changes were rolled back.") from e
        return [str(p) for p in done]
