"""The app's read-only `/commands`: what the session runs with.

`/permissions` shows the permission mode and the allow, ask and deny rules in
effect (with the tools `!` allowed for this session); `/mcp` each MCP server
and its status (connected, failed, pending); `/agents` the subagent types the
Agent tool takes (the built-ins and the agent definitions found); `/hooks` each
hook by event and matcher, with its handler and where it came from; `/tasks
[stop ID]` the background agents through the engine's `Tasks` op (its
`BackgroundAgents` answer is rendered by `tasks_text`). They read the session
between the engine's steps (plain attribute reads) and change nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bridle.engine import events as ev

if TYPE_CHECKING:
    from bridle.tui.app import BridleApp

VIEWS = {
    "permissions": "the permission mode and the allow, ask and deny rules",
    "mcp": "MCP servers and their status",
    "agents": "the subagent types the Agent tool can run",
    "tasks": "background agents: /tasks, /tasks stop ID",
    "hooks": "the hooks that run in this session, by event",
}


async def run_view(app: BridleApp, name: str, argument: str) -> None:
    if name == "permissions":
        await app.note(permissions_text(app.session.policy, app.session_tools))
    elif name == "mcp":
        await app.note(mcp_text(app.session.mcp))
    elif name == "agents":
        await app.note(agents_text(app.session.extensions))
    elif name == "hooks":
        await app.note(hooks_text(app.session.hooks))
    elif name == "tasks":
        verb, _, ident = argument.partition(" ")
        if verb and (verb != "stop" or not ident.strip()):
            await app.note("/tasks lists background agents; /tasks stop ID stops one", True)
            return
        app.runner.control(ev.Tasks(stop=ident.strip()))


def permissions_text(policy: Any, session_tools: set[str]) -> str:
    if policy is None:
        return "no permission policy in this session"
    lines = [f"permission mode: {policy.mode} (Shift+Tab cycles)"]
    for kind in ("deny", "ask", "allow"):
        rules = [r.text for r in getattr(policy, kind, [])]
        lines.append(f"{kind}: " + (", ".join(rules) if rules else "(none)"))
    if session_tools:
        lines.append("allowed for this session (!): " + ", ".join(sorted(session_tools)))
    lines.append("`a` in a permission question saves an allow rule to .bridle/settings.local.json")
    return "\n".join(lines)


def mcp_text(mcp: Any) -> str:
    statuses = mcp.statuses() if mcp is not None else []
    if not statuses:
        return "no MCP servers (.mcp.json, ~/.claude.json, settings mcpServers, --mcp-config)"
    return "MCP servers:\n" + "\n".join(f"- {s['name']}: {s['status']}" for s in statuses)


def agents_text(extensions: Any) -> str:
    from bridle.engine.agents import BUILTIN_TYPES

    lines = ["subagent types (the Agent tool's subagent_type):"]
    lines += [f"- {name}: {what} (built-in)" for name, what in BUILTIN_TYPES]
    found = getattr(getattr(extensions, "agents", None), "by_name", None) or {}
    for name, agent in sorted(found.items()):
        lines.append(f"- {name}: {agent.description} ({agent.scope}, {agent.source})")
    return "\n".join(lines)


def hook_entries(bridge: Any) -> list[Any]:
    """The session's hooks (`hooks.config.HookEntry`), [] without any."""
    config = getattr(getattr(bridge, "runner", None), "config", None)
    return list(getattr(config, "entries", ()) or ())


def hooks_text(bridge: Any) -> str:
    entries = hook_entries(bridge)
    if not entries:
        return "no hooks (settings hooks, .claude/settings.json, plugins, --hook)"
    lines = ["hooks:"]
    for entry in entries:
        handler = entry.handler
        what = handler.command or handler.url or handler.prompt or handler.tool or ""
        matcher = f"[{entry.matcher.text}] " if entry.matcher.text else ""
        source = handler.source.name or handler.source.path
        lines.append(f"- {entry.event} {matcher}{handler.type}: {what[:120]} ({source})")
    return "\n".join(lines)


def tasks_text(agents: list[dict[str, Any]]) -> str:
    if not agents:
        return "no background agents"
    return "background agents:\n" + "\n".join(
        f"- {a.get('id')}: {a.get('description')} [{a.get('agent_type')}] "
        f"{a.get('status')} · {int(a.get('seconds') or 0)}s"
        for a in agents
    )
