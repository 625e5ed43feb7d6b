"""Write, Edit and MultiEdit: read-before-write, atomic writes, mode and line
endings preserved, helpful match failures, all-or-none multi edits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bridle.core.errors import ToolError
from bridle.tools.base import ToolContext
from bridle.tools.edit import Edit
from bridle.tools.multi_edit import MultiEdit
from bridle.tools.read import Read
from bridle.tools.write import Write


def read(ctx: ToolContext, path: str) -> None:
    Read().run({"file_path": path}, ctx)


def test_write_creates_parents_and_marks_the_file_read(ctx: ToolContext, project: Path) -> None:
    out = Write().run({"file_path": "deep/er/new.txt", "content": "one\ntwo\n"}, ctx)
    target = project / "deep/er/new.txt"
    assert target.read_text() == "one\ntwo\n"
    assert out.content[0].text == "Created deep/er/new.txt (2 lines)."
    assert out.changed_files == [str(target)]
    assert ctx.read_files[str(target)] == target.stat().st_mtime_ns
    # Written by this session, so it may be overwritten without another Read.
    Write().run({"file_path": "deep/er/new.txt", "content": "three"}, ctx)
    assert target.read_text() == "three"


def test_write_refuses_unread_and_changed_files(ctx: ToolContext, project: Path) -> None:
    f = project / "keep.txt"
    f.write_text("user data\n")
    with pytest.raises(ToolError, match=r"has not been read in this session"):
        Write().run({"file_path": "keep.txt", "content": "clobber"}, ctx)
    read(ctx, "keep.txt")
    f.write_text("user changed it\n")
    os.utime(f, ns=(1, 1))
    with pytest.raises(ToolError, match=r"changed on disk since it was last read"):
        Write().run({"file_path": "keep.txt", "content": "clobber"}, ctx)
    assert f.read_text() == "user changed it\n"


def test_write_keeps_mode_and_leaves_no_temp_files(ctx: ToolContext, project: Path) -> None:
    f = project / "run.sh"
    f.write_text("echo hi\n")
    f.chmod(0o751)
    read(ctx, "run.sh")
    Write().run({"file_path": "run.sh", "content": "echo bye\n"}, ctx)
    assert f.stat().st_mode & 0o777 == 0o751
    assert sorted(p.name for p in project.iterdir()) == [".git", "run.sh"]


def test_edit_replaces_a_unique_string_and_shows_a_snippet(ctx: ToolContext, project: Path) -> None:
    f = project / "m.txt"
    f.write_text("a\nb\nc\nd\ne\nf\ng\n")
    read(ctx, "m.txt")
    out = Edit().run({"file_path": "m.txt", "old_string": "d", "new_string": "D1\nD2"}, ctx)
    assert f.read_text() == "a\nb\nc\nD1\nD2\ne\nf\ng\n"
    assert out.content[0].text == (
        "Edited m.txt:\n     2\tb\n     3\tc\n     4\tD1\n     5\tD2\n     6\te\n     7\tf"
    )
    # The session's own edit keeps the file fresh for the next edit.
    Edit().run({"file_path": "m.txt", "old_string": "g", "new_string": "G"}, ctx)
    assert f.read_text().endswith("f\nG\n")


def test_edit_requires_a_read_and_a_unique_match(ctx: ToolContext, project: Path) -> None:
    f = project / "dup.txt"
    f.write_text("x = 1\ny = 2\nx = 1\n")
    with pytest.raises(ToolError, match=r"has not been read"):
        Edit().run({"file_path": "dup.txt", "old_string": "y", "new_string": "z"}, ctx)
    read(ctx, "dup.txt")
    with pytest.raises(ToolError, match=r"occurs 2 times in dup.txt \(lines 1, 3\)"):
        Edit().run({"file_path": "dup.txt", "old_string": "x = 1", "new_string": "x = 9"}, ctx)
    out = Edit().run(
        {"file_path": "dup.txt", "old_string": "x = 1", "new_string": "x = 9", "replace_all": True},
        ctx,
    )
    assert f.read_text() == "x = 9\ny = 2\nx = 9\n"
    assert out.content[0].text.startswith("Replaced 2 occurrences in dup.txt:")


def test_edit_preserves_crlf_bom_and_mode(ctx: ToolContext, project: Path) -> None:
    f = project / "win.txt"
    f.write_bytes(b"\xef\xbb\xbfone\r\ntwo\r\nthree\r\n")
    f.chmod(0o600)
    read(ctx, "win.txt")
    # The model may send LF or CRLF; the file stays CRLF either way.
    Edit().run({"file_path": "win.txt", "old_string": "one\ntwo", "new_string": "1\n2\n2.5"}, ctx)
    Edit().run({"file_path": "win.txt", "old_string": "three\r\n", "new_string": "3\r\n"}, ctx)
    assert f.read_bytes() == b"\xef\xbb\xbf1\r\n2\r\n2.5\r\n3\r\n"
    assert f.stat().st_mode & 0o777 == 0o600


def test_failed_match_reports_the_closest_lines(ctx: ToolContext, project: Path) -> None:
    f = project / "calc.py"
    f.write_text(
        "def add(a, b):\n    return a + b\n\n\ndef mean(xs):\n    return sum(xs) / (len(xs) + 1)\n"
    )
    read(ctx, "calc.py")
    with pytest.raises(ToolError) as err:
        Edit().run(
            {
                "file_path": "calc.py",
                "old_string": "def mean(xs):\n  return sum(xs) / (len(xs) + 1)",
                "new_string": "x",
            },
            ctx,
        )
    assert str(err.value) == (
        "old_string was not found in calc.py. The closest match is lines 5-6 (98% similar). "
        "It differs only in indentation or trailing whitespace.\n"
        "     5\tdef mean(xs):\n     6\t    return sum(xs) / (len(xs) + 1)"
    )
    assert f.read_text().endswith("(len(xs) + 1)\n")


def test_edit_with_empty_old_string_creates_a_missing_file(ctx: ToolContext, project: Path) -> None:
    Edit().run({"file_path": "fresh.txt", "old_string": "", "new_string": "hello\n"}, ctx)
    assert (project / "fresh.txt").read_text() == "hello\n"
    with pytest.raises(ToolError, match=r"does not exist. Use Write"):
        Edit().run({"file_path": "nope.txt", "old_string": "a", "new_string": "b"}, ctx)


def test_multiedit_applies_in_order_or_not_at_all(ctx: ToolContext, project: Path) -> None:
    f = project / "cfg.txt"
    f.write_text("name = old\nlevel = 1\n")
    read(ctx, "cfg.txt")
    edits = [
        {"old_string": "old", "new_string": "new"},
        {"old_string": "name = new", "new_string": "name = newer"},
        {"old_string": "missing", "new_string": "x"},
    ]
    with pytest.raises(ToolError, match=r"edit 3 of 3 failed, so no edits were applied"):
        MultiEdit().run({"file_path": "cfg.txt", "edits": edits}, ctx)
    assert f.read_text() == "name = old\nlevel = 1\n"
    out = MultiEdit().run({"file_path": "cfg.txt", "edits": edits[:2]}, ctx)
    assert f.read_text() == "name = newer\nlevel = 1\n"
    assert out.content[0].text.startswith("Applied 2 edits to cfg.txt:\n     1\tname = newer")


def test_edits_append_the_verify_report(ctx: ToolContext, project: Path) -> None:
    f = project / "mod.py"
    f.write_text("x = 1\n")
    read(ctx, "mod.py")
    ok = Edit().run({"file_path": "mod.py", "old_string": "x = 1", "new_string": "x = 2"}, ctx)
    assert ok.content[0].text.endswith("\nVerify OK: mod.py (python syntax)")
    bad = Edit().run({"file_path": "mod.py", "old_string": "x = 2", "new_string": "x = (2"}, ctx)
    assert bad.content[0].text.endswith(
        "\nVerify failed for mod.py (python syntax):\nSyntaxError: '(' was never closed (line 1, column 5)\n    x = (2"
    )
    assert f.read_text() == "x = (2\n"  # verification reports; it never reverts
