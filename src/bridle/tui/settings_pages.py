"""What `bridle settings` shows and changes: its pages, rows and the save.

`SettingsForm.load(env)` reads the user settings file (`$BRIDLE_HOME/settings.json`,
JSONC) and the accounts, and builds three pages: appearance (the app's `theme`, and the launch
animation, greeting and goodbye switches of `tui.welcome`), behaviour
(`tmuxPortal`: `bridle launch` opens in a tmux portal by default;
`autoCompactEnabled`: the engine compacts a long conversation;
`preferredNotifChannel`: how a long turn's end is announced), and credentials
(for each account in `home` isolation, whether each CLI tool's config, such as
`.aws` or `.ssh`, is shared with the real HOME or kept apart, the setting
`bridle accounts share` changes). Rows hold the value shown and the one loaded,
so the form knows what changed. `save()` writes only changed values: the
settings file through `config.jsonc_edit` (only those values' text changes;
comments and every other key stay) and the atomic writer, re-reading the file
first so an edit made meanwhile is kept; sharing changes go through
`accounts.manage.set_sharing`, which relinks the account. Only settings whose
feature exists are offered. This module has no screen; `tui.settings_app` is it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.theme import BUILTIN_THEMES

from bridle.config.jsonc import parse_jsonc
from bridle.config.paths import user_settings_path
from bridle.core.errors import ConfigError
from bridle.tui.themes import ALTERGO
from bridle.tui.welcome import ANIMATION, GOODBYE, GREETING, enabled

# Textual's own themes and altergo's, the names the app's `theme` setting and `/theme` take.
THEMES = (*BUILTIN_THEMES, *ALTERGO)
DEFAULT_THEME = "textual-dark"
# Claude Code's `preferredNotifChannel` values bridle acts on (`tui.manners`).
NOTIFY_CHANNELS = ("auto", "terminal_bell", "notifications_disabled")


@dataclass
class Row:
    """One line of a page: a settings key (`key`) or an account's sharing (`share`)."""

    label: str
    value: Any
    loaded: Any
    choices: tuple[Any, ...] = (False, True)
    key: str | None = None  # top-level settings key
    share: tuple[str, str] | None = None  # (account, catalog entry id)
    hint: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.value != self.loaded)

    def toggle(self) -> None:
        """Space: flip a switch, or step to the next choice."""
        at = self.choices.index(self.value) if self.value in self.choices else -1
        self.value = self.choices[(at + 1) % len(self.choices)]

    def shown(self) -> str:
        if self.share is not None:
            return "shared" if self.value else "isolated"
        if isinstance(self.value, bool):
            return "on" if self.value else "off"
        return str(self.value)


@dataclass
class Page:
    """One page of the settings screen: its rows, and notes shown under them."""

    title: str
    rows: list[Row]
    notes: list[str] = field(default_factory=list)


