"""Runner behaviour: timeouts kill the process group, async hooks, parallel runs,
identical hooks once, the hook environment and CLAUDE_ENV_FILE, spilling long
output, http hooks on a loopback server, prompt and mcp_tool hooks."""

from __future__ import annotations

import http.server
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bridle.hooks.config import PluginHooks, load_hooks
from bridle.hooks.runner import HookRunner

from .helpers import command_hooks, ctx, runner_for, sample_payload, script


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_timeout_kills_the_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    hook = script(tmp_path, "hang.sh", f"sleep 60 & echo $! > {pidfile}; wait\n")
    runner = runner_for(tmp_path, command_hooks("PreToolUse", str(hook), timeout=1))
    start = time.monotonic()
    out = runner.run("PreToolUse", sample_payload("PreToolUse", ctx(tmp_path)))
    assert time.monotonic() - start < 5
    assert not out.blocked and out.permission_decision is None
    assert "timed out after 1s" in out.errors[0].reason
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 3
    while _pid_alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _pid_alive(child)


def test_on_failure_block_turns_crash_and_timeout_into_a_block(tmp_path: Path) -> None:
    crash = script(tmp_path, "crash.sh", "exit 3\n")
    hang = script(tmp_path, "hang.sh", "sleep 30\n")
    hooks = {
        "PreToolUse": [
            {
                "hooks": [
                    {"type": "command", "command": str(crash), "onFailure": "block"},
                    {"type": "command", "command": str(hang), "onFailure": "block", "timeout": 1},
                ]
            }
        ]
    }
    out = runner_for(tmp_path, hooks).run("PreToolUse", sample_payload("PreToolUse", ctx(tmp_path)))
    assert out.blocked and out.permission_decision == "deny"
    assert len(out.block_reasons) == 2
    assert "onFailure" in out.block_reasons[0] and "timed out" in out.block_reasons[1]


