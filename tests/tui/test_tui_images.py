"""Pasted images, driven by Pilot against the mock model: pasting an image file's
path (quoted, as terminals paste a dragged file) puts `[image #1: name]` in the
prompt and the image goes to the model with it; other pastes stay text."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

from textual import events
from tui_helpers import app_over, buggy_project, scenario_file, wait_for

from bridle.tui.images import image_from_paste
from bridle.tui.transcript import Answer

SIZE = (100, 30)
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def test_paste_rules(tmp_path: Path) -> None:
    (tmp_path / "a b.PNG").write_bytes(PNG)
    (tmp_path / "notes.txt").write_text("x")
    name, part = image_from_paste(f"'{tmp_path / 'a b.PNG'}'", tmp_path) or ("", None)
    assert name == "a b.PNG" and part is not None and part.media_type == "image/png"
    assert base64.b64decode(part.data) == PNG
    assert image_from_paste(f"file://{tmp_path}/a%20b.PNG", tmp_path) is not None
    assert image_from_paste("a\\ b.PNG", tmp_path) is not None  # relative, escaped
    assert image_from_paste("notes.txt", tmp_path) is None
    assert image_from_paste("missing.png", tmp_path) is None
    assert image_from_paste("two words.png here", tmp_path) is None


def test_a_pasted_image_goes_with_the_prompt(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    (tmp_path / "shot.png").write_bytes(PNG)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "a red dot"}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*"what is in ")
            app.post_message(events.Paste(f"'{tmp_path / 'shot.png'}'"))
            await wait_for(pilot, lambda: "[image #1: shot.png]" in app.prompt.text, "the label")
            app.post_message(events.Paste(" please"))
            await wait_for(pilot, lambda: app.prompt.text.endswith(" please"), "plain text")
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.query(Answer) and not app.running, "the answer")
            content = srv.requests[-1]["body"]["messages"][0]["content"]
            images = [b for b in content if b.get("type") == "image"]
            assert len(images) == 1 and images[0]["source"]["media_type"] == "image/png"
            assert base64.b64decode(images[0]["source"]["data"]) == PNG
            texts = [b["text"] for b in content if b.get("type") == "text"]
            assert "what is in [image #1: shot.png] please" in texts
            assert app.images == {}

    with app_over(repo, scenario) as (app, srv):
        asyncio.run(drive(app, srv))
