"""The start-up caches beside the `.pyc` files: dataclass methods compiled once and
run from the cache afterwards with the same behaviour, the provider catalog parsed
once per edit, and every damaged, unreadable or unwritable cache file costing a
compile or a parse, never an error. A real `bridle -p` run writes the code cache
and the next run finds every method in it."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bridle.core import pycache
from bridle.core.pycache import CodeCache, RegexCache, cache_path, cached_data

ROOT = Path(__file__).resolve().parents[2]


def define(namespace: dict[str, object]) -> type:
    exec(
        "from dataclasses import dataclass, field\n"
        "@dataclass(frozen=True)\n"
        "class Point:\n"
        "    'A point.'\n"
        "    x: int\n"
        "    y: int = 0\n"
        "    tags: list[str] = field(default_factory=list, compare=False)\n",
        namespace,
    )
    return namespace["Point"]  # type: ignore[return-value]


def with_cache(cache: CodeCache, monkeypatch: pytest.MonkeyPatch) -> type:
    monkeypatch.setattr(dataclasses, "exec", cache, raising=False)
    return define({})


def test_a_second_run_compiles_nothing_and_the_class_behaves_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "code.marshal"
    first = CodeCache(path)
    cold = with_cache(first, monkeypatch)
    assert first.added >= 5  # __init__, __repr__, __eq__, __setattr__, __delattr__, __hash__
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    first.save()
    assert path.is_file()

    second = CodeCache(path)
    warm = with_cache(second, monkeypatch)
    assert second.added == 0 and len(second.used) == first.added
    monkeypatch.undo()  # the stdlib's own exec, for comparison
    plain = define({})
    for cls in (cold, warm, plain):
        p = cls(1, tags=["a"])
        assert repr(p) == "Point(x=1, y=0, tags=['a'])"
        assert p == cls(1, 0, ["b"]) and hash(p) == hash(cls(1))
        with pytest.raises(dataclasses.FrozenInstanceError):
            p.x = 2
    assert [f.name for f in dataclasses.fields(warm)] == ["x", "y", "tags"]


def test_damaged_or_foreign_cache_files_are_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "code.marshal"
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    good = CodeCache(path)
    with_cache(good, monkeypatch)
    good.save()
    whole = path.read_bytes()
    junk = [b"", b"not ours at all", b"bridle-dc3", b"bridle-dc3\xff\xff\xff\x7fxx", whole[:40]]
    # the index intact, every entry damaged: each is compiled again
    junk.append(whole[: len(whole) - 600] + b"\x00" * 600)
    for data in junk:
        path.write_bytes(data)
        cache = CodeCache(path)
        with_cache(cache, monkeypatch)
        assert cache.added > 0


def test_an_unwritable_place_or_dont_write_bytecode_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    cache = CodeCache(tmp_path / "code.marshal")
    with_cache(cache, monkeypatch)
    cache.save()
    assert not (tmp_path / "code.marshal").exists()

    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    blocked = tmp_path / "file"
    blocked.write_text("a file where a directory should be")
    cache = CodeCache(blocked / "sub" / "code.marshal")
    with_cache(cache, monkeypatch)
    cache.save()  # no exception, nothing left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def entries(path: Path) -> int:
    return sum(len(pycache._spans(v)) for v in CodeCache(path).index.values())


def test_past_the_limit_only_what_this_run_used_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    path = tmp_path / "code.marshal"
    cache = CodeCache(path)
    for n in range(4):
        cache(f"x{n} = {n}", {}, {})  # four entries this next run will not use
    cache.save()
    assert entries(path) == 4
    cache = CodeCache(path)
    with_cache(cache, monkeypatch)
    fresh = cache.added
    cache.save()
    assert entries(path) == 4 + fresh  # under the limit: everything kept

    monkeypatch.setattr(pycache, "MAX_ENTRIES", 5)
    cache = CodeCache(path)
    cache("x0 = 0", {}, {})  # one of the old entries used, one new text
    cache("y = 1", {}, {})
    cache.save()
    assert entries(path) == 2
    again = CodeCache(path)
    again("x0 = 0", {}, {})
    again("y = 1", {}, {})
    assert again.added == 0


def test_a_crc_collision_compiles_rather_than_running_other_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(pycache, "_key", lambda text: 5)  # every text collides
    path = tmp_path / "code.marshal"
    cache = CodeCache(path)
    cache("a = 1", {}, {})
    cache.save()
    cache = CodeCache(path)
    assert list(cache.index) == [5]  # "a = 1" is the one entry under that key
    ns: dict[str, int] = {}
    cache("b = 2", {}, ns)
    assert ns == {"b": 2} and cache.added == 1


def test_the_catalog_is_parsed_once_per_edit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    source = tmp_path / "data.json"
    source.write_text('{"a": [1, 2, {"b": null}]}')
    parsed: list[str] = []

    def parse(text: str) -> object:
        parsed.append(text)
        return json.loads(text)

    cache = tmp_path / "data.marshal"
    assert cached_data(source, parse, cache=cache) == {"a": [1, 2, {"b": None}]}
    assert cached_data(source, parse, cache=cache) == {"a": [1, 2, {"b": None}]}
    assert len(parsed) == 1
    source.write_text('{"a": 2, "longer": true}')
    assert cached_data(source, parse, cache=cache) == {"a": 2, "longer": True}
    assert len(parsed) == 2
    cache.write_bytes(b"bridle-data1 damaged")
    assert cached_data(source, parse, cache=cache) == {"a": 2, "longer": True}
    assert len(parsed) == 3
    with pytest.raises(ValueError):
        source.write_text("{not json")
        cached_data(source, parse, cache=cache)


def test_cache_files_sit_beside_the_pyc_files_or_under_the_prefix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    package = Path(pycache.__file__).resolve().parent.parent
    monkeypatch.setattr(sys, "pycache_prefix", None)
    assert Path(cache_path("x")).parent == package / "__pycache__"
    assert sys.implementation.cache_tag in Path(cache_path("x")).name
    monkeypatch.setattr(sys, "pycache_prefix", str(tmp_path))
    assert Path(cache_path("x")).is_relative_to(tmp_path)


def test_a_real_run_fills_the_cache_and_the_next_one_compiles_nothing(tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(prefix)
    probe = (
        "import atexit, dataclasses, re, sys\n"
        "from bridle.cli.main import main\n"
        "def report():\n"
        "    c, r = dataclasses.exec, re._compiler.compile\n"
        "    sys.stderr.write(f'CACHE added={c.added} used={len(c.used)} regex={getattr(r, \"added\", 99)}\\n')\n"
        "atexit.register(report)\n"
        "sys.argv = ['bridle', 'models']\n"
        "main()\n"
    )

    def run() -> tuple[int, int]:
        r = subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60
        )
        line = [x for x in r.stderr.splitlines() if x.startswith("CACHE ")][-1]
        added, used, regex = (int(part.split("=")[1]) for part in line.split()[1:])
        return added, used, regex

    added, used, regex = run()
    assert added > 50 and used == 0 and regex > 10
    assert list(prefix.rglob("dataclass-code.*.marshal")) and list(prefix.rglob("regex.*"))
    added, used, regex = run()
    assert added == 0 and used > 50
    assert regex == (0 if sys.version_info[:2] in pycache.REGEX_VERSIONS else 99)


PATTERNS: list[tuple[str | bytes, int]] = [
    (r"(?P<key>[A-Za-z_]\w*)\s*=\s*(?P<value>.+?)(?:#.*)?$", 0),
    (r"^\s*# (?P<title>.+)$", re.MULTILINE),
    (
        r"""
        (?P<scheme>https?)://   # the scheme
        (?P<host>[^/:]+)        # the host
        (?::(?P<port>\d+))?     # a port, perhaps
     """,
        re.VERBOSE,
    ),
    (r"(?i)straße|ΣΊΣΥΦΟΣ", 0),
    (r"[\ud800-\udc7f\udd00-\udfff]", 0),
    (rb"\x1b\[[0-9;]*m", 0),
    (r"(a|b)*?c{2,5}(?=d)(?<!x)\1", re.DOTALL | re.ASCII),
    (r"", 0),
]


def as_if_imported(cache: RegexCache, p: str | bytes, flags: int) -> re.Pattern[Any]:
    """Compile from a module body, as a module does when it is imported."""
    ns: dict[str, Any] = {"cache": cache, "p": p, "flags": flags}
    exec("compiled = cache(p, flags)", ns)
    return ns["compiled"]  # type: ignore[no-any-return]


def test_a_cached_regex_is_the_pattern_re_compiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    original = re._compiler.compile  # type: ignore[attr-defined]
    path = tmp_path / "regex.marshal"
    first = RegexCache(path, original)
    cold = [as_if_imported(first, p, f) for p, f in PATTERNS]
    assert first.added == len(PATTERNS)
    first.save()
    second = RegexCache(path, original)
    warm = [as_if_imported(second, p, f) for p, f in PATTERNS]
    assert second.added == 0
    for (p, f), a, b in zip(PATTERNS, cold, warm, strict=True):
        fresh = original(p, f)
        # Pattern equality compares the compiled programs, not only the source.
        assert a == fresh and b == fresh
        assert (b.flags, b.groups, b.groupindex) == (fresh.flags, fresh.groups, fresh.groupindex)
    found = warm[0].match("name = value  # note")
    assert found is not None and found.group("key", "value") == ("name", "value  ")
    assert warm[2].match("http://example.test:8080/x").group("port") == "8080"


def test_the_regex_cache_leaves_debug_and_parsed_patterns_to_re(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[object] = []
    original = re._compiler.compile  # type: ignore[attr-defined]

    def spy(p: object, flags: int = 0) -> object:
        calls.append(p)
        return original(p, flags)

    cache = RegexCache(tmp_path / "regex.marshal", spy)
    cache("a+b", re.DEBUG)
    parsed = re._parser.parse("x|y", 0)  # type: ignore[attr-defined]
    cache(parsed, 0)
    assert calls == ["a+b", parsed] and cache.added == 0
    assert "LITERAL" in capsys.readouterr().out  # DEBUG still prints the program


def test_patterns_compiled_at_run_time_are_not_kept(tmp_path: Path) -> None:
    cache = RegexCache(tmp_path / "regex.marshal", re._compiler.compile)  # type: ignore[attr-defined]
    query = "user typed (this)"
    assert cache(re.escape(query), 0).search(f"... {query} ...") is not None
    assert cache.added == 0 and cache.table == {}
    as_if_imported(cache, r"\d+", 0)
    assert cache.added == 1


def test_a_damaged_regex_cache_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "regex.marshal"
    for junk in (b"", b"bridle-re3", b"bridle-re3\x00\x01", b"other"):
        path.write_bytes(junk)
        cache = RegexCache(path, re._compiler.compile)  # type: ignore[attr-defined]
        assert as_if_imported(cache, "a(b)c", 0).match("abc") is not None
        assert cache.added == 1
