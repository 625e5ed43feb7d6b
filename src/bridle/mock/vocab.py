"""Map a scenario's canonical operation onto a tool the client actually offers.

Each op (read, write, edit, bash, grep, glob) has an ordered list of candidate
tools across the vocabularies the mock knows: bridle's own (Claude Code names,
plus `ApplyPatch`), the real Claude Code (no Glob/Grep: searches go through Bash),
Codex (`exec_command` only: edits as an `apply_patch` heredoc), Gemini CLI
(`read_file`, `replace`, `run_shell_command`, ...) and Copilot CLI (`view`,
`create`, `edit`, `bash`, ...). The first offered candidate wins; a shell tool is
the last resort for every op. Paths become absolute against the client's working
directory when one is known. This module decides names and arguments only; the
wire encoders turn the result into bytes.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bridle.mock.scenario import Turn


@dataclass(frozen=True, slots=True)
class ToolCall:
    """The call the mock makes for a turn: a tool the client offers and its arguments."""

    name: str
    arguments: dict[str, Any]


class NoToolError(Exception):
    """The client offers no tool that can carry out an op."""


@dataclass(frozen=True, slots=True)
class _Ctx:
    """The client's tools and working directory, for building one op's arguments."""

    tools: dict[str, dict[str, Any]]
    cwd: str | None

    def path(self, p: str) -> str:
        return os.path.join(self.cwd, p) if self.cwd and not os.path.isabs(p) else p

    def key(self, tool: str, *names: str) -> str:
        """The first of `names` the tool's schema declares (else the first name)."""
        props = (self.tools.get(tool) or {}).get("properties") or {}
        return next((n for n in names if n in props), names[0])


Builder = Callable[[dict[str, str], _Ctx], dict[str, Any] | None]


def plan_call(turn: Turn, tools: dict[str, dict[str, Any]], cwd: str | None) -> ToolCall:
    """The tool call that performs `turn` with the client's tools."""
    ctx = _Ctx(tools, cwd)
    if turn.op == "call":
        name = turn.args["tool"]
        if name not in tools:
            offered = ", ".join(sorted(tools)) or "none"
            raise NoToolError(f"the client offers no tool named {name!r} (offered: {offered})")
        return ToolCall(name, json.loads(turn.args.get("input") or "{}"))
    for name, build in _CANDIDATES[turn.op]:
        if name in tools:
            args = build(turn.args, ctx)
            if args is not None:
                return ToolCall(name, _fill_required(args, tools[name]))
    command = _SHELL_FALLBACK[turn.op](turn.args, ctx)
    for name, build_shell in _SHELLS:
        if name in tools:
            return ToolCall(name, _fill_required(build_shell(command, ctx), tools[name]))
    offered = ", ".join(sorted(tools)) or "none"
    raise NoToolError(f"the client offers no tool for op {turn.op!r} (offered: {offered})")


