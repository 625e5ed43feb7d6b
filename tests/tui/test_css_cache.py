"""Textual's CSS parsed once per edit (`tui.css_cache`): an app styled from the
cache gets the same rules as one Textual parsed, a second run parses nothing, and
a damaged file, another theme, CSS with errors or an unknown Textual only cost a
parse, never wrong styles."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.css.stylesheet import Stylesheet, StylesheetParseError
from textual.widgets import Input, OptionList, Static, TextArea

from bridle.tui import css_cache
from bridle.tui.css_cache import ParseCache

ORIGINAL = Stylesheet.__dict__["_parse_rules"]


class Sample(App[None]):
    CSS = "Static { color: $accent; padding: 0 1; } #box { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield TextArea()
        yield OptionList("a", "b")
        yield Static("x", id="box")
        yield Input()


def rules_of(app_class: type[App[Any]] = Sample, theme: str = "") -> list[tuple[Any, ...]]:
    """What the app's stylesheet holds once it runs, in a comparable form."""

    async def run() -> list[tuple[Any, ...]]:
        app = app_class()
        async with app.run_test() as pilot:
            if theme:
                app.theme = theme
            await pilot.pause()
            return [
                (
                    r.selectors,
                    r.is_default_rules,
                    r.tie_breaker,
                    sorted(r.selector_names),
                    sorted(r.pseudo_classes),
                    repr(sorted(r.styles._rules.items())),
                    sorted(r.styles.important),
                )
                for r in app.stylesheet.rules
            ]

    return asyncio.run(run())


class Counted:
    """Textual's `_parse_rules`, counting the sources it had to parse (not those
    the stylesheet's own memory held)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, sheet: Any, *key: Any) -> Any:
        self.calls += key not in sheet._parse_cache
        return ORIGINAL(sheet, *key)


def use(cache: ParseCache | None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Stylesheet, "_parse_rules", cache if cache is not None else ORIGINAL)


@pytest.fixture(autouse=True)
def writable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(Stylesheet, "_parse_rules", ORIGINAL)  # restored after each test


def folder(tmp_path: Path) -> Any:
    return lambda name: str(tmp_path / f"{name}.marshal")


def test_a_second_run_parses_nothing_and_gets_the_same_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = rules_of()
    first_parse = Counted()
    first = ParseCache(first_parse, folder(tmp_path))
    use(first, monkeypatch)
    assert rules_of() == parsed
    assert first_parse.calls >= 8  # App, Screen, Widget, TextArea, OptionList, Input, ...
    first.save()
    assert len(list(tmp_path.glob("textual-css-*.marshal"))) == 1

    again = Counted()
    use(ParseCache(again, folder(tmp_path)), monkeypatch)
    assert rules_of() == parsed
    assert again.calls == 0


def test_a_damaged_file_costs_a_parse_and_is_rewritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = rules_of()
    first = ParseCache(ORIGINAL, folder(tmp_path))
    use(first, monkeypatch)
    rules_of()
    first.save()
    (saved,) = tmp_path.glob("textual-css-*.marshal")
    data = saved.read_bytes()
    for damage in (b"", data[:40], data[:20] + b"\xff" * 50 + data[70:], b"bridle-css1garbage"):
        saved.write_bytes(damage)
        counted = Counted()
        cache = ParseCache(counted, folder(tmp_path))
        use(cache, monkeypatch)
        assert rules_of() == parsed
        assert counted.calls >= 1
        cache.save()
    counted = Counted()
    use(ParseCache(counted, folder(tmp_path)), monkeypatch)
    assert rules_of() == parsed and counted.calls == 0


def test_each_theme_keeps_its_own_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    light = rules_of(theme="textual-light")
    cache = ParseCache(ORIGINAL, folder(tmp_path))
    use(cache, monkeypatch)
    assert rules_of(theme="textual-light") == light
    cache.save()
    assert len(list(tmp_path.glob("textual-css-*.marshal"))) == 2  # the default, then light
    use(None, monkeypatch)
    dark = rules_of()
    use(ParseCache(ORIGINAL, folder(tmp_path)), monkeypatch)
    assert rules_of() == dark and dark != light


class Broken(App[None]):
    CSS = "Static { colour: red; }"  # not a property: Textual reports it


def test_css_with_errors_is_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = ParseCache(ORIGINAL, folder(tmp_path))
    use(cache, monkeypatch)
    with pytest.raises(StylesheetParseError):
        rules_of(Broken)
    kept = [key for theme in cache.files.values() for key in theme.entries]
    assert kept and not any("colour" in key[0] for key in kept)


def test_install_is_off_when_asked_and_leaves_another_textual_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BRIDLE_NO_CODE_CACHE", "1")
    assert css_cache.install() is None
    assert Stylesheet.__dict__["_parse_rules"] is ORIGINAL
    monkeypatch.delenv("BRIDLE_NO_CODE_CACHE")

    def _parse_rules(self: Any, css: str, location: Any) -> Any:  # another signature
        return ORIGINAL(self, css, location)

    monkeypatch.setattr(Stylesheet, "_parse_rules", _parse_rules)
    assert css_cache.install() is None
    assert Stylesheet.__dict__["_parse_rules"] is _parse_rules


def test_install_wraps_textuals_parse_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(css_cache.atexit, "register", lambda f: f)  # no save at the suite's exit
    cache = css_cache.install()
    assert isinstance(cache, ParseCache) and cache.original is ORIGINAL
    assert css_cache.install() is None  # already installed
    assert os.environ.get("BRIDLE_NO_CODE_CACHE") is None
