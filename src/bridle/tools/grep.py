"""Grep: search file contents with a regular expression.

ripgrep runs when it is present (the `ripgrep` wheel ships `rg` next to our
interpreter); otherwise a pure-Python search produces the same result (see
`_grep_search`). Output modes: `files_with_matches` (default; newest first),
`content` (`path:line:text` for matches, `path-line-text` for context, `--`
between separate groups; line numbers on by default) and `count`
(`path:n`). `head_limit` keeps the first N lines or entries; long lines are cut
and large output is capped with the full text saved. Paths are shown relative to
the session cwd when inside it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bridle.core.errors import ToolError
from bridle.tools._grep_search import FileHits, Query, find_rg, search_python, search_rg
from bridle.tools._listing import split_globs
from bridle.tools.base import Tool, ToolContext, ToolOutput
from bridle.tools.output import cap_text

MAX_LINE = 500
MAX_FILES = 100
_AUTO = "auto"


class Grep(Tool):
    name = "Grep"
    description = (
        "Search file contents with a regex (ripgrep syntax). output_mode: "
        "files_with_matches (default), content (matching lines; -A/-B/-C context, -n), "
        "count. Filter with glob (e.g. `*.py`) or type (py, js, ts, go, rust...). "
        "multiline lets . and patterns span lines."
    )
    input_schema = {
        "type": "object",
        "properties": {
            "pattern": {"type": "string"},
            "path": {"type": "string", "description": "File or directory (default cwd)"},
            "glob": {"type": "string"},
            "type": {"type": "string"},
            "output_mode": {
                "type": "string",
                "enum": ["content", "files_with_matches", "count"],
            },
            "-i": {"type": "boolean"},
            "-n": {"type": "boolean"},
            "-A": {"type": "integer", "minimum": 0},
            "-B": {"type": "integer", "minimum": 0},
            "-C": {"type": "integer", "minimum": 0},
            "head_limit": {"type": "integer", "minimum": 1},
            "multiline": {"type": "boolean"},
        },
        "required": ["pattern"],
        "additionalProperties": False,
    }
    read_only = True
    concurrency_safe = True

    def __init__(self, rg_path: str | None = _AUTO) -> None:
        # None forces the Python fallback (tests compare both back ends).
        self.rg_path = find_rg() if rg_path == _AUTO else rg_path

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        mode = args.get("output_mode") or "files_with_matches"
        root = ctx.resolve(args.get("path") or ".")
        if not root.exists():
            raise ToolError(f"{ctx.display(root)} does not exist.")
        context = args.get("-C") or 0
        q = Query(
            pattern=args["pattern"],
            root=root,
            globs=split_globs(args.get("glob") or ""),
            file_type=args.get("type") or None,
            ignore_case=bool(args.get("-i")),
            multiline=bool(args.get("multiline")),
            before=args.get("-B", context) if mode == "content" else 0,
            after=args.get("-A", context) if mode == "content" else 0,
            want_lines=mode != "files_with_matches",
        )
        hits = search_rg(self.rg_path, q) if self.rg_path else search_python(q)
        base = root.parent if root.is_file() else root
        separate = bool(q.before or q.after)
        lines = format_hits(hits, base, mode, args.get("-n", True), ctx, separate=separate)
        if not lines:
            return ToolOutput.text("No matches found.")
        limit = args.get("head_limit")
        if mode == "files_with_matches" and not limit and len(lines) > MAX_FILES:
            limit = MAX_FILES
        if limit and len(lines) > limit:
            rest = len(lines) - limit
            noun = "line" if rest == 1 else "lines"
            lines = [*lines[:limit], f"[{rest} more {noun} not shown (head_limit={limit})]"]
        if mode == "count":
            total = sum(h.count for h in hits)
            lines.append(f"[{total} matching lines in {len(hits)} files]")
        return ToolOutput.text(cap_text("\n".join(lines), ctx, label="grep"))


def format_hits(
    hits: list[FileHits],
    base: Path,
    mode: str,
    line_numbers: bool,
    ctx: ToolContext,
    *,
    separate: bool = False,
) -> list[str]:
    """The output lines for `hits` in `mode` (deterministic order); with
    `separate` (context lines were asked for) `--` marks gaps, as grep does."""
    if mode == "files_with_matches":

        def newest_first(h: FileHits) -> tuple[int, str]:
            try:
                return (-os.stat(base / h.rel).st_mtime_ns, h.rel)
            except OSError:
                return (0, h.rel)

        return [ctx.display(base / h.rel) for h in sorted(hits, key=newest_first)]
    ordered = sorted(hits, key=lambda h: h.rel)
    if mode == "count":
        return [f"{ctx.display(base / h.rel)}:{h.count}" for h in ordered]
    out: list[str] = []
    for h in ordered:
        shown = ctx.display(base / h.rel)
        prev: int | None = None
        for n in sorted(h.lines):
            text, is_match = h.lines[n]
            text = text.removesuffix("\r")
            if len(text) > MAX_LINE:
                text = text[:MAX_LINE] + " [...]"
            if separate and prev is not None and n != prev + 1:
                out.append("--")
            sep = ":" if is_match else "-"
            out.append(f"{shown}{sep}{n}{sep}{text}" if line_numbers else f"{shown}{sep}{text}")
            prev = n
    return out
