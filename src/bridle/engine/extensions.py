"""What Claude Code's extension files add to a session: skills, commands, styles.

`load_extensions` gathers the plugins a session uses (`--plugin-dir` folders and
the installed plugins `enabledPlugins` turns on, see `extensions.plugins`), then
the skills, slash commands, agent definitions and the output style a session in
`cwd` sees, plugins' included (namespaced `plugin:name`, with
`${CLAUDE_PLUGIN_ROOT}` and `${CLAUDE_PLUGIN_DATA}` expanded in their text), with
every file that was skipped and why, for the front end to show. The plugins
stay on `Extensions.plugins` for the hooks and MCP wiring to read. `system_additions` is what
they add to the system prompt (the skill listing within its budget, the output
style), and `skill_tool` the Skill tool when there is a skill the model may
load. `expand_prompt` turns a `/name args` prompt into the command's expanded
text before the turn starts; its `!` commands run in the project directory
only when the permission rules, widened by the command's own `allowed-tools`,
allow them, and a refusal stops the expansion with the reason; the files its
text mentions (`@path`) are attached unless the rules deny reading them; a
skill run as `/name` turns on its frontmatter hooks. Nothing here
prints, and a session with no extension folders costs only a few `stat` calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridle.core.errors import ConfigError, UsageError

# The prompt bridle's coding instructions give way to under a custom style
# without `keep-coding-instructions` (as Claude Code's own styles do).
STYLE_BASE = (
    "You are bridle, an agent that helps the user with their tasks in this project, "
    "using the tools available. Follow the output style below."
)
SHELL_TIMEOUT_S = 120
DEFAULT_WINDOW = 200_000


@dataclass
class Extensions:
    """What a session's extension files and plugins give it, loaded once when it opens."""

    skills: dict[str, Any] = field(default_factory=dict)  # name -> extensions.skills.Skill
    commands: Any = None  # extensions.commands.Commands
    agents: Any = None  # extensions.agents.Agents
    style: Any = None  # extensions.styles.OutputStyle | None
    problems: list[str] = field(default_factory=list)  # skipped files, for the user
    plugins: list[Any] = field(default_factory=list)  # extensions.plugins.Plugin, in use
    # The agent definition the main thread runs as (settings `agent`, `--agent`, or a
    # plugin's settings.json `agent`): its prompt, tools and disallowedTools apply.
    agent: Any = None

    def plugin_mcp_files(self) -> list[tuple[Any, ...]]:
        """Each plugin's MCP files (and its manifest's inline `mcpServers`) with its
        folders, for `mcp.config.load_servers`."""
        out: list[tuple[Any, ...]] = []
        if not self.plugins:
            return out
        from bridle.extensions.plugins import MANIFEST

        for p in self.plugins:
            where = {"CLAUDE_PLUGIN_ROOT": str(p.root), "CLAUDE_PLUGIN_DATA": str(p.data_dir)}
            out += [(f, where) for f in p.mcp_files if f.is_file()]
            out += [(p.root / MANIFEST, where, doc) for doc in p.inline_mcp]
        return out

    def warnings(self) -> list[str]:
        return [f"skipped {p}" for p in self.problems]


def load_extensions(
    cwd: Path,
    project_root: Path | None,
    env: Mapping[str, str],
    settings: Any,
    *,
    agents_json: str | None = None,
    plugins: Sequence[Any] = (),
    plugin_dirs: Sequence[Path] = (),
) -> Extensions:
    """`plugins` are `extensions.plugins.Plugin`s given directly (tests, front ends);
    `plugin_dirs` are `--plugin-dir` folders (one that is not a plugin is a
    `UsageError`); installed plugins come in when `enabledPlugins` turns them on."""
    from bridle.config.paths import bridle_home, user_home

    home, root = user_home(env), project_root or cwd
    found_plugins, problems = _plugins(root, env, settings, plugin_dirs)
    if not (plugins or found_plugins or problems or agents_json) and _nothing_to_load(
        cwd, root, home, bridle_home(env), settings
    ):
        return Extensions()  # the common case costs a few stat calls, no imports

    from bridle.extensions.agents import agent_sources, find_agents
    from bridle.extensions.commands import command_sources, find_commands
    from bridle.extensions.skills import Source, find_skills, skill_sources
    from bridle.extensions.styles import find_styles, style_sources

    in_use = [*plugins, *(p for p in found_plugins if p.name not in {q.name for q in plugins})]

    def of(kind: str) -> list[Source]:
        return [Source(path, "plugin", p.name) for p in in_use for path in getattr(p, kind)]

    skills = find_skills([*skill_sources(cwd, root, home, bridle_home(env)), *of("skills")])
    commands = find_commands(
        [*command_sources(root, home), *of("commands")], skills.skills.values()
    )
    agents = find_agents([*agent_sources(root, home), *of("agents")], agents_json)
    found = Extensions(skills.skills, commands, agents, plugins=in_use)
    problems += [*skills.problems, *commands.problems, *agents.problems]
    style_name = settings.get("outputStyle") if settings is not None else None
    if style_name or in_use:
        styles = find_styles([*style_sources(root, home), *of("output_styles")])
        problems += styles.problems
        if style_name:
            found.style = styles.select(str(style_name))
        else:  # a plugin's forced style applies while its plugin is on
            found.style = next((s for s in styles.by_name.values() if s.force_for_plugin), None)
    found.problems = [str(p) for p in problems]
    if in_use:
        _expand_plugin_vars(found, {p.name: p for p in in_use})
    found.agent = _main_agent(found, settings)
    return found


