"""Real MCP servers through `McpManager` and the bridle tool adapters: the
reference servers from npm over stdio, SSE and streamable HTTP, the filesystem
and memory servers, `mcp-server-time` from PyPI, and a small hand-written server
for tool-list changes, big outputs and garbage. A crash mid-call gives the model
a clear error and the next call restarts the server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridle.core.messages import ImagePart, TextPart
from bridle.mcp.client import McpManager, McpServerError
from bridle.mcp.config import ServerConfig, parse_entry
from bridle.mcp.tools import ListMcpResourcesTool, ReadMcpResourceTool, mcp_tools, tool_name
from bridle.tools.base import Tool, ToolContext, ToolOutput

BIN = os.environ.get("BRIDLE_TEST_MCP", "")
needs_npm = pytest.mark.skipif(
    not BIN, reason="BRIDLE_TEST_MCP is not set (scripts/test installs the MCP servers from npm)"
)
FAKE = str(Path(__file__).with_name("fake_server.py"))


def server(name: str, entry: dict[str, object]) -> ServerConfig:
    return parse_entry(name, entry, scope="cli", source="test", env=os.environ)


def everything(*args: str) -> dict[str, object]:
    return {"command": f"{BIN}/mcp-server-everything", "args": list(args)}


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(cwd=tmp_path, output_dir=tmp_path / "out", env=dict(os.environ))


def manager(tmp_path: Path, **servers: ServerConfig) -> McpManager:
    return McpManager(servers, cwd=tmp_path, log_dir=tmp_path / "logs")


def by_name(tools: list[Tool]) -> dict[str, Tool]:
    return {t.name: t for t in tools}


def text_of(out: ToolOutput) -> str:
    return "\n".join(p.text for p in out.content if isinstance(p, TextPart))


def children() -> set[int]:
    """Pids of this process's child processes (the stdio servers)."""
    me, found = os.getpid(), set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                found.add(int(entry))
    return found


@needs_npm
def test_everything_over_stdio(tmp_path: Path, ctx: ToolContext) -> None:
    with manager(tmp_path, everything=server("everything", everything("stdio"))) as m:
        assert m.status()["everything"].state == "not started"
        tools = by_name(mcp_tools(m))
        echo = tools["mcp__everything__echo"]
        assert echo.read_only and echo.input_schema["required"] == ["message"]
        assert not tools["mcp__everything__gzip-file-as-resource"].read_only
        assert text_of(echo.run({"message": "héllo"}, ctx)) == "Echo: héllo"
        assert "The sum of 2 and 3 is 5." in text_of(
            tools["mcp__everything__get-sum"].run({"a": 2, "b": 3}, ctx)
        )
        image = tools["mcp__everything__get-tiny-image"].run({}, ctx)
        pngs = [p for p in image.content if isinstance(p, ImagePart)]
        assert [p.media_type for p in pngs] == ["image/png"]
        assert pngs[0].data.startswith("iVBOR")  # base64 of the PNG signature
        structured = tools["mcp__everything__get-structured-content"].run(
            {"location": "New York"}, ctx
        )
        assert json.loads(text_of(structured))["temperature"] == 33

        listing = json.loads(text_of(ListMcpResourcesTool(m).run({}, ctx)))
        doc = next(r for r in listing if r["name"] == "architecture.md")
        assert doc["server"] == "everything" and doc["mimeType"] == "text/markdown"
        read = ReadMcpResourceTool(m).run({"server": "everything", "uri": doc["uri"]}, ctx)
        assert text_of(read).startswith(f"[resource {doc['uri']}]\n")
        assert len(text_of(read)) > 200

        prompts = {p["name"]: p for p in m.list_prompts()}
        assert prompts["args-prompt"]["arguments"][0]["name"] == "city"
        got = m.get_prompt("everything", "args-prompt", {"city": "Paris"})
        assert "Paris" in json.dumps(got["messages"])
        status = m.status()["everything"]
        assert (status.state, status.tools >= 10) == ("connected", True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=["sse", "http"])
