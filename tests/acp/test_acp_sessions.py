"""`bridle acp` sessions: load (history replayed), model switch, refusals.

A session run in one `bridle acp` process (bypassPermissions set with
`session/set_mode`, so nothing asks) is loaded in a second process, in that
mode again: the client sees the conversation again as updates (the user's prompt, the agent's words,
the Read and the Edit with its diff and results) before `session/load`
answers, then prompts on in the loaded session after switching the model with
the `model` config option, and the next request reaches the mock on the
OpenAI chat wire. An MCP server the client names (`mcp-server-time` over
stdio) is started and its tool called after the client allows it, and a
prompt's image and embedded file reach the model. `authenticate` with a bridle
account makes its stored key open sessions. Bad requests get JSON-RPC
errors that say what to do.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from acp import (
    RequestError,
    embedded_text_resource,
    image_block,
    resource_block,
    text_block,
)
from acp import schema as s
from acp_client import EditorClient, agent, agent_env

from bridle.mock.server import MockServer

PROMPT = "make the greeting polite"
# A 1x1 PNG.
PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def scenario(tmp: Path) -> Path:
    path = tmp / "scenario.json"
    turns: list[dict[str, Any]] = [
        {"op": "read", "path": "hello.py", "say": "Reading it."},
        {"op": "edit", "path": "hello.py", "old": "hi", "new": "good morning"},
        {"op": "final", "text": "The greeting is polite now."},
    ]
    path.write_text(json.dumps({"name": "acp-load", "turns": turns}))
    return path


def test_a_loaded_session_replays_its_history_and_goes_on_with_another_model(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "hello.py").write_text('print("hi")\n')
    home = tmp_path / "home"
    first, second = EditorClient(), EditorClient()

    async def run(srv: MockServer) -> None:
        env = agent_env(home, BRIDLE_MOCK_BASE_URL=srv.base_url)
        async with agent(first, env, "--model", "mock/anthropic") as (conn, _):
            new = await conn.new_session(cwd=str(repo), mcp_servers=[])
            sid = new.session_id
            await conn.set_session_mode(session_id=sid, mode_id="bypassPermissions")
            reply = await conn.prompt(session_id=sid, prompt=[text_block(PROMPT)])
            assert reply.stop_reason == "end_turn"
        async with agent(second, env) as (conn, _):
            loaded = await conn.load_session(cwd=str(repo), session_id=sid, mcp_servers=[])
            # (the command list may follow the answer at once; it is no replay)
            replayed = [
                u for u in second.updates if u.session_update != "available_commands_update"
            ]
            # The mode the first process switched to (a stored permission_mode event).
            assert loaded.modes.current_mode_id == "bypassPermissions"
            assert loaded.config_options[0].current_value == "mock/anthropic"  # as recorded
            choice = await conn.set_config_option(
                config_id="model", session_id=sid, value="mock/openai-chat"
            )
            assert choice.config_options[0].current_value == "mock/openai-chat"
            again = await conn.prompt(session_id=sid, prompt=[text_block("thanks")])
            assert again.stop_reason == "end_turn"
        check_replay(replayed, repo)

    with MockServer(scenario(tmp_path), workdir=repo) as srv:
        asyncio.run(asyncio.wait_for(run(srv), 120))
        paths = [r["path"] for r in srv.requests]
    assert (repo / "hello.py").read_text() == 'print("good morning")\n'
    assert all(p == "/v1/messages" for p in paths[:3]), paths
    assert paths[-1] == "/v1/chat/completions"
    assert "The greeting is polite now." in second.text()


def check_replay(updates: list[Any], repo: Path) -> None:
    kinds = [u.session_update for u in updates]
    assert kinds == [
        "user_message_chunk",
        "agent_message_chunk",
        "tool_call",
        "tool_call_update",
        "tool_call",
        "tool_call_update",
        "agent_message_chunk",
    ]
    assert updates[0].content.text == PROMPT
    assert updates[1].content.text == "Reading it."
    read, edit = updates[2], updates[4]
    assert (read.kind, read.title, read.locations[0].path) == (
        "read",
        "Read hello.py",
        str(repo / "hello.py"),
    )
    assert 'print("hi")' in updates[3].content[0].content.text
    assert updates[3].status == "completed"
    diff = edit.content[0]
    assert (diff.path, diff.old_text, diff.new_text) == (
        str(repo / "hello.py"),
        "hi",
        "good morning",
    )
    assert updates[5].status == "completed"
    assert updates[6].content.text == "The greeting is polite now."


def test_bad_requests_get_errors_that_say_what_to_do(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    client = EditorClient()

    async def run() -> None:
        # No --model, no settings, no key: a session needs authentication first.
        async with agent(client, agent_env(tmp_path / "home")) as (conn, _):
            with pytest.raises(RequestError) as no_model:
                await conn.new_session(cwd=str(repo), mcp_servers=[])
            assert no_model.value.code == -32000  # auth_required
            assert "--model provider/model" in str(no_model.value.data)
            with pytest.raises(RequestError) as auth:
                await conn.authenticate(method_id="env")
            assert "ANTHROPIC_API_KEY" in str(auth.value.data)
            with pytest.raises(RequestError) as relative:
                await conn.new_session(cwd="repo", mcp_servers=[])
            assert "absolute directory" in str(relative.value.data)
            with pytest.raises(RequestError) as unknown:
                await conn.prompt(session_id="nope", prompt=[text_block("hi")])
            assert "session/new" in str(unknown.value.data)
            with pytest.raises(RequestError) as missing:
                await conn.load_session(cwd=str(repo), session_id="nope", mcp_servers=[])
            assert "bridle sessions list" in str(missing.value.data)

    asyncio.run(asyncio.wait_for(run(), 60))


def test_client_mcp_servers_images_and_embedded_files_reach_the_model(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    turns = [
        {"op": "call", "tool": "mcp__time__get_current_time", "input": '{"timezone": "UTC"}'},
        {"op": "final", "text": "done"},
    ]
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({"name": "acp-mcp", "turns": turns}))
    time_server = s.McpServerStdio(
        name="time", command=sys.executable, args=["-m", "mcp_server_time",
        "--local-timezone", "UTC"], env=[],
    )  # fmt: skip
    notes = embedded_text_resource(f"file://{repo}/notes.md", "the deadline is friday")
    client = EditorClient(["allow_once"])

    async def run(srv: MockServer) -> Any:
        env = agent_env(tmp_path / "home", BRIDLE_MOCK_BASE_URL=srv.base_url)
        async with agent(client, env, "--model", "mock/anthropic") as (conn, _):
            new = await conn.new_session(cwd=str(repo), mcp_servers=[time_server])
            prompt = [text_block("what time is it?"), image_block(PIXEL, "image/png"),
                      resource_block(notes)]  # fmt: skip
            return await conn.prompt(session_id=new.session_id, prompt=prompt)

    with MockServer(path, workdir=repo, keep_bodies=True) as srv:
        reply = asyncio.run(asyncio.wait_for(run(srv), 120))
        bodies = [r["body"] for r in srv.requests if "body" in r]
    assert reply.stop_reason == "end_turn"
    assert [a.title for a in client.asks] == ["mcp__time__get_current_time"]
    assert "mcp__time__get_current_time" in [t["name"] for t in bodies[0]["tools"]]
    asked = bodies[0]["messages"][0]["content"]
    assert asked[0]["text"].startswith("what time is it?\n<context ref=")
    assert "the deadline is friday" in asked[0]["text"]
    assert asked[1]["type"] == "image" and asked[1]["source"]["data"] == PIXEL
    answer = json.dumps(bodies[1]["messages"][-1]["content"])
    assert "UTC" in answer and "datetime" in answer


def test_authenticate_with_a_bridle_account_uses_its_keys(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    home = tmp_path / "home"
    env = agent_env(home)
    bridle = [sys.executable, "-m", "bridle", "accounts"]
    for args, stdin in (
        (["add", "work"], ""),
        (["keys", "set", "work", "ANTHROPIC_API_KEY"], "sk-ant-test\n"),
        (["use", "native"], ""),  # so only authenticate picks the account
    ):
        done = subprocess.run([*bridle, *args], input=stdin, env=env, capture_output=True,
                              text=True, timeout=60)  # fmt: skip
        assert done.returncode == 0, done.stderr
    client = EditorClient()

    async def run() -> None:
        async with agent(client, env, "--model", "sonnet") as (conn, _):
            init = await conn.initialize(protocol_version=1)
            assert [m.id for m in init.auth_methods] == ["env", "account:work"]
            with pytest.raises(RequestError) as no_key:
                await conn.new_session(cwd=str(repo), mcp_servers=[])
            assert no_key.value.code == -32000 and "ANTHROPIC_API_KEY" in str(no_key.value.data)
            with pytest.raises(RequestError) as unknown:
                await conn.authenticate(method_id="account:nobody")
            assert "bridle accounts list" in str(unknown.value.data)
            await conn.authenticate(method_id="account:work")
            new = await conn.new_session(cwd=str(repo), mcp_servers=[])
            assert new.config_options[0].current_value == "sonnet"

    asyncio.run(asyncio.wait_for(run(), 60))


def test_cancelling_while_asked_denies_the_call_and_ends_the_turn(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "hello.py").write_text('print("hi")\n')
    client = EditorClient(["cancel"])
    env = agent_env(tmp_path / "home", scenario(tmp_path))

    async def run() -> Any:
        async with agent(client, env, "--model", "mock/anthropic") as (conn, _):
            new = await conn.new_session(cwd=str(repo), mcp_servers=[])
            return await conn.prompt(session_id=new.session_id, prompt=[text_block(PROMPT)])

    reply = asyncio.run(asyncio.wait_for(run(), 60))
    assert reply.stop_reason == "cancelled"
    assert [a.title for a in client.asks] == ["Edit hello.py"]
    assert (repo / "hello.py").read_text() == 'print("hi")\n'
    edit = client.asks[0].tool_call_id
    final = [u for u in client.of("tool_call_update") if u.tool_call_id == edit][-1]
    assert final.status == "failed" and "cancelled" in final.content[0].content.text
    assert "The greeting is polite now." not in client.text()
