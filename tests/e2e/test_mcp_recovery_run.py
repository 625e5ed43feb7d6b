"""MCP servers misbehaving, big, guarded or changing, in real `bridle -p` runs
driven by the mock model: a server killed mid-call gives the model a tool error
naming it, the user a line on stderr, and the next call restarts it; output over
`MAX_MCP_OUTPUT_TOKENS` is capped and spilled to a file the model then Reads in
the same run; `mcp__server`, `mcp__server__*` and exact names allow, an
unallowed MCP tool is denied and reported in `permission_denials`; a
`tools/list_changed` notification changes the tools offered in the next request
of the same run. The crash uses `server-everything` (skipped only when
BRIDLE_TEST_MCP is unset); the others use the small server in tests/mcp."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from mcp_runs import FAKE, bridle, call, everything_stdio, needs_npm, remote_everything

from bridle.mock.server import MockServer

FAKE_SERVER = {"command": sys.executable, "args": [FAKE]}
FAKE_CONFIG = json.dumps({"mcpServers": {"fake": FAKE_SERVER}})


def pids_with(marker: str) -> list[int]:
    """Processes whose environment holds `BRIDLE_TEST_MARK=<marker>`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if f"BRIDLE_TEST_MARK={marker}".encode() in environ.split(b"\0"):
            found.append(int(entry))
    return found


@needs_npm
def test_a_server_killed_mid_call_is_reported_and_restarted(project: Path) -> None:
    marker = uuid.uuid4().hex
    server = {**everything_stdio(), "env": {"BRIDLE_TEST_MARK": marker}}
    config = json.dumps({"mcpServers": {"ev": server}})
    turns = [
        call("mcp__ev__trigger-long-running-operation", duration=20, steps=4),
        call("mcp__ev__echo", message="back again"),
        {"op": "final", "text": "recovered"},
    ]
    killed: list[int] = []

    def kill_during_the_call(srv: MockServer, proc: subprocess.Popen[str]) -> None:
        deadline = time.monotonic() + 60
        while not srv.requests and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)  # the model asks for the long call in its first answer
        time.sleep(1.5)  # the call is running now (it takes 20 s)
        for pid in pids_with(marker):
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    run = bridle(
        project, turns, "--mcp-config", config, "--allowedTools", "mcp__ev",
        during=kill_during_the_call,
    )  # fmt: skip
    assert killed, "the server process was not found"
    assert run.result["result"] == "recovered"
    (error,) = run.tool_results(1)
    assert error["is_error"] is True
    failed = "MCP server 'ev' failed during the call to trigger-long-running-operation"
    assert failed in run.result_text(1) and "restarted on the next call" in run.result_text(1)
    assert f"bridle: {failed}" in run.proc.stderr  # the user sees it too
    assert "bridle: MCP server 'ev' was restarted" in run.proc.stderr
    assert run.result_text(2) == "Echo: back again"
    assert not run.tool_results(2)[0].get("is_error")
    assert not set(pids_with(marker)) & set(killed)


def test_output_over_the_cap_is_spilled_and_read_back_in_the_same_run(project: Path) -> None:
    first = bridle(project, [{"op": "final", "text": "hello"}], "--mcp-config", FAKE_CONFIG)
    session = first.result["session_id"]
    spill = Path(os.environ["BRIDLE_HOME"]) / "tool-output" / session / "mcp-fake-big-1.txt"
    turns = [
        call("mcp__fake__big", n=5000),
        {"op": "read", "path": str(spill)},
        {"op": "final", "text": "read it"},
    ]
    run = bridle(
        project, turns, "-r", session, "--mcp-config", FAKE_CONFIG,
        "--allowedTools", "mcp__fake__big", env={"MAX_MCP_OUTPUT_TOKENS": "100"},
    )  # fmt: skip
    assert run.result["result"] == "read it"
    capped = run.result_text(1)
    assert "over MAX_MCP_OUTPUT_TOKENS (100 tokens)" in capped and str(spill) in capped
    assert len(capped) < 1500
    assert spill.read_text() == ("0123456789" * 501)[:5000]
    (read,) = run.tool_results(2)
    assert not read.get("is_error"), run.result_text(2)
    assert "0123456789" * 50 in run.result_text(2).replace("\n", "")


