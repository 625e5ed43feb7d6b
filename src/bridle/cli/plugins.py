"""`bridle plugins`: list, enable, disable and install Claude Code plugins, and add
marketplaces. The files are Claude Code's own (`enabledPlugins` in its settings
files, `marketplace.json`), so both tools see the same plugins; the work is done
by `bridle.extensions.plugin_registry`, this module only parses and prints.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

_SCOPE = click.option(
    "--scope",
    "-s",
    type=click.Choice(("user", "project", "local")),
    default="user",
    show_default=True,
    help="Settings file: ~/.claude/settings.json, .claude/settings.json or settings.local.json.",
)


def _root() -> Path:
    from bridle.config.settings import find_project_root

    return find_project_root(Path.cwd())


@click.group()
def plugins() -> None:
    """Claude Code plugins: list, enable, disable, install; marketplaces."""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
def list_(as_json: bool) -> None:
    """Every installed plugin (bridle's and Claude Code's): its source, whether
    enabledPlugins turns it on here, and what it brings."""
    from bridle.config.paths import bridle_home
    from bridle.config.settings import load_settings
    from bridle.extensions.frontmatter import Problem
    from bridle.extensions.plugin_registry import installed, now_enabled
    from bridle.extensions.plugins import load_plugin

    env, root = os.environ, _root()
    enabled = now_enabled(load_settings(Path.cwd(), env))
    items, warnings = installed(env, root)
    rows: list[dict[str, Any]] = []
    for item in items:
        row: dict[str, Any] = {
            "key": item.key,
            "name": item.name,
            "source": f"{item.source} ({item.scope})",
            "enabled": enabled.get(item.key) is True,
            "path": str(item.path),
            "version": item.version,
        }
        loaded = load_plugin(
            item.path,
            source=item.source,
            data_home=bridle_home(env) / "plugins" / "data",
            key=item.key,
            name=item.name,
        )
        if isinstance(loaded, Problem):
            row["problem"] = str(loaded) if item.path.exists() else f"{item.path}: missing"
        else:
            row["components"] = {k: v for k, v in loaded.components().items() if v}
        rows.append(row)
    for w in warnings:
        click.echo(f"bridle: {w}", err=True)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(
            "No plugins installed. Install one with `bridle plugins install PATH`, or run one "
            "for a single session with `bridle --plugin-dir DIR -p ...`."
        )
        return
    for row in rows:
        state = "enabled" if row["enabled"] else "disabled"
        what = row.get("problem") or ", ".join(
            f"{n} {k}" for k, n in row.get("components", {}).items()
        )
        click.echo(f"{row['key']}  {state}  {row['source']}  {what or 'no components'}")


def _toggle(name: str, scope: str, on: bool) -> None:
    from bridle.extensions.plugin_registry import installed, resolve_key, set_enabled, settings_path

    root = _root()
    items, _ = installed(os.environ, root)
    item = resolve_key(name, items)
    path = settings_path(scope, root, os.environ)
    set_enabled(path, item.key, on)
    click.echo(f"{'Enabled' if on else 'Disabled'} {item.key} in {path}")


@plugins.command()
@click.argument("name")
@_SCOPE
def enable(name: str, scope: str) -> None:
    """Turn NAME (or NAME@MARKETPLACE) on: enabledPlugins in the scope's settings."""
    _toggle(name, scope, True)


@plugins.command()
@click.argument("name")
@_SCOPE
def disable(name: str, scope: str) -> None:
    """Turn NAME (or NAME@MARKETPLACE) off in the scope's settings."""
    _toggle(name, scope, False)


@plugins.command()
@click.argument("spec", metavar="PATH|NAME@MARKETPLACE")
@click.option("--link", is_flag=True, help="Link to the folder instead of copying it.")
@_SCOPE
def install(spec: str, link: bool, scope: str) -> None:
    """Install a plugin folder (or a marketplace's NAME@MARKETPLACE) into bridle's
    plugin folder and enable it."""
    from bridle.extensions.plugin_registry import install as do_install
    from bridle.extensions.plugin_registry import set_enabled, settings_path

    done = do_install(spec, os.environ, link=link)
    path = settings_path(scope, _root(), os.environ)
    set_enabled(path, done.key, True)
    click.echo(f"Installed {done.key} in {done.path}; enabled in {path}")


@plugins.group()
def marketplace() -> None:
    """Plugin marketplaces (folders holding .claude-plugin/marketplace.json)."""


@marketplace.command("add")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def marketplace_add(path: Path) -> None:
    """Remember the marketplace in PATH; install its plugins as NAME@MARKETPLACE."""
    from bridle.extensions.plugin_registry import add_marketplace

    market = add_marketplace(path, os.environ)
    click.echo(
        f"Added marketplace {market.name} ({len(market.plugins)} plugins) from {market.root}"
    )


@marketplace.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
def marketplace_list(as_json: bool) -> None:
    """The marketplaces added, and the plugins each offers."""
    from bridle.extensions.plugin_registry import known_marketplaces

    markets, warnings = known_marketplaces(os.environ)
    for w in warnings:
        click.echo(f"bridle: {w}", err=True)
    if as_json:
        doc = [
            {
                "name": m.name,
                "path": str(m.root),
                "owner": m.owner,
                "plugins": [
                    {"name": e.name, "description": e.description, "version": e.version}
                    for e in m.plugins
                ],
            }
            for m in markets
        ]
        click.echo(json.dumps(doc, indent=2))
        return
    if not markets:
        click.echo("No marketplaces. Add one with `bridle plugins marketplace add PATH`.")
    for m in markets:
        click.echo(f"{m.name}  {m.root}")
        for e in m.plugins:
            version = f" {e.version}" if e.version else ""
            click.echo(f"  {e.name}@{m.name}{version}  {e.description}")
