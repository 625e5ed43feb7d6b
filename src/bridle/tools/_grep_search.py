"""The two Grep back ends: ripgrep (`--json`) and a pure-Python fallback.

Both take the same `Query` and return the same `FileHits` list (unsorted), so the
Grep tool formats one structure whichever ran, and tests can compare them. The
file set matches on both sides: hidden files included, `.git` excluded, git's
ignore rules inside a work tree (ripgrep's own, `_listing` via git) and the
default ignored directories outside one, symlinks not followed, binary files
(a NUL byte) skipped. Regex dialects differ at the edges (Rust regex vs Python
`re`); common syntax behaves the same. This module does not format output.
"""

from __future__ import annotations

import base64
import bisect
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bridle.core.errors import ToolError
from bridle.tools._listing import (
    DEFAULT_IGNORED_DIRS,
    git_root,
    list_files,
    passes,
    path_filter,
)

FILE_TYPES: dict[str, list[str]] = {
    "py": ["*.py", "*.pyi"],
    "js": ["*.js", "*.jsx", "*.mjs", "*.cjs"],
    "ts": ["*.ts", "*.tsx", "*.mts", "*.cts"],
    "rust": ["*.rs"],
    "go": ["*.go"],
    "java": ["*.java"],
    "kotlin": ["*.kt", "*.kts"],
    "c": ["*.c", "*.h"],
    "cpp": ["*.cpp", "*.cc", "*.cxx", "*.hpp", "*.hh", "*.hxx", "*.h"],
    "cs": ["*.cs"],
    "rb": ["*.rb"],
    "php": ["*.php"],
    "swift": ["*.swift"],
    "sh": ["*.sh", "*.bash", "*.zsh"],
    "md": ["*.md", "*.markdown"],
    "json": ["*.json"],
    "yaml": ["*.yaml", "*.yml"],
    "toml": ["*.toml"],
    "html": ["*.html", "*.htm"],
    "css": ["*.css", "*.scss"],
    "sql": ["*.sql"],
    "xml": ["*.xml"],
    "txt": ["*.txt"],
}
FILE_TYPES["python"] = FILE_TYPES["py"]
FILE_TYPES["rs"] = FILE_TYPES["rust"]
FILE_TYPES["markdown"] = FILE_TYPES["md"]


@dataclass
class Query:
    """One Grep search, as both back ends take it."""

    pattern: str
    root: Path  # a directory, or a single file
    globs: list[str] = field(default_factory=list)
    file_type: str | None = None
    ignore_case: bool = False
    multiline: bool = False
    before: int = 0
    after: int = 0
    want_lines: bool = True  # False: only which files match (and counts)


@dataclass
class FileHits:
    """The matches in one file: how many lines matched and, when wanted, the lines to show
    with their context."""

    rel: str  # POSIX path relative to the root's directory
    count: int = 0  # matching lines
    lines: dict[int, tuple[str, bool]] = field(default_factory=dict)  # n -> (text, is_match)


def find_rg() -> str | None:
    """The `rg` from the `ripgrep` wheel next to our interpreter, else on PATH."""
    local = Path(sys.executable).parent / "rg"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which("rg")


def _type_globs(name: str | None) -> list[str]:
    if not name:
        return []
    if name not in FILE_TYPES:
        known = ", ".join(sorted(FILE_TYPES))
        raise ToolError(f"unknown type {name!r}; known types: {known}. Or use glob instead.")
    return FILE_TYPES[name]