@pytest.mark.parametrize("rule", ["mcp__fake", "mcp__fake__*", "mcp__fake__big"])
def test_rules_allow_an_mcp_tool(project: Path, rule: str) -> None:
    turns = [call("mcp__fake__big", n=12), {"op": "final", "text": "allowed"}]
    run = bridle(project, turns, "--mcp-config", FAKE_CONFIG, "--allowedTools", rule)
    assert run.result["result"] == "allowed"
    assert run.result["permission_denials"] == []
    assert run.result_text(1) == "012345678901"


@pytest.mark.parametrize("flags", [[], ["--allowedTools", "mcp__other,mcp__fake__grow"]])
def test_an_unallowed_mcp_tool_is_denied_in_a_headless_run(project: Path, flags: list[str]) -> None:
    turns = [call("mcp__fake__big", n=12), {"op": "final", "text": "denied"}]
    run = bridle(project, turns, "--mcp-config", FAKE_CONFIG, *flags)
    assert run.result["result"] == "denied"
    (denial,) = run.result["permission_denials"]
    assert denial["tool_name"] == "mcp__fake__big" and denial["tool_input"] == {"n": 12}
    (result,) = run.tool_results(1)
    assert result["is_error"] is True
    assert "012345678901" not in run.result_text(1)


def test_a_denying_rule_beats_an_allowing_server_rule(project: Path) -> None:
    turns = [call("mcp__fake__big", n=12), {"op": "final", "text": "denied"}]
    run = bridle(
        project, turns, "--mcp-config", FAKE_CONFIG, "--allowedTools", "mcp__fake",
        "--disallowedTools", "mcp__fake__big",
    )  # fmt: skip
    assert [d["tool_name"] for d in run.result["permission_denials"]] == ["mcp__fake__big"]


def test_list_changed_refreshes_the_offered_tools_within_a_run(project: Path) -> None:
    turns = [
        call("mcp__fake__grow"),
        call("mcp__fake__extra"),
        {"op": "final", "text": "grew"},
    ]
    run = bridle(project, turns, "--mcp-config", FAKE_CONFIG, "--allowedTools", "mcp__fake")
    assert run.result["result"] == "grew", run.proc.stderr
    assert "mcp__fake__extra" not in run.tool_names(0)
    assert run.result_text(1) == "grown"
    assert "mcp__fake__extra" in run.tool_names(1)
    assert "mcp__fake__grow" in run.tool_names(1) and "mcp__fake__big" in run.tool_names(1)
    (extra,) = run.tool_results(2)
    assert not extra.get("is_error"), run.result_text(2)


def test_list_changed_with_tool_search_defers_the_new_tool(project: Path) -> None:
    turns = [
        call("ToolSearch", query="select:mcp__fake__grow"),
        call("mcp__fake__grow"),
        call("ToolSearch", query="select:mcp__fake__extra"),
        call("mcp__fake__extra"),
        {"op": "final", "text": "found"},
    ]
    run = bridle(
        project, turns, "--mcp-config", FAKE_CONFIG, "--allowedTools", "mcp__fake",
        env={"ENABLE_TOOL_SEARCH": "true"},
    )  # fmt: skip
    assert run.result["result"] == "found", run.proc.stderr

    def search_text(index: int) -> str:
        tool = next(t for t in run.bodies[index]["tools"] if t["name"] == "ToolSearch")
        return str(tool["description"])

    assert "mcp__fake__extra" not in search_text(0) + search_text(1)
    assert "mcp__fake__extra" in search_text(2)  # grown: deferred, named by ToolSearch
    assert "mcp__fake__extra" not in run.tool_names(2)
    assert "mcp__fake__extra" in run.tool_names(3)
    assert not run.tool_results(4)[0].get("is_error"), run.result_text(4)


@pytest.mark.parametrize("deny", [False, True])
def test_resource_reads_need_no_rule_but_a_deny_rule_holds(project: Path, deny: bool) -> None:
    notes = Path(FAKE).with_name("notes_server.py")
    config = json.dumps(
        {"mcpServers": {"notes": {"command": sys.executable, "args": [str(notes)]}}}
    )
    turns = [
        call("ListMcpResourcesTool"),
        call("ReadMcpResourceTool", server="notes", uri="notes://today"),
        {"op": "final", "text": "read"},
    ]
    flags = ["--disallowedTools", "ReadMcpResourceTool"] if deny else []
    run = bridle(project, turns, "--mcp-config", config, *flags)
    assert run.result["result"] == "read"
    assert "notes://today" in run.result_text(1)
    denied = [d["tool_name"] for d in run.result["permission_denials"]]
    if deny:
        assert denied == ["ReadMcpResourceTool"] and "Buy milk" not in run.result_text(2)
    else:
        assert denied == [] and "Buy milk" in run.result_text(2)


