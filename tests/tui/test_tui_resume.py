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


def test_paging_past_the_top_of_a_long_resumed_session_shows_earlier_messages(
    tmp_path: Path,
) -> None:
    import os

    from bridle.core.messages import Message, ModelResponse, StopReason, TextPart, Usage
    from bridle.engine.setup import open_session
    from bridle.store.conversation import response_event, user_event
    from bridle.tui.past import CHUNK

    repo = buggy_project(tmp_path)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "ok"}])
    with app_over(repo, scenario) as (_, srv):
        env = {**os.environ, "BRIDLE_MOCK_BASE_URL": srv.base_url}
        old = open_session(SessionOptions(model="mock/anthropic"), repo, env)
        for i in range(60):  # 120 messages: three screens' worth of chunks
            old.engine.sink.save(*user_event(Message("user", [TextPart(f"question {i}")])))
            reply = ModelResponse([TextPart(f"answer {i}")], StopReason.END_TURN, Usage(9, 9))
            old.engine.sink.save(*response_event(reply))
        old.engine.sink.commit()
        sid = old.record.id
        old.close()
    options = SessionOptions(model="mock/anthropic", headless=False, resume=sid)

    def prompts(app: Any) -> list[str]:
        return [str(p.render()) for p in app.query(Prompt)]

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.query(PastAnswer), "the history")
            assert len(app.query(PastAnswer)) == CHUNK // 2
            assert "… 80 earlier messages" in notes(app)
            t = app.transcript
            await pilot.press("ctrl+home")
            await pilot.pause(0.1)
            assert t.scroll_y == 0
            first = app.query(Prompt).first()
            await pilot.press("pageup")  # at the top: the next 40 messages come in above
            await wait_for(pilot, lambda: len(app.query(PastAnswer)) == CHUNK, "older ones")
            await pilot.pause(0.2)
            assert "… 40 earlier messages" in notes(app)
            assert t.scroll_y > 0  # the view stayed on what was read
            assert t.region.y <= first.region.y < t.region.bottom  # that prompt is still in view
            await pilot.press("ctrl+home")
            await pilot.pause(0.1)
            await pilot.press("ctrl+home")
            await wait_for(pilot, lambda: len(app.query(PastAnswer)) == 60, "the oldest")
            await pilot.pause(0.1)
            assert "earlier messages" not in notes(app)
            assert any("question 0" in p for p in prompts(app))
            assert [p for p in prompts(app) if p.endswith("question 59")]

    with app_over(repo, scenario, options=options) as (app, srv):
        asyncio.run(drive(app, srv))