def _fill_required(args: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    # Tools such as Copilot's bash mark extra fields required; give them a plausible value.
    props = schema.get("properties") or {}
    for name in schema.get("required") or []:
        if name not in args and name in props:
            args[name] = _sample(props[name], name)
    return args


def _sample(prop: dict[str, Any], name: str) -> Any:
    if "default" in prop:
        return prop["default"]
    enum = prop.get("enum")
    if enum:
        return "sync" if "sync" in enum else enum[0]
    kind = str(prop.get("type", "string")).lower()
    return {"boolean": False, "integer": 0, "number": 0, "array": [], "object": {}}.get(kind, name)


def apply_patch_text(args: dict[str, str], ctx: _Ctx, *, add: bool = False) -> str:
    """A Codex `*** Begin Patch` envelope for a write (`add`) or an edit."""
    path = args["path"]
    if add:
        body = "".join("+" + line + "\n" for line in args["content"].splitlines())
        return f"*** Begin Patch\n*** Add File: {path}\n{body}*** End Patch"
    old, new = _whole_lines(ctx.path(path), args["old"], args["new"])
    minus = "".join("-" + line + "\n" for line in old.splitlines())
    plus = "".join("+" + line + "\n" for line in new.splitlines())
    return f"*** Begin Patch\n*** Update File: {path}\n@@\n{minus}{plus}*** End Patch"


def _whole_lines(file: str, old: str, new: str) -> tuple[str, str]:
    # Patches replace whole lines, while a scenario's `old` may be part of a line
    # (without its indentation); widen both sides to the lines the file holds.
    try:
        with open(file, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return old, new
    start = text.find(old)
    if start < 0:
        return old, new
    end = start + len(old)
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    return text[line_start:line_end], text[line_start:start] + new + text[end:line_end]


def _describe(command: str) -> str:
    return "Run " + (command if len(command) <= 60 else command[:57] + "...")


def _write_cmd(args: dict[str, str], ctx: _Ctx) -> str:
    content, path = args["content"], shlex.quote(args["path"])
    if content.endswith("\n") and "\nBRIDLE_EOF\n" not in content:
        return f"cat > {path} <<'BRIDLE_EOF'\n{content}BRIDLE_EOF"
    return f"printf '%s' {shlex.quote(content)} > {path}"


def _edit_cmd(args: dict[str, str], ctx: _Ctx) -> str:
    script = (
        "import pathlib,sys\n"
        "p=pathlib.Path(sys.argv[1]);t=p.read_text()\n"
        "if sys.argv[2] not in t: sys.exit('old text not found in '+sys.argv[1])\n"
        "p.write_text(t.replace(sys.argv[2],sys.argv[3],1))"
    )
    return " ".join(
        shlex.quote(a) for a in ("python3", "-c", script, args["path"], args["old"], args["new"])
    )


def _find_cmd(args: dict[str, str], ctx: _Ctx) -> str:
    pattern = args["pattern"]
    name = pattern.rsplit("/", 1)[-1]
    if "/" in pattern.replace("**/", ""):
        where = f"-path {shlex.quote('./' + pattern.replace('**/', '*'))}"
    else:
        where = f"-name {shlex.quote(name)}"
    return f"find . -path ./.git -prune -o -type f {where} -print"


def _grep_cmd(args: dict[str, str], ctx: _Ctx) -> str:
    return f"grep -rn -- {shlex.quote(args['pattern'])} {shlex.quote(args.get('path') or '.')}"


_SHELL_FALLBACK: dict[str, Callable[[dict[str, str], _Ctx], str]] = {
    "read": lambda a, c: f"cat -n {shlex.quote(a['path'])}",
    "write": _write_cmd,
    "edit": _edit_cmd,
    "bash": lambda a, c: a["command"],
    "grep": _grep_cmd,
    "glob": _find_cmd,
}

_SHELLS: list[tuple[str, Callable[[str, _Ctx], dict[str, Any]]]] = [
    ("Bash", lambda cmd, c: {"command": cmd, "description": _describe(cmd)}),
    ("run_shell_command", lambda cmd, c: {"command": cmd, "description": _describe(cmd)}),
    ("bash", lambda cmd, c: {"command": cmd, "description": _describe(cmd), "mode": "sync"}),
    ("exec_command", lambda cmd, c: {"cmd": cmd, **({"workdir": c.cwd} if c.cwd else {})}),
    ("shell_command", lambda cmd, c: {"command": cmd, **({"workdir": c.cwd} if c.cwd else {})}),
    (
        "shell",
        lambda cmd, c: {"command": ["bash", "-lc", cmd], **({"workdir": c.cwd} if c.cwd else {})},
    ),
]


def _create(a: dict[str, str], c: _Ctx) -> dict[str, Any] | None:
    # Copilot's `create` refuses to overwrite; existing files go through the shell.
    if os.path.exists(c.path(a["path"])):
        return None
    return {"path": c.path(a["path"]), "file_text": a["content"]}


def _exec_patch(a: dict[str, str], c: _Ctx, add: bool) -> dict[str, Any]:
    cmd = f"apply_patch <<'PATCH'\n{apply_patch_text(a, c, add=add)}\nPATCH"
    return {"cmd": cmd, **({"workdir": c.cwd} if c.cwd else {})}


_CANDIDATES: dict[str, list[tuple[str, Builder]]] = {
    "read": [
        ("Read", lambda a, c: {"file_path": c.path(a["path"])}),
        (
            "read_file",
            lambda a, c: {
                c.key("read_file", "file_path", "absolute_path", "path"): c.path(a["path"])
            },
        ),
        ("view", lambda a, c: {"path": c.path(a["path"])}),
    ],
    "write": [
        ("Write", lambda a, c: {"file_path": c.path(a["path"]), "content": a["content"]}),
        ("write_file", lambda a, c: {"file_path": c.path(a["path"]), "content": a["content"]}),
        ("create", _create),
        ("ApplyPatch", lambda a, c: {"input": apply_patch_text(a, c, add=True)}),
        ("exec_command", lambda a, c: _exec_patch(a, c, add=True)),
    ],
    "edit": [
        (
            "Edit",
            lambda a, c: {
                "file_path": c.path(a["path"]),
                "old_string": a["old"],
                "new_string": a["new"],
            },
        ),
        (
            "replace",
            lambda a, c: {
                "file_path": c.path(a["path"]),
                "instruction": f"Replace {a['old']!r} with {a['new']!r}.",
                "old_string": a["old"],
                "new_string": a["new"],
            },
        ),
        (
            "edit",
            lambda a, c: {"path": c.path(a["path"]), "old_str": a["old"], "new_str": a["new"]},
        ),
        ("ApplyPatch", lambda a, c: {"input": apply_patch_text(a, c)}),
        ("exec_command", lambda a, c: _exec_patch(a, c, add=False)),
    ],
    "bash": [],
    "grep": [
        (
            "Grep",
            lambda a, c: {"pattern": a["pattern"], **({"path": a["path"]} if "path" in a else {})},
        ),
        (
            "grep_search",
            lambda a, c: {
                "pattern": a["pattern"],
                **({c.key("grep_search", "dir_path", "path"): a["path"]} if "path" in a else {}),
            },
        ),
        (
            "grep",
            lambda a, c: {"pattern": a["pattern"], **({"path": a["path"]} if "path" in a else {})},
        ),
    ],
    "glob": [
        ("Glob", lambda a, c: {"pattern": a["pattern"]}),
        ("glob", lambda a, c: {"pattern": a["pattern"]}),
    ],
}
