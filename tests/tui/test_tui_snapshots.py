"""Snapshot tests of the app's screen at 80×24 and 120×40, driven by Pilot against
the mock model: the example bug being fixed (the Edit's permission modal with its
diff), the finished fix (tool lines, the answer, the HUD), and the `/` completion
list. Each screen is compared as text with `tests/tui/snapshots/<name>.txt`
after masking what changes from run to run (the project's temp folder, made
with a fixed-length name so lines wrap the same way, the session id, timers
and durations, token counts and the context bar). `BRIDLE_UPDATE_SNAPSHOTS=1` writes the files instead; review the diff."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import app_over, buggy_project, scenario_file, wait_for

from bridle.tui.completion import CompletionList
from bridle.tui.permission import PermissionScreen

SNAPSHOTS = Path(__file__).parent / "snapshots"
SIZES = [(80, 24), (120, 40)]
MASKS = [
    (re.compile(r"bridle-snap-[^/]{8}"), "bridle-snap-XXXXXXXX"),
    (re.compile(r"session [0-9a-f]{8}"), "session XXXXXXXX"),
    (re.compile(r"\d+\.\d+s\b"), "N.Ns"),
    (re.compile(r"[⏱⟳] \d+[smh][0-9sm]*"), "⏱ N"),
    (re.compile(r"↑[\d.]+[kM]? ↓[\d.]+[kM]?"), "↑N ↓N"),
    (re.compile(r"[▰▱]+ \d+%"), "▰▱ N%"),
]


def screen_text(app: Any) -> str:
    """What the screen shows, one line per row, trailing blanks dropped."""
    strips = app.screen._compositor.render_strips()
    lines = ["".join(seg.text for seg in strip).rstrip() for strip in strips]
    text = "\n".join(lines).rstrip() + "\n"
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return text


@pytest.fixture
def fixed_dir() -> Iterator[Path]:
    """A project folder whose path has the same length on every run (the
    permission question shows it, and its length moves the wrapping)."""
    folder = Path(tempfile.mkdtemp(prefix="bridle-snap-", dir="/tmp"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def check(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("BRIDLE_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"no snapshot {path.name}: run with BRIDLE_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} changed:\n{text}"


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_example_fix_on_screen(fixed_dir: Path, size: tuple[int, int]) -> None:
    repo = buggy_project(fixed_dir)
    tag = f"{size[0]}x{size[1]}"

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=size) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, PermissionScreen), "an ask")
            await pilot.press("y")  # the failing test run
            await wait_for(
                pilot,
                lambda: isinstance(app.screen, PermissionScreen) and app.screen.call.name == "Edit",
                "the Edit question",
            )
            await pilot.pause(0.2)
            check(f"edit-modal-{tag}", screen_text(app))
            await pilot.press("y")
            await wait_for(pilot, lambda: isinstance(app.screen, PermissionScreen), "the rerun")
            await pilot.press("y")
            await wait_for(pilot, lambda: not app.running and app.answer is None, "the end")
            await pilot.pause(0.3)
            check(f"fixed-{tag}", screen_text(app))

    with app_over(repo, repo / "scenario.json", first_prompt="fix the failing test") as (
        app,
        srv,
    ):
        asyncio.run(drive(app, srv))


def test_the_completion_list_on_screen(fixed_dir: Path) -> None:
    repo = buggy_project(fixed_dir)
    scenario = scenario_file(fixed_dir, [{"op": "final", "text": "ok"}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"/c")
            await wait_for(pilot, lambda: app.query_one(CompletionList).shown, "the list")
            await pilot.pause(0.2)
            check("completion-80x24", screen_text(app))

    with app_over(repo, scenario) as (app, srv):
        asyncio.run(drive(app, srv))
