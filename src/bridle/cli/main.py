"""The `bridle` command group, with subcommands loaded lazily.

Each subcommand lives in its own module under `bridle.cli` and is imported only
when invoked, so `bridle --version` and `bridle --help` never import httpx,
Textual or FastAPI. A command is listed only when its module is present in the
package: nothing unfinished shows up in `--help`.
"""

from __future__ import annotations

import sys

from bridle import __version__

# name -> (module, attribute, one-line help shown by `bridle --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "models": ("bridle.cli.models", "models", "List the model catalog and which keys are set."),
    "mock": ("bridle.cli.mock", "mock", "Run the scripted mock model server."),
    "sessions": ("bridle.cli.sessions", "sessions", "List, search, show and resume sessions."),
    "accounts": ("bridle.cli.accounts", "accounts", "Manage named accounts and their keys."),
    "launch": ("bridle.cli.launch", "launch", "Launch a coding CLI under an account."),
    "shell": ("bridle.cli.launch", "shell", "Open a shell in an account's context."),
    "exec": ("bridle.cli.launch", "exec_", "Run one command in an account's context."),
    "recall": ("bridle.cli.recall", "recall", "Pick a past session and resume it."),
    "settings": ("bridle.cli.settings", "settings", "Theme, portal and credentials on screens."),
    "mcp": ("bridle.cli.mcp", "mcp", "Add, list and remove MCP servers; sync them to accounts."),
    "acp": ("bridle.cli.acp", "acp", "Serve the Agent Client Protocol for editors (Zed)."),
    "plugins": ("bridle.cli.plugins", "plugins", "List, enable, install Claude Code plugins."),
    "daemon": ("bridle.cli.daemon", "daemon", "Serve coding tasks over HTTP (token required)."),
    "tasks": ("bridle.cli.tasks", "tasks", "Submit, follow, steer and stop daemon tasks."),
    "worker": ("bridle.cli.worker", "worker", "Run daemon workers against a shared PostgreSQL."),
}


def main(argv: list[str] | None = None) -> object:
    args = sys.argv[1:] if argv is None else argv
    if args in (["--version"], ["-V"]):
        # The commonest probe of all; answer it without building the CLI.
        print(f"bridle, version {__version__}")
        return 0
    if args[:2] == ["sessions", "search"]:
        # The search fast path answers before Click is imported (~40 ms); it
        # returns None for anything it does not handle, and Click takes over.
        from bridle.cli.history_quick import run

        code = run(args[2:])
        if code is not None:
            return code
    if not args or (args[0] not in COMMANDS and not {"-p", "--print"} & set(args)):
        # The app's kept first screen, drawn while the rest loads (`tui.instant`).
        from bridle.tui import instant

        instant.begin(args)
    if not {"-h", "--help"} & set(args):  # help is read once and exits: nothing to cache
        from bridle.core import startup

        startup.begin()
    import click

    from bridle.cli.argv import spread
    from bridle.cli.group import build_root
    from bridle.core.errors import BridleError

    cli = build_root()
    try:
        # `--allowedTools Read Edit`: Claude Code's many-valued flags, one value per use.
        try:
            args = spread(args, COMMANDS)
            rv = cli.main(args=args, prog_name="bridle", standalone_mode=False)
        except BaseException:
            # An error before the app took the terminal goes to the user's own screen.
            shown = sys.modules.get("bridle.tui.instant")
            if shown is not None:
                shown.release()
            raise
        if isinstance(rv, int) and not isinstance(rv, bool):
            sys.exit(rv)
        return rv
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.show()
        sys.exit(64 if isinstance(e, click.UsageError) else e.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except BridleError as e:
        click.echo(f"bridle: {e}", err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:
        # An sqlite3.Error from bridle's database (damaged, read-only, disk full):
        # its cause and fix, not a traceback.
        from bridle.store.db import database_error

        err = database_error(e)
        if err is None:
            raise
        click.echo(f"bridle: {err}", err=True)
        sys.exit(err.exit_code)
