"""`bridle acp` driven by the official ACP SDK's client, against the mock model.

A copy of examples/buggy-project is fixed end to end over the protocol: the
first prompt starts a slow command that the client cancels (stopReason
cancelled, the command killed), the second runs the bugfix with the plan,
searches, reads, edits (a diff with its location) and test runs, the edit and
the commands asked through `session/request_permission` and answered by the
client (allow always: the second edit of the file is not asked). Once with a
plain client (bridle's own tools on disk), once with an editor client that
offers `fs` and `terminal`, where every read and write goes through its
buffers and every command through its terminals, and the mode is switched
with `session/set_mode`.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from pathlib import Path
from typing import Any

from acp import text_block
from acp_client import EditorClient, agent, agent_env

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "buggy-project"
TODOS = [
    {"content": "Run the tests", "status": "in_progress", "activeForm": "Running the tests"},
    {"content": "Fix mean()", "status": "pending"},
]
FIXED = "return sum(values) / len(values)"
RUN_TESTS = "Run python -m unittest -q"  # the mock sends a description


def scenario(tmp: Path) -> Path:
    path = tmp / "scenario.json"
    turns: list[dict[str, Any]] = [
        {"op": "bash", "command": "sleep 30", "say": "Checking the slow suite first."},
        {"op": "call", "tool": "TodoWrite", "input": json.dumps({"todos": TODOS})},
        {"op": "glob", "pattern": "**/*.py", "say": "Let me look at the project files."},
        {"op": "bash", "command": "python -m unittest -q"},
        {"op": "read", "path": "stats.py"},
        {"op": "edit", "path": "stats.py", "old": "return sum(values) / (len(values) + 1)",
         "new": FIXED, "say": "`mean()` divides by one too many."},
        {"op": "edit", "path": "stats.py", "old": "Arithmetic mean of",
         "new": "The arithmetic mean of"},
        {"op": "bash", "command": "python -m unittest -q", "say": "Re-running the tests."},
        {"op": "final", "text": "Fixed mean(); all 3 tests pass."},
    ]  # fmt: skip
    path.write_text(json.dumps({"name": "acp-bugfix", "turns": turns}))
    return path


def project(tmp: Path) -> Path:
    repo = tmp / "buggy"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("scenario.json"))
    return repo


async def cancel_the_sleep(client: EditorClient, conn: Any, session_id: str) -> Any:
    """Prompt 1: the slow command starts, the client cancels it."""
    sleep_id: list[str] = []

    def watch(update: Any) -> None:
        if update.session_update == "tool_call" and update.raw_input["command"] == "sleep 30":
            sleep_id.append(update.tool_call_id)
        if (
            update.session_update == "tool_call_update"
            and update.tool_call_id in sleep_id
            # An editor shows its terminal once the command runs; bridle's own
            # Bash starts right after the call is in progress.
            and (
                any(c.type == "terminal" for c in update.content or [])
                if client.editor
                else update.status == "in_progress"
            )
        ):
            asyncio.get_running_loop().create_task(conn.cancel(session_id=session_id))

    client.on_update = watch
    t0 = time.monotonic()
    reply = await conn.prompt(session_id=session_id, prompt=[text_block("check the suite")])
    client.on_update = None
    assert reply.stop_reason == "cancelled"
    assert time.monotonic() - t0 < 20  # `sleep 30` was killed, not waited for
    done = [u for u in client.of("tool_call_update") if u.tool_call_id == sleep_id[0]]
    assert done[-1].status == "failed"
    assert "interrupted" in done[-1].content[0].content.text
    return reply


def check_the_fix(client: EditorClient, repo: Path, reply: Any) -> None:
    assert reply.stop_reason == "end_turn"
    assert reply.usage is not None and reply.usage.output_tokens > 0
    assert FIXED in (repo / "stats.py").read_text()
    assert "The arithmetic mean of" in (repo / "stats.py").read_text()
    calls = {u.tool_call_id: u for u in client.of("tool_call")}
    kinds = [c.kind for c in calls.values()]
    assert kinds == ["execute", "think", "search", "execute", "read", "edit", "edit", "execute"]
    edit = next(c for c in calls.values() if c.kind == "edit")
    diff = edit.content[0]
    assert (diff.type, diff.path) == ("diff", str(repo / "stats.py"))
    assert (diff.old_text, diff.new_text) == ("return sum(values) / (len(values) + 1)", FIXED)
    assert edit.locations[0].path == str(repo / "stats.py")
    assert edit.title == "Edit stats.py"
    finished = {u.tool_call_id: u for u in client.of("tool_call_update") if u.status}
    assert [finished[i].status for i in calls] == ["failed", *["completed"] * 7]
    last_run = finished[list(calls)[-1]]
    assert "OK" in last_run.content[-1].content.text
    plan = client.of("plan")[-1]
    assert [(e.content, e.status) for e in plan.entries] == [
        ("Run the tests", "in_progress"),
        ("Fix mean()", "pending"),
    ]
    text = client.text()
    assert "Checking the slow suite first." in text and "Fixed mean(); all 3 tests pass." in text


def test_a_whole_bugfix_over_acp_with_permission_asks_and_a_cancel(tmp_path: Path) -> None:
    repo = project(tmp_path)
    # The unittest run, the first edit (always), the last unittest run.
    client = EditorClient(["allow_once", "allow_always", "allow_once"])
    env = agent_env(tmp_path / "home", scenario(tmp_path))

    async def run() -> None:
        async with agent(client, env, "--model", "mock/anthropic") as (conn, _):
            new = await conn.new_session(cwd=str(repo), mcp_servers=[])
            assert new.modes.current_mode_id == "default"
            assert new.config_options[0].current_value == "mock/anthropic"
            await cancel_the_sleep(client, conn, new.session_id)
            reply = await conn.prompt(
                session_id=new.session_id, prompt=[text_block("fix the failing test")]
            )
            check_the_fix(client, repo, reply)

    asyncio.run(asyncio.wait_for(run(), 120))
    asked = [(a.kind, a.title) for a in client.asks]
    assert asked == [
        ("execute", RUN_TESTS),
        ("edit", "Edit stats.py"),
        ("execute", RUN_TESTS),
    ]
    assert client.asks[1].content[0].new_text == FIXED
    assert client.reads == [] and client.writes == [] and client.commands == []


def test_an_editor_client_gets_the_reads_writes_and_commands(tmp_path: Path) -> None:
    repo = project(tmp_path)
    client = EditorClient(["allow_once", "allow_once"], editor=True)
    env = agent_env(tmp_path / "home", scenario(tmp_path))

    async def run() -> None:
        async with agent(client, env, "--model", "mock/anthropic") as (conn, _):
            new = await conn.new_session(cwd=str(repo), mcp_servers=[])
            sid = new.session_id
            await cancel_the_sleep(client, conn, sid)
            await conn.set_session_mode(session_id=sid, mode_id="acceptEdits")
            reply = await conn.prompt(session_id=sid, prompt=[text_block("fix the failing test")])
            check_the_fix(client, repo, reply)

    asyncio.run(asyncio.wait_for(run(), 120))
    assert client.of("current_mode_update")[-1].current_mode_id == "acceptEdits"
    # Edits were not asked in acceptEdits; the commands were.
    assert [a.kind for a in client.asks] == ["execute", "execute"]
    stats = str(repo / "stats.py")
    assert client.reads == [stats, stats, stats]  # Read, then each Edit's current buffer
    assert [p for p, _ in client.writes] == [stats, stats]
    assert FIXED in client.writes[0][1] and client.buffers[stats] == (repo / "stats.py").read_text()
    # `bash -c SCRIPT bash COMMAND`: the script keeps the shell's directory.
    assert [c[-1] for c in client.commands] == ["sleep 30", *["python -m unittest -q"] * 2]
    assert all(c[:2] == ["bash", "-c"] and c[3] == "bash" for c in client.commands)
    shown = [
        c.terminal_id
        for u in client.of("tool_call_update")
        for c in u.content or []
        if c.type == "terminal"
    ]
    assert shown == ["term-1", "term-2", "term-3"]
