"""Changing values in JSONC text without touching anything else in it.

`update_jsonc(text, changes)` sets each key path (`("theme",)`,
`("agents", "max_depth")`) to a new value by rewriting only the text span of
that value: comments, key order, indentation, trailing commas and every other
key stay byte for byte as they were. A missing key is inserted after the last
member of its object (on its own line, indented like its siblings), and a
missing object on the path is inserted with it. Where a key appears twice the
last one (the one JSON readers keep) is changed. A small scanner finds the spans
(strings, comments and trailing commas as `jsonc.parse_jsonc` reads them); the
text is assumed to be valid JSONC, which callers check with `parse_jsonc` first.
This module reads and writes no files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bridle.core.errors import ConfigError

KeyPath = tuple[str, ...]


@dataclass
class _Object:
    """Where an object's members and braces are in the text."""

    open: int  # index of `{`
    close: int = -1  # index of `}`
    # key -> (key start, value start, value end, value node if an object)
    members: dict[str, tuple[int, int, int, _Object | None]] = field(default_factory=dict)
    last_value_end: int = -1


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    def skip(self) -> None:
        """Skip whitespace and comments."""
        t = self.text
        while self.i < len(t):
            c = t[self.i]
            if c in " \t\r\n\ufeff":
                self.i += 1
            elif t.startswith("//", self.i):
                end = t.find("\n", self.i)
                self.i = len(t) if end < 0 else end
            elif t.startswith("/*", self.i):
                end = t.find("*/", self.i + 2)
                self.i = len(t) if end < 0 else end + 2
            else:
                return

    def string(self) -> str:
        t, start = self.text, self.i
        j = start + 1
        while j < len(t) and t[j] != '"':
            j += 2 if t[j] == "\\" else 1
        self.i = j + 1
        return str(json.loads(t[start : self.i]))

    def value(self) -> _Object | None:
        """Scan one value; returns its object node when it is an object."""
        self.skip()
        c = self.text[self.i : self.i + 1]
        if c == "{":
            return self.obj()
        if c == "[":
            self.i += 1
            self.skip()
            while self.text[self.i : self.i + 1] not in ("]", ""):
                self.value()
                self.skip()
                if self.text[self.i : self.i + 1] == ",":
                    self.i += 1
                    self.skip()
            self.i += 1
            return None
        if c == '"':
            self.string()
            return None
        while self.i < len(self.text) and self.text[self.i] not in ",}] \t\r\n/":
            self.i += 1
        return None

    def obj(self) -> _Object:
        node = _Object(open=self.i)
        self.i += 1
        self.skip()
        while self.text[self.i : self.i + 1] == '"':
            key_start = self.i
            key = self.string()
            self.skip()
            self.i += 1  # the colon
            self.skip()
            value_start = self.i
            child = self.value()
            node.members[key] = (key_start, value_start, self.i, child)
            node.last_value_end = self.i
            self.skip()
            if self.text[self.i : self.i + 1] == ",":
                self.i += 1
                self.skip()
        node.close = self.i
        self.i += 1
        return node


def _line_indent(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    head = text[start:pos]
    return head[: len(head) - len(head.lstrip(" \t"))]


def _render(value: Any, indent: str, step: str) -> str:
    if isinstance(value, dict) and value:
        inner = indent + step
        lines = [f"{inner}{json.dumps(k)}: {_render(v, inner, step)}" for k, v in value.items()]
        return "{\n" + ",\n".join(lines) + f"\n{indent}}}"
    return json.dumps(value, ensure_ascii=False)


def _nest(path: KeyPath, value: Any) -> Any:
    for key in reversed(path):
        value = {key: value}
    return value


def _insert(text: str, node: _Object, path: KeyPath, value: Any) -> list[tuple[int, int, str]]:
    """Edits (start, end, replacement) that add `path[0]` (and below) to `node`."""
    key, rest = path[0], path[1:]
    if node.members:
        first_key = min(m[0] for m in node.members.values())
        indent = _line_indent(text, first_key)
        step = indent[len(_line_indent(text, node.open)) :] or "  "
        end = node.last_value_end
        # After the last member's line: past its comma and a trailing // comment.
        j = end
        while j < len(text) and text[j] in " \t":
            j += 1
        comma = text[j : j + 1] == ","
        after = j + 1 if comma else end
        if comma:
            j += 1
            while j < len(text) and text[j] in " \t":
                j += 1
        if text.startswith("//", j):
            nl = text.find("\n", j)
            j = len(text) if nl < 0 else nl
        elif text[j : j + 1] != "\n":
            j = after  # more on this line (a block comment or the brace): stay inline
        body = f"{json.dumps(key)}: {_render(_nest(rest, value), indent, step)}"
        sep = f"\n{indent}" if text[j : j + 1] == "\n" else " "
        if comma:
            return [(j, j, f"{sep}{body},")]
        if j == end:
            return [(end, end, f",{sep}{body}")]
        return [(end, end, ","), (j, j, f"{sep}{body}")]
    outer = _line_indent(text, node.open)
    indent = outer + "  "
    body = f"{json.dumps(key)}: {_render(_nest(rest, value), indent, '  ')}"
    return [(node.open + 1, node.open + 1, f"\n{indent}{body}\n{outer}")]


def update_jsonc(text: str, changes: Mapping[KeyPath, Any], path: str | None = None) -> str:
    """`text` with each key path set to its value; everything else kept as it was."""
    out = text
    for keys, value in changes.items():
        if not keys:
            raise ValueError("a key path names at least one key")
        out = _update_one(out, keys, value, path)
    return out


def _update_one(text: str, keys: KeyPath, value: Any, path: str | None) -> str:
    scanner = _Scanner(text)
    scanner.skip()
    if scanner.i >= len(text):
        tail = "" if not text or text.endswith("\n") else "\n"
        return f"{text}{tail}{_render(_nest(keys, value), '', '  ')}\n"
    if text[scanner.i] != "{":
        raise ConfigError("is not a settings object ({...}); fix or move it", path=path)
    node = scanner.obj()
    for depth, key in enumerate(keys):
        member = node.members.get(key)
        if member is None:
            edits = _insert(text, node, keys[depth:], value)
            break
        _, start, end, child = member
        if depth == len(keys) - 1:
            edits = [(start, end, _render(value, _line_indent(text, member[0]), "  "))]
            break
        if child is None:
            where = ".".join(keys[: depth + 1])
            raise ConfigError("must be an object to hold " + ".".join(keys), path=path, key=where)
        node = child
    for start, end, new in sorted(edits, key=lambda e: e[0], reverse=True):
        text = text[:start] + new + text[end:]
    return text
