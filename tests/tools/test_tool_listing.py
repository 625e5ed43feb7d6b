"""Glob and LS: gitignore respected, newest first, default ignores outside git,
caps with notes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bridle.core.errors import ToolError
from bridle.tools import glob as glob_tool
from bridle.tools.base import ToolContext
from bridle.tools.glob import Glob
from bridle.tools.ls import LS


def touch(root: Path, rel: str, age: int = 0) -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(rel)
    t = 2_000_000_000 - age
    os.utime(p, (t, t))


def glob(ctx: ToolContext, **args: str) -> str:
    return Glob().run(args, ctx).content[0].text


def test_glob_respects_gitignore_and_sorts_newest_first(ctx: ToolContext, project: Path) -> None:
    (project / ".gitignore").write_text("build/\n*.pyc\n")
    touch(project, "a.py", age=30)
    touch(project, "pkg/b.py", age=10)
    touch(project, "pkg/deep/c.py", age=20)
    touch(project, "pkg/b.pyc")
    touch(project, "build/gen.py")
    assert glob(ctx, pattern="**/*.py") == "pkg/b.py\npkg/deep/c.py\na.py"
    assert glob(ctx, pattern="*.py") == "a.py"
    assert glob(ctx, pattern="pkg/**/*.py") == "pkg/b.py\npkg/deep/c.py"
    assert glob(ctx, pattern="*.py", path="pkg") == "pkg/b.py"
    assert glob(ctx, pattern=f"{project}/pkg/*/*.py") == "pkg/deep/c.py"
    assert glob(ctx, pattern="**/*.rs") == f"No files match '**/*.rs' under {project}"


def test_glob_sees_tracked_and_untracked_but_not_deleted(ctx: ToolContext, project: Path) -> None:
    import subprocess

    touch(project, "tracked.txt")
    touch(project, "gone.txt")
    subprocess.run(["git", "add", "."], cwd=project, check=True)
    (project / "gone.txt").unlink()
    touch(project, "new.txt", age=5)
    assert glob(ctx, pattern="*.txt") == "tracked.txt\nnew.txt"


def test_glob_outside_git_skips_default_dirs(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    touch(root, "x.js", age=1)
    touch(root, "node_modules/lib/y.js")
    touch(root, ".venv/z.js")
    touch(root, ".config/w.js", age=2)
    ctx = ToolContext(cwd=root)
    assert glob(ctx, pattern="**/*.js") == "x.js\n.config/w.js"


def test_glob_caps_results(
    ctx: ToolContext, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(glob_tool, "MAX_RESULTS", 3)
    for i in range(5):
        touch(project, f"f{i}.txt", age=i)
    assert glob(ctx, pattern="*.txt") == (
        "f0.txt\nf1.txt\nf2.txt\n[2 more files not shown; narrow the pattern or path]"
    )
    with pytest.raises(ToolError, match=r"is not a directory"):
        glob(ctx, pattern="*", path="f0.txt")


def test_ls_draws_a_tree_without_ignored_files(ctx: ToolContext, project: Path) -> None:
    (project / ".gitignore").write_text("dist/\n")
    for rel in ["src/main.py", "src/lib/util.py", "README.md", "dist/out.js", "tests/test_main.py"]:
        touch(project, rel)
    out = LS().run({}, ctx).content[0].text
    assert out == (
        f"{project}/\n"
        "  src/\n    lib/\n      util.py\n    main.py\n"
        "  tests/\n    test_main.py\n"
        "  .gitignore\n  README.md"
    )
    trimmed = LS().run({"path": "src", "ignore": ["lib", "*.md"]}, ctx).content[0].text
    assert trimmed == f"{project}/src/\n  main.py"


def test_ls_refuses_files_and_missing_paths(ctx: ToolContext, project: Path) -> None:
    touch(project, "f.txt")
    with pytest.raises(ToolError, match=r"is a file, not a directory"):
        LS().run({"path": "f.txt"}, ctx)
    with pytest.raises(ToolError, match=r"does not exist"):
        LS().run({"path": "nope"}, ctx)
