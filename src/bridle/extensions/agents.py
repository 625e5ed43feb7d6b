"""Agent definitions (subagents) in Claude Code's format, loaded and validated.

A definition is a markdown file whose frontmatter names the agent and says when
to use it, and whose body is its system prompt. Sources, highest precedence
first: `--agents JSON` (`{"name": {"description", "prompt", "tools", "model",
...}}`), the project's `.claude/agents/`, `~/.claude/agents/`, then plugins'
`agents/` (named `plugin:name`). Fields follow Claude Code: `tools` (omitted:
every tool the session has), `disallowedTools`, `model` (`inherit`, an alias
such as `sonnet`, or a model id), `permissionMode`, `maxTurns`, `skills`,
`mcpServers`, `hooks`, `color`. A bad definition is reported with its file and
field and skipped. Running an agent is the Agent tool's job, not this module's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridle.core.errors import UsageError
from bridle.extensions.frontmatter import (
    FieldError,
    Problem,
    first_wins,
    list_field,
    load_document,
    markdown_files,
    text_field,
)
from bridle.extensions.skills import Source

PERMISSION_MODES = ("default", "acceptEdits", "plan", "dontAsk", "bypassPermissions", "auto")
MODEL_ALIASES = ("sonnet", "opus", "haiku", "inherit")


@dataclass(frozen=True)
class AgentDefinition:
    """One subagent as its definition gives it; `fields` keeps the raw frontmatter."""

    name: str
    description: str
    prompt: str  # the agent's system prompt
    source: str  # the file, or "--agents"
    scope: str  # cli, project, user or plugin
    tools: tuple[str, ...] | None = None  # None: every tool the session has
    disallowed_tools: tuple[str, ...] = ()
    model: str = "inherit"
    permission_mode: str | None = None
    max_turns: int | None = None
    skills: tuple[str, ...] = ()
    mcp_servers: Any = None
    hooks: Mapping[str, Any] | None = None
    color: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Agents:
    """The agent definitions a session sees by name, the files skipped, and which file hides
    which (`notes`)."""

    by_name: dict[str, AgentDefinition] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, agent: AgentDefinition) -> None:
        kept = self.by_name[agent.name].source if agent.name in self.by_name else None
        first_wins(
            self.by_name, agent.name, agent, agent.source, kept, self.notes,
            f"agent {agent.name!r}",
        )  # fmt: skip


def agent_sources(
    project_root: Path, home: Path, plugins: Sequence[tuple[str, Path]] = ()
) -> list[Source]:
    sources = [
        Source(project_root / ".claude" / "agents", "project"),
        Source(home / ".claude" / "agents", "user"),
    ]
    sources += [Source(root / "agents", "plugin", name) for name, root in plugins]
    return sources


def find_agents(sources: Iterable[Source], cli_json: str | None = None) -> Agents:
    """Every definition, `--agents` first; `cli_json` that is not a JSON object
    of definitions is a `UsageError` (it is a flag the user typed)."""
    found = Agents()
    if cli_json:
        for agent in parse_cli_agents(cli_json, found.problems):
            found.add(agent)
    for source in sources:
        for path in markdown_files(source.root):  # a plugin may name single files
            loaded = load_agent(path, source)
            if isinstance(loaded, Problem):
                found.problems.append(loaded)
            else:
                found.add(loaded)
    return found


def parse_cli_agents(text: str, problems: list[Problem]) -> list[AgentDefinition]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"--agents is not valid JSON ({e.msg} at character {e.pos})") from e
    if not isinstance(data, dict):
        raise UsageError(
            '--agents takes a JSON object: {"name": {"description": ..., "prompt": ...}}'
        )
    out = []
    for name, spec in data.items():
        if not isinstance(spec, dict):
            problems.append(Problem("--agents", "must be an object of fields", str(name)))
            continue
        fields = {"name": name, **spec}
        try:
            out.append(_agent(fields, str(spec.get("prompt") or ""), "--agents", "cli", None))
        except FieldError as e:
            problems.append(Problem("--agents", str(e), f"{name}.{e.field}"))
    return out


def load_agent(path: Path, source: Source) -> AgentDefinition | Problem:
    return load_document(
        path,
        lambda doc: _agent(doc.fields, doc.body.strip(), str(path), source.scope, source.plugin),
    )


def _agent(
    f: Mapping[str, Any], prompt: str, origin: str, scope: str, plugin: str | None
) -> AgentDefinition:
    name = text_field(dict(f), "name", required=True)
    assert name is not None
    description = text_field(dict(f), "description", required=True)
    assert description is not None
    if not prompt:
        raise FieldError("prompt", "is empty: the body is the agent's system prompt")
    mode = text_field(dict(f), "permissionMode")
    if mode is not None and mode not in PERMISSION_MODES:
        raise FieldError("permissionMode", f"{mode!r} is not one of {', '.join(PERMISSION_MODES)}")
    max_turns = f.get("maxTurns")
    if max_turns is not None and (
        isinstance(max_turns, bool) or not isinstance(max_turns, int) or max_turns < 1
    ):
        raise FieldError("maxTurns", "must be a whole number of at least 1")
    hooks = f.get("hooks")
    if hooks is not None and not isinstance(hooks, dict):
        raise FieldError("hooks", "must be a mapping of hook events, as in settings.json")
    return AgentDefinition(
        name=f"{plugin}:{name}" if plugin else name,
        description=description,
        prompt=prompt,
        source=origin,
        scope=scope,
        tools=list_field(dict(f), "tools"),
        disallowed_tools=list_field(dict(f), "disallowedTools") or (),
        model=text_field(dict(f), "model") or "inherit",
        permission_mode=mode,
        max_turns=max_turns,
        skills=list_field(dict(f), "skills") or (),
        mcp_servers=f.get("mcpServers"),
        hooks=hooks,
        color=text_field(dict(f), "color"),
        fields=dict(f),
    )


def resolve_model(model: str, session_model: str, aliases: Mapping[str, str]) -> str:
    """The model an agent runs on: `inherit` is the session's; `sonnet`, `opus` and
    `haiku` map through `aliases` (the session provider's tiers, from the catalog)
    and fall back to the session's model when the provider has no such tier."""
    if model == "inherit":
        return session_model
    if model in ("sonnet", "opus", "haiku"):
        return aliases.get(model, session_model)
    return model
