"""`bridle mcp`: add, list, inspect and remove MCP servers in the files Claude Code
writes (`~/.claude.json` for the local and user scopes, `.mcp.json` for the
project scope), so `bridle mcp …` and `claude mcp …` see the same servers; and
`bridle mcp sync`, which merges Claude Code's `mcpServers` of your real
`~/.claude.json` and of every account in one pass (`bridle.accounts.mcp_sync`).
The file edits are `bridle.mcp.scopes`', the live checks `bridle.mcp.status`';
this module only parses arguments and prints. As in Claude Code the default
scope is local and the default transport stdio; a server's own command line
follows `--`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from bridle.core.errors import UsageError

SCOPE_HELP = "local (default: you, this project), project (.mcp.json, shared) or user (you, all)"
SCOPE_LABELS = {
    "local": "Local config (private to you in this project)",
    "project": "Project config (shared via .mcp.json)",
    "user": "User config (available in all your projects)",
    "settings": "bridle settings (mcpServers)",
    "cli": "--mcp-config",
    "plugin": "Plugin (.mcp.json)",
}
_SCOPES = click.Choice(["local", "project", "user"])


@click.group()
def mcp() -> None:
    """MCP servers: add, list, get, remove (Claude Code's files), and sync."""


def _where() -> tuple[Path, dict[str, str]]:
    from bridle.config.settings import find_project_root

    return find_project_root(Path.cwd()), dict(os.environ)


def _modified(path: Path, scope: str, project: Path) -> str:
    return f"File modified: {path}" + (f" [project: {project}]" if scope == "local" else "")


class _AddCommand(click.Command):
    """`mcp add`, whose unknown options most often belong to the server's command."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as e:
            raise click.UsageError(
                f"{e.format_message().rstrip('.')}; if it is the server's, put its command line after "
                "`--`: bridle mcp add NAME -- COMMAND ARGS...",
                ctx,
            ) from e


@mcp.command(cls=_AddCommand)
@click.option("-s", "--scope", type=_SCOPES, default="local", show_default=True, help=SCOPE_HELP)
@click.option(
    "-t", "--transport", type=click.Choice(["stdio", "sse", "http"]), default=None,
    help="stdio (default: a command), sse or http (a URL).",
)  # fmt: skip
@click.option("-e", "--env", "envs", multiple=True, metavar="KEY=VALUE", help="stdio env var.")
@click.option("-H", "--header", "headers", multiple=True, metavar='"Name: value"', help="Header.")
@click.argument("name")
@click.argument("target", metavar="COMMAND|URL")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def add(
    scope: str,
    transport: str | None,
    envs: tuple[str, ...],
    headers: tuple[str, ...],
    name: str,
    target: str,
    args: tuple[str, ...],
) -> None:
    """Add server NAME: `-t http|sse NAME URL`, or `NAME -- COMMAND ARGS...`.

    After `--` everything is the server's command line, its options included."""
    from bridle.mcp.config import EntryError, build_entry, parse_header
    from bridle.mcp.scopes import add_server

    kind = transport or "stdio"
    if transport is None and target.startswith(("http://", "https://")):
        raise UsageError(
            f"{target!r} looks like a URL, but without -t it would be run as a command: use "
            f"`bridle mcp add -t http {name} {target}` (streamable HTTP) or "
            f"`bridle mcp add -t sse {name} {target}`"
        )
    if kind != "stdio":
        if args:
            raise UsageError(
                f"an {kind} server takes only a URL, but {' '.join(args)!r} follows it; "
                'pass headers with -H "Name: value"'
            )
        if envs:
            raise UsageError("-e sets a stdio server's environment; use -H for an HTTP header")
    elif headers:
        raise UsageError("-H adds an HTTP header: use it with -t http or -t sse")
    env_map: dict[str, str] = {}
    for item in envs:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"-e {item!r}: write it as KEY=VALUE")
        env_map[key] = value
    try:
        header_map = dict(parse_header(h) for h in headers)
    except EntryError as e:
        raise UsageError(f"-H: {e}") from e
    entry = build_entry(kind, target, args, env=env_map, headers=header_map)  # type: ignore[arg-type]
    project, env = _where()
    path = add_server(scope, name, entry, project, env=env)  # type: ignore[arg-type]
    what = "command" if kind == "stdio" else "URL"
    shown = " ".join([target, *args])
    label = kind.upper() if kind != "stdio" else "stdio"
    click.echo(f"Added {label} MCP server {name} with {what}: {shown} to {scope} config")
    click.echo(_modified(path, scope, project))


@mcp.command("add-json")
@click.option("-s", "--scope", type=_SCOPES, default="local", show_default=True, help=SCOPE_HELP)
@click.argument("name")
@click.argument("json_text", metavar="JSON")
def add_json(scope: str, name: str, json_text: str) -> None:
    """Add server NAME from its JSON definition, as written in .mcp.json."""
    from bridle.mcp.scopes import add_server

    try:
        entry = json.loads(json_text)
    except ValueError as e:
        raise UsageError(
            f"not valid JSON ({e}); quote it for the shell, e.g. "
            f'bridle mcp add-json {name} \'{{"type": "stdio", "command": "npx"}}\''
        ) from e
    if not isinstance(entry, dict):
        raise UsageError('the definition must be a JSON object, e.g. {"command": "npx"}')
    project, env = _where()
    path = add_server(scope, name, entry, project, env=env)  # type: ignore[arg-type]
    kind = entry.get("type") or ("stdio" if "command" in entry else "?")
    click.echo(f"Added {kind} MCP server {name} to {scope} config")
    click.echo(_modified(path, scope, project))


