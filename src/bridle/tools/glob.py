"""Glob: find files by name pattern, newest first.

The pattern matches whole paths relative to the search directory (`*.py` is the
top level only; `**/*.py` recurses), with gitignore-style syntax from
`_listing`. Files ignored by git (or, outside git, VCS/cache/virtualenv
directories) are skipped. Results are sorted by modification time, newest first,
and capped with a note. Paths are shown relative to the session cwd when inside
it. This tool only lists; it never reads file contents.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bridle.core.errors import ToolError
from bridle.tools._listing import MAGIC, glob_regex, list_files
from bridle.tools.base import Tool, ToolContext, ToolOutput

MAX_RESULTS = 100


def split_base(pattern: str) -> tuple[str, str]:
    """Split the literal directory prefix off a pattern: `src/**/*.py` -> (`src`, `**/*.py`)."""
    parts = pattern.split("/")
    k = 0
    while k < len(parts) - 1 and not MAGIC.search(parts[k]):
        k += 1
    base = "/".join(parts[:k])
    if pattern.startswith("/") and not base:
        base = "/"
    return base, "/".join(parts[k:])


class Glob(Tool):
    name = "Glob"
    description = (
        "Find files by glob pattern (e.g. `**/*.py`, `src/**/test_*.{js,ts}`), newest "
        "first. Patterns match paths relative to `path` (default: cwd); use **/ to recurse. "
        "Skips git-ignored files."
    )
    input_schema = {
        "type": "object",
        "properties": {
            "pattern": {"type": "string"},
            "path": {"type": "string", "description": "Directory to search (default cwd)"},
        },
        "required": ["pattern"],
        "additionalProperties": False,
    }
    read_only = True
    concurrency_safe = True

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        pattern: str = args["pattern"].strip()
        if not pattern:
            raise ToolError("pattern is empty; try `**/*.py`.")
        base, rest = split_base(pattern)
        root = ctx.resolve(args.get("path") or ".")
        if base:
            root = ctx.resolve(str(root / base))
        if not root.is_dir():
            raise ToolError(f"{ctx.display(root)} is not a directory.")
        rx = glob_regex(rest or "**")
        hits: list[tuple[int, str]] = []
        for rel in list_files(root):
            if rx.match(rel):
                try:
                    mtime = os.stat(root / rel).st_mtime_ns
                except OSError:
                    continue
                hits.append((mtime, rel))
        hits.sort(key=lambda h: (-h[0], h[1]))
        if not hits:
            return ToolOutput.text(f"No files match {pattern!r} under {root}")
        lines = [ctx.display(Path(root, rel)) for _, rel in hits[:MAX_RESULTS]]
        if len(hits) > MAX_RESULTS:
            lines.append(
                f"[{len(hits) - MAX_RESULTS} more files not shown; narrow the pattern or path]"
            )
        return ToolOutput.text("\n".join(lines))
