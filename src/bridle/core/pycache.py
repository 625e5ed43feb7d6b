"""Start-up caches kept beside bridle's `.pyc` files: compiled dataclass methods and
parsed package data.

Python's `dataclasses` writes each generated method (`__init__`, `__repr__`,
`__eq__`, `__hash__`, frozen `__setattr__`...) as source text and compiles it with
`exec` when the class is defined: the `.pyc` cache does not cover it, and a `-p`
run defines over a hundred dataclasses (bridle's and its libraries'), which cost
about a fifth of the run's own CPU on Python 3.11 (`docs/benchmarks.md`).
`install` gives the `dataclasses` module its own `exec` that looks the source
text up in a marshal file of code objects and compiles (and remembers) only what
it has not seen. The key is the whole source text and the file is per
interpreter (`sys.implementation.cache_tag` and the marshal version), so a hit
runs exactly the code `exec` would have compiled: the same flags (none, as
`dataclasses.py` has no `__future__` imports) and the same `<string>` file name.
`cached_data` does the same for a data file bridle ships (the provider catalog's
TOML): the parsed value is kept with the source's size and mtime, like a `.pyc`.
Both live in `bridle/__pycache__` (or under `sys.pycache_prefix`), are not
written when `sys.dont_write_bytecode` is set, and are replaced through a
temporary file and `os.replace`; a missing, unreadable or damaged file only means
compiling or parsing again.
"""

from __future__ import annotations

import atexit
import builtins
import contextlib
import marshal
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import CodeType
from typing import Any

# Past this many entries the code file is rewritten with only what this run used,
# so editing classes over months does not grow it without bound.
MAX_ENTRIES = 5000
_CODE_MAGIC = b"bridle-dc1"
_DATA_MAGIC = b"bridle-data1"


def cache_path(name: str) -> Path:
    """`bridle/__pycache__/<name>.<tag>-m<marshal version>.marshal`, or the same
    under `sys.pycache_prefix`, as Python places `.pyc` files."""
    package = Path(__file__).resolve().parent.parent
    tag = sys.implementation.cache_tag or "python"
    leaf = f"{name}.{tag}-m{marshal.version}.marshal"
    if sys.pycache_prefix:
        return Path(sys.pycache_prefix, *package.parts[1:], leaf)
    return package / "__pycache__" / leaf


class CodeCache:
    """The `exec` given to `dataclasses`: source text in, cached code out."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.known: dict[str, CodeType] = _load_code(path)
        self.used: set[str] = set()
        self.added = 0

    def __call__(self, source: Any, globals: Any = None, locals: Any = None, /) -> None:
        if isinstance(source, str):
            code = self.known.get(source)
            if code is None:
                code = compile(source, "<string>", "exec", dont_inherit=True)
                self.known[source] = code
                self.added += 1
            self.used.add(source)
            source = code
        builtins.exec(source, globals, locals)

    def save(self) -> None:
        if not self.added:
            return
        keep = self.known
        if len(keep) > MAX_ENTRIES:
            keep = {k: v for k, v in keep.items() if k in self.used}
        _write(self.path, _CODE_MAGIC, keep)


def install(path: Path | None = None) -> CodeCache | None:
    """Route `dataclasses`' compiles through the cache (`cache_path("dataclass-code")`
    unless `path` is given); new entries are saved at exit.

    Does nothing (returns None) when `BRIDLE_NO_CODE_CACHE` is set or when already
    installed."""
    import dataclasses

    if os.environ.get("BRIDLE_NO_CODE_CACHE") or isinstance(
        getattr(dataclasses, "exec", None), CodeCache
    ):
        return None
    cache = CodeCache(path or cache_path("dataclass-code"))
    dataclasses.exec = cache  # type: ignore[attr-defined]
    atexit.register(cache.save)
    return cache


def cached_data(source: Path, parse: Callable[[str], Any], *, cache: Path | None = None) -> Any:
    """`parse(source's text)`, from the cache while `source` keeps its size and
    mtime. Errors reading or parsing `source` propagate; cache errors do not."""
    st = source.stat()
    stamp = (str(source), st.st_size, st.st_mtime_ns)
    cache = cache or cache_path(f"data-{source.stem}")
    try:
        data = cache.read_bytes()
        if data.startswith(_DATA_MAGIC):
            saved_stamp, value = marshal.loads(data[len(_DATA_MAGIC) :])
            if tuple(saved_stamp) == stamp:
                return value
    except (OSError, EOFError, ValueError, TypeError):
        pass
    value = parse(source.read_text(encoding="utf-8"))
    _write(cache, _DATA_MAGIC, (stamp, value))
    return value


def _load_code(path: Path) -> dict[str, CodeType]:
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    if not data.startswith(_CODE_MAGIC):
        return {}
    try:
        table = marshal.loads(data[len(_CODE_MAGIC) :])
    except (EOFError, ValueError, TypeError):
        return {}
    if not isinstance(table, dict):
        return {}
    return {k: v for k, v in table.items() if isinstance(k, str) and isinstance(v, CodeType)}


def _write(path: Path, magic: bytes, value: Any) -> None:
    if sys.dont_write_bytecode:
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        payload = magic + marshal.dumps(value)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(payload)
        os.replace(tmp, path)
    except (OSError, ValueError):
        # A read-only install, a full disk or a value marshal cannot keep: the
        # next run compiles or parses again.
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