def test_a_server_that_exited_between_calls_is_restarted_for_the_next(project: Path) -> None:
    turns = [
        call("mcp__fake__quit"),
        # The model thinks for a while, long enough for the server to be gone.
        {**call("mcp__fake__big", n=12), "delay_ms": 1500},
        {"op": "final", "text": "still here"},
    ]
    quitter = {"command": sys.executable, "args": [FAKE, "quit"]}
    config = json.dumps({"mcpServers": {"fake": quitter}})
    run = bridle(project, turns, "--mcp-config", config, "--allowedTools", "mcp__fake")
    assert run.result["result"] == "still here"
    assert run.result_text(1) == "bye"
    assert run.result_text(2) == "012345678901", run.proc.stderr
    assert "bridle: MCP server 'fake' was restarted (it had stopped:" in run.proc.stderr


def pids_listening_on(port: int) -> list[int]:
    """Processes with a listening socket on `port` (the remote server)."""
    hexport = f":{port:04X}"
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[1].endswith(hexport) and fields[3] == "0A":  # LISTEN
                inodes.add(fields[9])
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                links = {
                    os.readlink(f"/proc/{entry}/fd/{fd}") for fd in os.listdir(f"/proc/{entry}/fd")
                }
            except OSError:
                continue
            if any(f"socket:[{i}]" in links for i in inodes):
                found.append(int(entry))
    return found


@needs_npm
@pytest.mark.parametrize("kind", ["sse", "http"])
def test_a_remote_server_that_dies_mid_call_is_named_and_the_run_goes_on(
    project: Path, kind: str
) -> None:
    turns = [
        call("mcp__web__trigger-long-running-operation", duration=20, steps=4),
        call("mcp__web__echo", message="anyone?"),
        {"op": "final", "text": "carried on"},
    ]
    with remote_everything(kind, project.parent) as url:
        port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
        config = json.dumps({"mcpServers": {"web": {"type": kind, "url": url}}})

        def kill_during_the_call(srv: MockServer, proc: subprocess.Popen[str]) -> None:
            deadline = time.monotonic() + 60
            while not srv.requests and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.05)
            time.sleep(1.5)
            for pid in pids_listening_on(port):
                os.kill(pid, signal.SIGKILL)

        run = bridle(
            project, turns, "--mcp-config", config, "--allowedTools", "mcp__web",
            during=kill_during_the_call,
        )  # fmt: skip
    assert run.result["result"] == "carried on"
    assert "MCP server 'web' failed during the call to trigger-long-running-operation" in (
        run.result_text(1)
    )
    second = run.result_text(2)
    assert second.startswith("MCP server 'web' failed to start: HTTP request to " + url)
    assert "bridle: MCP server 'web' failed during the call" in run.proc.stderr
    assert "bridle: MCP server 'web' could not be restarted: HTTP request to" in run.proc.stderr
    assert "Traceback" not in run.proc.stderr  # the SDK's own logs go to a file


def test_stream_json_init_lists_the_mcp_servers_with_their_status(project: Path) -> None:
    servers = {"fake": FAKE_SERVER, "broken": {"command": "no-such-mcp-server-binary"}}
    config = json.dumps({"mcpServers": servers})
    run = bridle(
        project, [{"op": "final", "text": "ok"}], "--mcp-config", config,
        "--output-format", "stream-json", "--verbose",
    )  # fmt: skip
    assert run.proc.returncode == 0, run.proc.stderr
    init = json.loads(run.proc.stdout.splitlines()[0])
    assert (init["type"], init["subtype"]) == ("system", "init")
    assert sorted(init["mcp_servers"], key=lambda s: s["name"]) == [
        {"name": "broken", "status": "failed"},
        {"name": "fake", "status": "connected"},
    ]
    assert "mcp__fake__big" in init["tools"]
