"""Helpers for the MCP acceptance runs (`test_mcp_reference_run.py`,
`test_mcp_recovery_run.py`): a real `python -m bridle -p` run against the mock
model with its request bodies kept, the reference servers' location
(`BRIDLE_TEST_MCP`, set by scripts/test) and a remote `server-everything`
started on a free loopback port for the SSE and streamable HTTP transports."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bridle.mock.server import MockServer

BIN = os.environ.get("BRIDLE_TEST_MCP", "")
NEEDS_NPM = "BRIDLE_TEST_MCP is not set (scripts/test installs the MCP servers from npm)"
needs_npm = pytest.mark.skipif(not BIN, reason=NEEDS_NPM)
FAKE = str(Path(__file__).resolve().parents[1] / "mcp" / "fake_server.py")


def everything_stdio() -> dict[str, Any]:
    return {"command": f"{BIN}/mcp-server-everything", "args": ["stdio"]}


def write_scenario(tmp: Path, turns: list[dict[str, Any]]) -> Path:
    path = tmp / "scenario.json"
    path.write_text(json.dumps({"name": "mcp", "turns": turns}))
    return path


def call(tool: str, **args: Any) -> dict[str, Any]:
    return {"op": "call", "tool": tool, "input": json.dumps(args)}


class Run:
    """One finished run: the process and the request bodies the model received."""

    def __init__(self, proc: subprocess.CompletedProcess[str], bodies: list[Any]) -> None:
        self.proc = proc
        self.bodies = bodies

    @property
    def result(self) -> dict[str, Any]:
        assert self.proc.returncode == 0, self.proc.stderr
        out: dict[str, Any] = json.loads(self.proc.stdout)
        return out

    def tool_results(self, index: int) -> list[dict[str, Any]]:
        """The tool_result blocks of request `index` (Anthropic wire), last message."""
        last = self.bodies[index]["messages"][-1]
        return [b for b in last["content"] if b.get("type") == "tool_result"]

    def result_text(self, index: int) -> str:
        texts = []
        for block in self.tool_results(index):
            content = block.get("content")
            if isinstance(content, str):
                texts.append(content)
            else:
                texts += [c["text"] for c in content or [] if c.get("type") == "text"]
        return "\n".join(texts)

    def tool_names(self, index: int) -> list[str]:
        return [t["name"] for t in self.bodies[index].get("tools", [])]


def bridle(
    repo: Path,
    turns: list[dict[str, Any]],
    *flags: str,
    env: dict[str, str] | None = None,
    during: Any = None,
) -> Run:
    """Run `bridle -p` in `repo` (HOME and BRIDLE_HOME from the test's
    environment) with the scripted `turns` on the Anthropic wire. `during(srv,
    proc)` runs while the process is alive, for tests that act mid-run."""
    scenario = write_scenario(repo.parent, turns)
    with MockServer(scenario, workdir=repo, keep_bodies=True) as srv:
        full = dict(os.environ, BRIDLE_MOCK_BASE_URL=srv.base_url)
        full.pop("BRIDLE_MOCK_SCENARIO", None)
        full.pop("ENABLE_TOOL_SEARCH", None)
        full.update(env or {})
        cmd = [sys.executable, "-m", "bridle", "-p", "use the MCP tools", "--model",
               "mock/anthropic", "--output-format", "json", *flags]  # fmt: skip
        proc = subprocess.Popen(
            cmd, cwd=repo, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            if during is not None:
                during(srv, proc)
            out, err = proc.communicate(timeout=180)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        bodies = [r["body"] for r in srv.requests if "body" in r]
    return Run(subprocess.CompletedProcess(cmd, proc.returncode, out, err), bodies)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def remote_everything(kind: str, logs: Path) -> Iterator[str]:
    """`server-everything` over `sse` or `http` on a free loopback port; its URL."""
    port = free_port()
    mode, path = ("sse", "/sse") if kind == "sse" else ("streamableHttp", "/mcp")
    log_path = logs / f"everything-{kind}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [f"{BIN}/mcp-server-everything", mode],
            env={**os.environ, "PORT": str(port)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(f"{mode} server did not start: {log_path.read_text()}")
                time.sleep(0.1)
            yield f"http://127.0.0.1:{port}{path}"
        finally:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