def test_missing_script_is_reported_not_raised(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.sh")
    hooks = {
        "Stop": [
            {
                "hooks": [
                    {"type": "command", "command": missing},
                    {"type": "command", "command": "no-such-binary-xyz", "args": []},
                ]
            }
        ]
    }
    out = runner_for(tmp_path, hooks).run("Stop", sample_payload("Stop", ctx(tmp_path)))
    assert not out.blocked
    reasons = sorted(e.reason for e in out.errors)
    assert "No such file" in reasons[0] or "not found" in reasons[0]
    assert any("no-such-binary-xyz: command not found" in r for r in reasons)


def test_hooks_run_in_parallel_and_identical_ones_once(tmp_path: Path) -> None:
    log = tmp_path / "log"
    hooks = [script(tmp_path, f"s{i}.sh", f"sleep 1; echo {i} >> {log}\n") for i in range(3)]
    same = command_hooks("Stop", str(hooks[0]))
    runner = runner_for(
        tmp_path,
        command_hooks("Stop", *map(str, hooks)),
        extra_layers=[(str(tmp_path / ".claude" / "settings.local.json"), {"hooks": same})],
    )
    start = time.monotonic()
    out = runner.run("Stop", sample_payload("Stop", ctx(tmp_path)))
    assert time.monotonic() - start < 2.5
    assert out.ran == 3
    assert sorted(log.read_text().split()) == ["0", "1", "2"]


def test_async_hook_does_not_block_and_is_delivered_later(tmp_path: Path) -> None:
    hook = script(
        tmp_path,
        "bg.sh",
        'sleep 1; echo \'{"hookSpecificOutput": {"hookEventName": "PostToolUse", '
        '"additionalContext": "tests passed"}, "decision": "block", "reason": "x"}\'\n',
    )
    runner = runner_for(tmp_path, command_hooks("PostToolUse", str(hook), **{"async": True}))
    start = time.monotonic()
    out = runner.run("PostToolUse", sample_payload("PostToolUse", ctx(tmp_path)))
    assert time.monotonic() - start < 0.8
    assert out.additional_context == () and not out.blocked
    later = runner.collect_async(wait=10)
    assert [o.additional_context for o in later] == [("tests passed",)]
    assert not later[0].blocked  # an async hook cannot block


def test_close_kills_running_async_hooks(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    hook = script(tmp_path, "bg.sh", f"echo $$ > {pidfile}; sleep 60\n")
    runner = runner_for(tmp_path, command_hooks("Stop", str(hook), **{"async": True}))
    runner.run("Stop", sample_payload("Stop", ctx(tmp_path)))
    deadline = time.monotonic() + 5
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    runner.close()
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 3
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _pid_alive(pid)


def test_hook_environment_and_plugin_placeholders(tmp_path: Path) -> None:
    plugin = tmp_path / "plug"
    (plugin / "hooks").mkdir(parents=True)
    dump = tmp_path / "env.txt"
    script(
        plugin,
        "show.sh",
        f'echo "$1|$CLAUDE_PROJECT_DIR|$CLAUDE_PLUGIN_ROOT|$CLAUDE_PLUGIN_DATA|$BRIDLE_SESSION_ID"'
        f" > {dump}\n",
    )
    (plugin / "hooks" / "hooks.json").write_text(
        json.dumps(
            {
                "hooks": {
                    "Stop": [
                        {
                            "hooks": [
                                {
                                    "type": "command",
                                    "command": "${CLAUDE_PLUGIN_ROOT}/show.sh",
                                    "args": ["${CLAUDE_PLUGIN_ROOT}/arg"],
                                }
                            ]
                        }
                    ]
                }
            }
        )
    )
    data = tmp_path / "data"
    config = load_hooks([], plugins=[PluginHooks("plug", str(plugin), str(data))])
    runner = HookRunner(config, project_dir=tmp_path, session_id="sess-9")
    out = runner.run("Stop", sample_payload("Stop", ctx(tmp_path)))
    assert not out.errors
    assert dump.read_text().strip() == f"{plugin}/arg|{tmp_path}|{plugin}|{data}|sess-9"
    assert data.is_dir()


def test_session_start_env_file_variables_come_back(tmp_path: Path) -> None:
    hook = script(
        tmp_path,
        "env.sh",
        'echo "export NODE_ENV=production" >> "$CLAUDE_ENV_FILE"\n'
        'echo \'export GREETING="hello world"\' >> "$CLAUDE_ENV_FILE"\n'
        'echo \'export PATH="$PATH:/opt/extra"\' >> "$CLAUDE_ENV_FILE"\n',
    )
    runner = runner_for(tmp_path, command_hooks("SessionStart", str(hook)))
    out = runner.run("SessionStart", sample_payload("SessionStart", ctx(tmp_path)))
    assert out.env["NODE_ENV"] == "production"
    assert out.env["GREETING"] == "hello world"
    assert out.env["PATH"] == os.environ["PATH"] + ":/opt/extra"
    no_file = script(tmp_path, "check.sh", 'test -z "$CLAUDE_ENV_FILE" || exit 1\n')
    out = runner_for(tmp_path, command_hooks("Stop", str(no_file))).run(
        "Stop", sample_payload("Stop", ctx(tmp_path))
    )
    assert not out.errors and out.env == {}


def test_long_output_is_spilled_to_a_file(tmp_path: Path) -> None:
    big = "x" * 15_000 + "END"
    data = tmp_path / "big.json"
    data.write_text(
        json.dumps(
            {"hookSpecificOutput": {"hookEventName": "PostToolUse", "additionalContext": big}}
        )
    )
    hook = script(tmp_path, "big.sh", f"cat {data}\n")
    out = runner_for(tmp_path, command_hooks("PostToolUse", str(hook))).run(
        "PostToolUse", sample_payload("PostToolUse", ctx(tmp_path))
    )
    (context,) = out.additional_context
    assert len(context) < 3_000 and "15003 characters" in context
    spilled = next((tmp_path / "spill").iterdir())
    assert str(spilled) in context and spilled.read_text() == big


# -- http ----------------------------------------------------------------------------


class _Server(http.server.ThreadingHTTPServer):
    reply: tuple[int, bytes] = (200, b"")
    seen: list[tuple[dict[str, str], Any]]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.seen.append((dict(self.headers), json.loads(body)))
        status, reply = self.server.reply
        if reply == b"SLEEP":
            time.sleep(3)
            reply = b""
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the hook timed out and went away

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Server]:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.seen = []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _http_hooks(srv: _Server, **fields: Any) -> dict:
    url = f"http://127.0.0.1:{srv.server_address[1]}/hook"
    return {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "http", "url": url, **fields}]}]}


def test_http_hook_posts_json_and_reads_decision(tmp_path: Path, server: _Server) -> None:
    deny = {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": "remote says no",
        }
    }
    server.reply = (200, json.dumps(deny).encode())
    hooks = _http_hooks(
        server,
        headers={"Authorization": "Bearer $MY_TOKEN", "X-Other": "${SECRET}-tail"},
        allowedEnvVars=["MY_TOKEN"],
    )
    runner = runner_for(tmp_path, hooks, base_env={**os.environ, "MY_TOKEN": "t0k", "SECRET": "s"})
    payload = sample_payload("PreToolUse", ctx(tmp_path))
    out = runner.run("PreToolUse", payload)
    assert out.permission_decision == "deny" and out.block_reason == "remote says no"
    headers, body = server.seen[0]
    assert body == payload
    assert headers["Authorization"] == "Bearer t0k"
    assert headers["X-Other"] == "-tail"  # not in allowedEnvVars: empty
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        ((500, b"oops"), "HTTP 500"),
        ((200, b"plain text"), "not a JSON object"),
        ((200, b"SLEEP"), "timed out"),
    ],
)
def test_http_failures_are_non_blocking(
    tmp_path: Path, server: _Server, reply: tuple[int, bytes], why: str
) -> None:
    server.reply = reply
    out = runner_for(tmp_path, _http_hooks(server, timeout=1)).run(
        "PreToolUse", sample_payload("PreToolUse", ctx(tmp_path))
    )
    assert not out.blocked and why in out.errors[0].reason


