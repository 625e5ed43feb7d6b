"""Skills: `SKILL.md` folders in Claude Code's and the Agent Skills formats.

A skill is a directory holding `SKILL.md` (frontmatter plus instructions) and
any files it bundles. `find_skills` gathers them from, highest precedence first,
`~/.claude/skills` (personal), the project's `.claude/skills` and `.agents/skills`
(in the working directory and every directory up to the project root, so a
monorepo package's skills are found), `$BRIDLE_HOME/skills`, then plugins (named
`plugin:skill`). A name already taken is skipped with a note. Frontmatter
follows the Agent Skills specification plus Claude Code's fields; a file with a
bad field is reported with the file and the field, and only that skill is
skipped. Progressive disclosure: `listing` puts only names and descriptions in
the system prompt, within a character budget (about 1% of the context window);
the model loads a body with the Skill tool (`render`), and bundled files are
read on demand by path. A skill with `paths` globs is listed only once a file it
covers is touched, and skills in folders below the working directory join when
a file there is (see `extensions.skill_scope`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridle.extensions.expand import Expansion, RunShell, expand
from bridle.extensions.frontmatter import (
    Document,
    FieldError,
    Problem,
    bool_field,
    first_wins,
    list_field,
    load_document,
    text_field,
)
from bridle.extensions.globs import paths_field

# The Agent Skills specification: lowercase letters, digits and single hyphens.
_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_NAME = 64
MAX_DESCRIPTION = 1024
# A listed description is cut here (Claude Code shortens long ones the same way).
LISTED_DESCRIPTION = 250


@dataclass(frozen=True, slots=True)
class Source:
    """Where a group of extensions comes from: `scope` is user, project, bridle
    or plugin; `plugin` names the plugin for namespacing."""

    root: Path
    scope: str
    plugin: str | None = None


@dataclass(frozen=True)
class Skill:
    """One skill, from its `SKILL.md`; `fields` keeps the raw frontmatter."""

    name: str  # as invoked: `pdf`, or `plugin:pdf` for a plugin's skill
    description: str
    path: Path  # the SKILL.md file
    body: str
    scope: str
    when_to_use: str | None = None
    allowed_tools: tuple[str, ...] | None = None
    disallowed_tools: tuple[str, ...] | None = None
    model: str | None = None
    model_invocable: bool = True  # false: only the user can run it (`/name`)
    user_invocable: bool = True  # false: hidden from the `/` menu, model-only
    argument_hint: str | None = None
    arguments: tuple[str, ...] = ()
    fork: bool = False  # `context: fork`: runs in a subagent
    agent: str | None = None
    hooks: Mapping[str, Any] | None = None
    paths: tuple[str, ...] | None = None
    fields: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def directory(self) -> Path:
        return self.path.parent

    def render(
        self, arguments: str = "", *, session_id: str = "", run_shell: RunShell | None = None
    ) -> Expansion:
        """The body the model gets when the skill is loaded, expanded."""
        return expand(
            self.body,
            arguments,
            names=self.arguments,
            session_id=session_id,
            skill_dir=str(self.directory),
            run_shell=run_shell,
        )


@dataclass
class Found:
    """What discovery produced: the skills by name, and what was skipped and why."""

    skills: dict[str, Skill] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def skill_sources(
    cwd: Path,
    project_root: Path | None,
    home: Path,
    bridle_home: Path,
    plugins: Sequence[tuple[str, Path]] = (),
) -> list[Source]:
    """Skill directories in precedence order (see the module docstring)."""
    sources = [Source(home / ".claude" / "skills", "user")]
    top = (project_root or cwd).resolve()
    here = cwd.resolve()
    chain = [here, *here.parents]
    within = chain[: chain.index(top) + 1] if top in chain else [here]
    for d in within:
        sources.append(Source(d / ".claude" / "skills", "project"))
        sources.append(Source(d / ".agents" / "skills", "project"))
    sources.append(Source(bridle_home / "skills", "bridle"))
    for name, root in plugins:
        sources.append(Source(root / "skills", "plugin", name))
    return sources


def find_skills(sources: Iterable[Source]) -> Found:
    found = Found()
    for source in sources:
        if not source.root.is_dir():
            continue
        single = source.root / "SKILL.md"  # a plugin may name one skill's own folder
        for path in [single] if single.is_file() else sorted(source.root.glob("*/SKILL.md")):
            loaded = load_skill(path, source)
            if isinstance(loaded, Problem):
                found.problems.append(loaded)
            else:
                kept = found.skills[loaded.name].path if loaded.name in found.skills else None
                first_wins(
                    found.skills, loaded.name, loaded, path, kept, found.notes,
                    f"skill {loaded.name!r}",
                )  # fmt: skip
    return found


def load_skill(path: Path, source: Source) -> Skill | Problem:
    return load_document(path, lambda doc: _skill(doc, source))


def _skill(doc: Document, source: Source) -> Skill:
    f = doc.fields
    name = text_field(f, "name") or doc.path.parent.name
    if len(name) > MAX_NAME or not _NAME.fullmatch(name):
        raise FieldError(
            "name",
            f"{name!r} must be at most {MAX_NAME} lowercase letters, digits and single "
            "hyphens (e.g. pdf-forms)",
        )
    description = text_field(f, "description") or _first_paragraph(doc.body)
    if not description:
        raise FieldError("description", "is required: say what the skill does and when to use it")
    if len(description) > MAX_DESCRIPTION:
        raise FieldError("description", f"is longer than {MAX_DESCRIPTION} characters")
    context = text_field(f, "context")
    if context not in (None, "fork"):
        raise FieldError("context", f"{context!r} is not a context; the only one is `fork`")
    hooks = f.get("hooks")
    if hooks is not None and not isinstance(hooks, dict):
        raise FieldError("hooks", "must be a mapping of hook events, as in settings.json")
    if source.plugin:
        name = f"{source.plugin}:{name}"
    return Skill(
        name=name,
        description=description,
        path=doc.path,
        body=doc.body,
        scope=source.scope,
        when_to_use=text_field(f, "when_to_use") or text_field(f, "when-to-use"),
        allowed_tools=list_field(f, "allowed-tools"),
        disallowed_tools=list_field(f, "disallowed-tools"),
        model=text_field(f, "model"),
        model_invocable=not bool_field(f, "disable-model-invocation", False),
        user_invocable=bool_field(f, "user-invocable", True),
        argument_hint=text_field(f, "argument-hint"),
        arguments=list_field(f, "arguments") or (),
        fork=context == "fork",
        agent=text_field(f, "agent"),
        hooks=hooks,
        paths=paths_field(f),
        fields=dict(f),
    )


def _first_paragraph(body: str) -> str:
    lines: list[str] = []
    for line in body.strip().splitlines():
        if not line.strip():
            if lines:
                break
            continue
        if line.lstrip().startswith("#") and not lines:
            continue  # a heading is a title, not a description
        lines.append(line.strip())
    return " ".join(lines)


def listing(skills: Iterable[Skill], budget_chars: int) -> str:
    """The system prompt's list of skills the model may load, within the budget:
    descriptions are shortened first, then skills beyond it are counted, not named.
    A skill with `paths` is not listed: it is offered when a matching file is touched
    (`extensions.skill_scope`)."""
    visible = [s for s in skills if s.model_invocable and not s.paths]
    if not visible:
        return ""
    head = (
        "Skills you can load with the Skill tool (give its name; the instructions "
        "then appear, and files they mention are read on demand):\n"
    )
    lines: list[str] = []
    used = len(head)
    for i, s in enumerate(visible):
        text = s.description + (f" Use when: {s.when_to_use}" if s.when_to_use else "")
        if len(text) > LISTED_DESCRIPTION:
            text = text[: LISTED_DESCRIPTION - 1].rstrip() + "…"
        line = f"- {s.name}: {text}\n"
        if used + len(line) > budget_chars:
            lines.append(f"- …and {len(visible) - i} more (ask the Skill tool for a name)\n")
            break
        lines.append(line)
        used += len(line)
    return head + "".join(lines)


def budget_for(context_window_tokens: int) -> int:
    """About 1% of the context window, in characters (4 per token), at least 2,000."""
    return max(2000, context_window_tokens * 4 // 100)
