"""Claude Code permission rules: parse `Tool`, `Tool(specifier)` and `mcp__...`
rule strings into `PermissionRule` values, and match them against tool calls.

Specifiers follow Claude Code: `Bash(npm run test:*)` is a word-boundary prefix
(legacy `:*`), `Bash(git *)` a wildcard (a trailing ` *` also matches the bare
command), anything else an exact command; `Read`/`Edit`-style specifiers are
gitignore patterns anchored the Claude Code way (`//abs` absolute, `~/` home,
`/x` the project root, `./x` or `dir/x` the current directory, a pattern with
no slash matches at any depth); `WebFetch(domain:host)`; `mcp__srv`,
`mcp__srv__*` and `mcp__srv__tool`. An `Edit` rule covers every file-editing
tool and a `Read` rule every file-reading one. This module only parses and
matches; which rule wins, and what happens when none matches, is the engine's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal

from bridle.core.errors import ConfigError
from bridle.tools.names import EDIT_TOOL_NAMES, READ_TOOL_NAMES

# The built-in groups plus Claude Code's notebook tools, so its rules port unchanged.
EDIT_TOOLS = frozenset({*EDIT_TOOL_NAMES, "NotebookEdit"})
READ_TOOLS = frozenset({*READ_TOOL_NAMES, "NotebookRead"})
_PATH_TOOLS = EDIT_TOOLS | READ_TOOLS
_TOOL_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_MCP = re.compile(r"^mcp__([A-Za-z0-9_.-]+?)(?:__([A-Za-z0-9_.*-]+))?$")
# Tools whose specifier is a wildcard over one input field (Claude Code `Task(name)`).
_FIELD_TOOLS = {"Task": "subagent_type", "Agent": "subagent_type", "Skill": "skill"}

Kind = Literal["tool", "bash", "path", "domain", "mcp", "field"]
Anchor = Literal["abs", "home", "root", "cwd", "float"]


@dataclass(frozen=True)
class PathPattern:
    """A gitignore-style pattern and what it is anchored to."""

    anchor: Anchor
    pattern: str  # relative to the anchor, "/"-separated
    regex: re.Pattern[str] = field(compare=False)

    def matches(self, path: str, *, cwd: str, root: str, home: str) -> bool:
        """Does absolute, normalised `path` (or a directory above it) match?"""
        parts = PurePosixPath(path).parts[1:]
        if self.anchor == "float":
            return any(self.regex.fullmatch(p) for p in parts)
        base = {"abs": "/", "home": home, "root": root, "cwd": cwd}[self.anchor]
        base_parts = PurePosixPath(base).parts[1:]
        if tuple(parts[: len(base_parts)]) != tuple(base_parts):
            return False
        rel = parts[len(base_parts) :]
        if not rel:
            return self.pattern in ("**", "")
        return any(self.regex.fullmatch("/".join(rel[:k])) for k in range(len(rel), 0, -1))


@dataclass(frozen=True)
class PermissionRule:
    """One parsed rule; `text` is exactly what the user wrote."""

    text: str
    tool: str
    specifier: str | None
    kind: Kind
    command: re.Pattern[str] | None = field(default=None, compare=False)
    path: PathPattern | None = None
    root: str | None = None  # project root for `/x` patterns, when the settings file gave one

    def applies_to(self, tool_name: str) -> bool:
        if self.kind == "mcp":
            if self.tool.endswith("__*") or self.tool.count("__") == 1:
                server = self.tool.removesuffix("__*")
                return tool_name == server or tool_name.startswith(server + "__")
            return tool_name == self.tool
        if self.tool == tool_name or (self.tool == "Task" and tool_name == "Agent"):
            return True  # `Task` is the Agent tool's old name
        if self.tool in ("Edit", "Write", "MultiEdit"):
            return tool_name in EDIT_TOOLS
        if self.tool == "Read":
            return tool_name in READ_TOOLS
        return False

    def matches_command(self, forms: Iterable[str]) -> bool:
        """Does a Bash rule match any rendering of one simple command?"""
        if self.kind == "tool":
            return True
        assert self.command is not None
        return any(self.command.fullmatch(_squash(f)) for f in forms)

    def matches_path(self, path: str, *, cwd: str, root: str, home: str) -> bool:
        if self.kind == "tool":
            return True
        assert self.path is not None
        return self.path.matches(path, cwd=cwd, root=self.root or root, home=home)

    def matches_domain(self, host: str) -> bool:
        if self.kind == "tool":
            return True
        assert self.specifier is not None
        want = self.specifier.removeprefix("domain:").lower()
        host = host.lower().rstrip(".")
        if want.startswith("*."):
            return host.endswith(want[1:]) or host == want[2:]
        return host == want

    def matches_field(self, value: str) -> bool:
        if self.kind == "tool":
            return True
        assert self.command is not None
        return bool(self.command.fullmatch(value))


def parse_rule(text: str, *, root: str | None = None, source: str | None = None) -> PermissionRule:
    """Parse one rule string; `source` (a file or flag name) goes into errors."""
    rule = text.strip()

    def bad(why: str) -> ConfigError:
        return ConfigError(f"invalid permission rule {text!r}: {why}", path=source)

    if not rule:
        raise bad("the rule is empty (write a tool name such as Read or Bash(git status))")
    tool, spec = rule, None
    if "(" in rule:
        if not rule.endswith(")"):
            raise bad("a specifier must end with ')', as in Bash(npm test)")
        tool, spec = rule[: rule.index("(")].strip(), rule[rule.index("(") + 1 : -1].strip()
        if not spec:
            raise bad(f"empty parentheses; write {tool} to match every call")
    elif ")" in rule:
        raise bad("unbalanced ')'")
    if tool.startswith("mcp__"):
        if spec is not None:
            raise bad("MCP rules take no specifier; use mcp__server__tool")
        if not _MCP.match(tool):
            raise bad("write mcp__server, mcp__server__* or mcp__server__tool")
        return PermissionRule(rule, tool, None, "mcp")
    if not _TOOL_NAME.match(tool):
        raise bad(f"{tool!r} is not a tool name")
    if spec is None or (spec in ("*", "**") and tool not in ("WebFetch",)):
        return PermissionRule(rule, tool, None, "tool")
    if tool == "Bash":
        return PermissionRule(rule, tool, spec, "bash", command=_command_regex(spec, bad))
    if tool in _PATH_TOOLS:
        return PermissionRule(rule, tool, spec, "path", path=_path_pattern(spec, bad), root=root)
    if tool == "WebFetch":
        if not spec.startswith("domain:") or not spec[len("domain:") :].strip():
            raise bad("WebFetch takes domain:HOST, as in WebFetch(domain:example.com)")
        return PermissionRule(rule, tool, spec, "domain")
    if tool == "WebSearch":
        raise bad("WebSearch rules take no specifier")
    if tool in _FIELD_TOOLS:
        return PermissionRule(rule, tool, spec, "field", command=_command_regex(spec, bad))
    raise bad(f"{tool} does not take a specifier; write just {tool}")


def _squash(command: str) -> str:
    return " ".join(command.split())


def _command_regex(spec: str, bad: object) -> re.Pattern[str]:
    spec = _squash(spec)
    if ":*" in spec[:-2]:
        raise bad(":* is only allowed at the end, as in Bash(npm run test:*)")  # type: ignore[operator]
    if spec.endswith(":*"):
        prefix = spec[:-2].rstrip()
        if not prefix:
            raise bad("nothing before :*")  # type: ignore[operator]
        return re.compile(_wildcards(prefix) + r"(?: .*)?", re.S)
    if spec.endswith(" *"):
        return re.compile(_wildcards(spec[:-2]) + r"(?: .*)?", re.S)
    return re.compile(_wildcards(spec), re.S)


def _wildcards(text: str) -> str:
    return ".*".join(re.escape(part) for part in text.split("*"))


def _path_pattern(spec: str, bad: object) -> PathPattern:
    anchor: Anchor
    if spec.startswith("//"):
        anchor, pattern = "abs", spec[2:]
    elif spec == "~" or spec.startswith("~/"):
        anchor, pattern = "home", spec[2:]
    elif spec.startswith("/"):
        anchor, pattern = "root", spec[1:]
    elif spec.startswith("./"):
        anchor, pattern = "cwd", spec[2:]
    elif "/" in spec.rstrip("/") and not spec.startswith("**/"):
        anchor, pattern = "cwd", spec
    else:
        anchor, pattern = "float", spec.removeprefix("**/")
    pattern = pattern.rstrip("/")
    if anchor == "float" and "/" in pattern:
        anchor = "cwd"
        pattern = "**/" + pattern
    if ".." in pattern.split("/"):
        raise bad("'..' is not allowed in a path pattern; anchor it with // or ~/ instead")  # type: ignore[operator]
    return PathPattern(anchor, pattern, re.compile(glob_regex(pattern) if pattern else ".*"))


def glob_regex(pattern: str) -> str:
    """The regular expression for one brace-free, `/`-separated glob (`**/`, `**`,
    `*`, `?`, `[...]` and `[!...]`); the one permission rules and path-scoped
    instruction rules both use."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)
