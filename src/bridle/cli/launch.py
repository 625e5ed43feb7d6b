"""`bridle launch`, `bridle shell` and `bridle exec`: run a coding CLI, a shell or
one command under a named account (or `native`, your real setup). Thin Click
commands over `bridle.accounts.runner`, which builds the plan, forwards signals and
returns the child's exit code, which these commands return as theirs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from bridle.accounts.specs import TOOL_NAMES

_PASS_THROUGH = {"ignore_unknown_options": True}


def _notice(text: str) -> None:
    click.echo(f"bridle: {text}", err=True)


@click.command(context_settings=_PASS_THROUGH)
@click.argument("account", required=False)
@click.option("--yolo", is_flag=True, help="Skip the tool's permission prompts.")
@click.option(
    "--resume",
    "resume",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[ID]",
    help="Resume session ID, or the latest without one.",
)
@click.option("--continue", "continue_", is_flag=True, help="Resume the latest session.")
@click.option(
    "--portal/--no-portal",
    default=None,
    help="Run inside tmux (<project>/<account>/<tool>); default: the tmuxPortal setting.",
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def launch(
    account: str | None,
    yolo: bool,
    resume: str | None,
    continue_: bool,
    portal: bool | None,
    args: tuple[str, ...],
) -> int:
    """Launch a coding CLI under ACCOUNT (`native`: your real setup).

    \b
    bridle launch ACCOUNT [claude|codex|gemini|copilot] [OPTIONS] [-- ARGS...]
    Without a tool name the account's default provider runs; ARGS go to the tool.
    Without ACCOUNT (or with only a tool name) the surrounding `bridle shell`'s
    account runs, else the default account (`bridle accounts use NAME`); with
    neither, on a terminal, a launcher lists accounts and tools to pick from.
    """
    from bridle.accounts.launch import LaunchPlan
    from bridle.accounts.runner import Accounts, Request, open_portal, run_plan

    ctx = Accounts(os.environ, Path.cwd())
    if portal is None:
        portal = _portal_setting(ctx.cwd)
    if account is None and not args and sys.stdin.isatty() and sys.stdout.isatty():
        from bridle.tui.launcher import LauncherApp, launcher_rows

        choice = LauncherApp(launcher_rows(ctx, os.environ), portal=portal, yolo=yolo).run()
        if choice is None:
            _notice("nothing launched")
            return 0
        account, args, yolo, portal = choice.account, (choice.tool,), choice.yolo, choice.portal
    if account is not None and account in TOOL_NAMES and not ctx.store.exists(account):
        args = (account, *args)
        account = None
    tool = args[0] if args and args[0] in TOOL_NAMES else None
    args = args[1:] if tool else args
    if resume is not None and continue_:
        raise click.UsageError("use --resume ID or --continue, not both.")
    name = ctx.store.resolve(account, ctx.env.get("BRIDLE_ACCOUNT"))
    req = Request(
        account=name, tool=tool, yolo=yolo, resume_id=resume or None,
        resume_latest=continue_ or resume == "", args=list(args),
    )  # fmt: skip
    prep = ctx.prepare_launch(req)
    for line in prep.plan.notices:
        _notice(line)
    if portal:
        # Inside tmux runs this same launch without --portal, so recording the
        # session and syncing shared files happen when the tool ends, not when
        # the tmux client detaches or (inside tmux) switches away at once.
        inner = [sys.executable, "-m", "bridle", "launch", name, prep.spec.name, "--no-portal"]
        inner += ["--yolo"] if yolo else []
        if resume:
            inner += ["--resume", resume]
        elif continue_ or resume == "":
            inner += ["--continue"]
        inner += ["--", *args]
        plan = LaunchPlan(inner, dict(os.environ), prep.plan.cwd)
        project = Path(prep.plan.cwd).name or "project"
        code, note = open_portal(plan, project, name, prep.spec.name)
        _notice(note)
        return code
    try:
        code = run_plan(prep.plan)
    finally:
        for line in ctx.finish_launch(prep):
            _notice(line)
    return code


def _portal_setting(cwd: Path) -> bool:
    """The `tmuxPortal` setting (`bridle settings`, behaviour page)."""
    from bridle.config.settings import load_settings

    return load_settings(cwd, os.environ).get("tmuxPortal") is True


@click.command()
@click.argument("account", required=False)
def shell(account: str | None) -> int:
    """Open your $SHELL with ACCOUNT's environment (default: the surrounding
    `bridle shell`'s account, else the default account)."""
    from bridle.accounts.runner import Accounts, run_plan

    ctx = Accounts(os.environ, Path.cwd())
    name = ctx.store.resolve(account, ctx.env.get("BRIDLE_ACCOUNT"))
    preps = ctx.prepare_commands(name, [os.environ.get("SHELL") or "/bin/sh"])
    _notice(f"shell for account {name}; exit to return")
    try:
        return run_plan(preps[0].plan)
    finally:
        for line in ctx.finish_command(preps):
            _notice(line)


class _SplitAtDashes(click.Command):
    """Remembers where `--` was: Click drops it, and `exec -- CMD` (no account)
    must not take CMD for the account."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["bridle.dashes"] = args.index("--") if "--" in args else None
        return super().parse_args(ctx, args)


@click.command(cls=_SplitAtDashes, context_settings=_PASS_THROUGH)
@click.argument("words", nargs=-1, type=click.UNPROCESSED, metavar="[ACCOUNT] -- COMMAND...")
@click.pass_context
def exec_(ctx_: click.Context, words: tuple[str, ...]) -> int:
    """Run COMMAND with ACCOUNT's environment; exits with its code.

    Without ACCOUNT it runs under the account of the surrounding `bridle shell`,
    else the default account (`bridle accounts use NAME`).
    """
    from bridle.accounts.runner import Accounts, run_plan

    dashes = ctx_.meta.get("bridle.dashes")
    split = dashes if dashes is not None else min(1, len(words))
    before, command = words[:split], words[split:]
    if len(before) > 1:
        raise click.UsageError(
            f"one ACCOUNT goes before --, got {' '.join(before)}: "
            "bridle exec [ACCOUNT] -- COMMAND..."
        )
    if not command:
        raise click.UsageError("give the command to run: bridle exec [ACCOUNT] -- COMMAND...")
    ctx = Accounts(os.environ, Path.cwd())
    name = ctx.store.resolve(before[0] if before else None, ctx.env.get("BRIDLE_ACCOUNT"))
    preps = ctx.prepare_commands(name, list(command))
    try:
        return run_plan(preps[0].plan)
    finally:
        # Shared files a CLI rewrote in there go back to the shared store.
        for line in ctx.finish_command(preps):
            _notice(line)
