"""`bridle recall`: pick a past session of any tool in a Textual picker and resume it.

The index is brought up to date first (as for `bridle sessions`); the picker
(`bridle.tui.recall`) returns the chosen session once the terminal is restored,
and it is resumed in its own tool, directory and account exactly as
`bridle sessions resume` does. Textual is imported only here. The picker needs
a terminal on both stdin and stdout: without one it is refused (exit 64) before
the index is touched, pointing at `bridle sessions list` and `sessions search`.
"""

from __future__ import annotations

import os
import sys

import click

from bridle.cli.sessions import TOOL_CHOICES, _open, run_resume
from bridle.core.errors import UsageError


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--tool", type=click.Choice(TOOL_CHOICES), help="Start with this tool's sessions only."
)
@click.option("--account", help="Resume under this account (it must be able to see the session).")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the command line of the picked session instead of running it.",
)
def recall(tool: str | None, account: str | None, dry_run: bool) -> None:
    """Pick a past session (↑↓ Enter, / search, p preview, f tool, s sort, b star, q quit)."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        # Textual would draw into a pipe and wait forever for keys that never come.
        raise UsageError(
            "recall is an interactive picker and needs a terminal (stdin and stdout); "
            "from a script or a pipe use `bridle sessions list` or `bridle sessions search WORDS`"
        )
    from bridle.history.roots import account_names
    from bridle.tui.recall import TOOL_CYCLE, RecallApp

    db = _open()
    app = RecallApp(db, home=os.path.expanduser("~"), accounts=["", *account_names(os.environ)])
    if tool:
        app.tool_index = TOOL_CYCLE.index(tool)
    picked = app.run()
    if picked is None:
        return
    if account is None and app.account is not None:
        # Filtered to one account in the picker: resume under it (it can see the session).
        account = app.account or "default"
    run_resume(db, picked, account, dry_run)
