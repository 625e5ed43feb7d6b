"""LS: a tree of a directory's files, for orientation.

Entries come from the same listing as Glob (git-ignored files and cache
directories are skipped), drawn as an indented tree with directories first and a
trailing `/`. `ignore` takes extra globs to leave out (matched against names and
relative paths). The listing is capped; past the cap it says how many entries
were left out and suggests a narrower path or Glob. It never reads file contents.
"""

from __future__ import annotations

from typing import Any

from bridle.core.errors import ToolError
from bridle.tools._listing import list_files, passes, path_filter
from bridle.tools.base import Tool, ToolContext, ToolOutput

MAX_ENTRIES = 400

Tree = dict[str, "Tree"]


class LS(Tool):
    name = "LS"
    description = (
        "List a directory as a tree (git-ignored files skipped). ignore: globs to leave out."
    )
    input_schema = {
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "Directory (default cwd)"},
            "ignore": {"type": "array", "items": {"type": "string"}},
        },
        "required": [],
        "additionalProperties": False,
    }
    read_only = True
    concurrency_safe = True

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        root = ctx.resolve(args.get("path") or ".")
        shown = ctx.display(root)
        if not root.exists():
            raise ToolError(f"{shown} does not exist.")
        if not root.is_dir():
            raise ToolError(f"{shown} is a file, not a directory. Use Read to see it.")
        _, exc = path_filter(["!" + g for g in args.get("ignore") or []])
        tree: Tree = {}
        for rel in list_files(root):
            if not passes(rel, [], exc):
                continue
            node = tree
            parts = rel.split("/")
            for d in parts[:-1]:
                node = node.setdefault(d + "/", {})
            node.setdefault(parts[-1], {})
        lines = [f"{root}/"]
        total = _count(tree)
        _draw(tree, "  ", lines)
        if total > MAX_ENTRIES:
            lines.append(
                f"[{total - MAX_ENTRIES} more entries not shown; LS a subdirectory or use Glob]"
            )
        if total == 0:
            lines.append("  (empty)")
        return ToolOutput.text("\n".join(lines))


def _count(tree: Tree) -> int:
    return sum(1 + _count(sub) for sub in tree.values())


def _draw(tree: Tree, indent: str, lines: list[str]) -> None:
    # Directories (keys ending in "/") first, then files, each alphabetical.
    for name in sorted(tree, key=lambda n: (not n.endswith("/"), n.lower())):
        if len(lines) > MAX_ENTRIES:
            return
        lines.append(f"{indent}{name}")
        _draw(tree[name], indent + "  ", lines)
