"""The permission decision for one tool call: allow, ask or deny, and why.

`PermissionPolicy.evaluate(tool, input, cwd=...)` applies rules in Claude Code's
order (deny, then ask, then allow) and then the mode's defaults. Deny rules hold
in every mode, bypass included. Files are judged by their real path (symlinks
and `..` resolved), so a link pointing out of the project counts as outside;
writes outside the project roots ask in every mode but bypass, and `.env*`
reads ask. Shell commands are parsed (see `shell.py`) and every simple command,
redirection and file argument must pass; a command that cannot be parsed asks.
`dontAsk` mode and headless runs turn ask into deny. With the OS sandbox on,
`sandbox_gate` adjusts Bash decisions (sandboxed commands may run without an
ask; leaving the sandbox asks) before that.

Plan mode denies anything that could change state and, to spare models turns
spent on calls that can only be refused, `tool_allowed_in_plan` tells the engine
which tools to hide (file editors and MCP tools without an allow rule; Bash
stays visible because read-only commands help planning). This module does no
I/O beyond resolving paths (`os.path.realpath`) and never runs anything.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from bridle.config.schema import MODE_ALIASES, MODES
from bridle.core.errors import ConfigError
from bridle.policy.commands import classify
from bridle.policy.rules import EDIT_TOOLS, READ_TOOLS, PermissionRule, parse_rule
from bridle.policy.sandbox_gate import SandboxGate
from bridle.policy.shell import SimpleCommand, Unparseable, Word, parse_command


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


Behavior = Literal["allow", "ask", "deny"]
_ORDER: dict[str, int] = {"allow": 0, "ask": 1, "deny": 2}
# StructuredOutput (--json-schema) only hands the session its answer; the MCP
# resource tools only read what the session's servers offer (as in Claude Code).
_ALWAYS_ALLOWED = frozenset(
    {"TodoWrite", "Task", "Agent", "ExitPlanMode", "ToolSearch", "StructuredOutput",
     "ListMcpResourcesTool", "ReadMcpResourceTool"}
)  # fmt: skip
_PROTECTED_DIRS = (".git", ".bridle", ".claude")
_WRAPPERS_KEEP_PRIVILEGE = _names(
    "env timeout nice nohup time stdbuf command exec xargs sh bash zsh dash ksh ash"
)
# Assignments that change what a command runs; with them only a rule naming them allows.
_RISKY_ENV = re.compile(r"^(PATH|IFS|ENV|BASH_ENV|PROMPT_COMMAND|EDITOR|VISUAL|SHELL|"
                        r"LD_\w*|DYLD_\w*|GIT_\w*|\w*PAGER|PYTHON\w*|NODE_OPTIONS|PERL5\w*|RUBY\w*)=")  # fmt: skip
_PATCH_PATH = re.compile(r"^\*\*\* (?:Add File|Update File|Delete File|Move to): (.+?)\s*$", re.M)


@dataclass(frozen=True)
class Decision:
    """The verdict on one tool call and why; `rule` is the rule's text when a rule decided it."""

    behavior: Behavior
    reason: str
    rule: str | None = None


def normalize_mode(name: str) -> str:
    """The canonical mode for a name or alias; ConfigError lists the valid ones."""
    mode = MODE_ALIASES.get(name, name)
    if mode not in MODES:
        valid = ", ".join([*MODES, *MODE_ALIASES])
        raise ConfigError(f"unknown permission mode {name!r}; use one of: {valid}")
    return mode


def _worst(decisions: Iterable[Decision]) -> Decision | None:
    worst: Decision | None = None
    for d in decisions:
        if worst is None or _ORDER[d.behavior] > _ORDER[worst.behavior]:
            worst = d
    return worst