def _nothing_to_load(cwd: Path, root: Path, home: Path, bridle: Path, settings: Any) -> bool:
    """No extension folder exists and no setting asks for one (the folders the
    loaders read, checked without importing them)."""
    if settings is not None and (settings.get("outputStyle") or settings.get("agent")):
        return False
    here = cwd.resolve()
    chain = [here, *here.parents]
    top = root.resolve()
    within = chain[: chain.index(top) + 1] if top in chain else [here]
    folders = [home / ".claude" / n for n in ("skills", "commands", "agents")]
    folders += [root / ".claude" / n for n in ("commands", "agents")]
    folders += [d / sub for d in within for sub in (".claude/skills", ".agents/skills")]
    folders.append(bridle / "skills")
    return not any(f.is_dir() for f in folders)


def _main_agent(ext: Extensions, settings: Any) -> Any:
    """The agent definition settings `agent` names (else the first plugin whose
    settings.json names one of its agents), as Claude Code runs the main thread."""
    name = settings.get("agent") if settings is not None else None
    plugin = None
    if not name:
        for p in ext.plugins:
            value = _plugin_setting(p.root, "agent")
            if isinstance(value, str) and value.strip():
                name, plugin = value.strip(), p.name
                break
    if not name:
        return None
    agents = ext.agents.by_name if ext.agents is not None else {}
    if not isinstance(name, str):
        raise ConfigError("must be the name of an agent definition", key="agent")
    for wanted in ([f"{plugin}:{name}"] if plugin else []) + [name]:
        if wanted in agents:
            return agents[wanted]
    matches = [a for n, a in agents.items() if n.rpartition(":")[2] == name]
    if len(matches) == 1:
        return matches[0]
    if matches:
        which = ", ".join(a.name for a in matches)
        raise ConfigError(f"{name!r} names several agents; say which: {which}", key="agent")
    there = ", ".join(agents) or "none"
    raise ConfigError(
        f"no agent definition named {name!r}; the agents are: {there} (definitions go in "
        ".claude/agents/*.md, ~/.claude/agents/*.md or a plugin's agents/)",
        key="agent",
    )


