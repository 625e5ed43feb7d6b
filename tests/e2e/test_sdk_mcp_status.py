"""The Agent SDK's `get_mcp_status()` answers with the session's real MCP servers:
the real `claude_agent_sdk.ClaudeSDKClient`, with bridle as its CLI and
`mcp_servers` naming `mcp-server-time` and a program that does not exist, sees
the first connected with its tools and the second failed with the reason."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

TIME = {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]}


def test_real_sdk_client_gets_the_servers_status(tmp_path: Path) -> None:
    sdk = pytest.importorskip("claude_agent_sdk")
    import anyio

    cli = Path(sys.executable).parent / "bridle"
    assert cli.is_file(), "the bridle console script is installed in the venv"
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"name": "f", "turns": [{"op": "final", "text": "ok"}]}))
    options = sdk.ClaudeAgentOptions(
        cli_path=str(cli),
        cwd=str(tmp_path),
        model="mock/anthropic",
        mcp_servers={
            "time": {"type": "stdio", **TIME},
            "gone": {"type": "stdio", "command": "no-such-mcp-binary-xyz"},
        },
        env={
            "BRIDLE_MOCK_SCENARIO": str(scenario),
            "BRIDLE_HOME": os.environ["BRIDLE_HOME"],
            "HOME": os.environ["HOME"],
        },
    )

    async def status() -> Any:
        async with sdk.ClaudeSDKClient(options=options) as client:
            return await client.get_mcp_status()

    got = anyio.run(status)
    servers = {s["name"]: s for s in got["mcpServers"]}
    assert set(servers) == {"time", "gone"}
    time = servers["time"]
    assert (time["status"], time["scope"]) == ("connected", "cli")
    assert time["config"] == {"type": "stdio", **TIME}
    assert [t["name"] for t in time["tools"]] == ["get_current_time", "convert_time"]
    assert all(t["annotations"] == {"readOnly": True} for t in time["tools"])
    gone = servers["gone"]
    assert gone["status"] == "failed" and "no-such-mcp-binary-xyz" in gone["error"]
    assert "tools" not in gone