class PermissionPolicy:
    def __init__(
        self,
        mode: str = "default",
        allow: Sequence[str | PermissionRule] = (),
        ask: Sequence[str | PermissionRule] = (),
        deny: Sequence[str | PermissionRule] = (),
        project_root: str | Path = ".",
        extra_roots: Sequence[str | Path] = (),
        home: str | Path | None = None,
        headless: bool = False,
    ):
        self.mode = normalize_mode(mode)
        self.root = os.path.realpath(project_root)
        self.roots = [self.root, *(os.path.realpath(r) for r in extra_roots)]
        self.home = os.path.realpath(home if home is not None else Path.home())
        self.headless = headless
        self.allow = [self._rule(r) for r in allow]
        self.ask = [self._rule(r) for r in ask]
        self.deny = [self._rule(r) for r in deny]
        self.sandbox: SandboxGate | None = None  # set when shell commands run sandboxed

    def _rule(self, rule: str | PermissionRule) -> PermissionRule:
        return rule if isinstance(rule, PermissionRule) else parse_rule(rule, root=self.root)

    # -- public ----------------------------------------------------------------

    def add_allow(self, rule: str) -> None:
        """Allow `rule` for the rest of the session ("yes, don't ask again")."""
        self.allow.append(self._rule(rule))

    def add_rule(self, behavior: str, rule: str) -> None:
        """Add an allow, ask or deny `rule` for the rest of the session."""
        self._rules(behavior).append(self._rule(rule))

    def remove_rule(self, behavior: str, rule: str) -> None:
        """Drop the `behavior` rules written exactly as `rule` (from now on)."""
        rules = self._rules(behavior)
        rules[:] = [r for r in rules if r.text != rule.strip()]

    def _rules(self, behavior: str) -> list[PermissionRule]:
        lists = {"allow": self.allow, "ask": self.ask, "deny": self.deny}
        if behavior not in lists:
            raise ValueError(f"a rule's behavior is allow, ask or deny, not {behavior!r}")
        return lists[behavior]

    def evaluate(
        self, tool_name: str, tool_input: Mapping[str, Any], *, cwd: str | Path
    ) -> Decision:
        d = self.evaluate_rules(tool_name, tool_input, cwd=cwd)
        if d.behavior == "ask" and self.mode == "dontAsk":
            return Decision("deny", d.reason + "; dontAsk mode denies what would ask", d.rule)
        if d.behavior == "ask" and self.headless:
            return Decision("deny", d.reason + "; a headless run has nobody to ask", d.rule)
        return d

    def evaluate_rules(
        self, tool_name: str, tool_input: Mapping[str, Any], *, cwd: str | Path
    ) -> Decision:
        """The decision before the mode turns an ask into a deny (dontAsk, a
        headless run): what a PreToolUse or PermissionRequest hook may answer."""
        d = self._decide(tool_name, tool_input, os.path.realpath(cwd))
        if tool_name == "Bash" and self.sandbox is not None:
            return self.sandbox.judge(d, tool_input, self.mode)
        return d

    def tool_allowed_in_plan(self, tool_name: str) -> bool:
        """False for tools plan mode can only refuse, so the engine can hide them."""
        if tool_name in EDIT_TOOLS:
            return False
        if tool_name.startswith("mcp__"):
            return any(r.applies_to(tool_name) and r.kind == "mcp" for r in self.allow)
        return True

    def visible_tools(self, names: Iterable[str]) -> list[str]:
        """The tool names a model should see in the current mode."""
        if self.mode != "plan":
            return list(names)
        return [n for n in names if self.tool_allowed_in_plan(n)]

    # -- dispatch --------------------------------------------------------------

    def _decide(self, tool: str, args: Mapping[str, Any], cwd: str) -> Decision:
        if tool == "Bash":
            command = args.get("command")
            if not isinstance(command, str):
                return Decision("ask", "Bash call without a command string")
            return self._bash(command, cwd)
        if tool in EDIT_TOOLS:
            paths = _edit_paths(tool, args)
            if not paths:
                return Decision("ask", f"{tool} call names no file")
            return _worst(self._write_verdict(tool, p, cwd) for p in paths) or Decision("ask", "")
        if tool in READ_TOOLS:
            return _worst(
                self._read_verdict(tool, p, cwd) for p in _read_paths(tool, args)
            ) or Decision("ask", f"{tool} call names no path")
        if tool == "WebFetch":
            host = urlsplit(str(args.get("url", ""))).hostname or ""
            return self._generic(tool, lambda r: r.matches_domain(host), default_read_only=False)
        if tool in ("Task", "Agent", "Skill"):
            value = str(args.get("subagent_type" if tool != "Skill" else "skill", ""))
            return self._generic(tool, lambda r: r.kind != "field" or r.matches_field(value), True)
        return self._generic(tool, lambda r: r.kind in ("tool", "mcp"), default_read_only=False)

    def _first(
        self, rules: list[PermissionRule], tool: str, match: Callable[[PermissionRule], bool]
    ) -> PermissionRule | None:
        for r in rules:
            if r.applies_to(tool) and match(r):
                return r
        return None

    def _generic(
        self, tool: str, match: Callable[[PermissionRule], bool], default_read_only: bool
    ) -> Decision:
        if r := self._first(self.deny, tool, match):
            return Decision("deny", f"denied by rule {r.text}", r.text)
        allowed = self._first(self.allow, tool, match)
        if self.mode == "plan" and tool.startswith("mcp__") and not allowed:
            return Decision("deny", f"plan mode: {tool} could change state and has no allow rule")
        if r := self._first(self.ask, tool, match):
            return Decision("ask", f"rule {r.text} asks", r.text)
        if allowed:
            return Decision("allow", f"allowed by rule {allowed.text}", allowed.text)
        if self.mode == "bypassPermissions":
            return Decision("allow", "bypassPermissions mode")
        if tool in _ALWAYS_ALLOWED:
            return Decision("allow", f"{tool} changes nothing outside the session")
        return Decision("ask", f"{tool} needs approval")

    # -- files -------------------------------------------------------------------

    def _resolve(self, path: str, cwd: str) -> tuple[str, str]:
        """(lexical, real) absolute forms of `path`: `..` folded, then symlinks followed."""
        if path == "~" or path.startswith("~/"):
            path = self.home + path[1:]
        lexical = os.path.normpath(os.path.join(cwd, path))
        return lexical, os.path.realpath(lexical)

    def _inside(self, real: str) -> bool:
        return any(real == r or real.startswith(r.rstrip("/") + "/") for r in self.roots)

    def _path_rule(
        self, rules: list[PermissionRule], tool: str, paths: Iterable[str], cwd: str
    ) -> PermissionRule | None:
        for r in rules:
            if r.applies_to(tool) and any(
                r.matches_path(p, cwd=cwd, root=self.root, home=self.home) for p in paths
            ):
                return r
        return None

    def _write_verdict(self, tool: str, path: str, cwd: str) -> Decision:
        lexical, real = self._resolve(path, cwd)
        shown = real if real == lexical else f"{lexical} (-> {real})"
        if r := self._path_rule(self.deny, tool, (lexical, real), cwd):
            return Decision("deny", f"writing {shown} is denied by rule {r.text}", r.text)
        if self.mode == "plan":
            return Decision("deny", f"plan mode: writing {shown} is not allowed")
        if r := self._path_rule(self.ask, tool, (lexical, real), cwd):
            return Decision("ask", f"rule {r.text} asks before writing {shown}", r.text)
        if r := self._path_rule(self.allow, tool, (real,), cwd):
            return Decision("allow", f"writing {shown} is allowed by rule {r.text}", r.text)
        if self.mode == "bypassPermissions":
            return Decision("allow", "bypassPermissions mode")
        if not self._inside(real):
            return Decision("ask", f"{shown} is outside the project roots")
        if self.mode == "acceptEdits":
            rel = Path(os.path.relpath(real, self._root_of(real))).parts
            if rel and rel[0] in _PROTECTED_DIRS:
                return Decision("ask", f"{shown} is inside protected {rel[0]}/")
            return Decision("allow", "acceptEdits mode allows edits inside the project")
        return Decision("ask", f"writing {shown} needs approval (acceptEdits mode allows it)")

    def _root_of(self, real: str) -> str:
        return max(
            (r for r in self.roots if real == r or real.startswith(r.rstrip("/") + "/")), key=len
        )

    def _read_verdict(self, tool: str, path: str, cwd: str) -> Decision:
        lexical, real = self._resolve(path, cwd)
        shown = real if real == lexical else f"{lexical} (-> {real})"
        if r := self._path_rule(self.deny, tool, (lexical, real), cwd):
            return Decision("deny", f"reading {shown} is denied by rule {r.text}", r.text)
        if r := self._path_rule(self.ask, tool, (lexical, real), cwd):
            return Decision("ask", f"rule {r.text} asks before reading {shown}", r.text)
        if r := self._path_rule(self.allow, tool, (real,), cwd):
            return Decision("allow", f"reading {shown} is allowed by rule {r.text}", r.text)
        if self.mode == "bypassPermissions":
            return Decision("allow", "bypassPermissions mode")
        if not self._inside(real):
            return Decision("ask", f"{shown} is outside the project roots")
        if any(os.path.basename(p).startswith(".env") for p in (lexical, real)):
            return Decision("ask", f"{shown} may hold secrets (.env files ask before reading)")
        return Decision("allow", "reading inside the project")

    # -- shell ---------------------------------------------------------------------

    def _bash(self, command: str, cwd: str) -> Decision:
        parsed = parse_command(command)
        if isinstance(parsed, Unparseable):
            return self._unparseable(command, parsed.reason)
        cwds, cwd_known = [cwd], True
        for cmd in parsed:
            if cmd.name in ("cd", "pushd") and len(cmd.argv) > 1:
                target = _word_path(cmd.argv[1], self.home)
                if target is None:
                    cwd_known = False
                else:
                    cwds.append(self._resolve(target, cwd)[1])
        decisions = [self._simple(cmd, cwds, cwd_known) for cmd in parsed]
        return _worst(decisions) or Decision("allow", "the command runs nothing")

    def _unparseable(self, command: str, reason: str) -> Decision:
        forms = [command]
        if r := self._first(self.deny, "Bash", lambda r: r.matches_command(forms)):
            return Decision("deny", f"denied by rule {r.text}", r.text)
        if self.mode == "plan":
            return Decision(
                "deny", f"plan mode: cannot tell whether the command is read-only ({reason})"
            )
        guarded = any(r.applies_to("Bash") for r in [*self.deny, *self.ask])
        if self.mode == "bypassPermissions" and not guarded:
            return Decision("allow", "bypassPermissions mode")
        return Decision("ask", f"the command could not be parsed with confidence: {reason}")

    def _simple(self, cmd: SimpleCommand, cwds: list[str], cwd_known: bool) -> Decision:
        forms = _forms(cmd)
        if r := self._first(self.deny, "Bash", lambda r: r.matches_command(forms)):
            return Decision("deny", f"`{_render(cmd.argv)}` is denied by rule {r.text}", r.text)
        kind = classify(cmd)
        tool = "Edit" if kind.effect == "edit" else "Read"
        files = [d for w in kind.paths for d in self._word_verdicts(w, cwds, cwd_known, tool)]
        redirect_files = [
            d
            for red in cmd.redirects
            if red.target is not None and (red.writes_file or red.reads_file)
            for d in self._word_verdicts(
                red.target, cwds, cwd_known, "Write" if red.writes_file else "Read"
            )
        ]
        files += redirect_files
        if denied := [d for d in files if d.behavior == "deny"]:
            return denied[0]
        if not cmd.argv:
            return _worst(files) or Decision("allow", "")
        if self.mode == "plan" and kind.effect != "read":
            return Decision("deny", f"plan mode: `{_render(cmd.argv)}` is not a read-only command")
        if r := self._first(self.ask, "Bash", lambda r: r.matches_command(forms)):
            return Decision("ask", f"rule {r.text} asks before `{_render(cmd.argv)}`", r.text)
        pending = [d for d in redirect_files if d.behavior != "allow"]
        if r := self._bash_allow_rule(cmd):
            return pending[0] if pending else Decision("allow", f"allowed by rule {r.text}", r.text)
        if self.mode == "bypassPermissions":
            return Decision("allow", "bypassPermissions mode")
        trusted = not cmd.assignments and all(
            layer[0].text in _WRAPPERS_KEEP_PRIVILEGE for layer in cmd.wrappers
        )
        if kind.effect == "read" and trusted:
            return _worst(files) or Decision("allow", f"`{cmd.name}` is read-only")
        if kind.effect == "edit" and trusted and self.mode == "acceptEdits":
            return _worst(files) or Decision(
                "allow", "acceptEdits mode allows file commands inside the project"
            )
        return Decision("ask", f"`{_render(cmd.layers()[0])}` needs approval")

    def _bash_allow_rule(self, cmd: SimpleCommand) -> PermissionRule | None:
        full = _forms(cmd, layers=1)
        if r := self._first(self.allow, "Bash", lambda r: r.matches_command(full)):
            return r
        if not cmd.wrappers and not cmd.assignments:
            return None
        if any(_RISKY_ENV.match(a) for a in cmd.assignments):
            return None
        if any(layer[0].text not in _WRAPPERS_KEEP_PRIVILEGE for layer in cmd.wrappers):
            return None  # sudo and friends: only a rule naming them allows
        inner = [_render(cmd.argv, raw) for raw in (False, True)]
        if cmd.open_ended:  # xargs adds arguments: only prefix and wildcard rules fit
            inner = [f + " ARGS" for f in inner]
        return self._first(self.allow, "Bash", lambda r: r.matches_command(inner))

    def _word_verdicts(
        self, word: Word, cwds: list[str], cwd_known: bool, tool: str
    ) -> list[Decision]:
        if word.raw.startswith(("<(", ">(")):
            return []  # a pipe to a command that is checked on its own
        path = _word_path(word, self.home)
        if path is None:
            return [Decision("ask", f"{word.raw} names a file only known at run time")]
        if not os.path.isabs(path) and not cwd_known:
            return [
                Decision("ask", f"{word.raw} is relative to a directory only known at run time")
            ]
        check = self._write_verdict if tool in EDIT_TOOLS else self._read_verdict
        return [check(tool, path, c) for c in cwds]


