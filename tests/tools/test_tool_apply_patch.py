"""ApplyPatch, table-driven like Codex's `apply-patch/tests/fixtures/scenarios`:
each `fixtures/apply_patch/NNN_name/` holds `input/`, `patch.txt` and
`expected/`. A scenario whose expected tree equals its input must fail and leave
every file untouched."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bridle.core.errors import ToolError
from bridle.tools.apply_patch import ApplyPatch
from bridle.tools.base import ToolContext

FIXTURES = Path(__file__).parent / "fixtures" / "apply_patch"
SCENARIOS = sorted(p for p in FIXTURES.iterdir() if p.is_dir())


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and p.name != ".gitkeep"
    }


def test_there_are_enough_scenarios() -> None:
    assert len(SCENARIOS) >= 12
    assert sum(snapshot(s / "input") == snapshot(s / "expected") for s in SCENARIOS) >= 5


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(scenario: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    shutil.copytree(scenario / "input", work)
    ctx = ToolContext(cwd=work, verify={})
    patch = (scenario / "patch.txt").read_text()
    expected = snapshot(scenario / "expected")
    if expected == snapshot(scenario / "input"):
        with pytest.raises(ToolError):
            ApplyPatch().run({"input": patch}, ctx)
    else:
        ApplyPatch().run({"input": patch}, ctx)
    assert snapshot(work) == expected


def test_result_lists_changes_and_verifies(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "gone.txt").write_text("bye\n")
    ctx = ToolContext(cwd=tmp_path)
    patch = (
        "*** Begin Patch\n*** Update File: a.py\n-x = 1\n+x = (\n"
        "*** Add File: b.json\n+{}\n*** Delete File: gone.txt\n*** End Patch"
    )
    out = ApplyPatch().run({"input": patch}, ctx)
    assert out.content[0].text == (
        "Success. Updated the following files:\nM a.py\nA b.json\nD gone.txt\n"
        "Verify failed for a.py (python syntax):\nSyntaxError: '(' was never closed (line 1, column 5)\n    x = ("
    )
    assert out.changed_files == [str(tmp_path / n) for n in ("a.py", "b.json", "gone.txt")]
    assert set(ctx.read_files) == {str(tmp_path / "a.py"), str(tmp_path / "b.json")}


def test_a_failed_write_rolls_back_earlier_files(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a\n")
    (tmp_path / "gone.txt").write_text("g\n")
    (tmp_path / "gone.txt").chmod(0o640)
    (tmp_path / "blocker").write_text("a file where a directory is needed\n")
    before = snapshot(tmp_path)
    patch = (
        "*** Begin Patch\n*** Update File: a.txt\n-a\n+A\n*** Delete File: gone.txt\n"
        "*** Add File: blocker/new.txt\n+x\n*** End Patch"
    )
    with pytest.raises(
        ToolError, match=r"writing blocker/new.txt failed .*all changes were rolled back"
    ):
        ApplyPatch().run({"input": patch}, ToolContext(cwd=tmp_path, verify={}))
    assert snapshot(tmp_path) == before
    assert (tmp_path / "gone.txt").stat().st_mode & 0o777 == 0o640
