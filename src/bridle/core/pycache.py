"""Start-up caches kept beside bridle's `.pyc` files, for the work Python redoes in
every process: compiling dataclass methods and regular expressions, and parsing
package data.

Python's `dataclasses` writes each generated method (`__init__`, `__repr__`,
`__eq__`, `__hash__`, frozen `__setattr__`...) as source text and compiles it with
`exec` when the class is defined: the `.pyc` cache does not cover it, and a `-p`
run defines over a hundred dataclasses (bridle's and its libraries'), which cost
about a fifth of the run's own CPU on Python 3.11 (`docs/benchmarks.md`).
`install` gives the `dataclasses` module its own `exec` that looks the source
text up in a marshal file of code objects and compiles (and remembers) only what
it has not seen. An entry is used only when its stored source text equals the
text asked for, and the file is per interpreter (`sys.implementation.cache_tag`
and the marshal version), so a hit runs exactly the code `exec` would have
compiled: the same flags (none, as `dataclasses.py` has no `__future__` imports)
and the same `<string>` file name. `re` parses each pattern and generates its
program in Python at the first `re.compile` of every process (Textual and Rich
compile about eighty at import); `RegexCache` keeps those programs by pattern and
flags. `cached_data` does the same for a data file bridle ships (the provider
catalog's TOML): the parsed value is kept with the source's size and mtime, like
a `.pyc`. All live in `bridle/__pycache__` (or under `sys.pycache_prefix`), are
not written when `sys.dont_write_bytecode` is set, and are replaced through a
temporary file and `os.replace`; a missing, unreadable or damaged file only means
compiling or parsing again. `BRIDLE_NO_CODE_CACHE=1` turns the two compile caches
off.
"""

from __future__ import annotations

import atexit
import builtins
import contextlib
import marshal
import os
import sys
import zlib
from types import CodeType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pathlib and typing stay out of the start-up path
    from collections.abc import Callable
    from typing import Any

    StrPath = str | os.PathLike[str]

# Past this many entries the code file is rewritten with only what this run used,
# so editing classes over months does not grow it without bound.
MAX_ENTRIES = 5000
_CODE_MAGIC = b"bridle-dc3"
_DATA_MAGIC = b"bridle-data1"
_REGEX_MAGIC = b"bridle-re3"


def cache_path(name: str) -> str:
    """`bridle/__pycache__/<name>.<tag>-m<marshal version>.marshal`, or the same
    under `sys.pycache_prefix`, as Python places `.pyc` files."""
    package = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    tag = sys.implementation.cache_tag or "python"
    leaf = f"{name}.{tag}-m{marshal.version}.marshal"
    if sys.pycache_prefix:
        return os.path.join(sys.pycache_prefix, package.lstrip(os.sep), leaf)
    return os.path.join(package, "__pycache__", leaf)


