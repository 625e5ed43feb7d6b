"""Tool search end to end through `python -m bridle` and the mock model: with
`ENABLE_TOOL_SEARCH` on (or auto:N and MCP schemas over N% of the window) the
first request offers `ToolSearch`, whose description names the deferred tools,
and no MCP server tool; after the model searches, the next request carries the
found tool's schema only, and the model's call to it reaches the server. Under
the threshold, or with `false`, every schema is sent as before."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bridle.mcp.search import ToolSearch, search_mode
from bridle.mock.server import MockServer

NOTES = Path(__file__).resolve().parents[1] / "mcp" / "notes_server.py"


def run(repo: Path, fillers: int, search: str | None, turns: list[dict[str, Any]]) -> Any:
    scenario = repo.parent / "scenario.json"
    scenario.write_text(json.dumps({"name": "search", "turns": turns}))
    server = {"command": sys.executable, "args": [str(NOTES), str(fillers)]}
    config = json.dumps({"mcpServers": {"notes": server}})
    with MockServer(scenario, workdir=repo, keep_bodies=True) as srv:
        env = dict(os.environ, BRIDLE_MOCK_BASE_URL=srv.base_url)
        env.pop("ENABLE_TOOL_SEARCH", None)
        if search is not None:
            env["ENABLE_TOOL_SEARCH"] = search
        proc = subprocess.run(
            [sys.executable, "-m", "bridle", "-p", "weather in Oslo?", "--model",
             "mock/openai-chat", "--output-format", "json", "--mcp-config", config,
             "--allowedTools", "mcp__notes"],
            cwd=repo, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        bodies = [r["body"] for r in srv.requests if "body" in r]
    return proc, bodies


def names(body: dict[str, Any]) -> list[str]:
    return [t["function"]["name"] for t in body.get("tools", [])]


SEARCH_THEN_CALL = [
    {"op": "call", "tool": "ToolSearch", "input": '{"query": "weather forecast"}'},
    {"op": "call", "tool": "mcp__notes__lookup_weather", "input": '{"city": "Oslo"}'},
    {"op": "final", "text": "sunny"},
]


@pytest.mark.parametrize(("fillers", "search"), [(60, "auto:1"), (0, "true")])
def test_deferred_tools_load_when_the_model_searches(
    project: Path, fillers: int, search: str
) -> None:
    proc, bodies = run(project, fillers, search, SEARCH_THEN_CALL)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["result"] == "sunny"
    first = names(bodies[0])
    assert "ToolSearch" in first and "ReadMcpResourceTool" in first and "Bash" in first
    assert not [n for n in first if n.startswith("mcp__")]
    described = next(t for t in bodies[0]["tools"] if t["function"]["name"] == "ToolSearch")
    assert "- mcp__notes__lookup_weather" in described["function"]["description"]
    second = names(bodies[1])
    assert [n for n in second if n.startswith("mcp__")] == ["mcp__notes__lookup_weather"]
    found = next(m for m in bodies[1]["messages"] if m["role"] == "tool")["content"]
    assert "Loaded 1 tool(s)" in found and "mcp__notes__lookup_weather" in found
    answer = [m for m in bodies[2]["messages"] if m["role"] == "tool"][-1]["content"]
    assert "lookup_weather: sunny in Oslo" in answer


@pytest.mark.parametrize(("fillers", "search"), [(60, None), (60, "false"), (0, "auto:1")])
def test_every_schema_is_sent_without_tool_search(
    project: Path, fillers: int, search: str | None
) -> None:
    turns = [
        {"op": "call", "tool": "mcp__notes__lookup_weather", "input": '{"city": "Oslo"}'},
        {"op": "final", "text": "sunny"},
    ]
    proc, bodies = run(project, fillers, search, turns)
    assert proc.returncode == 0, proc.stderr
    first = names(bodies[0])
    assert "ToolSearch" not in first
    assert len([n for n in first if n.startswith("mcp__notes__")]) == fillers + 1


def test_a_bad_setting_is_named_and_auto_is_used(project: Path) -> None:
    proc, bodies = run(project, 0, "sometimes", [{"op": "final", "text": "ok"}])
    assert proc.returncode == 0, proc.stderr
    assert "ENABLE_TOOL_SEARCH='sometimes' is not true, false, auto or auto:N" in proc.stderr
    assert "mcp__notes__lookup_weather" in names(bodies[0])


def test_search_modes_and_select() -> None:
    assert search_mode({}) == ("auto", 10, None)
    assert search_mode({"ENABLE_TOOL_SEARCH": "auto:5"}) == ("auto", 5, None)
    assert search_mode({"ENABLE_TOOL_SEARCH": "TRUE"})[0] == "on"
    assert search_mode({"ENABLE_TOOL_SEARCH": "0"})[0] == "off"
    assert search_mode({"ENABLE_TOOL_SEARCH": "auto:100"})[2] is not None
    from bridle.core.messages import ToolSpec

    specs = {n: ToolSpec(n, f"does {n}", {"type": "object"}) for n in ("mcp__a__x", "mcp__a__y")}
    search = ToolSearch(specs)
    search.offered = []
    out = search.run({"query": "select:mcp__a__y,nope"}, None)  # type: ignore[arg-type]
    assert [s.name for s in search.offered] == ["mcp__a__y"]
    assert "Loaded 1 tool(s)" in out.content[0].text  # type: ignore[union-attr]
    none = search.run({"query": "zebra"}, None)  # type: ignore[arg-type]
    assert "No deferred tool matches 'zebra'" in none.content[0].text  # type: ignore[union-attr]
