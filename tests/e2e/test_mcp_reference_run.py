"""The reference MCP servers in real `bridle -p` runs driven by the mock model:
`server-everything` over stdio (from `--mcp-config FILE`), SSE (from the
project's approved `.mcp.json`) and streamable HTTP (from `~/.claude.json`)
answers echo, get-sum, the tiny image (which reaches the next request as an
image block) and a resource read through ReadMcpResourceTool (which, as in
Claude Code, needs no allow rule); `server-filesystem`
and `server-memory` each serve a run. `mcp-server-time` from PyPI is in
test_mcp_run.py and here, from `.mcp.json` too. The npm servers' runs are skipped
only when BRIDLE_TEST_MCP is unset (scripts/test sets it)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp_runs import BIN, Run, bridle, call, everything_stdio, needs_npm, remote_everything

DOC = "demo://resource/static/document/architecture.md"


def everything_turns(server: str) -> list[dict[str, Any]]:
    return [
        call(f"mcp__{server}__echo", message="héllo over MCP"),
        call(f"mcp__{server}__get-sum", a=2, b=3),
        call(f"mcp__{server}__get-tiny-image"),
        call("ReadMcpResourceTool", server=server, uri=DOC),
        {"op": "final", "text": "all four answered"},
    ]


def check_everything(run: Run, server: str) -> None:
    assert run.result["result"] == "all four answered", run.proc.stderr
    assert run.result["permission_denials"] == []
    offered = run.tool_names(0)
    assert {f"mcp__{server}__echo", f"mcp__{server}__get-sum", "ReadMcpResourceTool"} <= set(
        offered
    )
    assert run.result_text(1) == "Echo: héllo over MCP"
    assert "The sum of 2 and 3 is 5." in run.result_text(2)
    (image_result,) = run.tool_results(3)
    images = [c for c in image_result["content"] if c.get("type") == "image"]
    assert [i["source"]["media_type"] for i in images] == ["image/png"]
    assert images[0]["source"]["data"].startswith("iVBOR")  # the PNG signature
    resource = run.result_text(4)
    assert resource.startswith(f"[resource {DOC}]\n") and len(resource) > 200
    assert not any(b.get("is_error") for i in range(1, 5) for b in run.tool_results(i))


@needs_npm
def test_everything_over_stdio_from_an_mcp_config_file(project: Path) -> None:
    config = project.parent / "servers.json"
    config.write_text(json.dumps({"mcpServers": {"ev": everything_stdio()}}))
    run = bridle(
        project,
        everything_turns("ev"),
        "--mcp-config",
        str(config),
        "--allowedTools",
        "mcp__ev",
    )
    check_everything(run, "ev")


@needs_npm
def test_everything_over_sse_from_an_approved_project_mcp_json(project: Path) -> None:
    with remote_everything("sse", project.parent) as url:
        (project / ".mcp.json").write_text(
            json.dumps({"mcpServers": {"remote": {"type": "sse", "url": url}}})
        )
        (project / ".claude").mkdir()
        (project / ".claude/settings.local.json").write_text(
            json.dumps({"enabledMcpjsonServers": ["remote"]})
        )
        run = bridle(
            project,
            everything_turns("remote"),
            "--allowedTools",
            "mcp__remote__*",
        )
    check_everything(run, "remote")
    assert "not approved" not in run.proc.stderr


@needs_npm
def test_everything_over_streamable_http_from_claude_json(project: Path) -> None:
    home = Path.home()  # the test's temp HOME (tests/conftest.py)
    with remote_everything("http", project.parent) as url:
        (home / ".claude.json").write_text(
            json.dumps({"mcpServers": {"web": {"type": "http", "url": url}}})
        )
        run = bridle(project, everything_turns("web"), "--allowedTools", "mcp__web")
    check_everything(run, "web")


@needs_npm
def test_a_local_scope_entry_in_claude_json_is_used(project: Path) -> None:
    home = Path.home()
    doc = {"projects": {str(project): {"mcpServers": {"loc": everything_stdio()}}}}
    (home / ".claude.json").write_text(json.dumps(doc))
    turns = [call("mcp__loc__echo", message="local"), {"op": "final", "text": "ok"}]
    run = bridle(project, turns, "--allowedTools", "mcp__loc__echo")
    assert run.result["result"] == "ok"
    assert run.result_text(1) == "Echo: local"


@needs_npm
def test_filesystem_server_in_a_run(project: Path) -> None:
    root = project.parent / "shared-root"
    root.mkdir()
    (root / "notes.txt").write_text("the filesystem server read this\n")
    fs = {"command": f"{BIN}/mcp-server-filesystem", "args": [str(root)]}
    turns = [
        call("mcp__fs__read_text_file", path=str(root / "notes.txt")),
        call("mcp__fs__write_file", path=str(root / "out.txt"), content="written over MCP"),
        call("mcp__fs__list_directory", path=str(root)),
        {"op": "final", "text": "files done"},
    ]
    config = json.dumps({"mcpServers": {"fs": fs}})
    run = bridle(project, turns, "--mcp-config", config, "--allowedTools", "mcp__fs")
    assert run.result["result"] == "files done"
    assert "the filesystem server read this" in run.result_text(1)
    assert (root / "out.txt").read_text() == "written over MCP"
    listing = run.result_text(3)
    assert "[FILE] notes.txt" in listing and "[FILE] out.txt" in listing


@needs_npm
def test_memory_server_in_a_run(project: Path) -> None:
    store = project.parent / "memory.jsonl"
    memory = {"command": f"{BIN}/mcp-server-memory", "env": {"MEMORY_FILE_PATH": str(store)}}
    entity = {"name": "bridle", "entityType": "project", "observations": ["speaks MCP"]}
    turns = [
        call("mcp__memory__create_entities", entities=[entity]),
        call("mcp__memory__search_nodes", query="bridle"),
        {"op": "final", "text": "remembered"},
    ]
    config = json.dumps({"mcpServers": {"memory": memory}})
    run = bridle(project, turns, "--mcp-config", config, "--allowedTools", "mcp__memory")
    assert run.result["result"] == "remembered"
    assert "speaks MCP" in run.result_text(2)
    assert "speaks MCP" in store.read_text()


@pytest.mark.parametrize("source", ["--mcp-config", ".mcp.json"])
def test_time_server_from_pypi_in_a_run(project: Path, source: str) -> None:
    time = {"command": sys.executable, "args": ["-m", "mcp_server_time"]}
    doc = json.dumps({"mcpServers": {"time": time}})
    flags = ["--mcp-config", doc]
    if source == ".mcp.json":
        (project / ".mcp.json").write_text(doc)
        flags = ["--settings", json.dumps({"enableAllProjectMcpServers": True})]
    turns = [
        call("mcp__time__convert_time", source_timezone="UTC", time="12:00",
             target_timezone="Asia/Tokyo"),
        {"op": "final", "text": "converted"},
    ]  # fmt: skip
    run = bridle(project, turns, *flags, "--allowedTools", "mcp__time")
    assert run.result["result"] == "converted"
    got = json.loads(run.result_text(1))
    assert got["target"]["datetime"][11:16] == "21:00"
