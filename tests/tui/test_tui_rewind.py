"""Esc Esc rewind, driven by Pilot against the mock model: after two prompts (one
writes a new file, one fixes stats.py), rewinding to before the second restores
stats.py and the conversation and puts the prompt back; rewinding the files only
to before the first deletes the file it created and keeps the conversation."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from tui_helpers import app_over, buggy_project, wait_for

from bridle.engine.options import SessionOptions
from bridle.tui.rewind import RewindScreen
from bridle.tui.transcript import Answer, Note

SIZE = (100, 30)
OLD, NEW = "(len(values) + 1)", "len(values)"


def notes(app: Any) -> str:
    return "\n".join(str(n.render()) for n in app.query(Note))


def user_prompts(app: Any) -> list[str]:
    return [m.text for m in app.session.engine.messages if m.role == "user" and m.text.strip()]


def test_esc_esc_rewinds_the_conversation_and_the_files(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    original = (repo / "stats.py").read_text()
    # The mock picks a turn by the number of tool calls so far; the second
    # prompt's marker switches to a script whose turn 1 is the edit.
    scenario = tmp_path / "scenario.json"
    scenario.write_text(
        json.dumps(
            {
                "name": "rewind",
                "prompt": "p",
                "final": "done",
                "turns": [
                    {"op": "write", "path": "notes.txt", "content": "remember\n"},
                    {"op": "final", "text": "wrote it"},
                ],
                "agents": {
                    "FIX-STATS": {
                        "final": "fixed",
                        "turns": [
                            {"op": "final", "text": "unused"},
                            {"op": "read", "path": "stats.py"},
                            {"op": "edit", "path": "stats.py", "old": OLD, "new": NEW},
                        ],
                    }
                },
            }
        )
    )
    options = SessionOptions(
        model="mock/anthropic", headless=False, permission_mode="bypassPermissions"
    )

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            for n, text in enumerate(("write notes", "FIX-STATS now"), 1):
                app.prompt.load_text(text)
                app.prompt.send()
                await wait_for(
                    pilot, lambda n=n: len(app.query(Answer)) == n and not app.running, "answer"
                )
            assert (repo / "notes.txt").exists() and (repo / "stats.py").read_text() != original

            await pilot.press("escape", "escape")
            screen = await wait_for(
                pilot, lambda: isinstance(app.screen, RewindScreen) and app.screen, "rewind"
            )
            assert [t for _, t in screen.prompts] == ["write notes", "FIX-STATS now"]
            assert list(screen.changed.values()) == [2, 1]
            await pilot.press("enter")  # the newest prompt: "FIX-STATS now"
            await pilot.press("enter")  # the conversation and the files
            await wait_for(pilot, lambda: "files restored (1): stats.py" in notes(app), "it")
            await wait_for(pilot, lambda: user_prompts(app) == ["write notes"], "the rewind")
            assert (repo / "stats.py").read_text() == original
            assert (repo / "notes.txt").exists()
            assert app.prompt.text == "FIX-STATS now"

            app.prompt.clear()
            await pilot.pause(1.0)  # a fresh Esc Esc
            await pilot.press("escape", "escape")
            await wait_for(pilot, lambda: isinstance(app.screen, RewindScreen), "rewind again")
            await pilot.press("enter", "down", "down", "enter")  # the files only
            await wait_for(pilot, lambda: "files restored (1): notes.txt" in notes(app), "it")
            assert not (repo / "notes.txt").exists()
            assert user_prompts(app) == ["write notes"]
            assert app.prompt.text == ""

    with app_over(repo, scenario, options) as (app, srv):
        asyncio.run(drive(app, srv))
    # The rewound conversation is what -c resumes.
    resume = SessionOptions(model="mock/anthropic", headless=False, continue_latest=True)
    with app_over(repo, scenario, resume) as (app, srv):
        assert user_prompts(app) == ["write notes"]