@mcp.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
def list_(as_json: bool) -> None:
    """Every server this project sees, with its live status (servers are started)."""
    reports, warnings = _check()
    for warning in warnings:
        click.echo(f"bridle: MCP: {warning}", err=True)
    if as_json:
        click.echo(json.dumps([_as_dict(r) for r in reports], indent=2))
        return
    if not reports:
        click.echo(
            "No MCP servers configured. Add one with `bridle mcp add NAME -- COMMAND ARGS...` "
            "or `bridle mcp add -t http NAME URL`."
        )
        return
    click.echo("Checking MCP server health…\n")
    for r in reports:
        click.echo(f"{r.name}: {r.config.describe()} - {r.summary()}")


@mcp.command()
@click.argument("name")
def get(name: str) -> None:
    """Details of server NAME: scope, file, status, command or URL."""
    reports, _ = _check(only=name)
    if not reports:
        raise UsageError(f"no MCP server named {name!r}; see `bridle mcp list`")
    r = reports[0]
    cfg = r.config
    lines = [
        f"{name}:",
        f"  Scope: {SCOPE_LABELS.get(cfg.scope, cfg.scope)}",
        f"  Source: {cfg.source}",
        f"  Status: {r.summary()}",
        f"  Type: {cfg.type}",
    ]
    if cfg.type == "stdio":
        lines.append(f"  Command: {cfg.command}")
        if cfg.args:
            lines.append(f"  Args: {' '.join(cfg.args)}")
        if cfg.env:
            lines += ["  Environment:", *(f"    {k}={v}" for k, v in cfg.env.items())]
    else:
        lines.append(f"  URL: {cfg.url}")
        if cfg.headers:
            lines += ["  Headers:", *(f"    {k}: {v}" for k, v in cfg.headers.items())]
    if r.tools:
        lines += ["  Tools:", *(f"    {t['name']}" for t in r.tools)]
    lines.append("")
    if cfg.scope in ("local", "project", "user"):
        lines.append(f"To remove this server, run: bridle mcp remove {name} -s {cfg.scope}")
    else:
        lines.append(f"It is defined in {cfg.source}; edit that to change or remove it.")
    click.echo("\n".join(lines))


@mcp.command()
@click.option("-s", "--scope", type=_SCOPES, default=None, help="Only this scope.")
@click.argument("name")
def remove(scope: str | None, name: str) -> None:
    """Remove server NAME (from SCOPE, or from the one scope that has it)."""
    from bridle.mcp.scopes import remove_server

    project, env = _where()
    where, path = remove_server(name, project, scope=scope, env=env)  # type: ignore[arg-type]
    click.echo(f'Removed MCP server "{name}" from {where} config')
    click.echo(_modified(path, where, project))


def _check(only: str | None = None) -> tuple[list[Any], list[str]]:
    from bridle.config.settings import load_settings
    from bridle.engine.extensions import load_extensions
    from bridle.mcp.status import check_servers, load_for

    project, env = _where()
    settings = load_settings(Path.cwd(), env)
    ext = load_extensions(Path.cwd(), project, env, settings)  # enabled plugins' servers
    found = load_for(project, env, settings, plugin_files=ext.plugin_mcp_files())
    servers = found.servers
    if only is not None:
        servers = {only: servers[only]} if only in servers else {}
    return check_servers(servers, settings, env, Path.cwd()), found.warnings


def _as_dict(r: Any) -> dict[str, Any]:
    return {
        "name": r.name,
        "scope": r.config.scope,
        "source": r.config.source,
        "type": r.config.type,
        "target": r.config.describe(),
        "status": r.state,
        "reason": r.reason,
        "tools": [t["name"] for t in r.tools],
    }


@mcp.command()
@click.argument("accounts", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
def sync(accounts: tuple[str, ...], as_json: bool) -> None:
    """Sync Claude Code MCP servers of your setup and ACCOUNTS (default: every
    account with claude) in one run: additions, edits and deletions reach all."""
    from bridle.accounts.mcp_sync import describe
    from bridle.accounts.runner import Accounts

    ctx = Accounts(os.environ, Path.cwd())
    names = list(accounts) or [
        n for n in ctx.store.names() if "claude" in ctx.store.load(n).providers
    ]
    report = ctx.sync_mcp_all(names)
    if as_json:
        click.echo(json.dumps({n: r.__dict__ for n, r in report.items()}, indent=2, sort_keys=True))
        return
    if not report:
        click.echo("No account uses claude; nothing to sync.")
    for name, result in report.items():
        click.echo(f"{name}: {describe(result)} ({len(result.servers)} server(s))")
