"""Read: numbering, paging, refusals, images and read bookkeeping."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from bridle.core.errors import ToolError
from bridle.core.messages import ImagePart, TextPart
from bridle.tools.base import ToolContext
from bridle.tools.read import Read


def text_of(out) -> str:
    return "".join(p.text for p in out.content if isinstance(p, TextPart))


def test_numbers_lines_like_cat_n_and_records_the_read(ctx: ToolContext, project: Path) -> None:
    f = project / "a.txt"
    f.write_text("alpha\n\tbeta\r\ngamma")
    out = Read().run({"file_path": "a.txt"}, ctx)
    assert text_of(out) == "     1\talpha\n     2\t\tbeta\n     3\tgamma"
    assert ctx.read_files == {str(f): f.stat().st_mtime_ns}


def test_offset_and_limit_page_through_and_say_where_to_continue(
    ctx: ToolContext, project: Path
) -> None:
    (project / "n.txt").write_text("".join(f"line {i}\n" for i in range(1, 11)))
    out = Read().run({"file_path": str(project / "n.txt"), "offset": 4, "limit": 3}, ctx)
    assert text_of(out) == (
        "     4\tline 4\n     5\tline 5\n     6\tline 6\n"
        "[showing lines 4-6 of 10; use offset=7 to read more]"
    )
    tail = Read().run({"file_path": "n.txt", "offset": 9}, ctx)
    assert text_of(tail) == "     9\tline 9\n    10\tline 10"
    with pytest.raises(ToolError, match=r"offset 11 is past the end: n.txt has 10 lines"):
        Read().run({"file_path": "n.txt", "offset": 11}, ctx)


def test_default_limit_is_2000_lines_and_long_lines_are_cut(
    ctx: ToolContext, project: Path
) -> None:
    (project / "big.txt").write_text("x\n" * 2500)
    text = text_of(Read().run({"file_path": "big.txt"}, ctx))
    assert text.endswith("  2000\tx\n[showing lines 1-2000 of 2500; use offset=2001 to read more]")
    (project / "wide.txt").write_text("y" * 5000 + "\n")
    wide = text_of(Read().run({"file_path": "wide.txt"}, ctx))
    assert wide == "     1\t" + "y" * 2000 + "… [line cut at 2000 chars]"


def test_refuses_directories_binaries_and_missing_files(ctx: ToolContext, project: Path) -> None:
    (project / "sub").mkdir()
    with pytest.raises(ToolError, match=r"sub is a directory. Use LS"):
        Read().run({"file_path": "sub"}, ctx)
    (project / "blob.bin").write_bytes(b"\x7fELF\x00\x01\x02")
    with pytest.raises(ToolError, match=r"blob.bin is a binary file"):
        Read().run({"file_path": "blob.bin"}, ctx)
    (project / "config.toml").write_text("x = 1\n")
    with pytest.raises(ToolError, match=r"confg.toml does not exist. Did you mean: config.toml\?"):
        Read().run({"file_path": "confg.toml"}, ctx)
    assert ctx.read_files == {}


def test_images_become_image_parts(ctx: ToolContext, project: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    (project / "pic.PNG").write_bytes(png)
    out = Read().run({"file_path": "pic.PNG"}, ctx)
    assert out.content == [ImagePart("image/png", base64.b64encode(png).decode())]
    assert str(project / "pic.PNG") in ctx.read_files


def test_empty_file(ctx: ToolContext, project: Path) -> None:
    (project / "e.txt").write_text("")
    assert text_of(Read().run({"file_path": "e.txt"}, ctx)) == "(e.txt is empty)"
