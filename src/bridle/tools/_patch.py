"""Parsing and matching for the Codex `*** Begin Patch` envelope.

Grammar (as Codex's `apply-patch/src/parser.rs`):

    *** Begin Patch
    *** Add File: path         followed by `+line`s
    *** Delete File: path
    *** Update File: path      optionally `*** Move to: path`, then chunks:
    @@ [context line]          ` ctx`, `-old`, `+new` lines; `*** End of File`
    *** End Patch

Parsing is lenient in the same ways as Codex: whitespace around the markers and
file headers, and a heredoc wrapper (`<<'EOF'` ... `EOF`, also after the
`apply_patch` command word) are ignored; blank lines before an update's first
chunk (and after `*** End of File`) separate chunks; the first chunk of an
update may omit `@@`; an empty line inside a chunk is an empty context line.
`seek_sequence` finds a chunk's lines with Codex's cascade: exact, then ignoring
trailing whitespace, then surrounding whitespace, then with typographic
punctuation normalised to ASCII. This module does no I/O; `apply_patch` does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bridle.core.errors import ToolError

BEGIN, END = "*** Begin Patch", "*** End Patch"
ADD, DELETE, UPDATE, MOVE = (
    "*** Add File: ",
    "*** Delete File: ",
    "*** Update File: ",
    "*** Move to: ",
)
EOF_MARK = "*** End of File"

# `<<'EOF'`, as a model writes it for a shell, optionally after the command word
# Codex's shell form uses (`apply_patch <<'EOF'`); group 1 is the delimiter.
_HEREDOC = re.compile(r"(?:(?:apply_patch|applypatch)\s+)?<<-?\s*['\"]?(\w+)['\"]?")


@dataclass
class Chunk:
    """One `@@` section of an Update File hunk: the lines it replaces and the lines it puts in."""

    context: str | None = None
    old: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)  # " ", "-" or "+" per patch line
    end_of_file: bool = False


@dataclass
class Hunk:
    """One file operation of a patch: add, delete, or update (and perhaps move) a file."""

    kind: str  # "add" | "delete" | "update"
    path: str
    content: str = ""  # for add
    move_to: str | None = None
    chunks: list[Chunk] = field(default_factory=list)


def parse_patch(text: str) -> list[Hunk]:
    lines = text.strip().split("\n")
    lines = [line.removesuffix("\r") for line in lines]
    heredoc = _HEREDOC.fullmatch(lines[0].strip()) if len(lines) >= 2 else None
    if heredoc and lines[-1].strip() == heredoc.group(1):
        lines = lines[1:-1]
    if not lines or lines[0].strip() != BEGIN:
        raise ToolError(f"the patch must start with '{BEGIN}'.")
    if lines[-1].strip() != END:
        raise ToolError(f"the patch must end with '{END}'.")
    body = lines[1:-1]
    hunks: list[Hunk] = []
    i = 0
    while i < len(body):
        line = body[i].strip()
        at = i + 2  # 1-based line number in the patch
        if line.startswith(ADD):
            i += 1
            added: list[str] = []
            while i < len(body) and body[i].startswith("+"):
                added.append(body[i][1:])
                i += 1
            hunks.append(Hunk("add", line[len(ADD) :], "".join(a + "\n" for a in added)))
        elif line.startswith(DELETE):
            hunks.append(Hunk("delete", line[len(DELETE) :]))
            i += 1
        elif line.startswith(UPDATE):
            hunk = Hunk("update", line[len(UPDATE) :])
            i += 1
            if i < len(body) and body[i].strip().startswith(MOVE):
                hunk.move_to = body[i].strip()[len(MOVE) :]
                i += 1
            i = _parse_chunks(body, i, hunk)
            if not hunk.chunks:
                raise ToolError(f"patch line {at}: the update of {hunk.path!r} has no changes.")
            hunks.append(hunk)
        elif not line:
            i += 1
        else:
            raise ToolError(
                f"patch line {at}: {body[i]!r} is not a valid hunk header. Valid headers: "
                f"'{ADD}path', '{DELETE}path', '{UPDATE}path'."
            )
    if not hunks:
        raise ToolError("the patch contains no file changes.")
    return hunks


def _parse_chunks(body: list[str], i: int, hunk: Hunk) -> int:
    """Parse update chunks starting at body[i]; return the index after them."""
    chunk: Chunk | None = None
    while i < len(body):
        line = body[i]
        if chunk is None and not line.strip():
            i += 1  # a blank line between chunks, not an empty context line
            continue
        if line.startswith("*** ") and line.strip() != EOF_MARK:
            break  # the next hunk header
        if line.strip() == EOF_MARK:
            if chunk is None:
                raise ToolError(f"'{EOF_MARK}' before any change in {hunk.path!r}.")
            chunk.end_of_file = True
            chunk = None
        elif line.startswith("@@"):
            ctx = line[2:].strip()
            chunk = Chunk(context=ctx or None)
            hunk.chunks.append(chunk)
        elif line[:1] in (" ", "+", "-") or line == "":
            if chunk is None:
                chunk = Chunk()
                hunk.chunks.append(chunk)
            tag, rest = (line[:1], line[1:]) if line else (" ", "")
            chunk.tags.append(tag)
            if tag in (" ", "-"):
                chunk.old.append(rest)
            if tag in (" ", "+"):
                chunk.new.append(rest)
        else:
            raise ToolError(
                f"unexpected line in the update of {hunk.path!r}: {line!r}. Lines must start "
                "with ' ' (context), '+' (add) or '-' (remove)."
            )
        i += 1
    return i


_PUNCT = str.maketrans(
    {
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
        **dict.fromkeys("\u2018\u2019\u201a\u201b", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f", '"'),
        **dict.fromkeys(
            "\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000", " "
        ),
    }
)

_LEVELS: list[Callable[[str], str]] = [
    lambda s: s,
    str.rstrip,
    str.strip,
    lambda s: s.translate(_PUNCT).strip(),
]


def seek_sequence(lines: list[str], pattern: list[str], start: int, eof: bool) -> int | None:
    """Index where `pattern` occurs in `lines` at or after `start`, trying ever
    more tolerant comparisons; with `eof` only the very end of the file counts."""
    if not pattern:
        return start
    if len(pattern) > len(lines):
        return None
    first = len(lines) - len(pattern) if eof else start
    for norm in _LEVELS:
        want = [norm(p) for p in pattern]
        for i in range(first, len(lines) - len(pattern) + 1):
            if all(norm(lines[i + j]) == want[j] for j in range(len(pattern))):
                return i
    return None
