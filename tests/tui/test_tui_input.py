"""The prompt box's helpers in the app, driven by Pilot against the mock model:
`/` completion with descriptions (built-ins and the project's commands), `@`
path completion into folders, Ctrl+R history search, `!` shell commands whose
output goes with the next prompt, Ctrl+G editing the prompt in $EDITOR, and the
500 ms duplicate-prompt guard."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tui_helpers import app_over, buggy_project, scenario_file, user_texts, wait_for

from bridle.tui.completion import CompletionList, complete
from bridle.tui.history_search import HistorySearch, matches
from bridle.tui.transcript import Answer, Prompt, ToolLine

SIZE = (100, 30)


def shown_choices(app: Any) -> list[str]:
    popup = app.query_one(CompletionList)
    return [c.label for c in popup.choices] if popup.has_class("shown") else []


def test_completion_rules_without_an_app(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.py").write_text("")
    (tmp_path / "setup.py").write_text("")
    (tmp_path / ".hidden").write_text("")
    commands = {"help": "keys", "hello": "say hello", "model": "switch"}
    got = complete("/he", 3, commands, tmp_path)
    assert [(c.text, c.description) for c in got] == [("/help ", "keys"), ("/hello ", "say hello")]
    assert complete("/help me", 8, commands, tmp_path) == []  # arguments: no list
    assert [c.text for c in complete("look at @s", 10, commands, tmp_path)] == [
        "@src/",
        "@setup.py",
    ]
    got = complete("see @src/m and more", 10, commands, tmp_path)
    assert [(c.start, c.end, c.text) for c in got] == [(4, 10, "@src/main.py")]
    assert [c.text for c in complete("@.h", 3, commands, tmp_path)] == ["@.hidden"]
    assert complete("@nosuch/x", 9, commands, tmp_path) == []
    assert complete("plain words", 11, commands, tmp_path) == []


def test_history_search_matches_every_word_newest_first() -> None:
    prompts = ["fix the bug", "run the tests", "Fix the TESTS", "fix the bug"]
    assert matches(prompts, "fix") == ["fix the bug", "Fix the TESTS"]
    assert matches(prompts, "tests fix") == ["Fix the TESTS"]
    assert matches(prompts, "") == ["fix the bug", "Fix the TESTS", "run the tests"]


def test_slash_and_at_completion_in_the_app(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    commands = repo / ".claude" / "commands"
    commands.mkdir(parents=True)
    (commands / "greet.md").write_text("---\ndescription: Greet someone\n---\nSay hi\n")
    (repo / "pkg").mkdir()
    (repo / "pkg" / "mod.py").write_text("")
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "ok"}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*"/gr")
            await wait_for(pilot, lambda: shown_choices(app) == ["/greet"], "the /greet choice")
            popup = app.query_one(CompletionList)
            assert "Greet someone" in str(popup.get_option_at_index(0).prompt)
            await pilot.press("tab")
            assert app.prompt.text == "/greet "
            await wait_for(pilot, lambda: not shown_choices(app), "the list closed")
            app.prompt.clear()

            await pilot.press(*"/c")
            await wait_for(pilot, lambda: shown_choices(app), "the /c choices")
            assert shown_choices(app)[:3] == ["/compact", "/clear", "/cost"]
            await pilot.press("down", "tab")
            assert app.prompt.text == "/clear "
            app.prompt.clear()

            await pilot.press(*"look at @st")
            await wait_for(pilot, lambda: shown_choices(app) == ["@stats.py"], "@stats.py")
            await pilot.press("tab")
            assert app.prompt.text == "look at @stats.py"
            await pilot.press(*" and @p")
            await wait_for(pilot, lambda: shown_choices(app) == ["@pkg/"], "the folder")
            await pilot.press("tab")
            await wait_for(pilot, lambda: shown_choices(app) == ["@pkg/mod.py"], "its file")
            await pilot.press("escape")
            assert not shown_choices(app)
            assert not app.running  # Esc closed the list; nothing was sent
            assert app.prompt.text == "look at @stats.py and @pkg/"

            app.prompt.clear()
            await pilot.press(*"/hel", "enter")  # Enter takes the command and runs it
            await wait_for(pilot, lambda: "/compact  summarise" in notes(app), "the help")
            assert len(srv.requests) == 0

    with app_over(repo, scenario) as (app, srv):
        asyncio.run(drive(app, srv))


def notes(app: Any) -> str:
    from bridle.tui.transcript import Note

    return "\n".join(str(n.render()) for n in app.query(Note))


def test_ctrl_r_searches_the_prompts_sent(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "ok"}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            for text in ("explain stats.py", "run the tests"):
                await pilot.press(*text, "enter")
                await wait_for(pilot, lambda: not app.running, "the turn's end")
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: isinstance(app.screen, HistorySearch), "the search")
            await pilot.press(*"stats")
            assert app.screen.found == ["explain stats.py"]
            await pilot.press("enter")
            await wait_for(pilot, lambda: not isinstance(app.screen, HistorySearch), "closed")
            assert app.prompt.text == "explain stats.py"
            app.prompt.clear()
            await pilot.press("ctrl+r", "ctrl+r", "enter")  # Ctrl+R again: the next older
            await wait_for(pilot, lambda: app.prompt.text == "explain stats.py", "the older one")
            app.prompt.clear()
            await pilot.press("ctrl+r", "escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, HistorySearch), "closed")
            assert app.prompt.text == ""

    with app_over(repo, scenario) as (app, srv):
        asyncio.run(drive(app, srv))


def test_bang_runs_a_shell_command_and_its_output_goes_with_the_next_prompt(
    tmp_path: Path,
) -> None:
    repo = buggy_project(tmp_path)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "I see it"}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*"!ls; echo done; exit 3", "enter")
            line = await wait_for(
                pilot,
                lambda: [x for x in app.query(ToolLine) if x.result is not None],
                "the command's line",
            )
            shown = str(line[0].render())
            assert line[0].title == "! ls; echo done; exit 3"
            assert "stats.py" in shown and "done" in shown
            assert line[0].status().plain.startswith(" ✗ exit 3")
            assert len(srv.requests) == 0  # no turn
            await pilot.press(*"what failed?", "enter")
            await wait_for(pilot, lambda: app.query(Answer) and not app.running, "the answer")
            sent = "\n".join(user_texts(srv))
            assert "<bash-input>ls; echo done; exit 3</bash-input>" in sent
            assert "stats.py" in sent and "<bash-exit-code>3</bash-exit-code>" in sent
            assert sent.rstrip().endswith("what failed?")
            assert [str(p.render()) for p in app.query(Prompt)] == ["› what failed?"]

    with app_over(repo, scenario) as (app, srv):
        asyncio.run(drive(app, srv))


def test_ctrl_g_edits_the_prompt_in_the_editor(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "ok"}])
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "%s\\nsecond line\\n" "$(cat "$1") edited" > "$1"\n')
    editor.chmod(0o755)
    failing = tmp_path / "failing.sh"
    failing.write_text('#!/bin/sh\necho junk > "$1"\nexit 1\n')
    failing.chmod(0o755)

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*"first line")
            await pilot.press("ctrl+g")
            await wait_for(pilot, lambda: "edited" in app.prompt.text, "the edited prompt")
            assert app.prompt.text == "first line edited\nsecond line"
            app.env["EDITOR"] = str(failing)
            await pilot.press("ctrl+g")
            await pilot.pause(0.2)
            assert app.prompt.text == "first line edited\nsecond line"  # kept
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.query(Answer) and not app.running, "the answer")
            assert "first line edited\nsecond line" in user_texts(srv)

    with app_over(repo, scenario, env={"EDITOR": str(editor), "VISUAL": ""}) as (app, srv):
        asyncio.run(drive(app, srv))


def test_a_prompt_sent_twice_within_half_a_second_is_sent_once(
    tmp_path: Path, monkeypatch: Any
) -> None:
    import bridle.tui.app as app_module

    # The window is widened so a slow machine typing the keys stays inside it; the
    # time that passes before the third prompt is then set back by hand.
    monkeypatch.setattr(app_module, "DUPLICATE_WINDOW", 30.0)
    repo = buggy_project(tmp_path)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "ok"}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*"hello", "enter", *"hello", "enter")
            await wait_for(pilot, lambda: app.query(Answer) and not app.running, "the answer")
            await pilot.pause(0.3)
            assert len(srv.requests) == 1 and not app.queue
            text, at = app.last_sent
            app.last_sent = (text, at - 31.0)  # the window has passed
            await pilot.press(*"hello", "enter")  # later, the same prompt is a new prompt
            await wait_for(pilot, lambda: len(app.query(Answer)) == 2, "the second answer")
            assert len(srv.requests) == 2

    with app_over(repo, scenario) as (app, srv):
        asyncio.run(drive(app, srv))


def test_page_keys_scroll_the_transcript_while_the_prompt_keeps_typing(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    long = "\n\n".join(f"paragraph {i} of a long answer" for i in range(80))
    scenario = scenario_file(tmp_path, [{"op": "final", "text": long}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            t = app.transcript
            await wait_for(pilot, lambda: app.query(Answer) and not app.running, "the answer")
            await pilot.pause(0.1)
            assert t.max_scroll_y > 0 and t.scroll_y == t.max_scroll_y
            await pilot.press("pageup")
            await pilot.pause(0.05)
            up = t.scroll_y
            assert up < t.max_scroll_y and app.prompt.has_focus
            await app.note("a note while the user reads above")
            await pilot.pause(0.1)
            assert t.scroll_y == up  # new text does not pull the view down
            await pilot.press("ctrl+home")
            await pilot.pause(0.05)
            assert t.scroll_y == 0
            await pilot.press("pagedown")
            await pilot.pause(0.05)
            assert t.scroll_y > 0
            await pilot.press("ctrl+end")
            await pilot.pause(0.05)
            assert t.scroll_y == t.max_scroll_y
            await app.note("followed again")
            await pilot.pause(0.1)
            assert t.scroll_y == t.max_scroll_y
            await pilot.press("o", "k")
            assert app.prompt.text == "ok"

    with app_over(repo, scenario, first_prompt="explain") as (app, srv):
        asyncio.run(drive(app, srv))
