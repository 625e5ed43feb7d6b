"""`bridle acp` slash commands: the editor's `/` menu and `/command` prompts.

Over `python -m bridle acp` against the mock model: after `session/new` the
client gets an `available_commands_update` listing the project's command
(`.claude/commands/polite.md`, with its description and argument hint) and
the prompts of the MCP server the client named (tests/mcp/notes_server.py,
`mcp__notes__greet` with its arguments); a `/polite hello.py` prompt reaches the
model as the command's expanded text and `/mcp__notes__greet Ada formal` as the
server's prompt, as in headless runs; a misspelt command is a JSON-RPC error
that names the close match, and nothing is sent to the model.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from acp import RequestError, text_block
from acp import schema as s
from acp_client import EditorClient, agent, agent_env

from bridle.mock.server import MockServer

NOTES = Path(__file__).resolve().parents[1] / "mcp" / "notes_server.py"
POLITE = """---
description: Make the greeting polite
argument-hint: <file>
---
Make the greeting in $ARGUMENTS polite.
"""


async def commands_of(client: EditorClient) -> list[Any]:
    for _ in range(200):
        found = client.of("available_commands_update")
        if found:
            return list(found[-1].available_commands)
        await asyncio.sleep(0.05)
    raise AssertionError("no available_commands_update arrived")


def test_the_session_commands_are_listed_and_expanded(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".claude" / "commands").mkdir(parents=True)
    (repo / ".claude" / "commands" / "polite.md").write_text(POLITE)
    scenario = tmp_path / "scenario.json"
    turns = [{"op": "final", "text": "polite now"}, {"op": "final", "text": "greeted"}]
    scenario.write_text(json.dumps({"name": "acp-commands", "turns": turns}))
    notes = s.McpServerStdio(name="notes", command=sys.executable, args=[str(NOTES)], env=[])
    client = EditorClient()

    async def run(srv: MockServer) -> list[Any]:
        env = agent_env(tmp_path / "home", BRIDLE_MOCK_BASE_URL=srv.base_url)
        async with agent(client, env, "--model", "mock/anthropic") as (conn, _):
            new = await conn.new_session(cwd=str(repo), mcp_servers=[notes])
            sid = new.session_id
            listed = await commands_of(client)
            for text in ("/polite hello.py", "/mcp__notes__greet Ada formal"):
                reply = await conn.prompt(session_id=sid, prompt=[text_block(text)])
                assert reply.stop_reason == "end_turn"
            with pytest.raises(RequestError) as typo:
                await conn.prompt(session_id=sid, prompt=[text_block("/politee hello.py")])
            assert "did you mean /polite" in str(typo.value.data)
            return listed

    with MockServer(scenario, workdir=repo, keep_bodies=True) as srv:
        listed = asyncio.run(asyncio.wait_for(run(srv), 120))
        bodies = [r["body"] for r in srv.requests if "body" in r]
    shown = {c.name: (c.description, c.input.root.hint if c.input else None) for c in listed}
    assert shown["polite"] == ("Make the greeting polite", "<file>")
    assert shown["mcp__notes__greet"] == ("Greet someone", "<name> [style]")
    assert shown["mcp__notes__plain"] == ("No arguments", None)
    assert len(bodies) == 2  # the misspelt command never reached the model
    said = [json.dumps(b["messages"][-1]["content"]) for b in bodies]
    assert "Make the greeting in hello.py polite." in said[0]
    assert "Say hello to Ada in a formal way." in said[1]
