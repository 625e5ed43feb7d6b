"""MCP resources and prompts in a `-p` prompt, end to end through `python -m bridle`
against the mock model: `@server:uri` attaches the resource (text under a
header, an image as an image of the turn, binary content named), and
`/mcp__server__prompt args` sends the server's prompt with the arguments in
order; a missing argument, an unknown prompt and an unreadable resource exit 64
naming the fix. With BRIDLE_TEST_MCP set, the same runs against the reference
`server-everything`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bridle.mock.server import MockServer

NOTES = Path(__file__).resolve().parents[1] / "mcp" / "notes_server.py"
BIN = os.environ.get("BRIDLE_TEST_MCP", "")


def run(repo: Path, prompt: str, server: dict[str, Any], name: str = "notes") -> tuple[Any, Any]:
    scenario = repo.parent / "scenario.json"
    scenario.write_text(json.dumps({"name": "f", "turns": [{"op": "final", "text": "done"}]}))
    config = json.dumps({"mcpServers": {name: server}})
    with MockServer(scenario, workdir=repo, keep_bodies=True) as srv:
        env = dict(os.environ, BRIDLE_MOCK_BASE_URL=srv.base_url)
        proc = subprocess.run(
            [sys.executable, "-m", "bridle", "-p", prompt, "--model", "mock/anthropic",
             "--output-format", "json", "--mcp-config", config],
            cwd=repo, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        bodies = [r["body"] for r in srv.requests if "body" in r]
    return proc, bodies


def first_user(bodies: list[Any]) -> list[dict[str, Any]]:
    content = bodies[0]["messages"][0]["content"]
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def user_text(bodies: list[Any]) -> str:
    return "\n".join(b["text"] for b in first_user(bodies) if b["type"] == "text")


NOTES_SERVER = {"command": sys.executable, "args": [str(NOTES)]}


def test_a_resource_mention_attaches_its_text_image_and_binary(project: Path) -> None:
    prompt = (
        "Plan my day from @notes:notes://today, see @notes:notes://logo and @notes:notes://blob."
    )
    proc, bodies = run(project, prompt, NOTES_SERVER)
    assert proc.returncode == 0, proc.stderr
    text = user_text(bodies)
    assert text.startswith(prompt + "\n\n[resource notes:notes://today]\nBuy milk. Call Ada")
    assert "[resource notes:notes://logo: the image is attached]" in text
    assert "[resource notes:notes://blob is binary (application/octet-stream)" in text
    images = [b for b in first_user(bodies) if b["type"] == "image"]
    assert [i["source"]["media_type"] for i in images] == ["image/png"]


def test_mentions_that_are_not_servers_are_left_alone(project: Path) -> None:
    prompt = "mail ada@notes:x.org and read @src/main.py:12 and @other:thing"
    proc, bodies = run(project, prompt, NOTES_SERVER)
    assert proc.returncode == 0, proc.stderr
    assert user_text(bodies) == prompt


def test_a_prompt_command_sends_the_servers_prompt(project: Path) -> None:
    proc, bodies = run(project, '/mcp__notes__greet "Ada Lovelace" very formal', NOTES_SERVER)
    assert proc.returncode == 0, proc.stderr
    assert user_text(bodies) == "Say hello to Ada Lovelace in a very formal way."
    plain, bodies = run(project, "/mcp__notes__plain", NOTES_SERVER)
    assert plain.returncode == 0, plain.stderr
    assert user_text(bodies) == "A plain prompt."


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        ("/mcp__notes__greet", "/mcp__notes__greet needs name: /mcp__notes__greet <name> [style]"),
        ("/mcp__notes__nope x", "has no prompt 'nope' (/mcp__notes__greet, /mcp__notes__plain)"),
        ("/mcp__other__greet x", "no MCP server of that name is running (running: notes)"),
        ("read @notes:notes://missing", "@notes:notes://missing: the resource could not be read"),
    ],
)
def test_bad_prompts_and_mentions_exit_64_before_any_model_call(
    project: Path, prompt: str, message: str
) -> None:
    proc, bodies = run(project, prompt, NOTES_SERVER)
    assert proc.returncode == 64, proc.stderr
    assert message in proc.stderr
    assert bodies == []


@pytest.mark.skipif(
    not BIN, reason="BRIDLE_TEST_MCP is not set (scripts/test installs the MCP servers from npm)"
)
def test_server_everything_resource_and_prompt(project: Path) -> None:
    everything = {"command": f"{BIN}/mcp-server-everything", "args": ["stdio"]}
    uri = "demo://resource/static/document/architecture.md"
    proc, bodies = run(project, f"explain @everything:{uri}", everything, "everything")
    assert proc.returncode == 0, proc.stderr
    text = user_text(bodies)
    assert text.startswith(f"explain @everything:{uri}\n\n[resource everything:{uri}]\n")
    assert len(text) > 300
    proc, bodies = run(project, "/mcp__everything__args-prompt Paris", everything, "everything")
    assert proc.returncode == 0, proc.stderr
    assert user_text(bodies) == "What's weather in Paris?"
