"""Defect 2 (tools part): a project file whose name is not UTF-8 is listed by
Glob, Grep and LS with its bytes kept as surrogate escapes (`caf\\udce9.txt`), and
that exact name given back by the model opens the same file in Read, Edit,
Write and ApplyPatch."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from bridle.tools._grep_search import find_rg
from bridle.tools.apply_patch import ApplyPatch
from bridle.tools.base import ToolContext
from bridle.tools.edit import Edit
from bridle.tools.glob import Glob
from bridle.tools.grep import Grep
from bridle.tools.ls import LS
from bridle.tools.read import Read
from bridle.tools.write import Write

RAW = b"caf\xe9.txt"
NAME = RAW.decode("utf-8", "surrogateescape")  # "caf\udce9.txt"
RG = find_rg()
GREPS = [pytest.param(RG, id="rg"), pytest.param(None, id="python")]


def tree(root: Path) -> ToolContext:
    root.mkdir(exist_ok=True)
    with open(os.path.join(os.fsencode(root), RAW), "wb") as f:
        f.write(b"hello from a latin-1 name\n")
    (root / "plain.txt").write_text("hello plain\n")
    return ToolContext(cwd=root, verify={})


def text(out: Any) -> str:
    return str(out.content[0].text)


@pytest.fixture(params=["git", "plain"])
def ctx(request: pytest.FixtureRequest, project: Path, tmp_path: Path) -> ToolContext:
    return tree(project if request.param == "git" else tmp_path / "plain")


def test_glob_and_ls_list_the_name_with_its_bytes(ctx: ToolContext) -> None:
    assert sorted(text(Glob().run({"pattern": "*.txt"}, ctx)).splitlines()) == [NAME, "plain.txt"]
    assert NAME in text(LS().run({"path": "."}, ctx))


@pytest.mark.parametrize("rg", GREPS)
@pytest.mark.parametrize("mode", ["files_with_matches", "content", "count"])
def test_grep_lists_the_name_with_its_bytes(ctx: ToolContext, rg: str | None, mode: str) -> None:
    out = text(Grep(rg_path=rg).run({"pattern": "latin", "output_mode": mode}, ctx))
    assert out.splitlines()[0].startswith(NAME), out
    assert os.fsencode(out.splitlines()[0].split(":")[0]) == RAW


def test_the_listed_name_opens_the_same_file(ctx: ToolContext) -> None:
    listed = text(Glob().run({"pattern": "caf*"}, ctx))
    assert listed == NAME
    assert "latin-1 name" in text(Read().run({"file_path": listed}, ctx))
    Edit().run({"file_path": listed, "old_string": "hello", "new_string": "bonjour"}, ctx)
    Write().run({"file_path": listed, "content": "rewritten\n"}, ctx)
    patch = f"*** Begin Patch\n*** Update File: {listed}\n@@\n-rewritten\n+patched\n*** End Patch"
    ApplyPatch().run({"input": patch}, ctx)
    raw_dir = os.fsencode(ctx.cwd)
    assert sorted(n for n in os.listdir(raw_dir) if n != b".git") == [RAW, b"plain.txt"]
    with open(os.path.join(raw_dir, RAW), "rb") as f:
        assert f.read() == b"patched\n"
