"""Hook matchers and `if` conditions, read the way Claude Code reads them.

A matcher that is empty, `*` or absent matches everything. One made only of
letters, digits, `_`, `-`, spaces, `,` and `|` is an exact name or a list of
exact names split on `|` or `,` (FileChanged and StopFailure split on `|` only
and treat `-`, space and `,` as regex characters). Anything else is a regular
expression tested anywhere in the value (JavaScript `RegExp.test`, so `Edit.*`
also matches `NotebookEdit`; anchor with `^...$` for a whole-name match). A
matcher naming `Task` (the Agent tool's old name) matches `Agent` too.

`if` holds one permission rule (`Bash(git *)`, `Edit(*.ts)`, `mcp__srv__*`) and
only applies on tool events; bridle.policy's matcher decides it, so compound
commands, `$( )`, leading `VAR=value` and wrappers are split exactly as for
permissions. A Bash command bridle cannot parse runs the hook anyway.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_EXACT = re.compile(r"^[A-Za-z0-9_\-\s,|]*$")
_EXACT_NARROW = re.compile(r"^[A-Za-z0-9_|]*$")
_NARROW_EVENTS = frozenset({"FileChanged", "StopFailure"})


@dataclass(frozen=True)
class Matcher:
    """A compiled matcher: `names` for the exact path, `regex` otherwise."""

    text: str
    names: frozenset[str] | None = None
    regex: re.Pattern[str] | None = field(default=None, compare=False)

    @property
    def matches_all(self) -> bool:
        return self.names is None and self.regex is None

    def matches(self, value: str | None) -> bool:
        if self.matches_all:
            return True
        if value is None:
            return False
        # `Task` is the Agent tool's old name: matchers written for it match Agent.
        values = (value, "Task") if value == "Agent" else (value,)
        if self.names is not None:
            return any(v in self.names for v in values)
        assert self.regex is not None
        return any(self.regex.search(v) is not None for v in values)


def compile_matcher(text: str | None, event: str = "PreToolUse") -> Matcher:
    """Compile a matcher; raises ValueError with the regex error for a bad pattern."""
    raw = "" if text is None else text
    stripped = raw.strip()
    if stripped in ("", "*"):
        return Matcher(raw)
    narrow = event in _NARROW_EVENTS
    if (_EXACT_NARROW if narrow else _EXACT).match(stripped):
        parts = stripped.split("|") if narrow else re.split(r"[|,]", stripped)
        names = frozenset(p.strip() for p in parts if p.strip())
        return Matcher(raw, names=names)
    try:
        return Matcher(raw, regex=re.compile(_js_to_python(stripped)))
    except re.error as exc:
        raise ValueError(f"matcher {raw!r} is not a valid regular expression: {exc}") from None


def _js_to_python(pattern: str) -> str:
    # JavaScript's named groups `(?<name>` read the same in Python 3.11 only as `(?P<name>`.
    return re.sub(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>", r"(?P<\1>", pattern)


def check_if_rule(rule: str) -> str | None:
    """None when `rule` parses as a permission rule, else the parser's message."""
    from bridle.core.errors import ConfigError
    from bridle.policy.rules import parse_rule

    try:
        parse_rule(rule)
    except ConfigError as exc:
        return str(exc)
    return None


def if_matches(
    rule: str,
    tool_name: str,
    tool_input: Mapping[str, Any],
    *,
    cwd: str,
    project_root: str | None = None,
) -> bool:
    """Does the tool call match the permission rule `rule`?

    The rule is evaluated as a deny rule by bridle.policy (which checks deny
    rules first in every mode), so the call matches exactly when that rule is
    the one that denies it. A Bash command that cannot be parsed matches.
    """
    from bridle.policy.engine import PermissionPolicy
    from bridle.policy.rules import parse_rule
    from bridle.policy.shell import Unparseable, parse_command

    parsed = parse_rule(rule, root=project_root or cwd)
    if not parsed.applies_to(tool_name):
        return False
    if tool_name == "Bash":
        command = tool_input.get("command")
        if not isinstance(command, str) or isinstance(parse_command(command), Unparseable):
            return True
    policy = PermissionPolicy(
        mode="bypassPermissions", deny=[parsed], project_root=project_root or cwd
    )
    decision = policy.evaluate(tool_name, tool_input, cwd=cwd)
    return decision.behavior == "deny" and decision.rule == parsed.text
