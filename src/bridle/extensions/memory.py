"""Auto memory: a per-project folder of notes the model keeps for later sessions.

As in Claude Code, each project (its git repository, shared by the repository's
worktrees; else the directory) has a memory folder, here
`$BRIDLE_HOME/projects/<slug>/memory/` (the slug is the project path with every
character other than a letter or digit turned into `-`), or the
`autoMemoryDirectory` setting (not honoured from a project's checked-in settings,
which could point it anywhere). Its `MEMORY.md` is an index whose first 200
lines (at most 25 KB) load at session start; the model writes topic files and
the index with its ordinary Write and Edit tools, which the engine allows in
this folder without asking. `CLAUDE_CODE_DISABLE_AUTO_MEMORY=1` turns it off for
a run (`=0` forces it on), else `"autoMemoryEnabled": false` in settings. This
module reads files and builds text; it never writes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INDEX = "MEMORY.md"
INDEX_MAX_LINES = 200
INDEX_MAX_BYTES = 25_000
DISABLE_ENV = "CLAUDE_CODE_DISABLE_AUTO_MEMORY"
_SLUG_MAX = 200
# Settings layers a repository carries with it: they may not move the memory folder.
_CHECKED_IN = ("project", "claude")


def enabled(env: Mapping[str, str], settings: Any) -> bool:
    """The env switch first (1/true off, 0/false on), then `autoMemoryEnabled`."""
    flag = env.get(DISABLE_ENV, "").strip().lower()
    if flag in ("1", "true", "yes", "on"):
        return False
    if flag in ("0", "false", "no", "off"):
        return True
    value = settings.get("autoMemoryEnabled") if settings is not None else None
    return value is not False


def project_slug(root: Path) -> str:
    """Claude Code's folder name for a project path: `/home/a/repo` -> `-home-a-repo`."""
    slug = re.sub(r"[^A-Za-z0-9]", "-", str(root))
    if len(slug) <= _SLUG_MAX:
        return slug
    import hashlib  # only for a very long path (importing it loads OpenSSL)

    return slug[:_SLUG_MAX] + "-" + hashlib.sha256(str(root).encode()).hexdigest()[:12]


def canonical_root(root: Path) -> Path:
    """A worktree's main repository (so worktrees share one memory), else `root`."""
    git = root / ".git"
    if not git.is_file():
        return root
    try:
        line = git.read_text(errors="replace").strip()
    except OSError:
        return root
    if not line.startswith("gitdir:"):
        return root
    gitdir = (root / line[len("gitdir:") :].strip()).resolve()
    try:
        common = (gitdir / (gitdir / "commondir").read_text().strip()).resolve()
    except OSError:
        return root
    return common.parent if common.name == ".git" else root


def memory_dir(project_root: Path, env: Mapping[str, str], settings: Any = None) -> Path:
    """Where the project's memory lives (see the module docstring)."""
    from bridle.config.paths import bridle_home, user_home

    for layer in getattr(settings, "layers", ()):
        value = layer.data.get("autoMemoryDirectory")
        if layer.name in _CHECKED_IN or not isinstance(value, str) or not value.strip():
            continue
        path = value.strip()
        if path == "~" or path.startswith("~/"):
            return user_home(env) / path[2:]
        return Path(path) if os.path.isabs(path) else project_root / path
    root = canonical_root(Path(os.path.realpath(project_root)))
    return bridle_home(env) / "projects" / project_slug(root) / "memory"


@dataclass(frozen=True, slots=True)
class Memory:
    """A project's memory folder and the part of its MEMORY.md index loaded at session start."""

    directory: Path
    index: str  # what of MEMORY.md loads (may be "")
    exists: bool
    lines: int  # MEMORY.md's full line count
    truncated: bool

    @property
    def index_path(self) -> Path:
        return self.directory / INDEX


def load_memory(directory: Path) -> Memory:
    """The folder's MEMORY.md, cut at 200 lines or 25 KB (at a line end)."""
    try:
        data = (directory / INDEX).read_bytes()
    except OSError:
        return Memory(directory, "", False, 0, False)
    text = data.decode("utf-8", "replace")
    lines = text.splitlines()
    kept: list[str] = []
    size = 0
    for line in lines[:INDEX_MAX_LINES]:
        size += len(line.encode("utf-8", "replace")) + 1
        if size > INDEX_MAX_BYTES:
            break
        kept.append(line)
    return Memory(directory, "\n".join(kept), True, len(lines), len(kept) < len(lines))


def memory_prompt(memory: Memory) -> str:
    """The system prompt section: where the folder is, how to use it, the index."""
    d, index = memory.directory, memory.index_path
    parts = [
        "# Memory",
        f"You have a persistent memory folder for this project: {d}/. What you save there "
        "is shown to you again in later sessions, so use it for what would help next time "
        "and cannot be read from the code: the user's preferences and corrections, project "
        "conventions you discovered, how to build and test, pitfalls and their fixes.",
        f"- Save with the Write and Edit tools (no approval is needed inside {d}/; the "
        "folder is created by the first Write). Put details in topic files, such as "
        f"{d}/debugging.md, and keep {index} a concise index: one line per topic file "
        "saying what it holds.",
        f"- Only the first {INDEX_MAX_LINES} lines of MEMORY.md are loaded at the start "
        "of a session; read a topic file with Read when it is relevant.",
        "- When the user asks you to remember something, save it here; when they ask you "
        "to forget it, remove it. Fix or delete memories that proved wrong instead of adding "
        "contradictions. Never save secrets, or details only the current task needs.",
    ]
    if not memory.exists:
        parts.append(f"\n## {index}\n(It does not exist yet: create it with your first memory.)")
        return "\n".join(parts)
    body = memory.index.strip() or "(empty)"
    if memory.truncated:
        body += (
            f"\n\n(MEMORY.md has {memory.lines} lines; only the part above was loaded. "
            "Move details into topic files and keep MEMORY.md a short index.)"
        )
    parts.append(f"\n## Contents of {index}\n{body}")
    return "\n".join(parts)
