"""The app's informational commands, driven by Pilot against the mock model:
/status, /tools, /skills, /context (the grid and its parts), /doctor (the
headless checks in the app) and /theme (list, switch, saved keeping the
settings file's comments, an unknown name's error), NO_COLOR, and /help
listing them."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from tui_helpers import app_over, buggy_project, scenario_file, wait_for

from bridle.tui.transcript import Note
from bridle.tui.views_info import context_grid

SIZE = (100, 30)


def notes(app: Any) -> str:
    return "\n".join(str(n.render()) for n in app.query(Note))


async def send(pilot: Any, app: Any, text: str) -> None:
    app.prompt.load_text(text)
    app.prompt.send()
    await pilot.pause(0.05)
    app.last_sent = ("", 0.0)


def test_status_tools_skills_and_context(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    skill = repo / ".claude" / "skills" / "release"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text(
        "---\nname: release\ndescription: cut a release of the package\n---\nSteps: tag it.\n"
    )
    (repo / "CLAUDE.md").write_text("Run tests with python -m unittest.\n" * 40)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "ok " * 200}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, app, "/status")
            shown = notes(app)
            assert f"session: {app.session.record.id}" in shown
            assert "model: mock/anthropic (context window" in shown
            assert "permission mode: default" in shown and "instruction files: 1" in shown
            await send(pilot, app, "/tools")
            assert "\n- Read: " in notes(app) and "\n- Bash: " in notes(app)
            await send(pilot, app, "/skills")
            assert "- release: cut a release of the package (project" in notes(app)
            await send(pilot, app, "/context")
            grids = app.query(".context")
            first = str(grids[-1].render())
            assert "■" in first and "□" in first
            assert "instructions: ~" in first and "messages: ~" in first
            await send(pilot, app, "tell me")
            await wait_for(pilot, lambda: app.query("Answer") and not app.running, "the answer")
            await send(pilot, app, "/context")
            second = str(app.query(".context")[-1].render())
            assert "the last request used" in second

            def tokens(text: str, part: str) -> int:
                line = next(x for x in text.splitlines() if x.startswith(f"■ {part}:"))
                return int(line.split("~")[1].split()[0].replace(",", ""))

            assert tokens(second, "messages") > tokens(first, "messages")
            assert tokens(first, "instructions") > 300  # the 40-line CLAUDE.md

    with app_over(repo, scenario) as (app, srv):
        asyncio.run(drive(app, srv))


def test_context_grid_cells_follow_the_parts() -> None:
    grid = context_grid({"system prompt": 10_000, "tools": 20_000, "instructions": 0,
                         "messages": 70_000}, 200_000, 0).plain  # fmt: skip
    cells = grid.split("context:")[0]
    assert cells.count("■") == 50 and cells.count("□") == 50  # half the window used
    assert "instructions: ~0 tokens (0.0%)" in grid and "free: ~100,000 tokens (50.0%)" in grid


def test_doctor_theme_and_no_color(tmp_path: Path, monkeypatch: Any) -> None:
    repo = buggy_project(tmp_path)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "ok"}])
    settings = Path(os.environ["BRIDLE_HOME"]) / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text('{\n  // my settings\n  "max_turns": 40\n}\n')
    monkeypatch.setenv("NO_COLOR", "1")

    async def drive(app: Any, srv: Any) -> None:
        assert app.no_color  # Textual draws the screen in monochrome
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, app, "/doctor")
            await wait_for(pilot, lambda: "doctor: " in notes(app), "the checks")
            shown = notes(app)
            assert "ok   python 3." in shown and "ok   model mock/anthropic" in shown
            await send(pilot, app, "/theme")
            assert "[textual-dark]" in notes(app) and "nord" in notes(app)
            await send(pilot, app, "/theme light")
            await wait_for(pilot, lambda: "theme textual-light (saved in" in notes(app), "it")
            assert app.theme == "textual-light"
            await send(pilot, app, "/theme nope")
            assert "no theme 'nope': choose one of" in notes(app)
            assert app.theme == "textual-light"
            await send(pilot, app, "/help")
            for name in ("status", "tools", "skills", "context", "doctor", "theme", "steer"):
                assert f"\n/{name}  " in notes(app)

    with app_over(repo, scenario) as (app, srv):
        asyncio.run(drive(app, srv))
    text = settings.read_text()
    assert "// my settings" in text and '"max_turns": 40' in text
    assert json.loads("\n".join(x for x in text.splitlines() if "//" not in x))["theme"] == (
        "textual-light"
    )
