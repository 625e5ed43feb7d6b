"""`bridle mcp`: MCP server settings; `bridle mcp sync` merges Claude Code's
`mcpServers` of your real `~/.claude.json` and of every account in one pass (all
end equal), honouring Claude Code's own lock. The merge is `bridle.accounts.mcp_sync`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click


@click.group()
def mcp() -> None:
    """MCP server settings and sync."""


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