def test_http_connection_refused_and_url_allowlist(tmp_path: Path, server: _Server) -> None:
    port = server.server_address[1]
    server.shutdown()
    server.server_close()
    out = runner_for(tmp_path, _http_hooks(server)).run(
        "PreToolUse", sample_payload("PreToolUse", ctx(tmp_path))
    )
    assert "cannot reach" in out.errors[0].reason
    layers = [
        ("s", {"hooks": _http_hooks(server), "allowedHttpHookUrls": ["https://hooks.example/*"]})
    ]
    runner = HookRunner(load_hooks(layers), project_dir=tmp_path, session_id="s")
    out = runner.run("PreToolUse", sample_payload("PreToolUse", ctx(tmp_path)))
    assert f"127.0.0.1:{port}/hook is not in allowedHttpHookUrls" in out.errors[0].reason


# -- prompt and mcp_tool --------------------------------------------------------------


def test_prompt_hook_asks_the_judge(tmp_path: Path) -> None:
    asked: list[tuple[str, str | None]] = []

    def judge(text: str, model: str | None) -> tuple[bool, str]:
        asked.append((text, model))
        return False, "the tests were not run"

    hooks = {
        "Stop": [
            {
                "hooks": [
                    {"type": "prompt", "prompt": "Costs \\$1. Done? $ARGUMENTS", "model": "small"}
                ]
            }
        ]
    }
    out = runner_for(tmp_path, hooks, judge=judge).run(
        "Stop", sample_payload("Stop", ctx(tmp_path))
    )
    assert out.blocked and out.block_reason == "the tests were not run"
    text, model = asked[0]
    assert model == "small" and text.startswith("Costs $1. Done? {")
    assert json.loads(text.split("Done? ", 1)[1])["hook_event_name"] == "Stop"
    pre = {"PreToolUse": [{"hooks": [{"type": "prompt", "prompt": "safe?"}]}]}
    out = runner_for(tmp_path, pre, judge=judge).run(
        "PreToolUse", sample_payload("PreToolUse", ctx(tmp_path))
    )
    assert out.permission_decision == "deny"
    assert asked[1][0].startswith("safe?\n\n{")  # no $ARGUMENTS: the JSON is appended


def test_prompt_hook_without_judge_or_with_failing_judge(tmp_path: Path) -> None:
    hooks = {"Stop": [{"hooks": [{"type": "prompt", "prompt": "ok?"}]}]}
    out = runner_for(tmp_path, hooks).run("Stop", sample_payload("Stop", ctx(tmp_path)))
    assert not out.blocked and "no model" in out.errors[0].reason

    def broken(text: str, model: str | None) -> tuple[bool, str]:
        raise RuntimeError("provider down")

    out = runner_for(tmp_path, hooks, judge=broken).run(
        "Stop", sample_payload("Stop", ctx(tmp_path))
    )
    assert not out.blocked and "provider down" in out.errors[0].reason


def test_mcp_tool_hook(tmp_path: Path) -> None:
    calls: list[tuple[str, str, dict]] = []

    def mcp_call(server: str, tool: str, args: dict) -> Any:
        calls.append((server, tool, args))
        return {"content": [{"type": "text", "text": '{"decision": "block", "reason": "scan"}'}]}

    hooks = {
        "PostToolUse": [
            {
                "hooks": [
                    {
                        "type": "mcp_tool",
                        "server": "sec",
                        "tool": "scan",
                        "input": {"cmd": "${tool_input.command}", "n": 3},
                    }
                ]
            }
        ]
    }
    out = runner_for(tmp_path, hooks, mcp_call=mcp_call).run(
        "PostToolUse", sample_payload("PostToolUse", ctx(tmp_path))
    )
    assert calls == [("sec", "scan", {"cmd": "echo hi", "n": 3})]
    assert out.blocked and out.block_reason == "scan"
    out = runner_for(tmp_path, hooks).run(
        "PostToolUse", sample_payload("PostToolUse", ctx(tmp_path))
    )
    assert not out.blocked and "no MCP client" in out.errors[0].reason


def test_if_filters_handlers(tmp_path: Path) -> None:
    log = tmp_path / "log"
    hook = script(tmp_path, "h.sh", f"echo ran >> {log}\n")
    hooks = {
        "PreToolUse": [
            {
                "matcher": "Bash",
                "hooks": [{"type": "command", "command": str(hook), "if": "Bash(git *)"}],
            }
        ]
    }
    runner = runner_for(tmp_path, hooks)
    c = ctx(tmp_path)
    from bridle.hooks import events as ev

    assert runner.run("PreToolUse", ev.pre_tool_use(c, "Bash", {"command": "ls"}, "t")).ran == 0
    assert (
        runner.run("PreToolUse", ev.pre_tool_use(c, "Bash", {"command": "git push"}, "t")).ran == 1
    )
    assert log.read_text() == "ran\n"
