"""The instant screen's kept frames, in process: what `first_screen.remember` keeps
(and when it keeps nothing), when `instant.begin` finds an entry still holds, the
cap on entries, and the ids it makes. The terminal side is in test_tui_instant.py."""

from __future__ import annotations

import marshal
import os
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import before_the_session, buggy_project

from bridle.tui import first_screen, instant


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instant, "_key", None)
    monkeypatch.setattr(instant, "_shown", None)


def kept(home: Path) -> list[Path]:
    return sorted(Path(instant.cache_dir({"BRIDLE_HOME": str(home)})).glob("*.screen"))


def test_ids_are_version_4_uuids() -> None:
    for _ in range(50):
        made = instant.new_uuid()
        assert str(uuid.UUID(made)) == made and uuid.UUID(made).version == 4


def test_nothing_is_looked_up_without_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "isatty", lambda fd: False)
    instant.begin([])
    assert instant.key() is None and not instant.shown() and instant.session_id() is None
    assert instant.hand_over() is None
    instant.release()  # nothing to give back


def entry(key: tuple[Any, ...], files: list[Path]) -> tuple[Any, ...]:
    stamps = tuple(instant.stamp(str(f)) for f in files)
    return (instant.FORMAT, key, stamps, "frame", (2, 20), "\x00", " ", 70)


def test_an_entry_holds_until_a_watched_file_or_the_key_changes(tmp_path: Path) -> None:
    watched = tmp_path / "settings.json"
    absent = tmp_path / "not-yet.json"
    key = instant.make_key(["--model", "m"], str(tmp_path), (80, 24), {"TERM": "xterm"})
    kept_entry = entry(key, [watched, absent])
    assert instant._holds(kept_entry, key)
    other = instant.make_key(["--model", "n"], str(tmp_path), (80, 24), {"TERM": "xterm"})
    assert not instant._holds(kept_entry, other)
    watched.write_text("{}")  # created
    assert not instant._holds(kept_entry, key)
    kept_entry = entry(key, [watched, absent])
    absent.write_text("{}")
    assert not instant._holds(kept_entry, key)
    assert not instant._holds(("junk",), key) and not instant._holds(None, key)
    assert not instant._holds((instant.FORMAT, key, (("a\x00b", 1, 2),)), key)


def test_the_key_is_the_arguments_folder_size_and_colour_environment(tmp_path: Path) -> None:
    base = {"TERM": "xterm-256color", "PATH": "/a"}
    key = instant.make_key([], "/p", (80, 24), base)
    assert key == instant.make_key(
        [], "/p", (80, 24), {**base, "PATH": "/b", "BRIDLE_NO_INSTANT": "1"}
    )
    for changed in (
        instant.make_key([], "/p", (80, 25), base),
        instant.make_key([], "/q", (80, 24), base),
        instant.make_key(["-c"], "/p", (80, 24), base),
        instant.make_key([], "/p", (80, 24), {**base, "NO_COLOR": "1"}),
        instant.make_key([], "/p", (80, 24), {**base, "TEXTUAL_COLOR_SYSTEM": "standard"}),
    ):
        assert changed != key


def test_saving_replaces_in_place_skips_an_equal_entry_and_keeps_the_newest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIDLE_HOME", str(tmp_path / "home"))
    key = instant.make_key([], "/p", (80, 24), {})
    instant.save(entry(key, []))
    (path,) = kept(tmp_path / "home")
    before = path.stat().st_mtime_ns
    os.utime(path, ns=(before - 10**9, before - 10**9))
    instant.save(entry(key, []))
    assert path.stat().st_mtime_ns == before - 10**9  # the same bytes: not written again
    assert marshal.loads(path.read_bytes())[1] == key
    for n in range(instant.KEPT + 5):
        instant.save(entry(instant.make_key([str(n)], "/p", (80, 24), {}), []))
    assert len(kept(tmp_path / "home")) == instant.KEPT
    assert not list(path.parent.glob("*.tmp"))


def test_the_app_keeps_its_plain_first_frame_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = buggy_project(tmp_path)
    monkeypatch.setenv("BRIDLE_HOME", str(tmp_path / "home"))
    key = instant.make_key([], str(repo), (80, 24), {})
    monkeypatch.setattr(instant, "_key", key)
    seen: dict[str, Any] = {}

    def look(app: Any) -> None:
        first_screen.remember(app)
        seen["kept"] = kept(tmp_path / "home")
        app.prompt.insert("half a prompt")
        seen["kept"][0].unlink()
        first_screen.remember(app)  # typed text is not the plain first frame
        seen["after"] = kept(tmp_path / "home")

    before_the_session(repo, look, session_id="0123456789abcdef")
    assert len(seen["kept"]) == 1 and seen["after"] == []


