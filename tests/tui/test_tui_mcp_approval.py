"""The app asks once about a project's `.mcp.json` servers before the session
opens, as Claude Code does: `y` records them in `enabledMcpjsonServers` of
`.claude/settings.local.json` (comments kept) and the session starts them; `n`
records `disabledMcpjsonServers` and they stay off; either way it never asks
again for those servers."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import buggy_project, scenario_file, wait_for

from bridle.engine.options import SessionOptions
from bridle.engine.setup import open_session
from bridle.mock.server import MockServer
from bridle.tui.app import BridleApp
from bridle.tui.mcp_approval import ApproveMcpScreen, pending_servers

TIME = {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]}


def project_with_server(tmp: Path) -> Path:
    repo = buggy_project(tmp)
    (repo / ".mcp.json").write_text(json.dumps({"mcpServers": {"time": TIME}}))
    (repo / ".claude").mkdir()
    (repo / ".claude" / "settings.local.json").write_text('{\n  // mine\n  "env": {}\n}\n')
    return repo


def run_app(repo: Path, tmp: Path, key: str) -> list[str]:
    import asyncio

    scenario = scenario_file(tmp, [])
    with MockServer(scenario, workdir=repo) as srv:  # outside the app's event loop
        env = {**os.environ, "BRIDLE_MOCK_BASE_URL": srv.base_url}
        options = SessionOptions(model="mock/anthropic", headless=False)
        opened: list[Any] = []

        def opener() -> tuple[Any, int]:
            session = open_session(options, repo, env)
            opened.append(session)
            return session, 200_000

        app = BridleApp(None, cwd=repo, env=env, options=options, opener=opener)
        tools: list[str] = []

        async def drive() -> None:
            async with app.run_test() as pilot:
                await wait_for(pilot, lambda: isinstance(app.screen, ApproveMcpScreen), "the ask")
                await pilot.press(key)
                await wait_for(pilot, lambda: app.session is not None, "the session")
                tools.extend(t.name for t in app.session.engine.dispatcher.tools.values())
                app.runner.stop()

        asyncio.run(drive())
        for session in opened:
            session.close()
    return tools


@pytest.mark.parametrize(("key", "approved"), [("y", True), ("n", False)])
def test_the_app_asks_once_about_project_servers(tmp_path: Path, key: str, approved: bool) -> None:
    repo = project_with_server(tmp_path)
    tools = run_app(repo, tmp_path, key)
    assert ("mcp__time__get_current_time" in tools) is approved
    text = (repo / ".claude" / "settings.local.json").read_text()
    assert "// mine" in text and '"env": {}' in text  # the rest of the file kept
    key_name = "enabledMcpjsonServers" if approved else "disabledMcpjsonServers"
    assert key_name in text and '"time"' in text
    assert pending_servers(repo, dict(os.environ))[1] == []  # never asked again
