"""The app's themes: the settings `theme` and `/theme` name one of Textual's themes.

The settings `theme` holds a Textual theme's name (`textual-dark`, `nord`, ...:
what `bridle settings` offers), or one of Claude Code's names, mapped by
`ALIASES`: `dark` and `light`, `dark-ansi`/`light-ansi` (the terminal's own 16
colours), `dark-daltonized`/`light-daltonized` (shown as dark and light).
`theme_for(settings, available)` is the Textual theme to start with (dark when
unset or unknown); `theme_command(app, name)` is `/theme`: alone it lists the
names, with a name it switches the app at once and saves `theme` in the user's
settings file (only that value's text changes: `config.jsonc_edit`). `NO_COLOR`
is Textual's own: the screen goes monochrome whatever the theme. altergo's six
palettes (ocean, forest, lavender, sunset, mono, rainbow) are themes too
(`altergo_themes`, registered by the app and `bridle settings`): the same
xterm-256 colours for commands, arguments, brand, success and warnings, on a
dark background tinted by the palette.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bridle.tui.app import BridleApp

ALIASES = {
    "dark": "textual-dark",
    "light": "textual-light",
    "dark-ansi": "ansi-dark",
    "light-ansi": "ansi-light",
    "dark-daltonized": "textual-dark",
    "light-daltonized": "textual-light",
}
DEFAULT = "textual-dark"

# altergo's palettes (https://github.com/thepixelabs/altergo, MIT, (c) 2026 thepixelabs),
# as xterm-256 indices: command (primary), argument (accent), brand (secondary),
# success, warning; then the banner's first gradient stop, which tints the background.
ALTERGO: dict[str, tuple[int, int, int, int, int, str]] = {
    "ocean": (39, 87, 105, 76, 220, "#00d7ff"),
    "forest": (78, 121, 108, 84, 222, "#5fff87"),
    "lavender": (141, 183, 105, 120, 222, "#d7afff"),
    "sunset": (209, 215, 205, 114, 220, "#ffaf5f"),
    "mono": (253, 255, 245, 250, 249, "#ffffff"),
    "rainbow": (201, 51, 165, 46, 214, "#ff005f"),
}


def xterm(index: int) -> str:
    """An xterm-256 colour (16-255) as #rrggbb."""
    if index >= 232:
        level = 8 + (index - 232) * 10
        return f"#{level:02x}{level:02x}{level:02x}"
    steps = (0, 95, 135, 175, 215, 255)
    n = index - 16
    return "#" + "".join(f"{steps[v]:02x}" for v in (n // 36, n // 6 % 6, n % 6))


def altergo_themes() -> list[Any]:
    """altergo's palettes as Textual themes."""
    from textual.theme import Theme

    def tint(stop: str) -> str:  # 6% of the banner colour over near-black
        r, g, b = (int(stop[i : i + 2], 16) for i in (1, 3, 5))
        return "#" + "".join(f"{10 + c * 6 // 100:02x}" for c in (r, g, b))

    return [
        Theme(
            name=name,
            primary=xterm(cmd),
            accent=xterm(arg),
            secondary=xterm(brand),
            success=xterm(ok),
            warning=xterm(warn),
            error="#ff5f5f",
            background=tint(stop),
            dark=True,
        )
        for name, (cmd, arg, brand, ok, warn, stop) in ALTERGO.items()
    ]


def resolve(name: str, available: Iterable[str]) -> str | None:
    """The Textual theme `name` stands for (an alias or a theme's own name), else None."""
    name = name.strip().lower()
    name = ALIASES.get(name, name)
    return name if name in set(available) else None


def theme_for(settings: Any, available: Iterable[str]) -> str:
    """The Textual theme for the settings' `theme` (dark when unset or unknown)."""
    name = settings.get("theme") if settings is not None else None
    if not isinstance(name, str):
        return DEFAULT
    return resolve(name, available) or DEFAULT


def save_theme(env: Any, name: str) -> str:
    """Set `theme` in `$BRIDLE_HOME/settings.json`, keeping the rest of its text."""
    from bridle.config.jsonc import parse_jsonc
    from bridle.config.jsonc_edit import update_jsonc
    from bridle.config.paths import user_settings_path
    from bridle.store.atomic import atomic_write_text

    path = user_settings_path(env)
    text = path.read_text(encoding="utf-8", errors="surrogateescape") if path.exists() else "{}\n"
    parse_jsonc(text, str(path))  # a broken file is named, not overwritten
    atomic_write_text(path, update_jsonc(text, {("theme",): name}, str(path)))
    return str(path)


async def theme_command(app: BridleApp, argument: str) -> None:
    available = sorted(app.available_themes)
    if not argument.strip():
        listed = ", ".join(f"[{n}]" if n == app.theme else n for n in available)
        aliases = ", ".join(ALIASES)
        await app.note(f"themes: {listed}\n(also {aliases}) · /theme NAME switches and saves it")
        return
    name = resolve(argument, available)
    if name is None:
        await app.note(
            f"no theme {argument.strip()!r}: choose one of {', '.join(available)} (or dark, light)",
            error=True,
        )
        return
    app.theme = name
    try:
        path = await asyncio.to_thread(save_theme, app.env, name)
    except Exception as e:  # a broken settings file: the theme applies now, unsaved
        await app.note(f"theme {name} for now; not saved: {e}", error=True)
        return
    await app.note(f"theme {name} (saved in {path})")
