"""Grep: ripgrep and the Python fallback give the same output over a table of
cases, in a git repo (gitignore applies) and outside one (default ignores)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from bridle.core.errors import ToolError
from bridle.tools._grep_search import find_rg
from bridle.tools.base import ToolContext
from bridle.tools.grep import Grep

RG = find_rg()
needs_rg = pytest.mark.skipif(RG is None, reason="the ripgrep wheel's rg binary is not installed")

FILES = {
    ".gitignore": "ignored/\n*.log\n",
    "src/app.py": "import os\n\ndef main():\n    print('Hello')\n    return os.getcwd()\n",
    "src/util.py": "def helper(x):\n    # TODO: faster\n    return x * 2\n\n\ndef other():\n    return helper(1)\n",
    "src/web/page.js": "function hello() {\n  return 'hello world';\n}\n",
    "README.md": "# Demo\nSay hello to the app.\nTODO: docs\n",
    "docs/guide.md": "Guide\n=====\nhello again\n",
    "ignored/skip.py": "hello from an ignored dir\n",
    "debug.log": "hello log\n",
    ".hidden/conf.py": "HELLO = 1\n",
    "crlf.txt": "first hello\r\nsecond\r\n",
    "node_modules/dep/index.js": "hello dependency\n",
}
CASES: list[dict[str, Any]] = [
    {"pattern": "hello"},
    {"pattern": "hello", "-i": True},
    {"pattern": "hello", "output_mode": "content"},
    {"pattern": "hello", "output_mode": "content", "-i": True, "-n": False},
    {"pattern": "hello", "output_mode": "count", "-i": True},
    {"pattern": "TODO", "output_mode": "content", "-C": 1},
    {"pattern": "return", "output_mode": "content", "-B": 2},
    {"pattern": "return", "output_mode": "content", "-A": 1, "path": "src"},
    {"pattern": "def \\w+", "output_mode": "content", "glob": "*.py"},
    {"pattern": "hello", "glob": "*.{md,js}"},
    {"pattern": "hello", "glob": "!docs"},
    {"pattern": "hello", "type": "js"},
    {"pattern": "x", "type": "py", "glob": "src/*.py", "output_mode": "count"},
    {"pattern": "hello", "-i": True, "output_mode": "content", "head_limit": 2},
    {"pattern": "def helper.*?return x", "multiline": True, "output_mode": "content"},
    {"pattern": "^second$", "output_mode": "content"},
    {"pattern": "hello", "path": "src/web/page.js", "output_mode": "content"},
    {"pattern": "nothing-matches-this"},
]


def make_tree(root: Path) -> None:
    for i, (rel, text) in enumerate(sorted(FILES.items())):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(text.encode())
        os.utime(p, ns=(10**18 + i * 10**9, 10**18 + i * 10**9))
    (root / "bin.dat").write_bytes(b"hello\x00binary")


def both(args: dict[str, Any], ctx: ToolContext) -> tuple[str, str]:
    assert RG is not None
    rg = Grep(rg_path=RG).run(dict(args), ctx).content[0].text
    py = Grep(rg_path=None).run(dict(args), ctx).content[0].text
    return rg, py


@needs_rg
@pytest.mark.parametrize("args", CASES, ids=[str(i) for i in range(len(CASES))])
def test_ripgrep_and_fallback_agree_in_a_git_repo(
    args: dict[str, Any], ctx: ToolContext, project: Path
) -> None:
    make_tree(project)
    rg, py = both(args, ctx)
    assert rg == py


@needs_rg
@pytest.mark.parametrize("args", CASES, ids=[str(i) for i in range(len(CASES))])
def test_ripgrep_and_fallback_agree_outside_git(args: dict[str, Any], tmp_path: Path) -> None:
    root = tmp_path / "plain"
    make_tree(root)
    (root / ".venv" / "lib").mkdir(parents=True)
    (root / ".venv" / "lib" / "x.py").write_text("hello venv\n")
    ctx = ToolContext(cwd=root, output_dir=tmp_path / "out")
    rg, py = both(args, ctx)
    assert rg == py


@pytest.mark.parametrize("rg", [RG, None], ids=["rg", "python"])
def test_expected_outputs(rg: str | None, ctx: ToolContext, project: Path) -> None:
    if rg is None and RG is None:
        pytest.skip("compared against rg elsewhere")
    make_tree(project)
    grep = Grep(rg_path=rg)

    def run(**args: Any) -> str:
        return grep.run(args, ctx).content[0].text

    # Newest first; gitignored, binary and .git files never appear.
    assert run(pattern="hello") == (
        "src/web/page.js\nnode_modules/dep/index.js\ndocs/guide.md\ncrlf.txt\nREADME.md"
    )
    assert run(pattern="hello", **{"-i": True}) == (
        "src/web/page.js\nsrc/app.py\nnode_modules/dep/index.js\ndocs/guide.md\n"
        "crlf.txt\nREADME.md\n.hidden/conf.py"
    )
    assert run(pattern="TODO", output_mode="content", **{"-C": 1}) == (
        "README.md-2-Say hello to the app.\nREADME.md:3:TODO: docs\n"
        "src/util.py-1-def helper(x):\nsrc/util.py:2:    # TODO: faster\nsrc/util.py-3-    return x * 2"
    )
    assert run(pattern="return", output_mode="count", path="src") == (
        "src/app.py:1\nsrc/util.py:2\nsrc/web/page.js:1\n[4 matching lines in 3 files]"
    )
    assert run(pattern="return", output_mode="content", path="src", glob="*.py", head_limit=2) == (
        "src/app.py:5:    return os.getcwd()\nsrc/util.py:3:    return x * 2\n"
        "[1 more line not shown (head_limit=2)]"
    )
    assert run(pattern="return", output_mode="content", path="src/util.py", **{"-A": 1}) == (
        "src/util.py:3:    return x * 2\nsrc/util.py-4-\n--\nsrc/util.py:7:    return helper(1)"
    )
    assert run(pattern="hello", type="js") == "src/web/page.js\nnode_modules/dep/index.js"
    assert run(pattern="return", output_mode="files_with_matches", type="py", path="src") == (
        "src/util.py\nsrc/app.py"
    )
    assert run(pattern="zzz") == "No matches found."


@pytest.mark.parametrize("rg", [RG, None], ids=["rg", "python"])
def test_bad_input_is_reported(rg: str | None, ctx: ToolContext) -> None:
    if rg is None and RG is None:
        pytest.skip("no rg")
    (ctx.cwd / "a.txt").write_text("x\n")
    with pytest.raises(ToolError):
        Grep(rg_path=rg).run({"pattern": "(unclosed"}, ctx)
    with pytest.raises(ToolError, match=r"unknown type 'cobol'"):
        Grep(rg_path=rg).run({"pattern": "x", "type": "cobol"}, ctx)
    with pytest.raises(ToolError, match=r"does not exist"):
        Grep(rg_path=rg).run({"pattern": "x", "path": "nope"}, ctx)
