"""Terminal manners, driven by Pilot against the mock model: an OSC 9 desktop
notification after a long turn only while the terminal is unfocused (and the
bell, or nothing, as preferredNotifChannel says; wrapped for tmux), a settings
theme applied at launch, and OSC 8 links on the `file:line` paths of notes and
diffs (file:// or the editor's own scheme)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from rich.style import Style
from rich.text import Text
from textual import events
from tui_helpers import app_over, buggy_project, scenario_file, wait_for

from bridle.tui import manners
from bridle.tui.links import diff_text, editor_url, linked

SIZE = (100, 30)


def links(text: Text) -> dict[str, str]:
    return {
        text.plain[s.start : s.end]: str(s.style.link)
        for s in text.spans
        if isinstance(s.style, Style) and s.style.link
    }


def notified(monkeypatch: Any) -> list[str]:
    written: list[str] = []
    monkeypatch.setattr(manners, "write_terminal", lambda app, data: written.append(data))
    monkeypatch.setattr(manners, "NOTIFY_AFTER", 0.3)
    return written


def test_a_long_turn_notifies_only_while_the_terminal_is_unfocused(
    tmp_path: Path, monkeypatch: Any
) -> None:
    repo = buggy_project(tmp_path)
    scenario = scenario_file(
        tmp_path, [{"op": "final", "text": "fixed\nthe mean", "delay_ms": 500}]
    )
    written = notified(monkeypatch)

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            app.prompt.load_text("focused")
            app.prompt.send()
            await wait_for(pilot, lambda: app.running, "the turn")
            await wait_for(pilot, lambda: not app.running, "its end")
            assert written == []  # the user was watching
            app.post_message(events.AppBlur())
            await wait_for(pilot, lambda: not app.app_focus, "the blur")
            app.prompt.load_text("away")
            app.prompt.send()
            await wait_for(pilot, lambda: app.running, "the second turn")
            await wait_for(pilot, lambda: not app.running, "its end")
            assert written == ["\x1b]9;bridle: done in 1s: fixed the mean\x07"]
            app.post_message(events.AppFocus())
            await wait_for(pilot, lambda: app.app_focus, "the focus")

    with app_over(repo, scenario) as (app, srv):
        asyncio.run(drive(app, srv))


def test_notification_channel_and_tmux(tmp_path: Path, monkeypatch: Any) -> None:
    repo = buggy_project(tmp_path)
    (repo / ".bridle").mkdir()
    (repo / ".bridle" / "settings.json").write_text('{"preferredNotifChannel": "terminal_bell"}')
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "ok", "delay_ms": 500}])
    written = notified(monkeypatch)

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            app.post_message(events.AppBlur())
            await wait_for(pilot, lambda: not app.app_focus, "the blur")
            await wait_for(pilot, lambda: app.running, "the turn")
            await wait_for(pilot, lambda: not app.running, "its end")
            assert written == ["\a"]

    with app_over(repo, scenario, first_prompt="go") as (app, srv):
        asyncio.run(drive(app, srv))
    assert manners.osc9("done", {"TMUX": "/tmp/tmux-0/default,1,0"}) == (
        "\x1bPtmux;\x1b\x1b]9;done\x07\x1b\\"
    )
    assert manners.notification_text(30, None) == "bridle: the turn ended (it did not finish)"


def test_settings_theme_applies_at_launch_and_notes_link_file_paths(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    settings = Path(os.environ["BRIDLE_HOME"]) / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text('{"theme": "light"}\n')
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "ok"}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.theme == "textual-light", "the light theme")
            await app.note("the bug is in stats.py:3 and not in missing.py:1")
            await pilot.pause(0.1)
            # What the terminal is sent: segments styled with the link (OSC 8).
            strips = app.screen._compositor.render_strips()
            linked_text = {
                seg.text: seg.style.link
                for strip in strips
                for seg in strip
                if seg.style is not None and seg.style.link
            }
            url = (repo / "stats.py").resolve().as_uri()
            assert linked_text == {"stats.py:3": url}
            shown = "".join(s.render(app.console) for s in strips if "stats.py:3" in s.text)
            assert "\x1b]8;id=" in shown and f";{url}\x1b\\" in shown  # OSC 8 open

    with app_over(repo, scenario, env={"EDITOR": "vim"}) as (app, srv):
        asyncio.run(drive(app, srv))


def test_editor_urls_and_linked_diff_headers(tmp_path: Path) -> None:
    path = tmp_path / "src" / "a b.py"
    path.parent.mkdir()
    path.write_text("x = 1\n")
    assert editor_url(path, 12, {"EDITOR": "/usr/bin/code --wait"}) == f"vscode://file{path}:12"
    assert editor_url(path, None, {"VISUAL": "vi"}) == path.as_uri()
    template = {"BRIDLE_EDITOR_URL": "idea://open?file={path}&line={line}"}
    assert editor_url(path, 7, template) == f"idea://open?file={path}&line=7"
    text = linked("see src/a b.py and ./src/nothing.py:4", tmp_path, {})
    assert links(text) == {}  # a space ends a path; a missing file is not linked
    (tmp_path / "src" / "ok.py").write_text("")
    text = linked("see ./src/ok.py:4:2, then", tmp_path, {"EDITOR": "zed"})
    assert links(text) == {"./src/ok.py:4:2": f"zed://file{(tmp_path / 'src' / 'ok.py')}:4"}
    diff = diff_text("--- a/src/ok.py\n+++ b/src/ok.py\n@@ -1 +1 @@\n-a\n+b", tmp_path, {})
    assert set(links(diff)) == {"src/ok.py"} and diff.plain.endswith("+b")
