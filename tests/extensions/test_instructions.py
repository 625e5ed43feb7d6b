"""The instruction cascade (`extensions.instructions`): every kind of file in
Claude Code's, Codex's and Gemini CLI's places, in order, each once, with
imports up to four hops (not inside code), AGENTS.override.md over AGENTS.md,
the 32 KiB AGENTS cap, `claudeMdExcludes`, and path-scoped rules and nested
CLAUDE.md files that load when a file tool touches a matching path."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bridle.core.messages import TextPart, ToolResultPart, ToolUsePart
from bridle.extensions.globs import PathGlobs, any_match, expand_braces, split_patterns
from bridle.extensions.instructions import AGENTS_MAX_BYTES, InstructionFile, Instructions


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def tree(tmp: Path) -> dict[str, Path]:
    """A repository holding one of every kind of instruction file; the session
    runs in `repo/pkg/app`."""
    home, top = tmp / "home", tmp / "top"
    repo = top / "repo"
    app = repo / "pkg" / "app"
    app.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    write(tmp / "etc" / "CLAUDE.md", "MANAGED rule")
    write(home / ".claude" / "CLAUDE.md", "USER rule")
    write(home / ".claude" / "rules" / "style.md", "USER-RULE always")
    write(home / ".claude" / "rules" / "docs.md", "---\npaths: '*.md'\n---\nUSER-RULE for markdown")
    write(home / ".bridle" / "AGENTS.md", "BRIDLE-USER rule")
    write(top / "CLAUDE.md", "ABOVE-REPO claude")  # Claude Code walks up past the repo
    write(top / "AGENTS.md", "ABOVE-REPO agents")  # Codex stops at the repo root
    write(
        repo / "CLAUDE.md",
        "ROOT rule, see @docs/hop1.md\n"
        "Not imports: `@docs/span.md` and\n```\n@docs/block.md\n```\n",
    )
    write(repo / "docs" / "hop1.md", "HOP1 then @hop2.md")
    write(repo / "docs" / "hop2.md", "HOP2 then @../CLAUDE.md (a cycle) and @sub/hop3.md")
    write(repo / "docs" / "sub" / "hop3.md", "HOP3 then @~/notes/hop4.md")
    write(home / "notes" / "hop4.md", f"HOP4 then @{repo / 'docs' / 'hop5.md'}")
    write(repo / "docs" / "hop5.md", "HOP5 must not load")
    write(repo / "docs" / "span.md", "SPAN must not load")
    write(repo / "docs" / "block.md", "BLOCK must not load")
    write(repo / ".claude" / "CLAUDE.md", "DOT-CLAUDE rule")
    write(repo / ".claude" / "rules" / "general.md", "PROJECT-RULE always")
    write(
        repo / ".claude" / "rules" / "front" / "react.md",
        "---\npaths:\n  - 'web/**/*.tsx'\n---\nREACT",
    )
    write(repo / ".claude" / "rules" / "py.md", "---\npaths: pkg/**/*.{py,pyi}\n---\nPYTHON-RULE")
    write(repo / "CLAUDE.local.md", "LOCAL rule")
    write(repo / "AGENTS.override.md", "OVERRIDE wins")
    write(repo / "AGENTS.md", "PLAIN-AGENTS must not load")
    write(repo / "GEMINI.md", "GEMINI rule")
    write(repo / "pkg" / "CLAUDE.md", "PKG rule")
    write(repo / "pkg" / "AGENTS.md", "PKG-AGENTS " + "y" * (40 * 1024))
    os.symlink(repo / "CLAUDE.md", app / "CLAUDE.md")  # the same file again: once
    write(app / "sub" / "CLAUDE.md", "NESTED-SUB rule")
    write(app / "sub" / ".claude" / "rules" / "deep.md", "---\npaths: ['*.txt']\n---\nDEEP-TXT")
    return {"home": home, "top": top, "repo": repo, "app": app, "managed": tmp / "etc/CLAUDE.md"}


def load(t: dict[str, Path], **kw: Any) -> Instructions:
    found = Instructions(
        t["app"], t["home"], t["home"] / ".bridle", t["repo"], managed=t["managed"], **kw
    )
    found.load()
    return found


def test_every_kind_loads_once_in_order(tmp_path: Path) -> None:
    t = tree(tmp_path)
    found = load(t)
    text = found.render()
    order = [
        "MANAGED rule", "USER rule", "USER-RULE always", "BRIDLE-USER rule", "ABOVE-REPO claude",
        "ROOT rule", "HOP1", "HOP2", "HOP3", "HOP4", "DOT-CLAUDE rule", "PROJECT-RULE always",
        "LOCAL rule", "OVERRIDE wins", "GEMINI rule", "PKG rule", "PKG-AGENTS",
    ]  # fmt: skip
    assert [text.index(s) for s in order] == sorted(text.index(s) for s in order)
    for absent in ("HOP5", "SPAN", "BLOCK", "PLAIN-AGENTS", "ABOVE-REPO agents", "NESTED-SUB"):
        assert absent not in text
    for waiting in ("USER-RULE for markdown", "REACT", "PYTHON-RULE", "DEEP-TXT"):
        assert waiting not in text
    assert text.count("ROOT rule") == 1  # the symlink and the cycle add nothing
    # Headings say where each file came from.
    repo = t["repo"]
    assert f"Contents of {t['managed']} (managed instructions" in text
    assert (
        f"Contents of {repo / 'CLAUDE.local.md'} (the user's private instructions for this" in text
    )
    assert (
        f"Contents of {repo / 'docs/hop2.md'} (project instructions, checked into the codebase, "
        f"imported by {repo / 'docs/hop1.md'}):"
    ) in text
    assert f"Contents of {repo / '.claude/rules/general.md'} (project rule):" in text
    assert f"Contents of {repo / 'AGENTS.override.md'} (Codex instructions):" in text
    # InstructionsLoaded fields, one entry per file.
    fields = {Path(f.file_path).name: f.hook_fields() for f in found.files}
    assert fields["hop4.md"] == {
        "file_path": str(t["home"] / "notes" / "hop4.md"), "memory_type": "Project",
        "load_reason": "include", "globs": None, "trigger_file_path": None,
        "parent_file_path": str(repo / "docs" / "sub" / "hop3.md"),
    }  # fmt: skip
    types = {Path(f.file_path).name: f.memory_type for f in found.files}
    assert types["style.md"] == "User" and types["CLAUDE.local.md"] == "Local"
    assert len({os.path.realpath(f.file_path) for f in found.files}) == len(found.files)


def test_agents_files_share_the_32_kib_cap(tmp_path: Path) -> None:
    t = tree(tmp_path)
    pkg_agents = next(f for f in load(t).files if f.file_path.endswith("pkg/AGENTS.md"))
    kept = pkg_agents.text.split("\n... (cut at")[0]
    assert len(kept.encode()) == AGENTS_MAX_BYTES - len(b"OVERRIDE wins")
    assert "cut at 32 KiB for AGENTS files in all, as Codex's project_doc_max_bytes" in (
        pkg_agents.text
    )


def test_an_empty_override_falls_back_to_agents_md(tmp_path: Path) -> None:
    t = tree(tmp_path)
    (t["repo"] / "AGENTS.override.md").write_text("  \n")
    assert "PLAIN-AGENTS must not load" in load(t).render()


def test_claude_md_excludes_skip_files_but_never_the_managed_one(tmp_path: Path) -> None:
    t = tree(tmp_path)
    text = load(t, excludes=["**/pkg/CLAUDE.md", str(t["repo"] / ".claude/rules/**"), "**/etc/*"])
    out = text.render()
    assert "PKG rule" not in out and "PROJECT-RULE" not in out
    assert "MANAGED rule" in out and "ROOT rule" in out


def test_touching_files_brings_rules_and_nested_files_once(tmp_path: Path) -> None:
    t = tree(tmp_path)
    found = load(t)
    assert found.touched(t["app"] / "main.go") == []
    py = found.touched(t["app"] / "tool.py")
    assert [(Path(f.file_path).name, f.load_reason, f.globs) for f in py] == [
        ("py.md", "path_glob_match", ("pkg/**/*.{py,pyi}",))
    ]
    assert py[0].trigger_file_path == str(t["app"] / "tool.py")
    assert found.touched(t["app"] / "other.py") == []  # loaded once
    nested = found.touched(t["app"] / "sub" / "notes.txt")
    assert [(Path(f.file_path).name, f.load_reason) for f in nested] == [
        ("CLAUDE.md", "nested_traversal"),
        ("deep.md", "path_glob_match"),
    ]
    # User rules' patterns are taken from the project root.
    md = found.touched(t["repo"] / "README.md")
    assert [(f.memory_type, f.text) for f in md] == [("User", "USER-RULE for markdown")]


def test_attach_appends_to_successful_file_tool_results(tmp_path: Path) -> None:
    t = tree(tmp_path)
    found = load(t)
    told: list[list[InstructionFile]] = []
    found.on_load = told.append
    calls = [
        ToolUsePart("1", "Read", {"file_path": "tool.py"}),
        ToolUsePart("2", "Write", {"file_path": str(t["app"] / "sub" / "a.txt"), "content": ""}),
        ToolUsePart("3", "Bash", {"command": "cat x.py"}),
        ToolUsePart("4", "Read", {"file_path": "web/x.tsx"}),
    ]
    results = [
        ToolResultPart("1", [TextPart("print(1)")]),
        ToolResultPart("2", [TextPart("Created")]),
        ToolResultPart("3", [TextPart("ok")]),
        ToolResultPart("4", [TextPart("no such file")], is_error=True),
    ]
    brought = found.attach(calls, results)
    assert [Path(f.file_path).name for f in brought] == ["py.md", "CLAUDE.md", "deep.md"]
    assert told == [brought]
    first = results[0].content[-1]
    assert isinstance(first, TextPart) and "<system-reminder>" in first.text
    assert "PYTHON-RULE" in first.text and "for files matching pkg/**/*.{py,pyi}" in first.text
    assert "NESTED-SUB rule" in results[1].text and "DEEP-TXT" in results[1].text
    assert results[2].text == "ok" and results[3].text == "no such file"


def test_an_apply_patch_touches_its_files(tmp_path: Path) -> None:
    t = tree(tmp_path)
    found = load(t)
    patch = "*** Begin Patch\n*** Add File: lib.py\n+x = 1\n*** End Patch"
    result = ToolResultPart("9", [TextPart("Done")])
    found.attach([ToolUsePart("9", "ApplyPatch", {"input": patch})], [result])
    assert "PYTHON-RULE" in result.text


def test_a_bad_rule_is_named_and_skipped(tmp_path: Path) -> None:
    t = tree(tmp_path)
    write(t["repo"] / ".claude" / "rules" / "bad.md", "---\npaths: [unclosed\n---\nBAD")
    write(t["repo"] / ".claude" / "rules" / "num.md", "---\npaths: 5\n---\nNUM")
    found = load(t)
    assert "BAD" not in found.render() and "NUM" not in found.render()
    assert any("bad.md: frontmatter is not valid YAML" in p for p in found.problems)
    assert any("num.md: paths:" in p for p in found.problems)


def test_outside_a_repository_agents_md_comes_from_the_cwd_only(tmp_path: Path) -> None:
    home, parent = tmp_path / "home", tmp_path / "plain"
    cwd = parent / "work"
    write(parent / "AGENTS.md", "PARENT agents")
    write(cwd / "AGENTS.md", "CWD agents")
    write(parent / "CLAUDE.md", "PARENT claude")
    found = Instructions(cwd, home, home / ".bridle", None, managed=None)
    found.load()
    text = found.render()
    assert "CWD agents" in text and "PARENT claude" in text and "PARENT agents" not in text


@pytest.mark.parametrize(
    ("patterns", "path", "hit"),
    [
        (["**/*.ts"], "src/a/b.ts", True),
        (["src/**/*"], "src/a/b.ts", True),
        (["src/**"], "lib/a.ts", False),
        (["*.md"], "docs/deep/x.md", True),
        (["docs/*.md"], "docs/deep/x.md", False),
        (["src/*.{ts,tsx}"], "src/app.tsx", True),
        (["/src"], "src/x/y.py", True),
        (["./tests/**/*.py"], "tests/unit/t.py", True),
        (["test_[a-c].py"], "pkg/test_b.py", True),
        (["test_[!a-c].py"], "pkg/test_b.py", False),
    ],
)
def test_path_globs(tmp_path: Path, patterns: list[str], path: str, hit: bool) -> None:
    assert PathGlobs(tmp_path, tuple(patterns)).matches(tmp_path / path) is hit


def test_glob_helpers() -> None:
    assert split_patterns("src/**/*.{ts,tsx}, lib/*.js") == ["src/**/*.{ts,tsx}", "lib/*.js"]
    assert expand_braces("a.{x,y{1,2}}") == ["a.x", "a.y1", "a.y2"]
    assert any_match(["**/team-b/CLAUDE.md"], "/w/mono/team-b/CLAUDE.md")
    assert any_match(["team-b/*"], "/w/mono/team-b/CLAUDE.md")
    assert not any_match(["/mono/**"], "/w/mono/CLAUDE.md")
    assert not PathGlobs(Path("/base"), ("**",)).matches(Path("/elsewhere/x"))


def test_a_file_name_that_is_not_utf8_is_shown_with_a_replacement(tmp_path: Path) -> None:
    t = tree(tmp_path)
    folder = os.fsencode(t["repo"] / ".claude" / "rules")
    with open(folder + b"/caf\xe9.md", "w") as f:
        f.write("ODD-NAME rule")
    text = load(t).render()
    assert "ODD-NAME rule" in text
    assert f"Contents of {t['repo'] / '.claude/rules'}/caf\ufffd.md (project rule):" in text
    text.encode("utf-8")  # a request can carry it
