"""Which files a project has, and glob matching, shared by Glob, Grep and LS.

Inside a git work tree the listing is git's own (`git ls-files --cached --others
--exclude-standard`, minus tracked files that an ignore rule matches), so
`.gitignore`, `.git/info/exclude` and the global excludes file all apply exactly
as they do for ripgrep. Outside git a walk skips a short list of directories that
are never source (VCS metadata, caches, virtualenvs, node_modules). Globs use
gitignore-style syntax: `*` and `?` stay within one path segment, `**` crosses
segments, `{a,b}` alternates, `[...]` is a class. This module does not search
file contents.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

DEFAULT_IGNORED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".cache",
        ".idea",
    }
)

MAGIC = re.compile(r"[*?\[{]")


def git_root(path: Path) -> Path | None:
    """The nearest ancestor holding `.git` (dir or worktree file), if git is installed."""
    for p in (path, *path.parents):
        if (p / ".git").exists():
            return p if shutil.which("git") else None
    return None


def list_files(root: Path) -> list[str]:
    """Files under directory `root` as POSIX paths relative to it (unsorted)."""
    if git_root(root) is not None:
        listed = _git_files(root)
        if listed is not None:
            return listed
    return _walk_files(root)


def _git(root: Path, *args: str) -> list[str] | None:
    try:
        proc = subprocess.run(
            ["git", "-c", "core.quotepath=off", "ls-files", "-z", *args],
            cwd=root,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except OSError:
        return None
    if proc.returncode != 0:
        return None
    return [p for p in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if p]


def _git_files(root: Path) -> list[str] | None:
    listed = _git(root, "--cached", "--others", "--exclude-standard")
    if listed is None:
        return None
    ignored = set(_git(root, "--cached", "--ignored", "--exclude-standard") or [])
    out: list[str] = []
    seen: set[str] = set()
    for rel in listed:
        if rel in ignored or rel in seen:
            continue
        seen.add(rel)
        # --cached lists deleted files and submodules (directories) too.
        if os.path.isfile(os.path.join(root, rel)):
            out.append(rel)
    return out


def _walk_files(root: Path) -> list[str]:
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in DEFAULT_IGNORED_DIRS]
        rel_dir = os.path.relpath(dirpath, root)
        prefix = "" if rel_dir == "." else rel_dir.replace(os.sep, "/") + "/"
        out.extend(prefix + name for name in filenames)
    return out


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """Compile a gitignore-style glob matching a whole relative POSIX path."""
    return re.compile(_translate(pattern) + r"\Z", re.DOTALL)


def _translate(pat: str) -> str:
    out: list[str] = []
    i, n = 0, len(pat)
    depth = 0  # inside {...}
    while i < n:
        c = pat[i]
        if pat.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pat.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = pat.find("]", i + 2 if pat[i + 1 : i + 2] in ("!", "^") else i + 1)
            if j == -1:
                out.append(re.escape(c))
            else:
                body = pat[i + 1 : j]
                if body[:1] in ("!", "^"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = j
        elif c == "{":
            depth += 1
            out.append("(?:")
        elif c == "}" and depth:
            depth -= 1
            out.append(")")
        elif c == "," and depth:
            out.append("|")
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pat[i]))
        else:
            out.append(re.escape(c))
        i += 1
    out.extend(")" * depth)
    return "".join(out)


def split_globs(spec: str) -> list[str]:
    """Split a Grep `glob` argument on whitespace and on commas outside braces."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for c in spec:
        if c == "{":
            depth += 1
        elif c == "}" and depth:
            depth -= 1
        if (c.isspace() or (c == "," and depth == 0)) and depth == 0:
            if cur:
                parts.append("".join(cur))
            cur = []
            continue
        cur.append(c)
    if cur:
        parts.append("".join(cur))
    return parts


def path_filter(globs: Iterable[str]) -> tuple[list[re.Pattern[str]], list[re.Pattern[str]]]:
    """Include and exclude regexes for ripgrep-style `--glob` values: a glob
    without `/` matches the file name at any depth, `!` negates."""
    inc: list[re.Pattern[str]] = []
    exc: list[re.Pattern[str]] = []
    for g in globs:
        neg = g.startswith("!")
        g = g[1:] if neg else g
        g = g.lstrip("/") if "/" in g.rstrip("/") else "**/" + g
        (exc if neg else inc).append(glob_regex(g))
    return inc, exc


def passes(rel: str, inc: list[re.Pattern[str]], exc: list[re.Pattern[str]]) -> bool:
    # As in gitignore, excluding a directory excludes everything below it.
    parts = rel.split("/")
    for k in range(1, len(parts) + 1):
        prefix = "/".join(parts[:k])
        if any(r.match(prefix) for r in exc):
            return False
    return not inc or any(r.match(rel) for r in inc)
