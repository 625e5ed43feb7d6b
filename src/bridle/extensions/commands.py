"""Slash commands: `/name args` prompts from Claude Code's command files and skills.

Command files are markdown in `~/.claude/commands/` (personal), the project's
`.claude/commands/` and plugins' `commands/` (named `plugin:name`); a file in a
subdirectory keeps its file name as the command and shows the directory in its
description, as Claude Code does. User-invocable skills are commands too, and
a skill wins over a command of the same name. `resolve` finds what a prompt
invokes (a namespaced name, or a bare name that is unambiguous); `Command.render`
expands its body with the arguments (see `extensions.expand`), running `!`
commands through the caller's permission-checked runner. The command's own
`allowed-tools` are returned so the caller can apply them to that expansion.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridle.core.errors import UsageError
from bridle.extensions.expand import Expansion, RunShell, expand
from bridle.extensions.frontmatter import (
    Document,
    Problem,
    bool_field,
    first_wins,
    list_field,
    load_document,
    markdown_files,
    text_field,
)
from bridle.extensions.skills import Skill, Source

_INVOCATION = re.compile(r"/(?P<name>[A-Za-z0-9_][\w.:-]*)(?:[ \t]+(?P<args>.*))?\Z", re.DOTALL)


@dataclass(frozen=True)
class Command:
    """One slash command (a command file or a user-invocable skill), ready to expand."""

    name: str  # as typed after `/`: `review`, `plugin:review`
    description: str
    body: str
    path: Path
    scope: str  # user, project, plugin or skill
    allowed_tools: tuple[str, ...] | None = None
    argument_hint: str | None = None
    model: str | None = None
    arguments: tuple[str, ...] = ()
    model_invocable: bool = True
    skill_dir: Path | None = None  # for a skill: its folder (${CLAUDE_SKILL_DIR})
    fields: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def render(
        self, arguments: str = "", *, session_id: str = "", run_shell: RunShell | None = None
    ) -> Expansion:
        return expand(
            self.body,
            arguments,
            names=self.arguments,
            session_id=session_id,
            skill_dir=str(self.skill_dir) if self.skill_dir else None,
            run_shell=run_shell,
        )


@dataclass
class Commands:
    """The slash commands a session sees by name, with the files skipped and the names hidden."""

    by_name: dict[str, Command] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def resolve(self, name: str) -> Command:
        """The command `name` names: exactly, or as the unique `plugin:name`.
        Unknown or ambiguous names are a `UsageError` with the choices."""
        if name in self.by_name:
            return self.by_name[name]
        namespaced = [c for n, c in self.by_name.items() if n.rpartition(":")[2] == name]
        if len(namespaced) == 1:
            return namespaced[0]
        if namespaced:
            options = ", ".join("/" + c.name for c in namespaced)
            raise UsageError(f"/{name} is ambiguous: say which one, {options}")
        close = difflib.get_close_matches(name, list(self.by_name), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join('/' + c for c in close)}?" if close else ""
        raise UsageError(
            f"/{name} is not a command{hint} Commands come from .claude/commands/*.md, "
            "~/.claude/commands/*.md, skills and plugins; to send the text as it is, start "
            "it with a space"
        )


def command_sources(
    project_root: Path, home: Path, plugins: Sequence[tuple[str, Path]] = ()
) -> list[Source]:
    sources = [
        Source(home / ".claude" / "commands", "user"),
        Source(project_root / ".claude" / "commands", "project"),
    ]
    sources += [Source(root / "commands", "plugin", name) for name, root in plugins]
    return sources


def find_commands(sources: Iterable[Source], skills: Iterable[Skill] = ()) -> Commands:
    """Skills first (they win a shared name), then command files in source order."""
    found = Commands()
    for skill in skills:
        if skill.user_invocable:
            found.by_name[skill.name] = from_skill(skill)
    for source in sources:
        for path in markdown_files(source.root):  # a plugin may name single files
            loaded = load_command(path, source)
            if isinstance(loaded, Problem):
                found.problems.append(loaded)
            else:
                kept = found.by_name[loaded.name].path if loaded.name in found.by_name else None
                first_wins(
                    found.by_name, loaded.name, loaded, path, kept, found.notes,
                    f"command /{loaded.name}",
                )  # fmt: skip
    return found


def load_command(path: Path, source: Source) -> Command | Problem:
    return load_document(path, lambda doc: _command(doc, source))


def _command(doc: Document, source: Source) -> Command:
    f, path = doc.fields, doc.path
    name = path.stem
    if source.plugin:
        name = f"{source.plugin}:{name}"
    sub = "." if path == source.root else path.parent.relative_to(source.root).as_posix()
    description = text_field(f, "description") or _first_line(doc.body) or name
    if sub != ".":
        description += f" ({source.scope}:{sub})"
    return Command(
        name=name,
        description=description,
        body=doc.body,
        path=path,
        scope=source.scope,
        allowed_tools=list_field(f, "allowed-tools"),
        argument_hint=text_field(f, "argument-hint"),
        model=text_field(f, "model"),
        arguments=list_field(f, "arguments") or (),
        model_invocable=not bool_field(f, "disable-model-invocation", False),
        fields=dict(f),
    )


def from_skill(skill: Skill) -> Command:
    """A user-invocable skill as the `/name` command it makes."""
    return Command(
        name=skill.name,
        description=skill.description,
        body=skill.body,
        path=skill.path,
        scope="skill",
        allowed_tools=skill.allowed_tools,
        argument_hint=skill.argument_hint,
        model=skill.model,
        arguments=skill.arguments,
        model_invocable=skill.model_invocable,
        skill_dir=skill.directory,
        fields=skill.fields,
    )


def _first_line(body: str) -> str:
    for line in body.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:120]
    return ""


def parse_invocation(prompt: str) -> tuple[str, str] | None:
    """(name, arguments) when the prompt is a slash command (`/name args`), else
    None. A path such as `/etc/hosts is broken` is not a command: its name holds
    a `/`, which command names never do."""
    m = _INVOCATION.match(prompt.strip())
    if m is None:
        return None
    return m.group("name"), (m.group("args") or "").strip()