def _plugin_setting(root: Path, key: str) -> Any:
    """A key of a plugin's default `settings.json` (Claude Code reads only `agent`)."""
    import json

    try:
        data = json.loads((root / "settings.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data.get(key) if isinstance(data, dict) else None


def agent_tools(ext: Extensions, tools: list[Any]) -> list[Any]:
    """The tools the main thread's agent may use: its `tools` (all when omitted),
    less its `disallowedTools`; `Task` is the Agent tool's old name."""
    if ext.agent is None:
        return tools

    def names(entries: Sequence[str]) -> set[str]:
        bare = {e.split("(", 1)[0].strip() for e in entries}
        return bare | ({"Agent"} if "Task" in bare else set())

    allowed = None if ext.agent.tools is None else names(ext.agent.tools)
    denied = names(ext.agent.disallowed_tools)
    return [t for t in tools if (allowed is None or t.name in allowed) and t.name not in denied]


def _plugins(
    root: Path, env: Mapping[str, str], settings: Any, dirs: Sequence[Path]
) -> tuple[list[Any], list[Any]]:
    """The plugins a session uses, and the problems for the user. An installed
    plugin is read only when some settings layer enables plugins at all."""
    from bridle.config.paths import bridle_home

    enabled = settings.get("enabledPlugins") if settings is not None else None
    if not dirs and not (isinstance(enabled, Mapping) and any(v is True for v in enabled.values())):
        return [], []
    from bridle.extensions.plugin_registry import installed
    from bridle.extensions.plugins import find_plugins

    items, warnings = installed(env, root) if enabled else ([], [])
    data_home = bridle_home(env) / "plugins" / "data"
    found = find_plugins(dirs=dirs, installed=items, enabled=enabled, data_home=data_home)
    bad_dirs = [p for p in found.problems if p.message.startswith("--plugin-dir")]
    if bad_dirs:
        p = bad_dirs[0]
        raise UsageError(f"--plugin-dir {p.path}: {p.message.removeprefix('--plugin-dir: ')}")
    return found.plugins, [*warnings, *found.problems]


def _expand_plugin_vars(ext: Extensions, by_name: Mapping[str, Any]) -> None:
    """`${CLAUDE_PLUGIN_ROOT}`/`${CLAUDE_PLUGIN_DATA}` in plugin skills, commands,
    agents and the plugin style in use."""
    from dataclasses import replace

    def owner(name: str) -> Any:
        return by_name.get(name.partition(":")[0]) if ":" in name else None

    for name, skill in list(ext.skills.items()):
        if (p := owner(name)) is not None:
            ext.skills[name] = replace(skill, body=p.expand(skill.body))
    if ext.commands is not None:
        for name, command in list(ext.commands.by_name.items()):
            if (p := owner(name)) is not None:
                ext.commands.by_name[name] = replace(command, body=p.expand(command.body))
    if ext.agents is not None:
        for name, agent in list(ext.agents.by_name.items()):
            if (p := owner(name)) is not None and agent.scope == "plugin":
                ext.agents.by_name[name] = replace(agent, prompt=p.expand(agent.prompt))
    if ext.style is not None and (p := owner(ext.style.name)) is not None:
        ext.style = replace(ext.style, prompt=p.expand(ext.style.prompt))


def system_additions(ext: Extensions, context_window: int | None) -> tuple[str | None, list[str]]:
    """(a replacement for the base prompt or None, texts to append)."""
    base: str | None = None
    extra: list[str] = []
    if ext.skills:
        from bridle.extensions.skills import budget_for, listing

        text = listing(ext.skills.values(), budget_for(context_window or DEFAULT_WINDOW))
        if text:
            extra.append(text)
    if ext.style is not None:
        if not ext.style.keep_coding_instructions:
            base = STYLE_BASE
        extra.append(f"# Output style: {ext.style.name}\n{ext.style.prompt}")
    if ext.agent is not None:  # the agent's prompt is the main thread's instructions
        base = ext.agent.prompt
    return base, extra


def skill_tool(ext: Extensions, policy: Any = None) -> Any | None:
    """The Skill tool; with `policy`, a loaded body's `!` commands run as in a
    `/name` command (the rules widened by the skill's `allowed-tools`)."""
    if not any(s.model_invocable for s in ext.skills.values()):
        return None
    from bridle.tools.skill import Skill

    if policy is None:
        return Skill(ext.skills)
    return Skill(
        ext.skills,
        shell=lambda s, ctx: _shell_runner(s.allowed_tools, s.directory, policy, ctx),
        activate=lambda s: allow_while_active(s.allowed_tools, policy),
    )


def skill_scope(ext: Extensions, tool: Any, cwd: Path, project_root: Path) -> Any:
    """The session's `extensions.skill_scope.SkillScope`: path-scoped skills are
    offered as their files are touched, and nested skill folders join."""
    from bridle.extensions.skill_scope import SkillScope

    def add_command(command: Any) -> None:
        if ext.commands is None:
            from bridle.extensions.commands import Commands

            ext.commands = Commands()
        ext.commands.by_name.setdefault(command.name, command)

    return SkillScope(ext.skills, cwd, project_root, tool=tool, add_command=add_command)


def allow_while_active(rules: Any, policy: Any) -> None:
    """A loaded skill's `allowed-tools`: allowed without asking from now on in this
    session (deny rules still win). A rule that does not parse is skipped."""
    from bridle.core.errors import BridleError

    for rule in rules or ():
        try:
            policy.add_allow(rule)
        except (BridleError, ValueError):
            continue


def expand_prompt(text: str, ext: Extensions, *, policy: Any, ctx: Any, hooks: Any = None) -> str:
    """The prompt a `/name args` prompt stands for; any other prompt unchanged.
    An unknown command, or a `!` command the rules refuse, is a `UsageError`.
    `ctx` is the session's `tools.base.ToolContext`: `!` commands run as the Bash
    tool runs them (project directory, scrubbed environment, process group).
    The files the expanded text mentions (`@path`) are attached as Claude Code
    attaches them, read with the Read tool; one the rules deny for Read is not.
    A skill run this way activates its frontmatter hooks (`hooks`, the session's
    `engine.hooks_bridge.HookBridge`, if any)."""
    from bridle.extensions.commands import parse_invocation
    from bridle.extensions.expand import ExpansionDenied

    parsed = parse_invocation(text)
    if parsed is None:
        return text
    name, arguments = parsed
    if ext.commands is None or not ext.commands.by_name:
        raise UsageError(
            f"/{name} is not a command: there are no commands here (.claude/commands/*.md, "
            "~/.claude/commands/*.md or skills); to send the text as it is, start it with a space"
        )
    command = ext.commands.resolve(name)
    runner = _shell_runner(
        command.allowed_tools, command.skill_dir or command.path.parent, policy, ctx
    )
    try:
        expansion = command.render(arguments, session_id=ctx.session_id, run_shell=runner)
    except ExpansionDenied as e:
        raise UsageError(f"/{command.name}: {e}") from e
    if command.scope == "skill":
        allow_while_active(command.allowed_tools, policy)
    if hooks is not None and command.scope == "skill":
        hooks.activate_skill(command.name)
    attached = [a for a in (_attach(m, policy, ctx) for m in expansion.mentions) if a]
    if not attached:
        return expansion.text
    return "\n\n".join([expansion.text.rstrip("\n"), *attached])


def _attach(mention: str, policy: Any, ctx: Any) -> str | None:
    """A mentioned file as Claude Code adds it to the prompt (the Read tool's call
    and result); None when the mention names no file (an e-mail, a decorator)."""
    import json

    from bridle.core.errors import ToolError
    from bridle.tools.read import Read

    path = Path(mention).expanduser()
    path = path if path.is_absolute() else Path(ctx.cwd) / path
    if not path.is_file():
        return None
    args = {"file_path": str(path)}
    # The user typed the mention, so only a deny rule stops it (an ask does not).
    decision = policy.evaluate_rules("Read", args, cwd=ctx.cwd)
    if decision.behavior == "deny":
        return f"(@{mention} is not attached: {decision.reason or 'the rules deny reading it'})"
    try:
        out = Read().run(args, ctx)
        result = "".join(getattr(p, "text", "") for p in out.content)
    except ToolError as e:
        result = f"Error: {e}"
    call = json.dumps(args, ensure_ascii=False)
    return (
        f"<system-reminder>\nCalled the Read tool with the following input: {call}\n"
        f"</system-reminder>\n<system-reminder>\nResult of calling the Read tool:\n{result}\n"
        "</system-reminder>"
    )


def _shell_runner(allowed_tools: Any, folder: Path, policy: Any, ctx: Any) -> Any:
    from bridle.core.errors import ToolError
    from bridle.extensions.expand import ExpansionDenied
    from bridle.tools.bash import Bash

    allowed = [r for r in (allowed_tools or ()) if r.startswith("Bash")]
    root = str(folder)
    bash = Bash()

    def run(cmd: str) -> str:
        cmd = cmd.replace("${CLAUDE_PLUGIN_ROOT}", root)
        decision = policy.evaluate("Bash", {"command": cmd}, cwd=ctx.cwd)
        if decision.behavior != "allow" and not _allowed_by(allowed, cmd, policy, ctx.cwd):
            first = cmd.split()[0] if cmd.split() else cmd
            raise ExpansionDenied(
                f"`{cmd}` was not run: {decision.reason or 'not allowed'} (allow it with "
                f'"allowed-tools: Bash({first}:*)" in the command\'s frontmatter, or a '
                "permission rule)"
            )
        try:
            out = bash.run({"command": cmd, "timeout": SHELL_TIMEOUT_S * 1000}, ctx)
        except ToolError as e:
            return str(e)
        return "".join(getattr(p, "text", "") for p in out.content)

    return run


def _allowed_by(rules: list[str], cmd: str, policy: Any, cwd: Path) -> bool:
    """Whether the command's own `allowed-tools` allow `cmd` (deny rules still win)."""
    if not rules:
        return False
    from bridle.policy.engine import PermissionPolicy

    widened = PermissionPolicy(
        mode="default",
        allow=[*policy.allow, *rules],
        ask=policy.ask,
        deny=policy.deny,
        project_root=policy.root,
        extra_roots=policy.roots[1:],
        home=policy.home,
        headless=True,
    )
    return bool(widened.evaluate("Bash", {"command": cmd}, cwd=cwd).behavior == "allow")
