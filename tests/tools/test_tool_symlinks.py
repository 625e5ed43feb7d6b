"""Write, Edit, MultiEdit and ApplyPatch on a symlink change the file it points to
and leave the link a link (they used to replace the link with a copy)."""

from __future__ import annotations

import os
from pathlib import Path

from bridle.tools.apply_patch import ApplyPatch
from bridle.tools.base import ToolContext
from bridle.tools.edit import Edit
from bridle.tools.multi_edit import MultiEdit
from bridle.tools.read import Read
from bridle.tools.write import Write


def linked(project: Path, tmp_path: Path) -> tuple[Path, Path]:
    """`project/notes.txt` -> a file outside the project (a dotfiles-style link)."""
    real = tmp_path / "dotfiles" / "notes.txt"
    real.parent.mkdir()
    real.write_text("alpha\nbeta\n")
    real.chmod(0o640)
    link = project / "notes.txt"
    link.symlink_to(real)
    return link, real


def assert_still_linked(link: Path, real: Path, text: str) -> None:
    assert link.is_symlink()
    assert os.readlink(link) == str(real)
    assert real.read_text() == text
    assert oct(real.stat().st_mode & 0o777) == oct(0o640)
    assert [p.name for p in real.parent.iterdir()] == ["notes.txt"]  # no temp files left


def test_write_through_a_symlink(ctx: ToolContext, project: Path, tmp_path: Path) -> None:
    link, real = linked(project, tmp_path)
    Read().run({"file_path": "notes.txt"}, ctx)
    Write().run({"file_path": "notes.txt", "content": "gamma\n"}, ctx)
    assert_still_linked(link, real, "gamma\n")


def test_edit_through_a_symlink(ctx: ToolContext, project: Path, tmp_path: Path) -> None:
    link, real = linked(project, tmp_path)
    Read().run({"file_path": "notes.txt"}, ctx)
    Edit().run({"file_path": "notes.txt", "old_string": "beta", "new_string": "BETA"}, ctx)
    assert_still_linked(link, real, "alpha\nBETA\n")
    # The session may edit again: its read record follows the write.
    Edit().run({"file_path": "notes.txt", "old_string": "alpha", "new_string": "ALPHA"}, ctx)
    assert_still_linked(link, real, "ALPHA\nBETA\n")


def test_multi_edit_through_a_symlink(ctx: ToolContext, project: Path, tmp_path: Path) -> None:
    link, real = linked(project, tmp_path)
    Read().run({"file_path": "notes.txt"}, ctx)
    edits = [
        {"old_string": "alpha", "new_string": "one"},
        {"old_string": "beta", "new_string": "two"},
    ]
    MultiEdit().run({"file_path": "notes.txt", "edits": edits}, ctx)
    assert_still_linked(link, real, "one\ntwo\n")


def test_apply_patch_through_a_symlink(ctx: ToolContext, project: Path, tmp_path: Path) -> None:
    link, real = linked(project, tmp_path)
    patch = "*** Begin Patch\n*** Update File: notes.txt\n@@\n alpha\n-beta\n+BETA\n*** End Patch"
    ApplyPatch().run({"input": patch}, ctx)
    assert_still_linked(link, real, "alpha\nBETA\n")


def test_write_to_a_dangling_symlink_creates_its_target(
    ctx: ToolContext, project: Path, tmp_path: Path
) -> None:
    real = tmp_path / "elsewhere" / "new.txt"
    link = project / "new.txt"
    link.symlink_to(real)
    Write().run({"file_path": "new.txt", "content": "made\n"}, ctx)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "made\n"
