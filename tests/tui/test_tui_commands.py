"""The app's built-in commands, driven by Pilot against the mock model: /model
(fuzzy over the catalog, a list when several match, the engine's error for an
unknown one), /compact [focus] with an /anchor kept through it (and queued when
typed during a turn), /clear, /memory, /cost, and /help listing them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from tui_helpers import app_over, buggy_project, scenario_file, user_texts, wait_for

from bridle.engine.options import SessionOptions
from bridle.tui.transcript import Answer, Note

SIZE = (100, 30)


def notes(app: Any) -> str:
    return "\n".join(str(n.render()) for n in app.query(Note))


async def send(pilot: Any, app: Any, text: str) -> None:
    app.prompt.load_text(text)
    app.prompt.send()
    await pilot.pause(0.05)


async def answered(pilot: Any, app: Any, count: int) -> None:
    await wait_for(
        pilot, lambda: len(app.query(Answer)) >= count and not app.running, f"answer {count}"
    )


def test_model_switches_fuzzy_over_the_catalog(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "ok"}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, app, "/model")
            assert "model: mock/anthropic · /model NAME switches" in notes(app)
            await send(pilot, app, "/model claude sonnet")
            assert "models match 'claude sonnet': anthropic/claude-sonnet-" in notes(app)
            assert app.hud.model == "mock/anthropic"
            await send(pilot, app, "/model nosuchprovider/zzz")
            await wait_for(pilot, lambda: "nosuchprovider/zzz" in notes(app), "the error")
            assert app.hud.model == "mock/anthropic"
            await send(pilot, app, "/model openai-resp")
            await wait_for(pilot, lambda: app.hud.model == "mock/openai-responses", "the new model")
            await send(pilot, app, "hi")
            await answered(pilot, app, 1)
            assert srv.requests[-1]["path"] == "/v1/responses"

    with app_over(repo, scenario) as (app, srv):
        asyncio.run(drive(app, srv))


def test_compact_with_focus_keeps_anchors_and_clear_starts_again(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "mean is wrong", "delay_ms": 800}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, app, "/compact")
            await wait_for(pilot, lambda: "nothing to compact yet" in notes(app), "the notice")
            await send(pilot, app, "/anchor")
            assert "no anchors yet" in notes(app)
            await send(pilot, app, "/anchor tests run with python -m unittest")
            assert "anchored: tests run with python -m unittest" in notes(app)
            await send(pilot, app, "/anchor")
            assert "anchors:\n- tests run with python -m unittest" in notes(app)

            await send(pilot, app, "look at stats.py")
            await wait_for(pilot, lambda: app.running, "the turn")
            await send(pilot, app, "/compact the mean function")  # queued behind the turn
            assert app.queue == ["/compact the mean function"]
            await wait_for(pilot, lambda: "context compacted (summarised)" in notes(app), "it")
            summary_ask = "\n".join(user_texts(srv))
            assert "Focus the summary on: the mean function" in summary_ask
            assert app.hud.notice == ""
            await send(pilot, app, "go on")
            await answered(pilot, app, 2)
            after = "\n".join(user_texts(srv))
            system = json.dumps(srv.requests[-1]["body"].get("system"))
            assert "tests run with python -m unittest" in system  # the anchor survived
            assert "look at stats.py" not in user_texts(srv)  # a summary stands for it now
            assert "Goal: look at stats.py" in after

            await send(pilot, app, "/clear")
            await wait_for(pilot, lambda: "conversation cleared" in notes(app), "the clear")
            assert app.hud.context_used == 0
            await send(pilot, app, "fresh start")
            await answered(pilot, app, 3)
            assert user_texts(srv) == ["fresh start"]
            await send(pilot, app, "/cost")
            assert "this session: ↑" in notes(app) and "output tokens · $0.0000" in notes(app)

    with app_over(repo, scenario) as (app, srv):
        asyncio.run(drive(app, srv))
    # -c resumes after the /clear: only the last exchange is there.
    with app_over(
        repo, scenario, SessionOptions(model="mock/anthropic", headless=False, continue_latest=True)
    ) as (app, srv):
        messages = app.session.engine.messages
        assert [m.text for m in messages if m.role == "user"] == ["fresh start"]


def test_memory_shows_the_projects_memory_index(tmp_path: Path) -> None:
    import os

    from bridle.extensions.memory import memory_dir

    repo = buggy_project(tmp_path)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "ok"}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, app, "/memory")
            assert "MEMORY.md does not exist yet" in notes(app)
            folder = memory_dir(repo, app.env, app.session.settings)
            folder.mkdir(parents=True)
            (folder / "MEMORY.md").write_text("- testing.md: run unittest, not pytest\n")
            await asyncio.sleep(0.6)  # past the duplicate-prompt guard
            await send(pilot, app, "/memory")
            assert f"memory: {folder / 'MEMORY.md'}\n- testing.md: run unittest" in notes(app)
            await send(pilot, app, "/help")
            shown = notes(app)
            for name in ("model", "compact", "clear", "anchor", "memory", "cost", "quit"):
                assert f"\n/{name}  " in shown

    with app_over(repo, scenario) as (app, srv):
        assert os.environ.get("BRIDLE_HOME")  # the memory folder is under the test's home
        asyncio.run(drive(app, srv))


def test_queue_lists_drops_and_takes_back_queued_prompts(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "noted", "delay_ms": 1500}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.running, "the first turn")
            for text in ("second", "third", "fourth"):
                await send(pilot, app, text)
            await send(pilot, app, "/queue")
            assert "queued:\n1. second\n2. third\n3. fourth" in notes(app)
            await send(pilot, app, "/queue drop 2")
            assert "dropped: third" in notes(app)
            await send(pilot, app, "/queue edit 2")
            assert "taken back: fourth" in notes(app) and app.prompt.text == "fourth"
            app.prompt.clear()
            await send(pilot, app, "/queue drop 9")
            assert "N is a queued prompt's number (1-1)" in notes(app)
            assert app.queue == ["second"]
            await answered(pilot, app, 2)
            await pilot.pause(0.3)
            prompts = [t for t in user_texts(srv) if t in ("first", "second", "third", "fourth")]
            assert prompts == ["first", "second"]
            await send(pilot, app, "/queue")
            assert "the queue is empty" in notes(app)

    with app_over(repo, scenario, first_prompt="first") as (app, srv):
        asyncio.run(drive(app, srv))


def test_copy_puts_the_last_answer_on_the_clipboard(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "the **answer** is 42"}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, app, "/copy")
            assert "no answer to copy yet" in notes(app)
            await send(pilot, app, "tell me")
            await answered(pilot, app, 1)
            await send(pilot, app, "/copy")
            assert app.clipboard == "the **answer** is 42"
            assert "copied the last answer (20 characters)" in notes(app)

    with app_over(repo, scenario) as (app, srv):
        asyncio.run(drive(app, srv))
