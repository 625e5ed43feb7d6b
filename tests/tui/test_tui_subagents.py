"""A subagent's work in the app, driven by Pilot against the mock model: the
Agent call's line gathers the subagent's tool calls as a nested group (counted
on the line, listed when it is expanded) instead of loose notices."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from tui_helpers import app_over, buggy_project, wait_for

from bridle.engine.options import SessionOptions
from bridle.tui.transcript import Note, ToolLine

SIZE = (100, 30)


def test_an_agent_calls_subagent_steps_nest_under_its_line(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    call = {
        "description": "look around",
        "prompt": "[kid] read the code",
        "subagent_type": "Explore",
    }
    scenario = tmp_path / "scenario.json"
    scenario.write_text(
        json.dumps(
            {
                "name": "agents",
                "prompt": "p",
                "final": "parent done",
                "turns": [
                    {"op": "call", "tool": "Agent", "input": json.dumps(call)},
                    {"op": "final", "text": "parent done"},
                ],
                "agents": {
                    "[kid]": {
                        "final": "kid done",
                        "turns": [
                            {"op": "read", "path": "stats.py"},
                            {"op": "grep", "pattern": "def "},
                            {"op": "final", "text": "kid done"},
                        ],
                    }
                },
            }
        )
    )
    options = SessionOptions(
        model="mock/anthropic", headless=False, permission_mode="bypassPermissions"
    )

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: not app.running and app.tool_lines, "the end", 90)
            agent = next(line for line in app.query(ToolLine) if line.call.name == "Agent")
            assert agent.steps == ["Read", "Grep"]
            assert "· 2 subagent steps ✓" in str(agent.render())
            assert not any("agent: Read" in str(n.render()) for n in app.query(Note))
            agent.toggle()
            shown = str(agent.render())
            assert "↳ Read" in shown and "↳ Grep" in shown

    with app_over(repo, scenario, options, first_prompt="explore") as (app, srv):
        asyncio.run(drive(app, srv))
