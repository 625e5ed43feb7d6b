"""Expanding a skill or slash command's body before the model sees it.

Claude Code substitutes `$ARGUMENTS` (the text after the name, as typed),
`$ARGUMENTS[N]` and `$N` (0-based, split like a shell would), named arguments
(`$issue` when the frontmatter lists `arguments: [issue]`), `${CLAUDE_SESSION_ID}`
and `${CLAUDE_SKILL_DIR}`; when arguments were given but the body uses none of
the argument placeholders, they are appended as `ARGUMENTS: <value>`. Shell expansion then
replaces each inline `` !`command` `` and each fenced ```` ```! ```` block with the
command's output. Running a command is the caller's `run_shell`, which applies the
permission rules and may raise `ExpansionDenied`; the expansion then stops with
that reason, and nothing half-expanded reaches the model. `@path` mentions are
collected (not read) for the caller to attach.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Runs one shell command for an expansion; returns what to put in its place.
RunShell = Callable[[str], str]


class ExpansionDenied(Exception):
    """A `!` command was refused (permission rules or the command's `allowed-tools`)."""


@dataclass(frozen=True, slots=True)
class Expansion:
    """A body after expansion: the text the model gets, and what the caller must still act on."""

    text: str
    # `@path` mentions, in order, for the caller to attach when they name files.
    mentions: tuple[str, ...] = ()
    # The commands run, in order (for transcripts and hooks).
    commands: tuple[str, ...] = ()


def split_arguments(arguments: str) -> list[str]:
    """Arguments split as a shell would (quotes group words); unbalanced quotes
    fall back to whitespace splitting rather than failing."""
    try:
        return shlex.split(arguments)
    except ValueError:
        return arguments.split()


_FENCED = re.compile(r"^```!\s*\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
_INLINE = re.compile(r"!`([^`\n]+)`")
_MENTION = re.compile(r"(?:(?<=\s)|^)@([^\s`'\"]+)", re.MULTILINE)


def substitute(
    body: str,
    arguments: str,
    *,
    names: Sequence[str] = (),
    session_id: str = "",
    skill_dir: str | None = None,
) -> str:
    """The body with argument and session placeholders replaced."""
    args = split_arguments(arguments)
    named = [n for n in names if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n)]
    alternatives = [
        r"\$ARGUMENTS\[(?P<index>\d+)\]",
        r"\$ARGUMENTS",
        r"\$(?P<position>\d+)(?!\d)",
        r"\$\{CLAUDE_SESSION_ID\}",
        r"\$\{CLAUDE_SKILL_DIR\}",
    ]
    if named:
        words = "|".join(re.escape(n) for n in sorted(named, key=len, reverse=True))
        alternatives.append(rf"\$(?P<name>{words})(?![A-Za-z0-9_])")
    pattern = re.compile("|".join(alternatives))

    def at(i: int) -> str:
        return args[i] if i < len(args) else ""

    def one(m: re.Match[str]) -> str:
        # One pass: text that came from an argument is never substituted again.
        whole = m.group(0)
        if m.group("index") is not None:
            return at(int(m.group("index")))
        if m.group("position") is not None:
            return at(int(m.group("position")))
        if named and m.group("name") is not None:
            return at(named.index(m.group("name")))
        if whole == "$ARGUMENTS":
            return arguments
        if whole == "${CLAUDE_SESSION_ID}":
            return session_id
        return skill_dir if skill_dir is not None else whole

    used: list[str] = []

    def counted(m: re.Match[str]) -> str:
        used.append(m.group(0))
        return one(m)

    text = pattern.sub(counted, body)
    had_placeholder = any(not u.startswith("${") for u in used)
    if arguments.strip() and not had_placeholder:
        text = text.rstrip("\n") + f"\n\nARGUMENTS: {arguments}\n"
    return text


def run_shell_blocks(text: str, run_shell: RunShell | None) -> tuple[str, tuple[str, ...]]:
    """Fenced ```` ```! ```` blocks, then inline `` !`cmd` ``, replaced by their output.
    Without `run_shell` the text is returned unchanged. `ExpansionDenied` propagates."""
    if run_shell is None:
        return text, ()
    ran: list[str] = []

    def fenced(m: re.Match[str]) -> str:
        command = m.group(1).strip()
        ran.append(command)
        return run_shell(command).rstrip("\n") + "\n"

    def inline(m: re.Match[str]) -> str:
        command = m.group(1).strip()
        ran.append(command)
        return run_shell(command).rstrip("\n")

    text = _FENCED.sub(fenced, text)
    text = _INLINE.sub(inline, text)
    return text, tuple(ran)


def mentions(text: str) -> tuple[str, ...]:
    """`@path` mentions, without trailing punctuation, each once, in order."""
    seen: dict[str, None] = {}
    for m in _MENTION.finditer(text):
        path = m.group(1).rstrip(".,;:!?)]}")
        if path and ":" not in path.split("/")[0]:  # `@server:uri` is an MCP resource
            seen.setdefault(path, None)
    return tuple(seen)


def expand(
    body: str,
    arguments: str,
    *,
    names: Sequence[str] = (),
    session_id: str = "",
    skill_dir: str | None = None,
    run_shell: RunShell | None = None,
) -> Expansion:
    """Substitutions, then shell expansion, then the `@` mentions of the result."""
    text = substitute(body, arguments, names=names, session_id=session_id, skill_dir=skill_dir)
    text, ran = run_shell_blocks(text, run_shell)
    return Expansion(text, mentions(text), ran)
