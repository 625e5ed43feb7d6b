"""The todo list panel, driven by Pilot against the mock model: a TodoWrite call
shows the list (☑ done, ◐ the active form of the item in progress, ☐ pending),
Ctrl+T hides and shows it, a resumed session opens with it, /clear empties it,
and Ctrl+T without a list says so."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from tui_helpers import app_over, buggy_project, scenario_file, wait_for

from bridle.engine.options import SessionOptions
from bridle.tui.todos import TodoPanel
from bridle.tui.transcript import Note, PastAnswer

SIZE = (100, 30)
TODOS = [
    {"content": "find the bug", "status": "completed"},
    {"content": "fix mean", "status": "in_progress", "activeForm": "Fixing mean"},
    {"content": "run the tests", "status": "pending"},
]


def test_todo_write_shows_the_list_and_ctrl_t_toggles_it(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    scenario = scenario_file(
        tmp_path,
        [
            {"op": "call", "tool": "TodoWrite", "input": json.dumps({"todos": TODOS})},
            {"op": "final", "text": "planned"},
        ],
    )

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            panel = app.query_one(TodoPanel)
            assert not panel.has_class("shown")
            await pilot.press("ctrl+t")
            await wait_for(
                pilot,
                lambda: "no todo list yet" in "".join(str(n.render()) for n in app.query(Note)),
                "the notice",
            )
            await pilot.press(*"plan it", "enter")
            await wait_for(pilot, lambda: panel.has_class("shown"), "the list")
            shown = str(panel.render())
            assert "Todos 1/3 done" in shown
            assert "☑ find the bug" in shown and "◐ Fixing mean" in shown
            assert "☐ run the tests" in shown
            assert panel.region.height > 0  # on screen
            await pilot.press("ctrl+t")
            await pilot.pause(0.05)
            assert not panel.has_class("shown")
            await pilot.press("ctrl+t")
            await pilot.pause(0.05)
            assert panel.has_class("shown")
            await wait_for(pilot, lambda: not app.running, "the end of the turn")

    async def clear(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            panel = app.query_one(TodoPanel)
            assert "◐ Fixing mean" in str(panel.render())  # the resumed session's list
            assert [a.text for a in app.query(PastAnswer)] == ["planned"]  # drawn by Rich
            app.prompt.load_text("/clear")
            app.prompt.send()
            await wait_for(pilot, lambda: not panel.has_class("shown"), "the list cleared")
            assert panel.todos == []

    with app_over(repo, scenario) as (app, srv):
        asyncio.run(drive(app, srv))
    resume = SessionOptions(model="mock/anthropic", headless=False, continue_latest=True)
    with app_over(repo, scenario, resume) as (app, srv):
        asyncio.run(clear(app, srv))
