"""JSONC reading and `$VAR` expansion for settings files.

`parse_jsonc` accepts JSON with `//` and `/* */` comments and trailing commas,
as VS Code and Claude Code settings files allow. Comments are blanked out rather
than deleted, so a syntax error still reports the line and column the user sees
in their editor. String contents are never touched: `"https://x//y"` survives.

`expand_vars` replaces `$VAR`, `${VAR}` and `${VAR:-default}` inside string values
from an environment mapping passed in; `$$` is a literal `$`. An undefined
variable without a default is an error naming the file and the key, because a
silently empty `api_key` or `base_url` fails much later and far less clearly.
This module reads no files and knows nothing about which keys exist.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from bridle.core.errors import ConfigError

# One token at a time: a string (kept), a line comment, a block comment, or an
# unterminated block comment (an error). Anything else is copied through.
_COMMENTS = re.compile(
    r'"(?:\\.|[^"\\\n])*"|//[^\n]*|/\*.*?\*/|(/\*)',
    re.DOTALL,
)
# A comma followed only by whitespace and a closing bracket, or a string (kept).
_TRAILING_COMMA = re.compile(r'"(?:\\.|[^"\\\n])*"|,(?=\s*[}\]])')
_VAR = re.compile(r"\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def _blank(match: re.Match[str]) -> str:
    text = match.group(0)
    if text.startswith('"'):
        return text
    # Keep newlines so line numbers in later errors stay right.
    return "".join(c if c == "\n" else " " for c in text)


def strip_jsonc(text: str, path: str | None = None) -> str:
    """Plain JSON text from JSONC text, with the same line/column layout."""
    unterminated = None

    def blank(match: re.Match[str]) -> str:
        nonlocal unterminated
        if match.group(1) is not None and unterminated is None:
            unterminated = match.start()
        return _blank(match)

    out = _COMMENTS.sub(blank, text)
    if unterminated is not None:
        line = text.count("\n", 0, unterminated) + 1
        raise ConfigError(f"unterminated /* comment starting on line {line}", path=path)
    return _TRAILING_COMMA.sub(lambda m: m.group(0) if m.group(0) != "," else " ", out)


def parse_jsonc(text: str, path: str | None = None) -> Any:
    """Parse JSONC text; errors are `ConfigError`s naming the file, line and column."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        return {}
    try:
        return json.loads(strip_jsonc(text, path))
    except json.JSONDecodeError as e:
        raise ConfigError(
            f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}", path=path
        ) from e


def expand_vars(
    value: Any,
    env: Mapping[str, str],
    *,
    path: str | None = None,
    key: str = "",
    skip: frozenset[str] = frozenset(),
) -> Any:
    """A copy of `value` with variables expanded in every string it holds.

    `skip` names top-level keys left verbatim (shell commands and permission
    patterns, which are expanded later by the shell or never)."""
    if isinstance(value, str):
        return _expand_string(value, env, path, key) if "$" in value else value
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            sub = f"{key}.{k}" if key else str(k)
            out[k] = v if (not key and k in skip) else expand_vars(v, env, path=path, key=sub)
        return out
    if isinstance(value, list):
        return [expand_vars(v, env, path=path, key=f"{key}[{i}]") for i, v in enumerate(value)]
    return value


def _expand_string(text: str, env: Mapping[str, str], path: str | None, key: str) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(3)
        default = match.group(2)
        found = env.get(name)
        if found is not None and (found != "" or default is None):
            return found
        if default is not None:
            return default
        raise ConfigError(
            f"${name} is not set; set it in the environment, write ${{{name}:-default}}, "
            f"or write $$ for a literal $",
            path=path,
            key=key or None,
        )

    return _VAR.sub(replace, text)
