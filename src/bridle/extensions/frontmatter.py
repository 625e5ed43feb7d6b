"""Markdown files with YAML frontmatter, the shape of every Claude Code extension file.

Skills (`SKILL.md`), slash commands, agent definitions and output styles are
markdown files that may open with a `---` fenced YAML block. `read_document`
splits one into its fields and body; a file that cannot be read or whose
frontmatter is not a YAML mapping becomes a `Problem` naming the file (and the
field, when one is at fault), so a caller skips that one extension and never
the run. Field helpers (`text_field`, `list_field`, `bool_field`) accept the
spellings Claude Code accepts: a tool list may be a YAML list or one
comma-separated string. PyYAML is imported only when a file has frontmatter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Problem:
    """Why an extension file was skipped: shown to the user, never raised."""

    path: str
    message: str
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}: {self.field}" if self.field else self.path
        return f"{where}: {self.message}"


class FieldError(ValueError):
    """A frontmatter field has the wrong shape; `field` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Document:
    """One extension file split into its frontmatter fields (empty when it has none) and body."""

    path: Path
    fields: dict[str, Any]
    body: str


def split_frontmatter(text: str) -> tuple[str | None, str]:
    """(the YAML between the opening and closing `---` lines, the body); (None,
    text) when the file does not open with a frontmatter fence."""
    text = text.removeprefix("\ufeff")
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None, text
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            return "".join(lines[1:i]), "".join(lines[i + 1 :])
    return None, text


def read_document(path: Path) -> Document | Problem:
    """The file's frontmatter fields and body, or the `Problem` that stops it."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        return Problem(str(path), f"cannot be read: {e.strerror or e}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return Problem(str(path), f"is not UTF-8 (byte {e.start}); convert it with iconv")
    head, body = split_frontmatter(text)
    if head is None:
        return Document(path, {}, text)
    import yaml

    try:
        data = yaml.safe_load(head)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 2}" if mark is not None else ""
        return Problem(str(path), f"frontmatter is not valid YAML{at}: {_first_line(e)}")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return Problem(str(path), "frontmatter must be a mapping of fields (`name: value` lines)")
    return Document(path, {str(k): v for k, v in data.items()}, body)


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def text_field(fields: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = fields.get(name)
    if value is None or value == "":
        if required:
            raise FieldError(name, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FieldError(name, f"must be text, not {type(value).__name__}")
    return str(value).strip()


def list_field(fields: dict[str, Any], name: str) -> tuple[str, ...] | None:
    """A list given as YAML list or as one string separated by commas (or spaces,
    when no comma is present: `allowed-tools: Read Grep`). Parentheses are kept
    together, so `Bash(git add:*), Read` is two entries."""
    value = fields.get(name)
    if value is None:
        return None
    if isinstance(value, list):
        if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in value):
            raise FieldError(name, "must be a list of text entries")
        return tuple(str(v).strip() for v in value if str(v).strip())
    if isinstance(value, str):
        return tuple(_split_list(value))
    raise FieldError(
        name, f"must be a list or a comma-separated string, not {type(value).__name__}"
    )


def _split_list(value: str) -> list[str]:
    sep = "," if "," in value else " "
    out, depth, cur = [], 0, ""
    for ch in value:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        if ch == sep and depth == 0:
            if cur.strip():
                out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def bool_field(fields: dict[str, Any], name: str, default: bool) -> bool:
    value = fields.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
        return value.strip().lower() in ("true", "yes")
    raise FieldError(name, "must be true or false")


def markdown_files(root: Path) -> list[Path]:
    """A source's markdown files: the file itself when a plugin names a single
    file, else every `*.md` below the folder (none when it does not exist)."""
    if root.is_file():
        return [root]
    if root.is_dir():
        return sorted(root.rglob("*.md"))
    return []


def first_wins(
    table: dict[str, T],
    name: str,
    item: T,
    where: object,
    kept: object,
    notes: list[str],
    label: str,
) -> None:
    """Add `item` under `name` unless an earlier (higher-precedence) source took the
    name; then say which file hides which (`label` names the item), for the user."""
    if name in table:
        notes.append(f"{label} in {where} is hidden by {kept}")
    else:
        table[name] = item


def load_document(path: Path, build: Callable[[Document], T]) -> T | Problem:
    """`build` applied to the file's document; an unreadable file or a bad field
    (`FieldError`) becomes the `Problem` that names the file and the field."""
    doc = read_document(path)
    if isinstance(doc, Problem):
        return doc
    try:
        return build(doc)
    except FieldError as e:
        return Problem(str(path), str(e), e.field)
