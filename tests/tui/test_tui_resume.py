"""/resume in the app, driven by Pilot against the mock model: the picker lists
the project's other sessions, Enter switches to one (its conversation shown, the
next prompt continues it, the old session saved and its lease released), and an
unknown id is a notice that keeps the current session."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tui_helpers import app_over, buggy_project, scenario_file, user_texts, wait_for

from bridle.engine.options import SessionOptions
from bridle.tui.resume import SessionPicker
from bridle.tui.transcript import Answer, Note, PastAnswer, Prompt

SIZE = (100, 30)


def notes(app: Any) -> str:
    return "\n".join(str(n.render()) for n in app.query(Note))


async def send(pilot: Any, app: Any, text: str) -> None:
    app.prompt.load_text(text)
    app.prompt.send()
    await pilot.pause(0.05)


def test_resume_picks_another_session_and_continues_it(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "noted"}])

    async def first(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, app, "remember alpha")
            await wait_for(pilot, lambda: app.query(Answer) and not app.running, "the answer")

    with app_over(repo, scenario) as (app, srv):
        asyncio.run(first(app, srv))
        alpha = app.session.record.id

    async def second(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            old = app.session
            left.append(old.record.id)
            await send(pilot, app, "/resume nosuchsession")
            await wait_for(pilot, lambda: "cannot resume nosuchsession" in notes(app), "the error")
            assert app.session is old
            await send(pilot, app, "/resume")
            picker = await wait_for(
                pilot, lambda: isinstance(app.screen, SessionPicker) and app.screen, "the picker"
            )
            assert [r.id for r in picker.records] == [alpha]
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.session.record.id == alpha, "the switch")
            await wait_for(pilot, lambda: app.query(PastAnswer), "the history")
            assert [str(p.render()) for p in app.query(Prompt)] == ["› remember alpha"]
            assert app.prompt.sent == ["remember alpha"]
            await send(pilot, app, "and beta")
            await wait_for(pilot, lambda: app.query(Answer) and not app.running, "the answer")
            assert user_texts(srv)[:2] == ["remember alpha", "and beta"]

    left: list[str] = []
    with app_over(repo, scenario) as (app, srv):
        asyncio.run(second(app, srv))
        assert app.session.record.id == alpha
        # The session it left was closed: its lease is free while the app still runs.
        again = SessionOptions(model="mock/anthropic", headless=False, resume=left[0])
        with app_over(repo, scenario, again) as (other, _):
            assert other.session.record.id == left[0]
