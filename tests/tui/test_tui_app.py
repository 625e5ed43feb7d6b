"""The interactive app driven by Textual's Pilot against the mock model: the
example bug fixed through the permission modal (y once, a always with the rule
saved, n with feedback the model reads), Esc interrupting a running command and
an answer being written (what was shown is kept), prompts typed during a turn
queued and sent in order, Shift+Tab switching the permission mode, `!` and
BRIDLE_AUTO_APPROVE skipping the modal, the prompt box's keys, and Ctrl+C twice
quitting with the session saved."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import app_over, buggy_project, scenario_file, user_texts, wait_for

from bridle.engine.options import SessionOptions
from bridle.tui.permission import PermissionScreen
from bridle.tui.prompt_input import PromptInput
from bridle.tui.transcript import Answer, Note, ToolLine

SIZE = (100, 30)


def notes(app: object) -> str:
    return "\n".join(str(n.render()) for n in app.query(Note))  # type: ignore[attr-defined]


def asked(app: object, tool: str) -> bool:
    screen = app.screen  # type: ignore[attr-defined]
    # Composed too: the screen is pushed a moment before its widgets mount.
    return (
        isinstance(screen, PermissionScreen)
        and screen.call.name == tool
        and bool(screen.query("#question"))
    )


def test_the_example_bug_is_fixed_through_the_permission_modal(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: asked(app, "Bash"), "the Bash question")
            question = str(app.screen.query_one("#question").render())
            assert question == "Allow Bash to run `python -m unittest -q`?"
            await pilot.press("y")

            await wait_for(pilot, lambda: asked(app, "Edit"), "the Edit question")
            screen = app.screen
            assert str(screen.query_one("#question").render()) == "Allow Edit to stats.py?"
            shown = str(screen.query_one("#call Static").render())
            assert "-    return sum(values) / (len(values) + 1)" in shown
            assert "+    return sum(values) / len(values)" in shown
            await pilot.press("a")

            await wait_for(pilot, lambda: asked(app, "Bash"), "the second Bash question")
            await pilot.press("n")
            await pilot.press(*"use pytest next time")
            await pilot.press("enter")

            await wait_for(pilot, lambda: not app.running, "the end of the turn")
            answers = [a.text for a in app.query(Answer)]
            assert answers[-1].startswith("Fixed `mean()` in stats.py")
            lines = list(app.query(ToolLine))
            titles = [line.title for line in lines]
            assert titles == [
                "Glob **/*.py",
                "Bash python -m unittest -q",
                "Read stats.py",
                "Edit stats.py",
                "Bash python -m unittest -q",
            ]
            assert lines[1].status().plain.startswith(" ✗ exit 1 ·")
            assert lines[4].status().plain == " ✗ denied"
            edit = lines[3]
            assert edit.status().plain.startswith(" ✓")
            assert "+1 −1" in str(edit.render())
            await pilot.press("ctrl+o")  # expands the last tool call
            last = list(app.query(ToolLine))[-1]
            assert last.expanded and "use pytest next time" in str(last.render())
            await pilot.click(edit)  # a click expands any call
            assert edit.expanded and "+    return sum(values) / len(values)" in str(edit.render())

            saved = repo / ".bridle" / "settings.local.json"
            rule = f"Edit(/{repo / 'stats.py'})"
            assert json.loads(saved.read_text()) == {"permissions": {"allow": [rule]}}
            assert f"always allowed: {rule} (saved in {saved})" in notes(app)
            assert "denied; told the model: use pytest next time" in notes(app)
        # The model read the feedback in the denied call's result.
        assert any("use pytest next time" in t for t in user_texts(srv))
        assert "return sum(values) / len(values)\n" in (repo / "stats.py").read_text()

    with app_over(repo, repo / "scenario.json", first_prompt="fix the failing test") as (app, srv):
        asyncio.run(drive(app, srv))


def test_escape_interrupts_a_running_command(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    scenario = scenario_file(
        tmp_path, [{"op": "bash", "command": "sleep 30"}, {"op": "final", "text": "slept"}]
    )
    options = SessionOptions(model="mock/anthropic", headless=False, allow_rules=("Bash(sleep *)",))

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            line = await wait_for(pilot, lambda: app.tool_lines, "the sleep")
            await pilot.press("escape")
            await wait_for(pilot, lambda: not app.running, "the end of the turn")
            sleep = next(iter(line.values()))
            assert sleep.result is not None and sleep.status().plain.startswith(" ✗")
            assert "turn ended: interrupted by the user" in notes(app)
            assert not app.query(Answer)  # the model was not asked again
            assert len(srv.requests) == 1

    with app_over(repo, scenario, options, first_prompt="sleep a while") as (app, srv):
        asyncio.run(drive(app, srv))


def test_escape_stops_an_answer_being_written_and_keeps_what_was_shown(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    block = "### Step {i}\n\nThe helper divides by one too many ({i}).\n\n"
    long_answer = "".join(block.format(i=i) for i in range(4000))
    scenario = scenario_file(tmp_path, [{"op": "final", "text": long_answer}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(
                pilot, lambda: app.answer is not None and "Step 3" in app.answer.text, "it"
            )
            await pilot.press("escape")
            await wait_for(pilot, lambda: not app.running, "the end of the turn")
            assert "turn ended: interrupted by the user" in notes(app)
            shown = app.query(Answer).last().text
            assert "Step 3" in shown and len(shown) < len(long_answer)  # not read to its end
            kept = app.session.engine.messages[-1]
            assert kept.role == "assistant" and kept.text == shown  # what the user saw
            await pilot.press(*"go on", "enter")
            await wait_for(pilot, lambda: len(srv.requests) == 2 and not app.running, "the next")
            sent = srv.requests[-1]["body"]["messages"]
            assert [m["role"] for m in sent] == ["user", "assistant", "user"]

    with app_over(repo, scenario, first_prompt="explain stats.py") as (app, srv):
        asyncio.run(drive(app, srv))


@pytest.mark.parametrize("client", ["stdlib", "httpx"])
def test_escape_stops_a_model_that_sends_nothing_and_the_next_prompt_runs(
    tmp_path: Path, client: str
) -> None:
    """The answer starts, then stalls (the mock sends nothing more for ten minutes):
    Esc shuts the connection under the blocked read, and the next prompt is sent."""
    repo = buggy_project(tmp_path)
    stalled = {"op": "final", "text": "never", "fault": {"kind": "stall", "times": 1}}
    scenario = scenario_file(tmp_path, [stalled])  # each new conversation stalls once
    env = {"BRIDLE_HTTP_CLIENT": client}

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            for n, prompt in ((1, None), (2, "go on")):
                if prompt:
                    await pilot.press(*prompt, "enter")
                await wait_for(pilot, lambda n=n: len(srv._attempts) == n, "the stalled answer")
                await pilot.pause(0.3)  # the engine reads, and waits
                await pilot.press("escape")
                await wait_for(pilot, lambda: not app.running, "the end of the turn")
                assert notes(app).count("turn ended: interrupted by the user") == n
            assert not app.query(Answer)  # nothing was shown, nothing is kept
            assert app.session.engine.messages[-1].role == "user"

    with app_over(repo, scenario, env=env, first_prompt="explain stats.py") as (app, srv):
        asyncio.run(drive(app, srv))


def test_escape_ends_the_wait_before_a_retry(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    limited = {"op": "final", "text": "late", "fault": {"kind": "429", "retry_after": 50}}
    scenario = scenario_file(tmp_path, [limited])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: len(srv.requests) == 1, "the rate limit")
            await pilot.pause(0.3)  # the client waits the 50 s the server asked for
            await pilot.press("escape")
            await wait_for(pilot, lambda: not app.running, "the end of the turn", timeout=25)
            assert "turn ended: interrupted by the user" in notes(app)
            await pilot.pause(0.3)
            assert len(srv.requests) == 1  # not sent again

    with app_over(repo, scenario, first_prompt="explain stats.py") as (app, srv):
        asyncio.run(drive(app, srv))


def test_prompts_typed_during_a_turn_are_queued_and_sent_in_order(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "noted", "delay_ms": 2000}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.running, "the first turn")
            for text in ("second", "third"):
                await pilot.press(*text)
                await pilot.press("enter")
            assert app.queue == ["second", "third"]
            hud = str(app.query_one("#hud").render())
            assert "▶ 2 queued" in hud
            await wait_for(
                pilot, lambda: len(app.query(Answer)) == 3 and not app.running, "three answers"
            )
            assert "queued" not in str(app.query_one("#hud").render())
            prompts = [t for t in user_texts(srv) if t in ("first", "second", "third")]
            assert prompts == ["first", "second", "third"]

    with app_over(repo, scenario, first_prompt="first") as (app, srv):
        asyncio.run(drive(app, srv))


def test_shift_tab_cycles_the_permission_mode(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "ok"}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            seen = []
            for _ in range(3):
                await pilot.press("shift+tab")
                before = len(seen)
                await wait_for(
                    pilot,
                    lambda b=before: app.hud.mode != (seen[-1] if seen else "default"),
                    "the mode switch",
                )
                seen.append(app.hud.mode)
                assert app.session.policy.mode == app.hud.mode
            assert seen == ["acceptEdits", "plan", "default"]
            assert "permission mode set to acceptEdits" in notes(app)
            await pilot.press("shift+tab")
            await wait_for(pilot, lambda: app.hud.mode == "acceptEdits", "acceptEdits")
            assert "⏵⏵ acceptEdits" in str(app.query_one("#hud").render())

    with app_over(repo, scenario) as (app, srv):
        asyncio.run(drive(app, srv))


def test_bang_allows_the_tool_for_the_rest_of_the_session(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: asked(app, "Bash"), "the Bash question")
            await pilot.press("exclamation_mark")
            await wait_for(pilot, lambda: asked(app, "Edit"), "the Edit question")
            await pilot.press("y")
            await wait_for(pilot, lambda: not app.running, "the end of the turn")
            bash = [line for line in app.query(ToolLine) if line.call.name == "Bash"]
            assert [b.status().plain.split(" ·")[0] for b in bash] == [" ✗ exit 1", " ✓ exit 0"]
            assert "Bash is allowed for the rest of this session" in notes(app)
        assert not (repo / ".bridle" / "settings.local.json").exists()

    with app_over(repo, repo / "scenario.json", first_prompt="fix it") as (app, srv):
        asyncio.run(drive(app, srv))


def test_auto_approve_skips_the_modal(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)

    env = {"BRIDLE_AUTO_APPROVE": "1"}

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            shown: list[str] = []

            def done() -> bool:
                if isinstance(app.screen, PermissionScreen):
                    shown.append(app.screen.call.name)
                return not app.running

            await wait_for(pilot, done, "the end of the turn")
            assert shown == []
            assert len(app.query(ToolLine)) == 5
        assert "return sum(values) / len(values)\n" in (repo / "stats.py").read_text()

    with app_over(repo, repo / "scenario.json", env=env, first_prompt="fix it") as (app, srv):
        asyncio.run(drive(app, srv))


def test_prompt_box_keys_history_and_new_lines(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "ok"}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            box = app.query_one(PromptInput)
            await pilot.press(*"one", "ctrl+j", *"two")
            assert box.text == "one\ntwo"
            await pilot.press("enter")
            assert box.text == ""
            await wait_for(pilot, lambda: app.query(Answer), "the answer")
            await wait_for(pilot, lambda: not app.running, "the end of the turn")
            assert "one\ntwo" in user_texts(srv)
            await pilot.press(*"draft")
            await pilot.press("up")
            assert box.text == "one\ntwo"
            await pilot.press("down")
            assert box.text == "draft"

    with app_over(repo, scenario) as (app, srv):
        asyncio.run(drive(app, srv))


def test_ctrl_c_twice_quits_and_the_session_is_saved(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "saved answer"}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.query(Answer) and not app.running, "the answer")
            await pilot.press("ctrl+c")
            assert "Ctrl+C again to quit" in str(app.query_one("#hud").render())
            assert app.is_running
            await pilot.press("ctrl+c")
            await asyncio.to_thread(app.runner.join, 20)
            await pilot.pause(0.2)
        assert app.return_value == 0
        assert not app.runner.thread.is_alive()
        text = app.session.transcript_markdown()
        assert "remember this" in text and "saved answer" in text

    with app_over(repo, scenario, first_prompt="remember this") as (app, srv):
        asyncio.run(drive(app, srv))


def test_help_lists_keys_and_project_commands_and_a_command_is_expanded(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    commands = repo / ".claude" / "commands"
    commands.mkdir(parents=True)
    (commands / "greet.md").write_text(
        "---\ndescription: Greet someone\n---\nSay hi to $ARGUMENTS\n"
    )
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "hi bob"}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*"/help", "enter")
            await wait_for(pilot, lambda: "/greet  Greet someone" in notes(app), "the help")
            assert "Esc interrupt" in notes(app) and "/quit" in notes(app)
            await pilot.press(*"/greet bob", "enter")
            await wait_for(pilot, lambda: app.query(Answer) and not app.running, "the answer")
            assert "Say hi to bob\n" in user_texts(srv)
            await pilot.press(*"/nosuch", "enter")
            await wait_for(pilot, lambda: "/nosuch is not a command" in notes(app), "the error")
            assert not app.running
            await pilot.press(*"/quit", "enter")
            await asyncio.to_thread(app.runner.join, 20)
            await pilot.pause(0.2)
        assert app.return_value == 0

    with app_over(repo, scenario) as (app, srv):
        asyncio.run(drive(app, srv))


def test_the_hud_follows_a_model_switch(tmp_path: Path) -> None:
    from bridle.engine import events as ev

    repo = buggy_project(tmp_path)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "from openai"}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            assert app.hud.model == "mock/anthropic"
            app.runner.control(ev.SetModel("mock/openai"))
            await wait_for(pilot, lambda: app.hud.model == "mock/openai", "the new model")
            assert "model set to mock/openai" in notes(app)
            await pilot.press(*"hi", "enter")
            await wait_for(pilot, lambda: app.query(Answer) and not app.running, "the answer")
            assert srv.requests[-1]["path"] == "/v1/responses"  # the OpenAI wire now

    with app_over(repo, scenario) as (app, srv):
        asyncio.run(drive(app, srv))


def test_compaction_and_hook_messages_show_in_the_transcript(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    say = tmp_path / "say.sh"
    say.write_text('cat >/dev/null\necho \'{"systemMessage": "lint is clean"}\'\n')
    say.chmod(0o755)
    note = "Looking at the numbers to see where the pattern breaks. " * 20
    steps = [
        {"op": "bash", "command": f"seq {i} {i + 2999}", "say": f"Step {i}. {note}"}
        for i in range(12)
    ]
    scenario = scenario_file(tmp_path, [*steps, {"op": "final", "text": "all done"}])
    options = SessionOptions(
        model="mock/anthropic",
        headless=False,
        permission_mode="bypassPermissions",
        settings={"context_window": 16000},
        hooks=(f"Stop:{say}",),
    )

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*"walk the logs", "enter")
            await wait_for(pilot, lambda: not app.running and app.query(Answer), "the end", 120)
            assert "context compacted (old tool outputs cleared): " in notes(app)
            assert "hook Stop: lint is clean" in notes(app)
            assert app.hud.context_used < 16000

    with app_over(repo, scenario, options) as (app, srv):
        asyncio.run(drive(app, srv))