def test_a_kept_frame_has_the_id_as_a_placeholder_and_the_files_that_shape_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = buggy_project(tmp_path)
    monkeypatch.setenv("BRIDLE_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(instant, "_key", instant.make_key([], str(repo), (80, 24), {}))
    seen: dict[str, Any] = {}

    def look(app: Any) -> None:
        first_screen.remember(app)
        seen["cursor"] = tuple(app.prompt.cursor_screen_offset)

    before_the_session(repo, look, session_id="0123456789abcdef")
    (path,) = kept(tmp_path / "home")
    form, _key, stamps, frame, cursor, text, at, room = marshal.loads(path.read_bytes())
    assert form == instant.FORMAT
    assert "01234567" not in frame and frame.count(instant.SID) == 1
    assert "new session \x00sid\x00 · Enter send" in re.sub(r"\x1b\[[0-9;]*[mH]", "", frame)
    assert cursor == seen["cursor"] and 0 < room <= 80
    assert re.sub(r"\x1b\[[0-9;]*m", "", text) == "\x00"  # a typed key, styled
    assert re.sub(r"\x1b\[[0-9;]*m", "", at) == " " and at != " "  # the cursor cell
    files = [s[0] for s in stamps]
    assert str(repo / ".bridle" / "settings.json") in files
    assert str(repo / ".git" / "HEAD") in files
    assert any(f.endswith("bridle/tui/app.py") for f in files)


def test_a_resumed_session_or_a_size_other_than_the_key_keeps_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = buggy_project(tmp_path)
    monkeypatch.setenv("BRIDLE_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(instant, "_key", instant.make_key([], str(repo), (100, 30), {}))
    before_the_session(repo, first_screen.remember, session_id="0123456789abcdef")
    assert kept(tmp_path / "home") == []  # the key's terminal was 100×30, the app's 80×24
    monkeypatch.setattr(instant, "_key", instant.make_key([], str(repo), (80, 24), {}))
    before_the_session(repo, first_screen.remember, session_id="")  # -c/-r: not a new session
    assert kept(tmp_path / "home") == []


def pretend_terminal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(os, "isatty", lambda fd: True)
    monkeypatch.setattr(os, "get_terminal_size", lambda fd=1: os.terminal_size((80, 24)))
    monkeypatch.setenv("BRIDLE_HOME", str(tmp_path / "home"))


def test_a_damaged_entry_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pretend_terminal(monkeypatch, tmp_path)
    key = instant.make_key(["-x"], os.getcwd(), (80, 24), os.environ)
    path = Path(instant.entry_path(key))
    path.parent.mkdir(parents=True)
    for junk in (b"", b"\x00garbage", marshal.dumps(entry(key, []))[:-3], marshal.dumps([1, 2])):
        path.write_bytes(junk)
        instant.begin(["-x"])
        assert instant.key() == key and not instant.shown()


def test_a_terminal_that_refuses_the_mode_draws_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tcgetattr fails (a terminal that is not one), and begin draws nothing."""
    import termios

    def refuse(fd: int) -> list[object]:
        raise termios.error(25, "Inappropriate ioctl for device")

    monkeypatch.setattr(termios, "tcgetattr", refuse)
    pretend_terminal(monkeypatch, tmp_path)
    instant.save(entry(instant.make_key([], os.getcwd(), (80, 24), os.environ), []))
    instant.begin([])
    assert not instant.shown() and instant.session_id() is None


def test_a_folder_and_arguments_that_are_not_utf8_are_kept_and_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIDLE_HOME", str(tmp_path / "home"))
    odd = os.fsdecode(b"proj-\xff\xfe")
    key = instant.make_key([os.fsdecode(b"--add-dir=\xff")], str(tmp_path / odd), (80, 24), {})
    folder = tmp_path / odd
    folder.mkdir()
    instant.save(entry(key, [folder / "settings.json"]))
    kept_entry = marshal.loads(Path(instant.entry_path(key)).read_bytes())
    assert kept_entry[1] == key and instant._holds(kept_entry, key)


def test_keys_cut_short_by_the_hand_over_are_finished_from_the_terminal() -> None:
    """What the instant screen kept ends inside a key: the rest is read from the
    terminal (here a pipe), and a lone Esc ends as Escape, as Textual ends it."""
    read_end, write_end = os.pipe()
    try:

        def keys(typed: bytes, rest: bytes = b"") -> list[str]:
            if rest:
                os.write(write_end, rest)
            return [e.key for e in first_screen.handed_keys(typed, read_end)]

        assert keys(b"fix it\r") == [*"fix", "space", *"it", "enter"]
        assert keys(b"ab\x1b") == ["a", "b", "escape"]
        assert keys(b"\x1b\x1b") == ["escape", "escape"]  # Esc Esc: rewind
        assert keys(b"ab\x1b", b"[A") == ["a", "b", "up"]
        assert keys(b"\x1b[", b"B") == ["down"]
        assert keys(b"caf\xc3", b"\xa9") == [*"caf", "é"]
        assert keys(b"\xff") == ["replacement_character"]  # not UTF-8: no key lost
        assert keys(b"") == []
    finally:
        os.close(read_end)
        os.close(write_end)
