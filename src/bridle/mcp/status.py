"""Live status of the configured MCP servers, for `bridle mcp list/get`, `--doctor`
and the Agent SDK's `mcp_status` request.

`check_servers` reads every server a session in the project sees (the same
`config.load_servers` a run uses), marks the project's `.mcp.json` servers the
user has not approved as "needs approval" without starting them (as Claude
Code's `mcp list` does), starts the rest in parallel within `MCP_TIMEOUT`, and
returns one `ServerReport` per server: connected with its tools, or failed with
the reason. `report_from_manager` describes a running session's servers the same
way without starting anything new. `approved` is the approval rule itself:
`disabledMcpjsonServers` wins, then `enableAllProjectMcpServers`, then
`enabledMcpjsonServers`. Nothing here prints; the `mcp` SDK is imported only when
a server is started.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bridle.mcp.config import McpConfig, ServerConfig

State = Literal["connected", "failed", "needs approval", "not started"]

APPROVE_HINT = (
    'add it to "enabledMcpjsonServers" (or set "enableAllProjectMcpServers": true) '
    "in .claude/settings.local.json"
)


@dataclass
class ServerReport:
    """One server as `mcp list` shows it."""

    config: ServerConfig
    state: State
    reason: str | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)  # name, description, readOnly

    @property
    def name(self) -> str:
        return self.config.name

    def summary(self) -> str:
        """`connected (3 tools)`, `failed: why`, `needs approval: how`."""
        if self.state == "connected":
            n = len(self.tools)
            return f"connected ({n} tool{'s' if n != 1 else ''})"
        if self.state == "failed":
            return f"failed: {self.reason or 'the server exited'}"
        if self.state == "needs approval":
            return f"needs approval: {APPROVE_HINT}"
        return "not started"

    def sdk_status(self) -> dict[str, Any]:
        """The Agent SDK's `McpServerStatus` shape."""
        status = {
            "connected": "connected",
            "failed": "failed",
            "needs approval": "pending",
            "not started": "pending",
        }[self.state]
        out: dict[str, Any] = {"name": self.name, "status": status, "scope": self.config.scope}
        out["config"] = sdk_config(self.config)
        if self.state == "failed":
            out["error"] = self.reason or "the server exited"
        if self.state == "connected":
            out["tools"] = [
                {
                    "name": t["name"],
                    **({"description": t["description"]} if t.get("description") else {}),
                    "annotations": {"readOnly": bool(t.get("readOnly"))},
                }
                for t in self.tools
            ]
        return out


def approved(name: str, settings: Any) -> bool:
    """Whether the user approved the project (`.mcp.json`) server `name`."""
    if settings is None:
        return False
    disabled = settings.get("disabledMcpjsonServers") or []
    if isinstance(disabled, list) and name in disabled:
        return False
    if settings.get("enableAllProjectMcpServers") is True:
        return True
    enabled = settings.get("enabledMcpjsonServers") or []
    return isinstance(enabled, list) and name in enabled


def sdk_config(cfg: ServerConfig) -> dict[str, Any]:
    """A server's definition as the SDK reports it (headers and env values masked)."""
    if cfg.type == "stdio":
        return {"type": "stdio", "command": cfg.command, "args": list(cfg.args)}
    out: dict[str, Any] = {"type": cfg.type, "url": cfg.url}
    if cfg.headers:
        out["headers"] = {k: "****" for k in cfg.headers}
    return out


def load_for(
    project_dir: Path,
    env: Mapping[str, str],
    settings: Any,
    *,
    cli_configs: tuple[str, ...] = (),
    strict: bool = False,
    plugin_files: Sequence[Any] = (),
) -> McpConfig:
    """Every server a session in `project_dir` sees (see `config.load_servers`);
    `plugin_files` are the plugins' (file, folders) pairs."""
    from bridle.mcp.config import load_servers

    configured = settings.get("mcpServers") if settings is not None else None
    return load_servers(
        project_dir,
        env=env,
        settings_servers=configured if isinstance(configured, Mapping) else None,
        cli_configs=cli_configs,
        strict=strict,
        plugin_files=plugin_files,
    )


def check_servers(
    servers: Mapping[str, ServerConfig],
    settings: Any,
    env: Mapping[str, str],
    cwd: Path,
) -> list[ServerReport]:
    """Start every approved server (in parallel) and report each one; all are
    stopped again before this returns."""
    waiting = {n for n, c in servers.items() if c.scope == "project" and not approved(n, settings)}
    startable = {n: c for n, c in servers.items() if n not in waiting}
    reports: dict[str, ServerReport] = {
        n: ServerReport(servers[n], "needs approval") for n in waiting
    }
    if startable:
        from bridle.mcp.client import McpManager

        with McpManager(startable, env=env, cwd=cwd) as manager:
            manager.start_all()
            reports.update({r.name: r for r in report_from_manager(manager)})
    return [reports[n] for n in servers]


def report_from_manager(manager: Any) -> list[ServerReport]:
    """A running `client.McpManager`'s servers, as they are now (nothing started)."""
    out: list[ServerReport] = []
    for name, status in manager.status().items():
        tools: list[dict[str, Any]] = []
        if status.state == "connected":
            tools = [
                {"name": t.name, "description": t.description, "readOnly": t.read_only}
                for t in manager.list_tools(name)
            ]
        out.append(ServerReport(manager.config(name), status.state, status.reason, tools))
    return out


def sdk_statuses(manager: Any) -> list[dict[str, Any]]:
    """The Agent SDK's `mcp_status` answer for a running session's servers."""
    if manager is None:
        return []
    return [r.sdk_status() for r in report_from_manager(manager)]
