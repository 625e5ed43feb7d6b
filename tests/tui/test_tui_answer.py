"""The streamed answer widget (`tui.answer.Answer`) in a real Textual app, driven
by Pilot: keys come first (while the user types it holds its repaints, for at most
`HOLD_MAX` since the last), its end is shown at once even while keys come, and a
long answer's finished blocks are set apart without a character lost. The clock
the widget reads is a fake one, so nothing here depends on the machine's speed."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from textual.app import App, ComposeResult

from bridle.tui import answer as answer_mod
from bridle.tui.answer import HOLD_MAX, QUIET, Answer


class Host(App[None]):
    """The smallest app an answer streams in: a prompt box's last key time."""

    def __init__(self) -> None:
        super().__init__()
        self.prompt = SimpleNamespace(typed_at=0.0)
        self.answer = Answer()

    def compose(self) -> ComposeResult:
        yield self.answer


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(answer_mod, "time", SimpleNamespace(monotonic=lambda: now[0]))
    return now


def shown(answer: Answer) -> str:
    return str(answer.live.render())


def test_typing_holds_the_repaints_for_at_most_hold_max(clock: list[float]) -> None:
    async def drive() -> None:
        app = Host()
        async with app.run_test(size=(80, 24)) as pilot:
            answer = app.answer
            await answer.add("first words")
            await answer.repaint()  # never painted, nobody typing: at once
            assert "first words" in shown(answer)
            painted = clock[0]

            clock[0] += 0.05
            app.prompt.typed_at = clock[0]  # a key
            assert answer.held() == pytest.approx(QUIET)
            await answer.add(" and more")
            await answer.repaint()
            assert "and more" not in shown(answer)  # held: the key's echo goes first
            assert answer._timer is not None  # ... and a repaint is due when it ends

            clock[0] = painted + HOLD_MAX - 0.01
            app.prompt.typed_at = clock[0]  # still typing
            assert answer.held() == pytest.approx(0.01)  # bounded by HOLD_MAX, not QUIET
            clock[0] = painted + HOLD_MAX
            await answer.repaint()
            assert "and more" in shown(answer)  # repainted though keys keep coming

            clock[0] += QUIET  # the keys stopped
            assert answer.held() == 0
            await answer.add(" and the end")
            app.prompt.typed_at = clock[0]
            await answer.finish()  # the end shows at once, keys or not
            assert "and the end" in shown(answer)
            await pilot.pause()

    asyncio.run(drive())


def test_a_long_answer_is_set_apart_in_blocks_without_losing_text(clock: list[float]) -> None:
    blocks = [f"### Step {i}\n\nThe helper divides by one too many ({i}).\n\n" for i in range(60)]

    async def drive() -> None:
        app = Host()
        async with app.run_test(size=(80, 24)) as pilot:
            answer = app.answer
            for block in blocks:
                for part in (block[:20], block[20:]):
                    await answer.add(part)
                clock[0] += HOLD_MAX
                await answer.repaint()
            await answer.finish()
            await pilot.pause()
            assert answer.text == "".join(blocks)
            kept: Any = answer.finished.texts
            assert len(kept) > 1  # the finished blocks were set apart
            assert "\n\n".join([*kept, answer.tail]).split() == answer.text.split()

    asyncio.run(drive())
