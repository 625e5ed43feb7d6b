"""Textual's CSS parsed once per edit, not at every launch: the app's stylesheet
(its widgets' `DEFAULT_CSS` and bridle's own) takes Textual about a tenth of the
time to a first screen to tokenize and parse, and it is the same text every time.

`install` wraps Textual's `Stylesheet._parse_rules` (the one place a CSS source
and the theme's variables become rule sets). A source's parsed rules are kept,
pickled, in a file per set of theme variables beside bridle's `.pyc` files
(`core.pycache.cache_path`); an entry is used only when the CSS text, where it was
read from, its defaults flag, tie breaker and scope are the same as asked, and the
whole file only when the theme's variables and Textual's CSS modules (their size
and mtime) are, so a hit returns what a parse would. Sources with errors are not
kept (Textual reports them from a parse). A missing, damaged or unwritable file
only means parsing again; nothing is written under `PYTHONDONTWRITEBYTECODE`, and
`BRIDLE_NO_CODE_CACHE=1` turns this off with the compile caches.
"""

from __future__ import annotations

import atexit
import os
import pickle
import sys
import zlib
from collections.abc import Callable
from functools import partial
from typing import Any

from bridle.core.pycache import cache_path, dump_marshal, load_marshal

_MAGIC = b"bridle-css1"
# Textual's modules whose code shapes parsed rules: an upgrade changes their stat.
_SHAPERS = (
    "textual.css.parse",
    "textual.css.model",
    "textual.css.styles",
    "textual.css._style_properties",
    "textual.css.scalar",
    "textual.css.types",
    "textual.color",
)
# Textual's parameter names, checked before wrapping (another version keeps its own).
_SIGNATURE = ("self", "css", "read_from", "is_default_rules", "tie_breaker", "scope")
MAX_ENTRIES = 200  # per theme file; past it the file keeps what this run used


class ThemeFile:
    """The parsed sources for one set of theme variables: `entries` maps a
    source's key to its pickled rules, and `stamp` says which variables and which
    Textual they were parsed with."""

    def __init__(self, path: str, stamp: str) -> None:
        self.path, self.stamp = path, stamp
        saved = load_marshal(path, _MAGIC)
        ok = isinstance(saved, tuple) and len(saved) == 2 and saved[0] == stamp
        self.entries: dict[Any, bytes] = saved[1] if ok and isinstance(saved[1], dict) else {}
        self.used: set[Any] = set()
        self.added = False

    def save(self) -> None:
        if not self.added:
            return
        entries = self.entries
        if len(entries) > MAX_ENTRIES:
            entries = {k: v for k, v in entries.items() if k in self.used}
        dump_marshal(self.path, _MAGIC, (self.stamp, entries))


class ParseCache:
    """Stands in for `Stylesheet._parse_rules`: the stylesheet's own memory first,
    then the theme's file, then Textual's parse (whose result is kept)."""

    def __init__(self, original: Any, path_for: Callable[[str], str] = cache_path) -> None:
        self.original = original
        self.path_for = path_for  # a file's name -> its path
        self.files: dict[str, ThemeFile] = {}
        self.textual = repr(_textual_stamp())
        # The variables last asked with (a copy) and their file: a stylesheet asks for
        # each of its sources with the same ones, and comparing is cheaper than a stamp.
        self._last: tuple[dict[str, str], ThemeFile] | None = None

    def __call__(
        self,
        sheet: Any,
        css: str,
        read_from: Any,
        is_default_rules: bool = False,
        tie_breaker: int = 0,
        scope: str = "",
    ) -> Any:
        key = (css, read_from, is_default_rules, tie_breaker, scope)
        memory = getattr(sheet, "_parse_cache", None)
        variables = getattr(sheet, "_variables", None)
        if memory is None or not isinstance(variables, dict) or key in memory:
            return self.original(sheet, css, read_from, is_default_rules, tie_breaker, scope)
        theme = self._file(variables)
        saved = theme.entries.get(key)
        if saved is not None:
            try:
                rules = pickle.loads(saved)
            except Exception:  # damaged, or a class Textual renamed: parse again
                rules = None
            if isinstance(rules, list):
                theme.used.add(key)
                memory[key] = rules
                return rules
        rules = self.original(sheet, css, read_from, is_default_rules, tie_breaker, scope)
        if not any(rule.errors for rule in rules) and _marshallable(key):
            try:
                theme.entries[key] = pickle.dumps(rules, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # something unpicklable in a rule: parsed each time
                return rules
            theme.used.add(key)
            theme.added = True
        return rules

    def _file(self, variables: dict[str, str]) -> ThemeFile:
        if self._last is not None and self._last[0] == variables:
            return self._last[1]
        stamp = f"{self.textual}\n{sorted(variables.items())!r}"
        theme = self.files.get(stamp)
        if theme is None:
            name = f"textual-css-{zlib.crc32(stamp.encode('utf-8', 'surrogatepass')):08x}"
            theme = self.files[stamp] = ThemeFile(self.path_for(name), stamp)
        self._last = (dict(variables), theme)
        return theme

    def save(self) -> None:
        for theme in self.files.values():
            theme.save()

    def __get__(self, sheet: Any, owner: Any = None) -> Any:
        """Bound to the stylesheet it is looked up on, as the method it replaces."""
        return self if sheet is None else partial(self, sheet)


def install() -> ParseCache | None:
    """Route Textual's CSS parsing through the cache (once per process); None when
    turned off, already installed, or Textual's method is not the one this knows."""
    from textual.css.stylesheet import Stylesheet

    current = Stylesheet.__dict__.get("_parse_rules")
    if os.environ.get("BRIDLE_NO_CODE_CACHE") or isinstance(current, ParseCache):
        return None
    code = getattr(current, "__code__", None)
    if code is None or code.co_varnames[: len(_SIGNATURE)] != _SIGNATURE:
        return None
    cache = ParseCache(current)
    Stylesheet._parse_rules = cache  # type: ignore[method-assign,assignment]
    atexit.register(cache.save)
    return cache


def _textual_stamp() -> tuple[Any, ...]:
    """The size and mtime of each of Textual's modules that shape parsed rules."""
    out: list[Any] = [sys.version]
    for name in _SHAPERS:
        path = getattr(sys.modules.get(name), "__file__", None)
        try:
            st = os.stat(path) if path else None
        except OSError:
            st = None
        out.append((name, st.st_size, st.st_mtime_ns) if st else (name, None))
    return tuple(out)


def _marshallable(key: tuple[Any, ...]) -> bool:
    """Whether the key can be written by marshal (a `read_from` of plain strings)."""
    css, read_from, _defaults, tie_breaker, scope = key
    return (
        isinstance(css, str)
        and isinstance(scope, str)
        and isinstance(tie_breaker, int)
        and isinstance(read_from, tuple)
        and all(isinstance(part, str) for part in read_from)
    )