@dataclass
class SettingsForm:
    """The pages `bridle settings` shows, built from the user settings file and the accounts;
    `save` writes what changed."""

    path: Path
    pages: list[Page]
    env: Mapping[str, str]

    @classmethod
    def load(cls, env: Mapping[str, str]) -> SettingsForm:
        path = user_settings_path(env)
        data = _read(path)
        theme = data.get("theme") if isinstance(data.get("theme"), str) else DEFAULT_THEME
        themes = THEMES if theme in THEMES else (*THEMES, theme)
        switches = {key: enabled(data, key) for key in (ANIMATION, GREETING, GOODBYE)}
        appearance = Page(
            "Appearance",
            [
                Row("Theme", theme, theme, themes, key="theme", hint="the app's colours"),
                Row(
                    "Launch animation", switches[ANIMATION], switches[ANIMATION], key=ANIMATION,
                    hint="a band sweeps across the greeting as the app opens",
                ),
                Row(
                    "Greeting message", switches[GREETING], switches[GREETING], key=GREETING,
                    hint="the session and the keys, atop the transcript",
                ),
                Row(
                    "Goodbye message", switches[GOODBYE], switches[GOODBYE], key=GOODBYE,
                    hint="tokens, cost and time, when the app ends",
                ),
            ],
        )  # fmt: skip
        portal = data.get("tmuxPortal") is True
        compact = data.get("autoCompactEnabled") is not False
        channel = data.get("preferredNotifChannel")
        channel = channel if isinstance(channel, str) and channel else "auto"
        channels = NOTIFY_CHANNELS if channel in NOTIFY_CHANNELS else (*NOTIFY_CHANNELS, channel)
        behaviour = Page(
            "Behaviour",
            [
                Row(
                    "tmux portal by default", portal, portal, key="tmuxPortal",
                    hint="`bridle launch` runs the CLI in tmux (--no-portal: directly)",
                ),
                Row(
                    "Auto-compact", compact, compact, key="autoCompactEnabled",
                    hint="summarise a conversation that nears the context window",
                ),
                Row(
                    "Notifications", channel, channel, channels, key="preferredNotifChannel",
                    hint="a long turn ended while you were away (auto: desktop notice)",
                ),
            ],
        )  # fmt: skip
        return cls(path, [appearance, behaviour, _credentials(env)], env)

    def changes(self) -> list[Row]:
        return [row for page in self.pages for row in page.rows if row.changed]

    def save(self) -> list[str]:
        """Write what changed; returns one line per change for the user."""
        from bridle.config.jsonc_edit import update_jsonc
        from bridle.store.atomic import atomic_write_text

        done: list[str] = []
        keyed: dict[tuple[str, ...], Any] = {
            (row.key,): row.value for row in self.changes() if row.key is not None
        }
        if keyed:
            text = _read_text(self.path)
            parse_jsonc(text, str(self.path))  # refuses a file that became invalid
            try:
                atomic_write_text(self.path, update_jsonc(text, keyed, str(self.path)))
            except OSError as e:
                raise ConfigError(
                    f"cannot be written ({e.strerror or e}); check its permissions",
                    path=str(self.path),
                ) from e
            done += [f"{k[0]} = {_json(v)} in {self.path}" for k, v in keyed.items()]
        shares = [row for row in self.changes() if row.share is not None]
        if shares:
            from bridle.accounts.manage import set_sharing
            from bridle.accounts.runner import Accounts

            ctx = Accounts(self.env, Path.cwd())
            for row in shares:
                assert row.share is not None
                account, entry = row.share
                set_sharing(ctx, account, entry, bool(row.value))
                done.append(f"{entry} is now {row.shown()} for {account}")
        for row in self.changes():
            row.loaded = row.value
        return done


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise ConfigError(f"cannot be read ({why}); fix or move it", path=str(path)) from e


def _read(path: Path) -> dict[str, Any]:
    data = parse_jsonc(_read_text(path), str(path))
    if not isinstance(data, dict):
        raise ConfigError("is not a settings object ({...}); fix or move it", path=str(path))
    return data


def _credentials(env: Mapping[str, str]) -> Page:
    from bridle.accounts.layout import catalog_sharing
    from bridle.accounts.specs import CATALOG
    from bridle.accounts.store import AccountStore

    store = AccountStore.from_env(env)
    rows: list[Row] = []
    others: list[str] = []
    for name in store.names():
        account = store.load(name)
        if account.isolation != "home":
            others.append(name)
            continue
        sharing = catalog_sharing(account)
        for entry in CATALOG:
            on = sharing[entry.id]
            rows.append(
                Row(f"{name}: {entry.name}", on, on, share=(name, entry.id),
                    hint=", ".join(entry.paths))
            )  # fmt: skip
    notes = []
    if not rows:
        notes.append(
            "No account uses home isolation, so every CLI tool's config is your own. "
            "Create one with `bridle accounts add NAME --isolation home`."
        )
    if others:
        notes.append(
            f"config-dir accounts ({', '.join(others)}) use your real HOME for these tools."
        )
    return Page("Credentials", rows, notes)
