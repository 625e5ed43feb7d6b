"""The names of bridle's built-in tools, in one place, grouped by what they do.

Names follow Claude Code, so permission rules, hook matchers and settings port
unchanged. Everything that lists built-in tools (the registry, `--tools`, the
policy's read/edit groups, the engine's read bookkeeping) uses these tuples; a
test checks them against the tool classes. This module imports nothing, so the
policy and the CLI can use it without loading any tool.
"""

from __future__ import annotations

# Every built-in tool, in the order a session offers them.
BUILTIN_TOOL_NAMES: tuple[str, ...] = (
    "Bash",
    "Read",
    "Edit",
    "MultiEdit",
    "Write",
    "Glob",
    "Grep",
    "LS",
    "WebFetch",
    "TodoWrite",
    "ApplyPatch",
)

# Built-in tools whose `file_path` argument names the one file they read or change.
FILE_PATH_TOOLS: tuple[str, ...] = ("Read", "Edit", "MultiEdit", "Write")

# Built-in tools that change files (an `Edit(...)` rule governs them).
EDIT_TOOL_NAMES: tuple[str, ...] = ("Edit", "MultiEdit", "Write", "ApplyPatch")

# Built-in tools that only read files or list them (a `Read(...)` rule governs them).
READ_TOOL_NAMES: tuple[str, ...] = ("Read", "Glob", "Grep", "LS")
