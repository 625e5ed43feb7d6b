"""Read: show a text file with `cat -n` numbering, or an image as an image part.

Relative paths resolve against the session's cwd. Output is numbered from the
requested offset, at most `limit` lines (2000 by default) and about 30k
characters; long lines are cut at 2000 characters. When more remains, the result
ends with the offset to continue from. Directories are refused (use LS) and so
are binary files. Every successful read records the file's mtime so Write and
Edit can tell the model saw the current content. This tool never modifies files.
"""

from __future__ import annotations

import base64
import difflib
from pathlib import Path
from typing import Any

from bridle.core.errors import ToolError
from bridle.core.messages import ImagePart
from bridle.tools.base import Tool, ToolContext, ToolOutput
from bridle.tools.files import BOM, looks_binary, numbered, record_read

DEFAULT_LIMIT = 2000
MAX_LINE = 2000
MAX_CHARS = 30_000
MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}


class Read(Tool):
    name = "Read"
    description = (
        "Read a file. Text comes back numbered like `cat -n` (number, tab, line); "
        "images (png/jpg/gif/webp) are shown. Reads up to 2000 lines: pass offset "
        "(1-based line) and limit for more. Read a file before editing it."
    )
    input_schema = {
        "type": "object",
        "properties": {
            "file_path": {"type": "string", "description": "Path (absolute or relative to cwd)"},
            "offset": {"type": "integer", "minimum": 1, "description": "First line, 1-based"},
            "limit": {"type": "integer", "minimum": 1, "description": "Max lines"},
        },
        "required": ["file_path"],
        "additionalProperties": False,
    }
    read_only = True
    concurrency_safe = True

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        path = ctx.resolve(args["file_path"])
        shown = ctx.display(path)
        if path.is_dir():
            raise ToolError(f"{shown} is a directory. Use LS to list it.")
        if not path.exists():
            raise ToolError(_missing(path, shown))
        media = IMAGE_TYPES.get(path.suffix.lower())
        try:
            size = path.stat().st_size
            if media is not None and size > MAX_IMAGE_BYTES:
                raise ToolError(f"{shown} is {size} bytes; images over 5 MB are not shown.")
            data = path.read_bytes()
        except OSError as e:
            raise ToolError(f"cannot read {shown}: {e.strerror or e}") from e
        if media is not None:
            record_read(ctx, path)
            return ToolOutput([ImagePart(media, base64.b64encode(data).decode("ascii"))])
        if looks_binary(data):
            raise ToolError(
                f"{shown} is a binary file ({size} bytes). Inspect it with Bash "
                "(e.g. `file`, `xxd | head`) instead."
            )
        record_read(ctx, path)
        text = data.decode("utf-8", "replace").removeprefix(BOM)
        return ToolOutput.text(_render(text, args.get("offset") or 1, args.get("limit"), shown))


def _render(text: str, offset: int, limit: int | None, shown: str) -> str:
    if not text:
        return f"({shown} is empty)"
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    total = len(lines)
    if offset > total:
        raise ToolError(f"offset {offset} is past the end: {shown} has {total} lines.")
    end = min(total, offset - 1 + (limit or DEFAULT_LIMIT))
    shown_lines: list[str] = []
    chars = 0
    for line in lines[offset - 1 : end]:
        line = line.removesuffix("\r")
        if len(line) > MAX_LINE:
            line = line[:MAX_LINE] + f"… [line cut at {MAX_LINE} chars]"
        chars += len(line) + 8
        if chars > MAX_CHARS and shown_lines:
            break
        shown_lines.append(line)
    last = offset - 1 + len(shown_lines)
    body = numbered(shown_lines, offset)
    if last < total:
        body += f"\n[showing lines {offset}-{last} of {total}; use offset={last + 1} to read more]"
    return body


def _missing(path: Path, shown: str) -> str:
    msg = f"{shown} does not exist."
    if not path.parent.is_dir():
        return msg + f" Its directory {path.parent} does not exist either."
    try:
        names = [p.name for p in path.parent.iterdir()]
    except OSError:
        return msg
    close = difflib.get_close_matches(path.name, names, n=3, cutoff=0.6)
    if close:
        # Suggestions keep the style (relative or absolute) of the path asked for.
        prefix = shown.rsplit("/", 1)[0] + "/" if "/" in shown else ""
        msg += " Did you mean: " + ", ".join(prefix + n for n in close) + "?"
    return msg
