"""The `bridle` command group, with subcommands loaded lazily.

Each subcommand lives in its own module under `bridle.cli` and is imported only
when invoked, so `bridle --version` and `bridle --help` never import httpx,
Textual or FastAPI. A command is listed only when its module is present in the
package: nothing unfinished shows up in `--help`.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import click

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
    "mcp": ("bridle.cli.mcp", "mcp", "MCP server settings and sync."),
}


def _available(name: str) -> bool:
    module = COMMANDS[name][0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(super().list_commands(ctx))
        names.update(n for n in COMMANDS if _available(n))
        return sorted(names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        cmd = super().get_command(ctx, cmd_name)
        if cmd is not None:
            return cmd
        spec = COMMANDS.get(cmd_name)
        if spec is None or not _available(cmd_name):
            return None
        module = importlib.import_module(spec[0])
        found: click.Command = getattr(module, spec[1])
        return found

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Use the static help strings so listing commands imports nothing.
        rows = []
        for name in self.list_commands(ctx):
            if name in COMMANDS:
                rows.append((name, COMMANDS[name][2]))
            else:
                cmd = super().get_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str()))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _build() -> click.Group:
    """The root command. When the harness module exists, the root also runs agent
    sessions (`bridle -p PROMPT`); until then it is a plain command group."""
    if importlib.util.find_spec("bridle.cli.run") is not None:
        from bridle.cli.run import make_root

        root: click.Group = make_root(LazyGroup, __version__)
        return root

    @click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, "-V", "--version", prog_name="bridle")
    def cli() -> None:
        """bridle: one open coding harness for every model and every account."""

    return cli


def main(argv: list[str] | None = None) -> Any:
    from bridle.core.errors import BridleError

    cli = _build()
    try:
        rv = cli.main(args=argv, prog_name="bridle", standalone_mode=False)
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
