"""The greeting, launch animation and goodbye switches (`tui.welcome`): their
defaults, the sweep's frames, the app over a real session following each
setting (Pilot), and `bridle settings` saving them with the notification
channel."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tui_helpers import app_over, buggy_project, scenario_file, wait_for

from bridle.config.jsonc import parse_jsonc
from bridle.tui.hud import HudState
from bridle.tui.settings_app import SettingsApp
from bridle.tui.settings_pages import SettingsForm
from bridle.tui.transcript import Note
from bridle.tui.welcome import (
    ANIMATION,
    GOODBYE,
    GREETING,
    enabled,
    goodbye_line,
    sweep_frames,
)

SIZE = (100, 30)


def settings(**values: Any) -> Path:
    path = Path(os.environ["BRIDLE_HOME"]) / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values))
    return path


def test_defaults_and_non_boolean_values() -> None:
    assert [enabled(None, k) for k in (GREETING, ANIMATION, GOODBYE)] == [True, False, True]
    given = {GREETING: False, ANIMATION: True, GOODBYE: "no"}
    assert [enabled(given, k) for k in (GREETING, ANIMATION, GOODBYE)] == [False, True, True]


def test_the_sweep_lights_the_head_only_and_ends_plain() -> None:
    text = "bridle · new session 1a2b3c4d · Enter send · Ctrl+C twice quit"
    frames = sweep_frames(text)
    head = len("bridle · new session 1a2b3c4d")
    assert all(str(f) == text for f in frames)
    assert 10 <= len(frames) <= 30  # about half a second at 30 ms a frame
    lit = [
        [(s.start, s.end) for s in f.spans if "bold" in str(s.style)] for f in frames[:-1]
    ]  # fmt: skip
    assert all(end <= head for spans in lit for _, end in spans)
    starts = [spans[0][0] for spans in lit if spans]
    assert starts == sorted(starts) and starts[0] == 0 and starts[-1] > head - 8
    assert frames[-1].spans == []


def test_the_goodbye_line_sums_up_or_stays_quiet() -> None:
    hud = HudState(tokens_in=12_400, tokens_out=2_100, cost_usd=0.0123)
    app = SimpleNamespace(settings={}, hud=hud)
    assert goodbye_line(app, 65.2) == (  # type: ignore[arg-type]
        "bridle: goodbye · 12.4k tokens in, 2.1k out · $0.0123 · 1m05s in the app"
    )
    assert goodbye_line(SimpleNamespace(settings={GOODBYE: False}, hud=hud), 3) is None  # type: ignore[arg-type]


def greetings(app: Any) -> list[Note]:
    return [n for n in app.query(Note) if str(n.content).startswith("bridle · ")]


def test_the_app_leaves_the_greeting_out_when_it_is_off(tmp_path: Path) -> None:
    settings(showGreeting=False)
    repo = buggy_project(tmp_path)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "hi"}])

    async def drive(app: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(0.2)
            assert greetings(app) == []
            assert app.prompt.has_focus

    with app_over(repo, scenario) as (app, _):
        asyncio.run(drive(app))


def test_the_launch_animation_sweeps_then_settles(tmp_path: Path, monkeypatch: Any) -> None:
    import bridle.tui.welcome as welcome

    monkeypatch.setattr(welcome, "FRAME_S", 0.25)  # slow enough to see frames on a busy machine
    settings(launchAnimation=True, theme="nord")
    repo = buggy_project(tmp_path)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "hi"}])
    seen: list[Any] = []

    async def drive(app: Any) -> None:
        drawn = app.greeting.update

        def update(content: Any = "", **kwargs: Any) -> None:  # every frame, however fast
            seen.append(content.copy() if hasattr(content, "copy") else content)
            drawn(content, **kwargs)

        app.greeting.update = update
        async with app.run_test(size=SIZE) as pilot:
            (note,) = greetings(app)
            assert app.theme == "nord"
            assert app.prompt.has_focus  # keys go to the prompt from the first frame
            await wait_for(pilot, lambda: any(f.spans for f in seen), "a frame", timeout=30)
            last = [len(seen), time.monotonic()]

            def settled() -> bool:  # the plain line, and no frame since for a second
                if len(seen) != last[0]:
                    last[:] = [len(seen), time.monotonic()]
                return seen[-1].spans == [] and time.monotonic() - last[1] > 1.0

            await wait_for(pilot, settled, "the sweep to end", timeout=60)
            assert note.content.spans == []  # it settled on the plain line, its timer stopped
            await pilot.press("h", "i")
            assert app.prompt.text == "hi"

    with app_over(repo, scenario) as (app, _):
        asyncio.run(drive(app))
    assert any(s.spans for s in seen), "no frame of the sweep was drawn"


def test_settings_turns_the_switches_and_the_notification_channel(tmp_path: Path) -> None:
    path = settings(theme="nord")

    async def drive() -> list[str]:
        app = SettingsApp(SettingsForm.load(os.environ))
        async with app.run_test(size=(100, 30)) as pilot:
            body = lambda: str(app.query_one("#body").render())  # noqa: E731
            assert "Launch animation" in body() and "Greeting message" in body()
            await pilot.press("down", "space")  # launch animation on
            await pilot.press("down", "down", "space")  # goodbye off
            await pilot.press("right")
            assert "Notifications" in body() and "[auto]" in body()
            await pilot.press("down", "down", "space")  # terminal_bell
            await pilot.press("s")
        return app.return_value

    done = asyncio.run(drive())
    assert len(done) == 3
    assert parse_jsonc(path.read_text()) == {
        "theme": "nord",
        "launchAnimation": True,
        "showGoodbye": False,
        "preferredNotifChannel": "terminal_bell",
    }


def test_altergo_palettes_are_themes_the_app_switches_to(tmp_path: Path) -> None:
    from textual.color import Color

    from bridle.tui.themes import ALTERGO, xterm

    assert (xterm(39), xterm(16), xterm(231), xterm(232), xterm(255)) == (
        "#00afff", "#000000", "#ffffff", "#080808", "#eeeeee",
    )  # fmt: skip
    settings(theme="sunset")
    repo = buggy_project(tmp_path)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "hi"}])

    async def drive(app: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            assert set(ALTERGO) <= set(app.available_themes)
            assert app.theme == "sunset"

            def primary_is(hex_colour: str) -> bool:  # Textual rounds a step either way
                got, want = Color.parse(app.get_css_variables()["primary"]), Color.parse(hex_colour)
                return all(abs(a - b) <= 2 for a, b in zip(got.rgb, want.rgb, strict=True))

            assert primary_is(xterm(209))  # sunset's coral
            await pilot.press(*"/theme forest", "enter")
            await wait_for(pilot, lambda: app.theme == "forest", "the switch")
            assert primary_is(xterm(78)) and not primary_is(xterm(209))

    with app_over(repo, scenario) as (app, _):
        asyncio.run(drive(app))
    assert json.loads((Path(os.environ["BRIDLE_HOME"]) / "settings.json").read_text())["theme"] == (
        "forest"
    )
