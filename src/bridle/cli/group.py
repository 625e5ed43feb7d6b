"""The lazy command group behind `bridle`: subcommands are imported on first use.

Split from `cli.main` so that `bridle --version` answers before Click is even
imported. A command is listed only when its module is present in the package.
"""

from __future__ import annotations

import importlib
import importlib.util

import click

from bridle import __version__
from bridle.cli.main import COMMANDS


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


def build_root() -> click.Group:
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
