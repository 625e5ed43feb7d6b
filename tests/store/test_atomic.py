"""store.atomic: the one writer. Through symlinks (the link stays a link), mode
kept, new files get the umask's mode or the given one, nothing half-written or
left behind on failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bridle.store import atomic
from bridle.store.atomic import atomic_write, atomic_write_text


def leftovers(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir() if p.name.endswith(atomic.TEMP_SUFFIX))


def test_replaces_content_and_keeps_mode(tmp_path: Path) -> None:
    f = tmp_path / "run.sh"
    f.write_text("old\n")
    f.chmod(0o751)
    assert atomic_write(f, b"new\n") == f
    assert f.read_bytes() == b"new\n"
    assert f.stat().st_mode & 0o7777 == 0o751
    assert leftovers(tmp_path) == []


def test_new_file_mode_follows_umask_or_the_given_mode(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        atomic_write(tmp_path / "a" / "b" / "plain.txt", b"x")
        atomic_write(tmp_path / "secret.json", b"{}", mode=0o600)
    finally:
        os.umask(old)
    assert (tmp_path / "a/b/plain.txt").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "secret.json").stat().st_mode & 0o777 == 0o600


def test_the_given_mode_does_not_change_an_existing_file(tmp_path: Path) -> None:
    f = tmp_path / "shared.txt"
    f.write_text("x")
    f.chmod(0o644)
    atomic_write(f, b"y", mode=0o600)
    assert f.stat().st_mode & 0o777 == 0o644


def test_writes_through_a_chain_of_symlinks(tmp_path: Path) -> None:
    real = tmp_path / "real" / "settings.json"
    real.parent.mkdir()
    real.write_text("{}")
    real.chmod(0o600)
    hop = tmp_path / "hop.json"
    hop.symlink_to(real)
    link = tmp_path / "dots" / "settings.json"
    link.parent.mkdir()
    link.symlink_to(os.path.relpath(hop, link.parent))
    assert atomic_write(link, b'{"a": 1}') == real
    assert link.is_symlink() and hop.is_symlink()
    assert real.read_text() == '{"a": 1}'
    assert real.stat().st_mode & 0o777 == 0o600
    assert leftovers(link.parent) == [] and leftovers(real.parent) == []


def test_a_dangling_symlink_gets_its_target_created(tmp_path: Path) -> None:
    link = tmp_path / "link.txt"
    link.symlink_to("sub/target.txt")
    atomic_write_text(link, "hello\n")
    assert link.is_symlink() and os.readlink(link) == "sub/target.txt"
    assert (tmp_path / "sub" / "target.txt").read_text() == "hello\n"


def test_a_symlink_loop_is_an_error_and_nothing_is_replaced(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(OSError, match="symbolic links"):
        atomic_write(a, b"x")
    assert a.is_symlink() and b.is_symlink()
    assert leftovers(tmp_path) == []


def test_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(IsADirectoryError):
        atomic_write(tmp_path / "d", b"x")


def test_a_failed_write_leaves_the_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "keep.txt"
    f.write_text("precious\n")

    def broken_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(atomic.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="Input/output"):
        atomic_write(f, b"half")
    assert f.read_text() == "precious\n"
    assert leftovers(tmp_path) == []


def test_text_with_escaped_bytes_round_trips(tmp_path: Path) -> None:
    raw = b"caf\xe9 \xff\n"
    text = raw.decode("utf-8", "surrogateescape")
    atomic_write_text(tmp_path / "t.txt", text)
    assert (tmp_path / "t.txt").read_bytes() == raw


def test_a_non_utf8_file_name_is_written(tmp_path: Path) -> None:
    name = b"caf\xe9.txt".decode("utf-8", "surrogateescape")
    atomic_write(tmp_path / name, b"x")
    assert os.listdir(os.fsencode(tmp_path)) == [b"caf\xe9.txt"]


def test_text_with_half_an_emoji_is_written_with_a_replacement(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "t.txt", "cut \ud83d here \udce9")
    assert (tmp_path / "t.txt").read_bytes() == "cut \ufffd here ".encode() + b"\xe9"