class CodeCache:
    """The `exec` given to `dataclasses`: source text in, cached code out.

    The file holds an index, a source text's `_key` -> where its entries lie (`_spans`),
    and the entries, each a marshalled `(source text, code)`. Only the index is
    read at start; an entry is read (`os.pread`) and decoded when its text is asked
    for, and used only if its stored text is the same, so a key collision costs a
    compile, never wrong code; a run pays memory for the entries it uses, not for
    every class the cache has seen."""

    def __init__(self, path: StrPath) -> None:
        self.path = os.fspath(path)
        self.index: dict[int, int | tuple[int, ...]] = {}
        self.fd: int | None = None
        self.start = 0
        self.new: dict[str, CodeType] = {}
        self.used: set[int] = set()
        self._open()

    @property
    def added(self) -> int:
        return len(self.new)

    def __call__(self, source: Any, globals: Any = None, locals: Any = None, /) -> None:
        if isinstance(source, str):
            source = self.code_for(source)
        builtins.exec(source, globals, locals)

    def code_for(self, text: str) -> CodeType:
        for span in _spans(self.index.get(_key(text), ())):
            try:
                saved, code = marshal.loads(self._read(span))
            except (OSError, EOFError, ValueError, TypeError):
                continue
            if saved == text and isinstance(code, CodeType):
                self.used.add(span)
                return code
        code = self.new.get(text)
        if code is None:
            code = compile(text, "<string>", "exec", dont_inherit=True)
            self.new[text] = code
        return code

    def save(self) -> None:
        """Write the old entries (only this run's once past MAX_ENTRIES) and the new."""
        if not self.new:
            return
        old = [(key, span) for key, spans in self.index.items() for span in _spans(spans)]
        if len(old) + len(self.new) > MAX_ENTRIES:
            old = [(key, span) for key, span in old if span in self.used]
        keys: list[int] = []
        parts: list[bytes] = []
        for key, span in old:
            try:
                parts.append(self._read(span))
                keys.append(key)
            except OSError:
                continue
        for text, code in self.new.items():
            parts.append(marshal.dumps((text, code)))
            keys.append(_key(text))
        index: dict[int, int | tuple[int, ...]] = {}
        at = 0
        for key, part in zip(keys, parts, strict=True):
            span = at << 32 | len(part)
            seen = index.get(key)
            index[key] = span if seen is None else (*_spans(seen), span)
            at += len(part)
        head = marshal.dumps(index)
        _write(self.path, _CODE_MAGIC + len(head).to_bytes(4, "little") + head + b"".join(parts))

    def _read(self, span: int) -> bytes:
        if self.fd is None:
            raise OSError("no cache file")
        size = span & 0xFFFFFFFF
        data = os.pread(self.fd, size, self.start + (span >> 32))
        if len(data) != size:
            raise OSError("cache file shorter than its index")
        return data

    def _open(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return
        try:
            with open(fd, "rb", closefd=False) as f:
                if f.read(len(_CODE_MAGIC)) != _CODE_MAGIC:
                    raise ValueError("not a code cache")
                size = int.from_bytes(f.read(4), "little")
                index = marshal.loads(f.read(size))
                if not isinstance(index, dict):
                    raise ValueError("not a code cache")
                self.start = f.tell()
        except (OSError, EOFError, ValueError, TypeError):
            os.close(fd)
            return
        # Kept open for the process's life, so later imports can read entries even
        # after another process replaced the file.
        self.fd, self.index = fd, index


class RegexCache:
    """`re._compiler.compile` with the parsing and code generation of a pattern
    cached: a hit hands the stored program to `_sre.compile`, as the original does
    after computing it. Patterns given already parsed, and DEBUG ones, take the
    original path. The program is a function of the pattern, the flags and the
    interpreter only, and `Pattern.__eq__` compares programs, which is how the
    tests hold a cached pattern equal to a freshly compiled one. Only patterns
    compiled while a module body runs (`_at_import`) are kept: those are the same
    in every process, while a pattern built at run time from a query, a glob or a
    model's Grep would only grow the file that every start reads."""

    def __init__(self, path: StrPath, original: Callable[..., Any]) -> None:
        self.path = os.fspath(path)
        self.original = original
        table = load_marshal(self.path, _REGEX_MAGIC)
        self.table: dict[tuple[str | bytes, int], tuple[Any, ...]] = (
            table if isinstance(table, dict) else {}
        )
        self.added = 0

    def __call__(self, p: Any, flags: int = 0) -> Any:
        import _sre
        from re import _compiler, _parser  # type: ignore[attr-defined]

        flags = int(flags)
        if not isinstance(p, str | bytes) or flags & _compiler.SRE_FLAG_DEBUG:
            return self.original(p, flags)
        key = (p, flags)
        program = self.table.get(key)
        if program is None:
            if not _at_import(sys._getframe(1)):
                return self.original(p, flags)
            # As re._compiler.compile does, keeping what it passes to _sre.compile.
            parsed = _parser.parse(p, flags)
            import array

            # As bytes: compact, and the opcodes are an int subclass marshal cannot write.
            code = memoryview(array.array("I", _compiler._code(parsed, flags))).tobytes()
            groupindex = dict(parsed.state.groupdict)
            indexgroup: list[str | None] = [None] * parsed.state.groups
            for name, i in groupindex.items():
                indexgroup[i] = name
            program = (
                flags | parsed.state.flags,
                code,
                parsed.state.groups - 1,
                groupindex,
                tuple(indexgroup),
            )
            self.table[key] = program
            self.added += 1
        final_flags, code, groups, groupindex, indexgroup = program
        ops = memoryview(code).cast("I").tolist()
        return _sre.compile(p, final_flags, ops, groups, groupindex, indexgroup)

    def save(self) -> None:
        if not self.added:
            return
        table = self.table
        if len(table) > MAX_ENTRIES:
            table = dict(list(table.items())[-MAX_ENTRIES:])
        dump_marshal(self.path, _REGEX_MAGIC, table)


def _at_import(frame: Any, depth: int = 8) -> bool:
    """Whether a module body is running within `depth` frames of `frame`: the
    compile is part of an import (the `__main__` module's body, at the bottom of
    every stack, is deeper than that)."""
    while frame is not None and depth:
        if frame.f_code.co_name == "<module>":
            return True
        frame, depth = frame.f_back, depth - 1
    return False


def load_marshal(path: str, magic: bytes) -> Any:
    """The value marshalled after `magic` in the file at `path`; None when the file
    is missing, unreadable, someone else's or damaged."""
    try:
        with open(path, "rb") as f:
            data = f.read()
        if data.startswith(magic):
            return marshal.loads(data[len(magic) :])
    except (OSError, EOFError, ValueError, TypeError):
        pass
    return None


def dump_marshal(path: str, magic: bytes, value: Any) -> None:
    """Write `magic` and `value` marshalled; a value marshal cannot write is not kept."""
    try:
        payload = magic + marshal.dumps(value)
    except ValueError:
        return
    _write(path, payload)


# The interpreters whose re._compiler.compile RegexCache repeats (3.11 to 3.13).
REGEX_VERSIONS = ((3, 11), (3, 12), (3, 13))


def install(path: StrPath | None = None) -> CodeCache | None:
    """Route `dataclasses`' compiles through the code cache (`cache_path("dataclass-code")`
    unless `path` is given) and, on the interpreters in REGEX_VERSIONS, `re`'s
    through the regex cache (`cache_path("regex")`); new entries are saved at exit.

    Does nothing (returns None) when `BRIDLE_NO_CODE_CACHE` is set or when already
    installed."""
    import dataclasses
    import re

    if os.environ.get("BRIDLE_NO_CODE_CACHE") or isinstance(
        getattr(dataclasses, "exec", None), CodeCache
    ):
        return None
    cache = CodeCache(path or cache_path("dataclass-code"))
    dataclasses.exec = cache  # type: ignore[attr-defined]
    atexit.register(cache.save)
    compiler = re._compiler  # type: ignore[attr-defined]
    if sys.version_info[:2] in REGEX_VERSIONS and not isinstance(compiler.compile, RegexCache):
        where = os.path.join(os.path.dirname(path), "regex") if path else cache_path("regex")
        regex = RegexCache(where, compiler.compile)
        compiler.compile = regex
        atexit.register(regex.save)
    return cache


def cached_data(
    source: StrPath, parse: Callable[[str], Any], *, cache: StrPath | None = None
) -> Any:
    """`parse(source's text)`, from the cache while `source` keeps its size and
    mtime. Errors reading or parsing `source` propagate; cache errors do not."""
    source = os.fspath(source)
    st = os.stat(source)
    stamp = (source, st.st_size, st.st_mtime_ns)
    name = os.path.splitext(os.path.basename(source))[0]
    where = os.fspath(cache) if cache else cache_path(f"data-{name}")
    saved = load_marshal(where, _DATA_MAGIC)
    if isinstance(saved, tuple) and len(saved) == 2 and saved[0] == stamp:
        return saved[1]
    with open(source, encoding="utf-8") as f:
        value = parse(f.read())
    dump_marshal(where, _DATA_MAGIC, (stamp, value))  # not kept if marshal cannot: parsed each time
    return value


def _write(path: str, payload: bytes) -> None:
    if sys.dont_write_bytecode:
        return
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(payload)
        os.replace(tmp, path)
    except OSError:
        # A read-only install or a full disk: the next run compiles or parses again.
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _key(text: str) -> int:
    """A source text's index key: its CRC-32 and its length, in one int."""
    return zlib.crc32(text.encode("utf-8", "surrogatepass")) | len(text) << 32


def _spans(value: int | tuple[int, ...]) -> tuple[int, ...]:
    """An index value's entries, each `offset << 32 | size` (a tuple only when
    texts share a key)."""
    return value if isinstance(value, tuple) else (value,)
