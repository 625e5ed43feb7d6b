"""`bridle mcp add/add-json/list/get/remove` end to end through `python -m bridle`
in a temp HOME and project: the files hold exactly what Claude Code writes
(checked against the real `claude mcp` when it is installed), `list` and `get`
start the servers and say connected with N tools, failed with the reason, or
needs approval, and bad input exits with a message naming the fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.realcli.harness import cli_bin

PY = sys.executable
TIME = [PY, "-m", "mcp_server_time", "--local-timezone", "UTC"]


def bridle(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "bridle", "mcp", *args],
        cwd=project, env=dict(os.environ), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def claude_json() -> dict[str, object]:
    return json.loads((Path(os.environ["HOME"]) / ".claude.json").read_text())


def test_add_writes_each_scope_as_claude_code_does(project: Path) -> None:
    local = bridle(project, "add", "-e", "TZ=UTC", "-e", "X=a=b", "time", "--", *TIME)
    assert local.returncode == 0, local.stderr
    assert "Added stdio MCP server time" in local.stdout and "to local config" in local.stdout
    web = bridle(
        project, "add", "-s", "user", "-t", "http", "-H", "Authorization: Bearer ${TOKEN}",
        "web", "https://mcp.example.com/mcp",
    )  # fmt: skip
    assert web.returncode == 0, web.stderr
    sse = bridle(project, "add", "-s", "project", "-t", "sse", "events", "http://127.0.0.1:9/sse")
    assert sse.returncode == 0, sse.stderr
    raw = bridle(project, "add-json", "-s", "user", "mem", '{"command": "npx", "args": ["m"]}')
    assert raw.returncode == 0, raw.stderr

    doc = claude_json()
    assert doc["projects"] == {  # type: ignore[comparison-overlap]
        str(project): {
            "mcpServers": {
                "time": {
                    "type": "stdio", "command": PY, "args": TIME[1:],
                    "env": {"TZ": "UTC", "X": "a=b"},
                }
            }
        }
    }  # fmt: skip
    assert doc["mcpServers"] == {
        "web": {
            "type": "http",
            "url": "https://mcp.example.com/mcp",
            "headers": {"Authorization": "Bearer ${TOKEN}"},
        },
        "mem": {"command": "npx", "args": ["m"]},  # add-json keeps what was given
    }
    assert json.loads((project / ".mcp.json").read_text()) == {
        "mcpServers": {"events": {"type": "sse", "url": "http://127.0.0.1:9/sse"}}
    }
    # A new ~/.claude.json holds secrets: private to the user.
    assert (Path(os.environ["HOME"]) / ".claude.json").stat().st_mode & 0o077 == 0


def test_add_keeps_every_other_key_and_remove_takes_one_entry(project: Path) -> None:
    path = Path(os.environ["HOME"]) / ".claude.json"
    path.write_text(json.dumps({"numStartups": 4, "projects": {str(project): {"x": 1}}}))
    assert bridle(project, "add", "a", "--", "cmd-a").returncode == 0
    assert bridle(project, "add", "-s", "user", "b", "--", "cmd-b").returncode == 0
    gone = bridle(project, "remove", "a")
    assert gone.returncode == 0, gone.stderr
    assert 'Removed MCP server "a" from local config' in gone.stdout
    assert json.loads(path.read_text()) == {
        "numStartups": 4,
        "projects": {str(project): {"x": 1, "mcpServers": {}}},
        "mcpServers": {"b": {"type": "stdio", "command": "cmd-b", "args": [], "env": {}}},
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["add", "web", "https://x.example/mcp"],
            "bridle mcp add -t http web https://x.example/mcp",
        ),
        (["add", "-t", "http", "web", "https://x/m", "extra"], "takes only a URL"),
        (["add", "-H", "A: b", "s", "--", "cmd"], "use it with -t http or -t sse"),
        (["add", "-e", "NOEQUALS", "s", "--", "cmd"], "KEY=VALUE"),
        (["add", "-t", "http", "-H", "no colon", "w", "http://x/m"], '"Name: value"'),
        (["add", "s", "python", "-m", "x"], "after `--`"),
        (["add", "-s", "global", "s", "--", "x"], "'global' is not one of"),
        (["add-json", "s", "{not json"], "not valid JSON"),
        (["add-json", "s", '{"url": "http://x/m"}'], 'add "type": "http"'),
        (["remove", "nope"], "no MCP server named 'nope'"),
        (["get", "nope"], "see `bridle mcp list`"),
    ],
)
def test_bad_input_names_the_fix(project: Path, args: list[str], message: str) -> None:
    proc = bridle(project, *args)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (Path(os.environ["HOME"]) / ".claude.json").exists()


def test_a_taken_name_and_a_name_in_two_scopes(project: Path) -> None:
    assert bridle(project, "add", "s", "--", "one").returncode == 0
    again = bridle(project, "add", "s", "--", "two")
    assert again.returncode == 1 and "bridle mcp remove s -s local" in again.stderr
    assert bridle(project, "add", "-s", "user", "s", "--", "two").returncode == 0
    both = bridle(project, "remove", "s")
    assert both.returncode == 1 and "several scopes (local, user)" in both.stderr
    assert bridle(project, "remove", "s", "-s", "user").returncode == 0
    assert claude_json()["mcpServers"] == {}


def test_a_damaged_claude_json_is_refused_and_kept(project: Path) -> None:
    path = Path(os.environ["HOME"]) / ".claude.json"
    path.write_text('{"projects": ')
    proc = bridle(project, "add", "s", "--", "x")
    assert proc.returncode == 1 and "not valid JSON" in proc.stderr
    assert path.read_text() == '{"projects": '


def test_list_and_get_show_live_status(project: Path) -> None:
    assert bridle(project, "add", "time", "--", *TIME).returncode == 0
    assert bridle(project, "add", "broken", "--", "no-such-mcp-binary-xyz").returncode == 0
    assert bridle(project, "add", "-s", "project", "shared", "--", *TIME).returncode == 0
    listed = bridle(project, "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert f"time: {' '.join(TIME)} - connected (2 tools)" in lines
    assert any(
        ln.startswith("broken: no-such-mcp-binary-xyz - failed: command") and "not found" in ln
        for ln in lines
    )
    assert any(ln.startswith("shared: ") and "needs approval" in ln for ln in lines)
    as_json = json.loads(bridle(project, "list", "--json").stdout)
    assert {r["name"]: r["status"] for r in as_json} == {
        "time": "connected", "broken": "failed", "shared": "needs approval",
    }  # fmt: skip
    assert next(r for r in as_json if r["name"] == "time")["tools"] == [
        "get_current_time", "convert_time",
    ]  # fmt: skip

    (project / ".claude").mkdir()
    (project / ".claude/settings.local.json").write_text('{"enabledMcpjsonServers": ["shared"]}')
    got = bridle(project, "get", "shared")
    assert got.returncode == 0, got.stderr
    assert "  Scope: Project config (shared via .mcp.json)" in got.stdout
    assert "  Status: connected (2 tools)" in got.stdout
    assert "    convert_time" in got.stdout
    assert "bridle mcp remove shared -s project" in got.stdout


def test_list_with_nothing_configured_says_how_to_add(project: Path) -> None:
    proc = bridle(project, "list")
    assert proc.returncode == 0
    assert "No MCP servers configured" in proc.stdout and "bridle mcp add" in proc.stdout


def test_claude_code_reads_what_bridle_wrote_and_the_other_way(project: Path) -> None:
    claude = cli_bin("claude")
    env = dict(os.environ, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", DISABLE_TELEMETRY="1")
    env["DISABLE_AUTOUPDATER"] = "1"

    def cc(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(claude), "mcp", *args], cwd=project, env=env,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    assert bridle(project, "add", "time", "--", *TIME).returncode == 0
    sse = ["add", "-s", "project", "-t", "sse", "ev", "http://127.0.0.1:9/s"]
    assert bridle(project, *sse).returncode == 0
    listed = cc("list")
    assert listed.returncode == 0, listed.stderr
    assert "time: " in listed.stdout and "Connected" in listed.stdout
    assert "ev: http://127.0.0.1:9/s (SSE) - " in listed.stdout
    got = cc("get", "time")
    assert "Local config" in got.stdout, got.stdout + got.stderr

    # Claude Code's -e is variadic: it takes every word up to `--`.
    made = cc("add", "-s", "user", "cc-made", "-e", "K=v", "--", "cc-cmd", "--flag")
    assert made.returncode == 0, made.stderr
    mine = json.loads(bridle(project, "list", "--json").stdout)
    cc_made = next(r for r in mine if r["name"] == "cc-made")
    assert (cc_made["scope"], cc_made["target"]) == ("user", "cc-cmd --flag")
    assert bridle(project, "remove", "cc-made").returncode == 0
    assert "cc-made" not in cc("list").stdout


def test_an_installed_plugins_server_is_listed(project: Path, tmp_path: Path) -> None:
    plugin = tmp_path / "tp"
    (plugin / ".claude-plugin").mkdir(parents=True)
    (plugin / ".claude-plugin/plugin.json").write_text('{"name": "tp", "version": "1.0.0"}')
    server = {"command": PY, "args": TIME[1:]}
    (plugin / ".mcp.json").write_text(json.dumps({"mcpServers": {"ptime": server}}))
    installed = subprocess.run(
        [PY, "-m", "bridle", "plugins", "install", str(plugin)],
        cwd=project, env=dict(os.environ), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    listed = json.loads(bridle(project, "list", "--json").stdout)
    assert [(r["name"], r["scope"], r["status"]) for r in listed] == [
        ("ptime", "plugin", "connected")
    ]
    assert listed[0]["source"].endswith("/tp/1.0.0/.mcp.json")
    got = bridle(project, "get", "ptime")
    assert "  Scope: Plugin (.mcp.json)" in got.stdout
    assert "edit that to change or remove it" in got.stdout
