"""`bridle settings`: the settings screens (appearance, behaviour, credentials).

A thin command: it checks for a terminal (without one it exits 64 and says which
file to edit instead), loads the form (`tui.settings_pages`), runs the Textual
app (`tui.settings_app`), and prints what was saved once the terminal is back.
Textual is imported only here, after the terminal check.
"""

from __future__ import annotations

import os
import sys

import click


@click.command()
def settings() -> None:
    """Change bridle's settings on screens: theme, tmux portal, auto-compact, and
    which CLI tools' credentials each account shares (keys: ←/→ page, ↑/↓ move,
    Space toggle, s save, q cancel)."""
    from bridle.config.paths import user_settings_path

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise click.UsageError(
            "bridle settings needs a terminal (stdin and stdout). Without one, edit "
            f"{user_settings_path(os.environ)} (JSONC) directly, or use "
            "`bridle accounts share NAME ENTRY --on/--off` for credentials."
        )
    from bridle.tui.settings_app import SettingsApp
    from bridle.tui.settings_pages import SettingsForm

    done = SettingsApp(SettingsForm.load(os.environ)).run()
    if done is None:
        click.echo("settings unchanged", err=True)
        return
    for line in done:
        click.echo(f"saved: {line}" if line != "nothing changed" else line)
