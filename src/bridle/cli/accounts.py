"""`bridle accounts`: create, inspect, rename and remove named accounts, manage their
CLIs (providers), sharing, Claude long-lived token and harness keys, and import
altergo. Thin Click commands over `bridle.accounts.manage`; all the logic, and all
the data-safety rules, live there and in `bridle.accounts.layout`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from bridle.accounts.layout import Change
from bridle.accounts.runner import Accounts
from bridle.accounts.specs import CATALOG, CATALOG_IDS, TOOL_NAMES
from bridle.accounts.store import ISOLATIONS

PROVIDER = click.Choice(TOOL_NAMES)


def _ctx() -> Accounts:
    return Accounts(os.environ, Path.cwd())


def _print_changes(changes: list[Change]) -> None:
    for change in changes:
        click.echo(f"  {change}")


def _read_secret(prompt: str) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.read().strip()
    return str(click.prompt(prompt, hide_input=True)).strip()


@click.group()
def accounts() -> None:
    """Manage named accounts (credentials apart, everything else shared)."""


@accounts.command()
@click.argument("name")
@click.option(
    "--provider",
    "providers",
    multiple=True,
    type=PROVIDER,
    help="CLI to set up (repeatable; default claude).",
)
@click.option("--isolation", type=click.Choice(ISOLATIONS), default="config-dir", show_default=True)
@click.option(
    "--share",
    "share",
    multiple=True,
    type=click.Choice(CATALOG_IDS),
    help="home isolation: share this entry.",
)
@click.option(
    "--isolate",
    "isolate",
    multiple=True,
    type=click.Choice(CATALOG_IDS),
    help="home isolation: keep this entry apart.",
)
def add(
    name: str,
    providers: tuple[str, ...],
    isolation: str,
    share: tuple[str, ...],
    isolate: tuple[str, ...],
) -> None:
    """Create account NAME and set up its CLIs."""
    from bridle.accounts.manage import add_account

    if set(share) & set(isolate):
        raise click.UsageError(
            f"{', '.join(sorted(set(share) & set(isolate)))}: both --share and --isolate."
        )
    sharing = {e: True for e in share} | {e: False for e in isolate}
    ctx = _ctx()
    account, changes = add_account(ctx, name, list(providers) or ["claude"], isolation, sharing)
    click.echo(f"Created account {account.name} ({isolation}; {', '.join(account.providers)}).")
    _print_changes(changes)
    if ctx.store.default() == account.name:
        click.echo(f"{account.name} is the default account.")
    click.echo(f"Log in with: bridle launch {account.name} {account.default_provider}")


@accounts.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
def list_(as_json: bool) -> None:
    """List accounts with each CLI's login state and last use."""
    from bridle.accounts.manage import status

    ctx = _ctx()
    rows = [status(ctx, name) for name in ctx.store.names()]
    if as_json:
        click.echo(json.dumps({"accounts": [r.to_json() for r in rows]}, indent=2))
        return
    if not rows:
        click.echo("No accounts yet: create one with `bridle accounts add NAME`.")
        return
    for row in rows:
        mark = "*" if row.default else " "
        click.echo(f"{mark} {row.account.name}  [{row.account.isolation}]")
        for pname, info in row.providers.items():
            star = " (default)" if pname == row.account.default_provider else ""
            last = info["last_used"] or "never"
            click.echo(f"    {pname:<8} {info['login']:<14} last used {last}{star}")


@accounts.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def show(name: str, as_json: bool) -> None:
    """Show one account: providers, dirs, login state, sharing."""
    from bridle.accounts.manage import status

    row = status(_ctx(), name)
    data = row.to_json()
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"{data['name']}{' (default)' if data['default'] else ''}")
    click.echo(f"  isolation: {data['isolation']}")
    click.echo(f"  created:   {data['created']}")
    for pname, info in data["providers"].items():
        click.echo(f"  {pname}: {info['login']}; config {info['config_dir']}")
        click.echo(
            f"    last used {info['last_used'] or 'never'}; last session {info['last_session'] or '-'}"
        )
    if "shared" in data:
        on = [e.id for e in CATALOG if data["shared"][e.id]]
        click.echo(f"  shared with your HOME: {', '.join(on) or 'nothing'}")


@accounts.command()
@click.argument("old")
@click.argument("new")
def rename(old: str, new: str) -> None:
    """Rename account OLD to NEW (default, keys, records and tmux names follow)."""
    from bridle.accounts.manage import rename_account

    for line in rename_account(_ctx(), old, new):
        click.echo(f"  {line}")
    click.echo(f"Renamed {old} to {new}.")


@accounts.command()
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Do not ask.")
def rm(name: str, yes: bool) -> None:
    """Remove account NAME and its credentials (shared data stays)."""
    from bridle.accounts.manage import remove_account

    ctx = _ctx()
    ctx.store.load(name)
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError(
                f"removing {name!r} deletes its credentials; confirm with --yes."
            )
        click.confirm(
            f"Remove account {name} and its credentials? Shared sessions stay.", abort=True
        )
    _print_changes(remove_account(ctx, name))
    click.echo(f"Removed {name}.")


@accounts.command()
@click.argument("name")
def use(name: str) -> None:
    """Make NAME the default account (`native` for your real setup)."""
    _ctx().store.set_default(name)
    click.echo(f"Default account: {name}.")


