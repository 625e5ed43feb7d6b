"""JSON text that can always be written as UTF-8, whatever strings it holds.

Text that was not valid UTF-8 reaches bridle as lone surrogates: a file name
read with `surrogateescape` (`caf\\udce9.txt`), or half of an emoji cut by
another tool. `json.dumps(..., ensure_ascii=False)` copies such a surrogate into
its output, and encoding that output (for SQLite, a socket or stdout) then
fails. `dumps` keeps every other character as it is and writes each lone
surrogate as its JSON escape (`\\udce9`), which is valid UTF-8 and ASCII, and
which `json.loads` turns back into the same surrogate, so a name survives the
round trip through the store and the wire. This is the one representation
bridle uses for such strings in JSON; it does no I/O.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Python strings may hold lone surrogates; JSON output (with ensure_ascii off)
# can only contain them inside string literals, so a plain substitution is safe.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group()):04x}"


def dumps(value: Any, *, indent: int | None = None, compact: bool = True) -> str:
    """`json.dumps(value, ensure_ascii=False)` whose result always encodes as
    UTF-8: lone surrogates become `\\udcXX` escapes. `compact` drops the spaces
    after `,` and `:` (ignored with `indent`, which keeps `": "`)."""
    separators = (",", ": ") if indent is not None else ((",", ":") if compact else None)
    text = json.dumps(value, ensure_ascii=False, indent=indent, separators=separators)
    return escape_surrogates(text)


def escape_surrogates(json_text: str) -> str:
    """JSON text produced with `ensure_ascii=False`, with each lone surrogate
    written as its `\\uXXXX` escape (a no-op when there is none)."""
    if not _SURROGATE.search(json_text):
        return json_text
    return _SURROGATE.sub(_escape, json_text)