def remote(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerConfig]:
    if not BIN:
        pytest.skip("BRIDLE_TEST_MCP is not set (scripts/test installs the MCP servers from npm)")
    kind = request.param
    port = free_port()
    mode, path = ("sse", "/sse") if kind == "sse" else ("streamableHttp", "/mcp")
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [f"{BIN}/mcp-server-everything", mode],
        env={**os.environ, "PORT": str(port)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail(f"{mode} server did not start: {(tmp_path / 'server.log').read_text()}")
            time.sleep(0.1)
        yield server("remote", {"type": kind, "url": f"http://127.0.0.1:{port}{path}"})
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_everything_over_sse_and_streamable_http(
    remote: ServerConfig, tmp_path: Path, ctx: ToolContext
) -> None:
    with manager(tmp_path, remote=remote) as m:
        tools = by_name(mcp_tools(m))
        assert text_of(tools["mcp__remote__echo"].run({"message": remote.type}, ctx)) == (
            f"Echo: {remote.type}"
        )
        assert "is 7." in text_of(tools["mcp__remote__get-sum"].run({"a": 3, "b": 4}, ctx))
        image = tools["mcp__remote__get-tiny-image"].run({}, ctx)
        assert any(isinstance(p, ImagePart) for p in image.content)
        assert m.status()["remote"].state == "connected"


@needs_npm
def test_crash_mid_call_is_a_clear_error_and_the_next_call_restarts(
    tmp_path: Path, ctx: ToolContext
) -> None:
    # Children another test of this worker left exiting are not this server.
    others = children()
    with manager(tmp_path, ev=server("ev", everything("stdio"))) as m:
        tools = by_name(mcp_tools(m))
        (first,) = children() - others
        slow = tools["mcp__ev__trigger-long-running-operation"]
        killer = threading.Timer(1.0, os.kill, (first, signal.SIGKILL))
        killer.start()
        with pytest.raises(McpServerError) as e:
            slow.run({"duration": 10, "steps": 5}, ctx)
        killer.join()
        msg = str(e.value)
        assert "MCP server 'ev' failed during the call to trigger-long-running-operation" in msg
        assert "restarted on the next call" in msg
        assert m.status()["ev"].state == "failed"
        assert text_of(tools["mcp__ev__echo"].run({"message": "back"}, ctx)) == "Echo: back"
        assert m.status()["ev"].state == "connected"
        assert first not in children() and len(children() - others) == 1


def test_missing_command_is_a_clear_error(tmp_path: Path) -> None:
    with manager(tmp_path, nope=server("nope", {"command": "no-such-mcp-server-xyz"})) as m:
        assert m.list_tools() == []
        st = m.status()["nope"]
        assert st.state == "failed"
        assert st.reason is not None and "command 'no-such-mcp-server-xyz' not found" in st.reason
        with pytest.raises(McpServerError, match=r"MCP server 'nope' failed to start: command"):
            m.call_tool("nope", "anything", {})


def test_garbage_on_stdout_fails_start_within_mcp_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCP_TIMEOUT", "1500")
    bad = server("bad", {"command": sys.executable, "args": [FAKE, "garbage"]})
    with manager(tmp_path, bad=bad) as m:
        started = time.monotonic()
        with pytest.raises(McpServerError) as e:
            m.call_tool("bad", "x", {})
        assert time.monotonic() - started < 10
        msg = str(e.value)
        assert "MCP server 'bad' failed to start: did not finish starting within 1.5 s" in msg
        assert "not MCP JSON-RPC" in msg and "MCP_TIMEOUT" in msg


def test_list_changed_refreshes_tools_and_server_errors(tmp_path: Path, ctx: ToolContext) -> None:
    fake = server("fake", {"command": sys.executable, "args": [FAKE]})
    with manager(tmp_path, fake=fake) as m:
        changed = threading.Event()
        m.add_listener(lambda name: changed.set())
        assert [t.name for t in m.list_tools()] == ["grow", "big"]
        assert text_of(by_name(mcp_tools(m))["mcp__fake__grow"].run({}, ctx)) == "grown"
        assert changed.wait(10)
        assert [t.name for t in m.list_tools()] == ["grow", "big", "extra"]
        with pytest.raises(McpServerError, match=r"'fake' refused the call to nope: no tool nope"):
            m.call_tool("fake", "nope", {})
        assert m.status()["fake"].state == "connected"
        with pytest.raises(McpServerError, match="no MCP server named 'other'"):
            m.call_tool("other", "x", {})


def test_big_output_is_capped_and_saved(
    tmp_path: Path, ctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx.env = {**os.environ, "MAX_MCP_OUTPUT_TOKENS": "100"}  # 400 characters
    fake = server("fake", {"command": sys.executable, "args": [FAKE]})
    with manager(tmp_path, fake=fake) as m:
        big = by_name(mcp_tools(m))["mcp__fake__big"]
        assert big.read_only
        out = text_of(big.run({"n": 5000}, ctx))
        assert "over MAX_MCP_OUTPUT_TOKENS (100 tokens)" in out and len(out) < 1200
        saved = [p for p in (tmp_path / "out").iterdir() if p.name.startswith("mcp-fake-big")]
        assert len(saved) == 1 and str(saved[0]) in out
        assert saved[0].read_text() == ("0123456789" * 501)[:5000]
        assert len(text_of(big.run({"n": 300}, ctx))) == 300


@needs_npm
def test_tool_timeout(tmp_path: Path, ctx: ToolContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_TOOL_TIMEOUT", "800")
    with manager(tmp_path, ev=server("ev", everything("stdio"))) as m:
        with pytest.raises(
            McpServerError, match=r"did not answer .* within 0.8 s .*MCP_TOOL_TIMEOUT"
        ):
            m.call_tool("ev", "trigger-long-running-operation", {"duration": 5, "steps": 5})
        assert m.call_tool("ev", "echo", {"message": "x"}).content[0]["text"] == "Echo: x"


@needs_npm
def test_filesystem_and_memory_servers(tmp_path: Path, ctx: ToolContext) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "notes.txt").write_text("filesystem server works\n")
    fs = server("fs", {"command": f"{BIN}/mcp-server-filesystem", "args": [str(root)]})
    mem = server(
        "memory",
        {
            "command": f"{BIN}/mcp-server-memory",
            "env": {"MEMORY_FILE_PATH": str(tmp_path / "memory.jsonl")},
        },
    )
    with manager(tmp_path, fs=fs, memory=mem) as m:
        tools = by_name(mcp_tools(m))
        read = tools[tool_name("fs", "read_text_file")].run({"path": str(root / "notes.txt")}, ctx)
        assert "filesystem server works" in text_of(read)
        entity = {"name": "bridle", "entityType": "project", "observations": ["speaks MCP"]}
        tools["mcp__memory__create_entities"].run({"entities": [entity]}, ctx)
        graph = text_of(tools["mcp__memory__read_graph"].run({}, ctx))
        assert "speaks MCP" in graph
    assert "speaks MCP" in (tmp_path / "memory.jsonl").read_text()


def test_mcp_server_time_from_pypi(tmp_path: Path, ctx: ToolContext) -> None:
    time_server = server(
        "time",
        {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone", "UTC"]},
    )
    with manager(tmp_path, time=time_server) as m:
        tool = by_name(mcp_tools(m))["mcp__time__get_current_time"]
        got = json.loads(text_of(tool.run({"timezone": "Europe/Paris"}, ctx)))
        assert got["timezone"] == "Europe/Paris" and got["datetime"][:2] == "20"
