"""Path globs as Claude Code's `paths:` frontmatter writes them.

Rules in `.claude/rules/*.md` (and skills) may name the files they apply to:
`paths: ["src/**/*.ts", "*.md"]`, or one string `src/**/*.{ts,tsx}`. A pattern
is taken relative to a base directory (the folder holding `.claude/`), the
gitignore way: `**` spans directories, `*` and `?` stay within one name,
`[abc]` is a class, `{a,b}` alternatives are expanded, a pattern without a `/`
matches a name at any depth, and a pattern that matches a directory covers
everything under it. `PathGlobs.matches` answers for one file; nothing here
touches the disk except `os.path.realpath`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from bridle.policy.rules import glob_regex

_MAX_EXPANSIONS = 256  # a `{a,b}{c,d}...` bomb stops here


def split_patterns(value: str) -> list[str]:
    """One frontmatter string as patterns: comma-separated, commas inside `{}` kept."""
    out, depth, cur = [], 0, ""
    for ch in value:
        depth += ch == "{"
        depth -= ch == "}" and depth > 0
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    out.append(cur.strip())
    return [p for p in out if p]


def paths_field(fields: Mapping[str, Any]) -> tuple[str, ...] | None:
    """A `paths:` frontmatter field as patterns: a YAML list, or one string split
    by `split_patterns`. A field of another type is a `FieldError`."""
    from bridle.extensions.frontmatter import list_field

    raw = fields.get("paths")
    if isinstance(raw, str):
        return tuple(split_patterns(raw))
    return list_field(dict(fields), "paths")


def expand_braces(pattern: str) -> list[str]:
    """`src/*.{ts,tsx}` -> [`src/*.ts`, `src/*.tsx`] (nested braces too)."""
    m = re.search(r"\{([^{}]*,[^{}]*)\}", pattern)
    if m is None:
        return [pattern]
    out: list[str] = []
    for alt in m.group(1).split(","):
        for p in expand_braces(pattern[: m.start()] + alt + pattern[m.end() :]):
            if p not in out:  # inner braces go first, so outer ones repeat
                out.append(p)
        if len(out) >= _MAX_EXPANSIONS:
            break
    return out[:_MAX_EXPANSIONS]


@dataclass(frozen=True)
class PathGlobs:
    """Patterns anchored at `base`; `matches` takes an absolute file path."""

    base: Path
    patterns: tuple[str, ...]
    _regexes: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regexes = []
        for raw in self.patterns:
            for p in expand_braces(raw.strip()):
                p = p.removeprefix("./").lstrip("/").rstrip("/")
                if not p:
                    continue
                if "/" not in p and not p.startswith("**"):
                    p = "**/" + p
                regexes.append(re.compile(glob_regex(p)))
        object.__setattr__(self, "_regexes", tuple(regexes))

    def matches(self, path: Path) -> bool:
        rel = _relative(path, self.base)
        if rel is None:
            return False
        parts = rel.parts
        # A pattern naming a directory covers what is inside it.
        prefixes = ["/".join(parts[:k]) for k in range(len(parts), 0, -1)]
        return any(r.fullmatch(p) for r in self._regexes for p in prefixes)


def _relative(path: Path, base: Path) -> PurePosixPath | None:
    for p, b in ((path, base), (Path(os.path.realpath(path)), Path(os.path.realpath(base)))):
        try:
            return PurePosixPath(p.relative_to(b).as_posix())
        except ValueError:
            continue
    return None


def any_match(patterns: Iterable[str], path: str) -> bool:
    """Whether absolute `path` matches a pattern written against absolute paths
    (`claudeMdExcludes`): a pattern not starting with `/` may match at any depth."""
    for raw in patterns:
        for p in expand_braces(raw.strip()):
            if not p:
                continue
            anchored = p.lstrip("/") if p.startswith("/") else "**/" + p.removeprefix("**/")
            if re.fullmatch(glob_regex(anchored), path.lstrip("/")):
                return True
    return False
