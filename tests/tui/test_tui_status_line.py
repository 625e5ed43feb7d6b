"""A Claude Code `statusLine` command replaces the HUD: Pilot runs the example
bug fix against the mock model with a status-line script in
`.claude/settings.json` that reads the JSON Claude Code feeds it (model, cost,
lines added/removed, context window, session id, workspace) and prints a
coloured line; a failing command blanks the line, and `disableAllHooks` keeps
the HUD."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from tui_helpers import app_over, buggy_project, wait_for

SIZE = (100, 30)
SCRIPT = """
import json, sys
data = json.load(sys.stdin)
with open(sys.argv[1], "a") as log:
    log.write(json.dumps(data) + "\\n")
cost = data["cost"]
ctx = data["context_window"]
print(f"\\033[32m[{data['model']['display_name']}]\\033[0m "
      f"+{cost['total_lines_added']} -{cost['total_lines_removed']} "
      f"ctx {ctx['used_percentage']}% of {ctx['context_window_size']}")
print("a second line is not shown")
"""


def hud_text(app: Any) -> str:
    return str(app.query_one("#hud").render())


def settings_with(repo: Path, status: dict[str, Any], **more: Any) -> None:
    folder = repo / ".claude"
    folder.mkdir(exist_ok=True)
    (folder / "settings.json").write_text(json.dumps({"statusLine": status, **more}))


def test_a_status_line_command_replaces_the_hud(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    script = tmp_path / "status.py"
    script.write_text(SCRIPT)
    log = tmp_path / "status.log"
    command = f"{sys.executable} {script} {log}"
    settings_with(repo, {"type": "command", "command": command, "padding": 1})

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "[anthropic] +0 -0" in hud_text(app), "the first line")
            await wait_for(pilot, lambda: not app.running and app.hud.lines_added, "the fix", 90)
            await wait_for(pilot, lambda: "[anthropic] +1 -1 ctx" in hud_text(app), "the counts")
            rendered = app.query_one("#hud").render()
            assert rendered.plain.startswith(" [anthropic]")  # padding 1
            assert any("green" in str(span.style) for span in rendered.spans)
            assert "second line" not in hud_text(app)
            assert "⏱" not in hud_text(app)  # the HUD's own parts are gone
        runs = [json.loads(line) for line in log.read_text().splitlines()]
        last = runs[-1]
        assert last["hook_event_name"] == "Status"
        assert last["session_id"] == app.session.record.id
        assert last["model"] == {"id": "mock/anthropic", "display_name": "anthropic"}
        assert last["workspace"]["current_dir"] == str(repo)
        assert last["cost"]["total_lines_added"] == 1
        assert last["cost"]["total_duration_ms"] > 0
        assert last["context_window"]["context_window_size"] == 200_000
        assert last["context_window"]["total_input_tokens"] > 0
        assert {"transcript_path", "version", "output_style", "exceeds_200k_tokens"} <= set(last)
        # Throttled: far fewer runs than the turn's events.
        assert len(runs) < 12

    env = {"BRIDLE_AUTO_APPROVE": "1"}
    with app_over(repo, repo / "scenario.json", env=env, first_prompt="fix it") as (app, srv):
        asyncio.run(drive(app, srv))


def test_a_failing_status_command_blanks_the_line_and_disable_all_hooks_keeps_the_hud(
    tmp_path: Path,
) -> None:
    repo = buggy_project(tmp_path)
    settings_with(repo, {"type": "command", "command": "echo broken; exit 1"})

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.status is not None and app.status.runs, "a run")
            await pilot.pause(0.2)
            assert hud_text(app).strip() == ""

    with app_over(repo, repo / "scenario.json") as (app, srv):
        asyncio.run(drive(app, srv))

    settings_with(repo, {"type": "command", "command": "echo custom"}, disableAllHooks=True)

    async def hud_kept(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(0.3)
            assert app.status is None and "mock/anthropic" in hud_text(app)

    with app_over(repo, repo / "scenario.json") as (app, srv):
        asyncio.run(hud_kept(app, srv))