@accounts.command("add-provider")
@click.argument("name")
@click.argument("provider", type=PROVIDER)
def add_provider(name: str, provider: str) -> None:
    """Set up another CLI for account NAME (credentials are never pooled)."""
    from bridle.accounts.manage import add_provider as run

    _print_changes(run(_ctx(), name, provider))
    click.echo(f"{name} now has {provider}.")


@accounts.command("remove-provider")
@click.argument("name")
@click.argument("provider", type=PROVIDER)
def remove_provider(name: str, provider: str) -> None:
    """Stop using a CLI under NAME (its links go; its files stay)."""
    from bridle.accounts.manage import remove_provider as run

    _print_changes(run(_ctx(), name, provider))
    click.echo(f"{name} no longer has {provider}; its credentials were kept on disk.")


@accounts.command("default-provider")
@click.argument("name")
@click.argument("provider", type=PROVIDER)
def default_provider(name: str, provider: str) -> None:
    """The CLI `bridle launch NAME` starts when no tool is named."""
    from bridle.accounts.manage import set_default_provider

    set_default_provider(_ctx(), name, provider)
    click.echo(f"{name} launches {provider} by default.")


@accounts.command()
@click.argument("name")
@click.argument("entry", type=click.Choice(CATALOG_IDS))
@click.option("--on/--off", "shared", default=True, help="Share (symlink) or isolate.")
def share(name: str, entry: str, shared: bool) -> None:
    """home isolation: share ENTRY (e.g. aws, ssh) with your real HOME, or not."""
    from bridle.accounts.manage import set_sharing

    _print_changes(set_sharing(_ctx(), name, entry, shared))
    click.echo(f"{entry} is now {'shared' if shared else 'isolated'} for {name}.")


@accounts.command()
@click.argument("name")
def teardown(name: str) -> None:
    """Remove NAME's symlinks into the shared store (nothing else)."""
    from bridle.accounts.layout import teardown_account

    ctx = _ctx()
    ctx.store.load(name)
    changes = teardown_account(ctx.paths(name))
    _print_changes(changes)
    click.echo(f"Removed {len(changes)} link(s); `bridle launch {name}` sets them up again.")


@accounts.command("setup-token")
@click.argument("name")
def setup_token(name: str) -> None:
    """Store a Claude long-lived token (from `claude setup-token`) for NAME."""
    from bridle.accounts.keys import save_oauth_token

    ctx = _ctx()
    ctx.store.load(name)
    path = save_oauth_token(ctx.store.dir(name), _read_secret("Token (sk-ant-oat01-...)"))
    click.echo(f"Saved the token for {name} to {path} (mode 0600).")


@accounts.command("import-altergo")
@click.option(
    "--from",
    "source",
    type=click.Path(path_type=Path),
    help="altergo's directory (default ~/.altergo).",
)
def import_altergo(source: Path | None) -> None:
    """Copy altergo's accounts (and their credentials) into bridle."""
    from bridle.accounts.altergo_import import import_altergo as run

    ctx = _ctx()
    root = source or ctx.paths("x").real_home / ".altergo"
    results = run(ctx, root)
    for r in results:
        click.echo(f"  {r.status:<9} {Path(r.source).name} -> {r.name or '-'}  {r.detail}")
    done = sum(r.status == "imported" for r in results)
    click.echo(f"Imported {done} of {len(results)} altergo account(s); {root} was left untouched.")


@accounts.group()
def keys() -> None:
    """API keys bridle's own harness uses under an account."""


@keys.command("set")
@click.argument("account")
@click.argument("env_name")
def keys_set(account: str, env_name: str) -> None:
    """Store ENV_NAME for ACCOUNT (value from stdin or a hidden prompt)."""
    from bridle.accounts.keys import check_env_name, key_store

    ctx = _ctx()
    check_env_name(env_name)
    store = key_store(ctx.store, account, ctx.env)
    where = store.set(env_name, _read_secret(f"{env_name}"))
    click.echo(f"Stored {env_name} for {account} ({where}).")


@keys.command("list")
@click.argument("account")
@click.option("--json", "as_json", is_flag=True)
def keys_list(account: str, as_json: bool) -> None:
    """Names of the keys stored for ACCOUNT (never the values)."""
    from bridle.accounts.keys import key_store

    ctx = _ctx()
    store = key_store(ctx.store, account, ctx.env)
    rows = [{"name": n, "where": store.where(n)} for n in store.names()]
    if as_json:
        click.echo(json.dumps({"account": account, "keys": rows}, indent=2))
    elif not rows:
        click.echo(
            f"No keys for {account}: add one with `bridle accounts keys set {account} ENV_NAME`."
        )
    for row in [] if as_json else rows:
        click.echo(f"{row['name']}  ({row['where']})")


@keys.command("rm")
@click.argument("account")
@click.argument("env_name")
def keys_rm(account: str, env_name: str) -> None:
    """Forget ENV_NAME for ACCOUNT."""
    from bridle.accounts.keys import key_store

    ctx = _ctx()
    key_store(ctx.store, account, ctx.env).remove(env_name)
    click.echo(f"Removed {env_name} from {account}.")
