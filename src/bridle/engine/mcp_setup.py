"""Connecting a session to its MCP servers (Claude Code's configuration).

`open_mcp` reads the servers a session in the project sees (see `bridle.mcp`:
`--mcp-config`, `~/.claude.json`, `.mcp.json`, settings `mcpServers`, the
plugins' `.mcp.json` files with `${CLAUDE_PLUGIN_ROOT}` set), keeps
the project's `.mcp.json` servers only once the user approved them
(`enableAllProjectMcpServers` or `enabledMcpjsonServers` in settings, and not
`disabledMcpjsonServers`), as Claude Code does without a prompt to ask, starts
the servers, and returns their tools (`mcp__server__tool`, plus the resource
tools) with a warning for each server that was skipped or failed to start. With
no server configured the `mcp` SDK is never imported and nothing starts.

`McpSession.bind(engine, keep)` makes the engine check its servers before each
model request: what the user should see (a server that crashed mid-call, or was
restarted) becomes a `Notice`, and a server whose tools changed
(`tools/list_changed`, or different tools after a restart) has its tools
replaced in the dispatcher and in the request's tool list (or in ToolSearch's
deferred list while tool search is on), filtered by `keep` as at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridle.engine import events as ev


@dataclass
class McpSession:
    """A session's MCP servers and the tools they offer; empty when none are configured."""

    manager: Any = None  # mcp.client.McpManager, closed with the session
    tools: list[Any] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def close(self) -> None:
        if self.manager is not None:
            self.manager.close()

    def statuses(self) -> list[dict[str, str]]:
        """Each server as Claude Code's init message lists it: name and status
        (`connected`, `failed`, or `pending` while not started)."""
        if self.manager is None:
            return []
        shown = {"connected": "connected", "failed": "failed", "not started": "pending"}
        return [
            {"name": name, "status": shown[status.state]}
            for name, status in self.manager.status().items()
        ]

    def bind(self, engine: Any, keep: Callable[[list[Any]], list[Any]]) -> None:
        """Check the servers before each of `engine`'s requests (see the module doc)."""
        if self.manager is not None:
            engine.before_request = lambda: self._sync(engine.dispatcher, engine.tool_specs, keep)

    def _sync(
        self, dispatcher: Any, specs: list[Any], keep: Callable[[list[Any]], list[Any]]
    ) -> Iterator[ev.Event]:
        manager = self.manager
        manager.settle()
        notes, changed = manager.take_updates()
        for note in notes:
            yield ev.Notice(note, "mcp_server")
        if changed:
            refresh_tools(manager, sorted(changed), dispatcher.tools, specs, keep)


def refresh_tools(
    manager: Any,
    servers: Sequence[str],
    tools: dict[str, Any],
    specs: list[Any],
    keep: Callable[[list[Any]], list[Any]],
) -> None:
    """Replace `servers`' tools in the dispatcher's `tools` and the request's
    `specs` (in place) with what the servers offer now."""
    from bridle.mcp.search import ToolSearch
    from bridle.mcp.tools import McpServerTool, adapt

    fresh = keep([adapt(manager, t) for server in servers for t in manager.list_tools(server)])
    new = {t.name: t for t in fresh}
    gone = {
        name
        for name, tool in tools.items()
        if isinstance(tool, McpServerTool) and tool.server in servers and name not in new
    }
    for name in gone:
        del tools[name]
    tools.update(new)
    search = tools.get("ToolSearch")
    offered = {s.name for s in specs}
    updated = [s for s in specs if s.name not in gone]
    for name, tool in new.items():
        if name in offered:
            updated = [tool.spec() if s.name == name else s for s in updated]
        elif isinstance(search, ToolSearch):
            search.deferred[name] = tool.spec()
        else:
            updated.append(tool.spec())
    if isinstance(search, ToolSearch):
        for name in gone:
            search.deferred.pop(name, None)
        updated = [search.spec() if s.name == search.name else s for s in updated]
    specs[:] = updated


def open_mcp(
    options: Any,
    project_root: Path,
    cwd: Path,
    env: Mapping[str, str],
    settings: Any,
    plugin_files: Sequence[tuple[Any, ...]] = (),
) -> McpSession:
    """`plugin_files` are the session's plugins' MCP files with their folders
    (`engine.extensions.Extensions.plugin_mcp_files`)."""
    configured = settings.get("mcpServers") if settings is not None else None
    if not (options.mcp_configs or configured or plugin_files) and not _config_files(
        project_root, env
    ):
        return McpSession()  # nothing configured: no import, no file parsed

    from bridle.mcp.config import load_servers
    from bridle.mcp.status import approved

    found = load_servers(
        project_root,
        env=env,
        settings_servers=configured if isinstance(configured, Mapping) else None,
        cli_configs=options.mcp_configs,
        strict=options.strict_mcp_config,
        plugin_files=plugin_files,
    )
    out = McpSession(warnings=[f"MCP: {w}" for w in found.warnings])
    servers = dict(found.servers)
    for name, cfg in list(servers.items()):
        if cfg.scope == "project" and not approved(name, settings):
            del servers[name]
            out.warnings.append(
                f"MCP server {name!r} from {cfg.source} is not approved: add it to "
                '"enabledMcpjsonServers" (or set "enableAllProjectMcpServers": true) in '
                ".claude/settings.local.json"
            )
    if not servers:
        return out
    from bridle.mcp.client import McpManager
    from bridle.mcp.tools import mcp_tools

    out.manager = McpManager(servers, env=env, cwd=cwd)
    try:
        out.tools = mcp_tools(out.manager)
        for name, status in out.manager.status().items():
            if status.state == "failed":
                out.warnings.append(f"MCP server {name!r} failed to start: {status.reason}")
    except BaseException:
        out.close()
        raise
    return out


def _config_files(project_root: Path, env: Mapping[str, str]) -> bool:
    """Whether a file that can define MCP servers exists: the project's `.mcp.json`
    or Claude Code's `~/.claude.json` (`$CLAUDE_CONFIG_DIR/.claude.json`)."""
    from bridle.config.paths import claude_json_path

    return (project_root / ".mcp.json").is_file() or claude_json_path(env).is_file()
