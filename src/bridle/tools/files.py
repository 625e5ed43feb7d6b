"""File helpers shared by the file tools: read-before-write bookkeeping and
text decoding that remembers BOM and line endings.

A file is "fresh" when this session read (or wrote) it and its mtime has not
moved since; Write, Edit and MultiEdit refuse stale or unread files so a model
never overwrites changes it has not seen. Writing itself is `store.atomic`'s one
writer (through symlinks, mode kept, fsynced). This module does not decide
*whether* a write is allowed by policy; the engine does.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from bridle.core.errors import ToolError
from bridle.tools.base import ToolContext

BOM = "\ufeff"


@dataclass
class TextFile:
    """A decoded text file: `text` always uses `\\n`; `crlf`/`bom` say how to
    write it back so the user's conventions survive an edit."""

    text: str
    crlf: bool = False
    bom: bool = False

    def encode(self, text: str) -> bytes:
        if self.crlf:
            text = text.replace("\r\n", "\n").replace("\n", "\r\n")
        return ((BOM if self.bom else "") + text).encode("utf-8")


def looks_binary(data: bytes) -> bool:
    return b"\x00" in data[:8192]


def load_text(path: Path, shown: str) -> TextFile:
    """Decode `path` as UTF-8 text, or raise a ToolError the model can act on."""
    try:
        data = path.read_bytes()
    except IsADirectoryError as e:
        raise ToolError(f"{shown} is a directory, not a file.") from e
    except OSError as e:
        raise ToolError(f"cannot read {shown}: {e.strerror or e}") from e
    if looks_binary(data):
        raise ToolError(f"{shown} is a binary file; it cannot be edited as text.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ToolError(f"{shown} is not valid UTF-8 ({e.reason} at byte {e.start}).") from e
    bom = text.startswith(BOM)
    if bom:
        text = text[1:]
    newlines = text.count("\n")
    # Only a file whose every newline is CRLF is treated as CRLF; a mixed file is
    # left byte-for-byte as it is outside the edited region.
    crlf = newlines > 0 and text.count("\r\n") == newlines
    if crlf:
        text = text.replace("\r\n", "\n")
    return TextFile(text, crlf=crlf, bom=bom)


def record_read(ctx: ToolContext, path: Path) -> None:
    with contextlib.suppress(OSError):
        ctx.read_files[str(path)] = path.stat().st_mtime_ns


def require_fresh(ctx: ToolContext, path: Path, shown: str) -> None:
    """Raise unless this session has read `path` and it has not changed since."""
    seen = ctx.read_files.get(str(path))
    if seen is None:
        raise ToolError(f"{shown} has not been read in this session. Read it first, then retry.")
    try:
        now = path.stat().st_mtime_ns
    except OSError as e:
        raise ToolError(f"cannot stat {shown}: {e.strerror or e}") from e
    if now != seen:
        raise ToolError(
            f"{shown} changed on disk since it was last read (by the user or another "
            "process). Read it again, then retry."
        )


def numbered(lines: list[str], first: int) -> str:
    """`cat -n` style: right-aligned line number, a tab, the line."""
    return "\n".join(f"{n:>6}\t{line}" for n, line in enumerate(lines, first))


def snippet(text: str, start_line: int, end_line: int, context: int = 3) -> str:
    """Numbered lines `start_line..end_line` (1-based) of `text` with some context."""
    lines = text.split("\n")
    lo = max(1, start_line - context)
    hi = min(len(lines), end_line + context)
    return numbered(lines[lo - 1 : hi], lo)
