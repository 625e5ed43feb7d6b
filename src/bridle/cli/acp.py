"""`bridle acp`: serve the Agent Client Protocol on stdin/stdout for an editor.

Thin: the options become the agent's defaults and `bridle.acp.agent.serve`
does the rest (the SDK is imported only here, when the command runs).
"""

from __future__ import annotations

import os

import click


@click.command()
@click.option("--model", help="provider/model for new sessions (default: settings, then keys).")
@click.option(
    "--account", "accounts", multiple=True, help="Use this account's keys (repeat to rotate)."
)
def acp(model: str | None, accounts: tuple[str, ...]) -> int:
    """Run bridle as an ACP agent on stdio (for Zed and other ACP clients)."""
    from bridle.acp.agent import serve

    return serve(dict(os.environ), model=model, accounts=accounts)