def _word_path(word: Word, home: str) -> str | None:
    """The file a word names (globs cut to their fixed directory), None if dynamic."""
    if word.dynamic:
        return None
    text = word.text
    if word.tilde:
        text = home + text[1:]
    if word.glob:
        cut = min(i for i in (text.find(c) for c in "*?[") if i >= 0)
        text = text[: text.rfind("/", 0, cut) + 1] or "."
    return text or "."


def _render(words: Sequence[Word], raw: bool = False) -> str:
    return " ".join(w.raw if raw else w.text for w in words)


def _forms(cmd: SimpleCommand, layers: int | None = None) -> list[str]:
    """Renderings a Bash rule is matched against: with and without each wrapper,
    with and without assignments, as values and as written. For deny and ask
    (all layers) `/bin/rm` is also tried as `rm`."""
    out = []
    variants = cmd.layers()[:layers]
    if layers is None and cmd.argv and "/" in cmd.argv[0].text and cmd.name:
        variants.append((Word(cmd.name, cmd.name), *cmd.argv[1:]))
    for words in variants:
        for raw in (False, True):
            text = _render(words, raw)
            out.append(text)
            if cmd.assignments and not cmd.wrappers:
                out.append(" ".join([*cmd.assignments, text]))
    return out


def _edit_paths(tool: str, args: Mapping[str, Any]) -> list[str]:
    if tool == "ApplyPatch":
        return _PATCH_PATH.findall(str(args.get("input", args.get("patch", ""))))
    value = args.get("file_path", args.get("notebook_path"))
    return [value] if isinstance(value, str) and value else []


def _read_paths(tool: str, args: Mapping[str, Any]) -> list[str]:
    value = (
        args.get("file_path", args.get("notebook_path"))
        if tool in ("Read", "NotebookRead")
        else args.get("path")
    )
    paths = [value] if isinstance(value, str) and value else []
    if tool in ("Glob", "Grep", "LS") and not paths:
        paths = ["."]
    pattern = args.get("pattern")
    if tool == "Glob" and isinstance(pattern, str):
        base = paths[0]
        fixed = pattern[: min([pattern.find(c) for c in "*?[{" if c in pattern] or [len(pattern)])]
        fixed = fixed[: fixed.rfind("/") + 1] if "/" in fixed else ""
        if fixed:
            paths.append(os.path.join(base, fixed))
    return paths
