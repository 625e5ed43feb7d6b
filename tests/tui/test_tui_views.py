"""The app's read-only commands, driven by Pilot against the mock model:
/permissions (mode and rules), /agents (built-ins and a project agent), /mcp
(no servers), /hooks (none, then one from .claude/settings.json), /tasks (no
background agents; a bad stop named by the engine)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tui_helpers import app_over, buggy_project, scenario_file, wait_for

from bridle.engine.options import SessionOptions
from bridle.tui.transcript import Note

SIZE = (100, 30)


def notes(app: Any) -> str:
    return "\n".join(str(n.render()) for n in app.query(Note))


async def send(pilot: Any, app: Any, text: str) -> None:
    app.prompt.load_text(text)
    app.prompt.send()
    await pilot.pause(0.05)


def test_permissions_agents_mcp_and_tasks(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    agents = repo / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "reviewer.md").write_text(
        "---\nname: reviewer\ndescription: reviews code\ntools: Read, Grep\n---\nReview it.\n"
    )
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "ok"}])
    options = SessionOptions(
        model="mock/anthropic",
        headless=False,
        permission_mode="acceptEdits",
        allow_rules=("Bash(python -m unittest*)",),
        deny_rules=("Bash(rm *)",),
    )

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, app, "/permissions")
            shown = notes(app)
            assert "permission mode: acceptEdits" in shown
            assert "deny: Bash(rm *)" in shown and "allow: Bash(python -m unittest*)" in shown
            await send(pilot, app, "/agents")
            shown = notes(app)
            assert "- Explore: fast read-only search" in shown
            assert "- reviewer: reviews code (project, " in shown
            await send(pilot, app, "/hooks")
            assert "no hooks" in notes(app)
            await send(pilot, app, "/mcp")
            assert "no MCP servers" in notes(app)
            await send(pilot, app, "/tasks")
            await wait_for(pilot, lambda: "no background agents" in notes(app), "the list")
            await send(pilot, app, "/tasks stop nosuch")
            await wait_for(pilot, lambda: "nosuch" in notes(app).split("no background")[-1], "it")
            await send(pilot, app, "/tasks what")
            assert "/tasks stop ID stops one" in notes(app)
            await send(pilot, app, "/help")
            for name in ("permissions", "mcp", "agents", "tasks", "hooks", "copy", "queue"):
                assert f"\n/{name}  " in notes(app)

    with app_over(repo, scenario, options) as (app, srv):
        asyncio.run(drive(app, srv))


def test_hooks_lists_the_sessions_hooks(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    (repo / ".claude").mkdir()
    (repo / ".claude" / "settings.json").write_text(
        '{"hooks": {"PreToolUse": [{"matcher": "Edit|Write", "hooks": '
        '[{"type": "command", "command": "echo checked"}]}]}}'
    )
    (repo / "CLAUDE.md").write_text("Run the tests with python -m unittest.\n")
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "ok"}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, app, "/hooks")
            shown = notes(app)
            assert "- PreToolUse [Edit|Write] command: echo checked (" in shown
            assert ".claude/settings.json)" in shown
            assert app.hud.hooks == 1 and app.hud.instruction_files == 1  # the HUD's counts

    with app_over(repo, scenario) as (app, srv):
        asyncio.run(drive(app, srv))