def search_rg(rg: str, q: Query) -> list[FileHits]:
    cwd, target = (q.root.parent, q.root.name) if q.root.is_file() else (q.root, None)
    argv = [rg, "--no-config", "--hidden", "--no-ignore-dot", "--glob", "!.git"]
    if git_root(cwd) is None:
        argv += [a for d in sorted(DEFAULT_IGNORED_DIRS) for a in ("--glob", f"!{d}")]
    for g in q.globs:
        argv += ["--glob", g]
    type_globs = _type_globs(q.file_type)
    if type_globs:
        argv += [a for g in type_globs for a in ("--type-add", f"bridle:{g}")]
        argv += ["--type", "bridle"]
    if q.ignore_case:
        argv.append("-i")
    if q.multiline:
        argv += ["-U", "--multiline-dotall"]
    if q.want_lines:
        argv += ["--json", "-B", str(q.before), "-A", str(q.after)]
    else:
        argv += ["--files-with-matches", "--null"]
    argv += ["-e", q.pattern]
    if target:
        argv += ["--", target]
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, stdin=subprocess.DEVNULL, check=False)
    if proc.returncode == 2 and not proc.stdout:
        err = proc.stderr.decode("utf-8", "replace").strip()
        raise ToolError(f"ripgrep rejected the search: {err}")
    if not q.want_lines:
        names = proc.stdout.decode("utf-8", "surrogateescape").split("\0")
        return [FileHits(_clean(n), 1) for n in names if n]
    return _parse_json(proc.stdout)


def _clean(name: str) -> str:
    return name.removeprefix("./")


def _text(obj: dict[str, str], errors: str = "replace") -> str:
    """ripgrep's JSON spells text that is not UTF-8 as base64 `bytes`."""
    if "text" in obj:
        return obj["text"]
    return base64.b64decode(obj.get("bytes", "")).decode("utf-8", errors)


def _parse_json(out: bytes) -> list[FileHits]:
    files: dict[str, FileHits] = {}
    for raw in out.splitlines():
        msg = json.loads(raw)
        kind = msg.get("type")
        if kind not in ("match", "context"):
            continue
        data = msg["data"]
        # A file name keeps its bytes (surrogate escapes) so it can be opened again.
        rel = _clean(_text(data["path"], "surrogateescape"))
        hits = files.setdefault(rel, FileHits(rel))
        chunk = _text(data["lines"])
        pieces = chunk.split("\n")
        if pieces[-1] == "":
            pieces.pop()
        for k, line in enumerate(pieces):
            n = data["line_number"] + k
            is_match = kind == "match"
            if is_match and not hits.lines.get(n, ("", False))[1]:
                hits.count += 1
            if is_match or n not in hits.lines:
                hits.lines[n] = (line, is_match)
    return list(files.values())


def search_python(q: Query) -> list[FileHits]:
    flags = re.IGNORECASE if q.ignore_case else 0
    if q.multiline:
        flags |= re.MULTILINE | re.DOTALL
    try:
        rx = re.compile(q.pattern, flags)
    except re.error as e:
        raise ToolError(f"invalid regular expression: {e}") from e
    type_inc, _ = path_filter(_type_globs(q.file_type))
    inc, exc = path_filter(q.globs)
    if q.root.is_file():
        base, names = q.root.parent, [q.root.name]
    else:
        base = q.root
        names = [r for r in list_files(q.root) if passes(r, inc, exc) and passes(r, type_inc, [])]
    out: list[FileHits] = []
    for rel in names:
        path = base / rel
        if path.is_symlink() and path != q.root:
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if b"\x00" in data:
            continue
        hits = _search_text(data.decode("utf-8", "replace"), rx, q, rel)
        if hits.count:
            out.append(hits)
    return out


def _search_text(text: str, rx: re.Pattern[str], q: Query, rel: str) -> FileHits:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    matched: set[int] = set()  # 0-based line indexes
    if q.multiline:
        starts = [0]
        for line in lines:
            starts.append(starts[-1] + len(line) + 1)
        for m in rx.finditer(text):
            first = bisect.bisect_right(starts, m.start()) - 1
            last = bisect.bisect_right(starts, max(m.start(), m.end() - 1)) - 1
            matched.update(range(first, min(last, len(lines) - 1) + 1))
    else:
        matched = {i for i, line in enumerate(lines) if rx.search(line)}
    hits = FileHits(rel, len(matched))
    if not q.want_lines:
        return hits
    for i in sorted(matched):
        for j in range(max(0, i - q.before), min(len(lines), i + q.after + 1)):
            if j not in matched:
                hits.lines.setdefault(j + 1, (lines[j], False))
        hits.lines[i + 1] = (lines[i], True)
    return hits
