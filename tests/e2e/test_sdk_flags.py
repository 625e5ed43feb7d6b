"""The Agent SDK's session flags end to end: --session-id, --json-schema,
--include-partial-messages, and updatedPermissions against a recorded exchange.

The recorded exchanges (tests/fixtures/claude-agent-sdk-protocol/structured-output
and updated-permissions) are the real `claude-agent-sdk` driving the real Claude
Code against the mock model. Here bridle gets the same flags and the SDK's side
of the same conversation on every wire, and what it writes back is compared with
what Claude Code wrote. The last tests run the real SDK with `cli_path` = bridle.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_agent_sdk import Bridle, make_repo, response_to, suite_passes

from bridle.mock.server import MockServer

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures" / "claude-agent-sdk-protocol"
STRUCTURED = FIX / "structured-output"
PERMISSIONS = FIX / "updated-permissions"
WIRES = ["mock/anthropic", "mock/openai-chat", "mock/openai-responses", "mock/gemini"]
SCHEMA = {"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"]}


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def recorded_argv(folder: Path) -> list[str]:
    """argv.txt split back into flags (the --json-schema value holds spaces), less
    `--model`: Claude Code was told a Claude model, bridle gets a mock one."""
    text = (folder / "argv.txt").read_text().strip().removeprefix("ARGV: --")
    argv: list[str] = []
    for chunk in text.split(" --"):
        flag, space, value = chunk.partition(" ")
        if flag == "model":
            continue
        argv += ["--" + flag, value] if space else ["--" + flag]
    return argv


def run(args: list[str], cwd: Path, env: dict[str, str], stdin: str = "") -> Any:
    return subprocess.run(
        [sys.executable, "-m", "bridle", *args], cwd=cwd, env={**os.environ, **env},
        input=stdin, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def streams(out: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The stream events, one list per message (message_start .. message_stop)."""
    messages: list[list[dict[str, Any]]] = []
    for x in out:
        if x["type"] != "stream_event":
            continue
        if x["event"]["type"] == "message_start":
            messages.append([])
        messages[-1].append(x["event"])
    return messages


def check_stream(events: list[dict[str, Any]], blocks: list[dict[str, Any]]) -> None:
    """A well-formed Anthropic stream whose deltas add up to `blocks`."""
    kinds = [e["type"] for e in events]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    built: dict[int, dict[str, Any]] = {}
    for e in events:
        if e["type"] == "content_block_start":
            built[e["index"]] = dict(e["content_block"], partial="")
        elif e["type"] == "content_block_delta":
            d, b = e["delta"], built[e["index"]]
            if d["type"] == "text_delta":
                b["text"] += d["text"]
            elif d["type"] == "thinking_delta":
                b["thinking"] += d["thinking"]
            else:
                b["partial"] += d["partial_json"]
    assert [e["index"] for e in events if e["type"] == "content_block_stop"] == sorted(built)
    got = []
    for _, b in sorted(built.items()):
        if b["type"] == "tool_use":
            b["input"] = json.loads(b["partial"])
        del b["partial"]
        got.append({k: v for k, v in b.items() if k != "signature"})
    assert got == [{k: v for k, v in b.items() if k != "signature"} for b in blocks]


# ------------------------------------------------- the recorded structured run
@pytest.mark.parametrize("model", WIRES)
def test_structured_output_session_id_and_partial_messages_replay(
    tmp_path: Path, model: str
) -> None:
    repo = make_repo(tmp_path)
    argv = recorded_argv(STRUCTURED)
    assert {"--json-schema", "--include-partial-messages"} <= set(argv)
    init, user = lines(STRUCTURED / "sdk-to-cli.ndjson")
    recorded = lines(STRUCTURED / "cli-to-sdk.ndjson")
    wanted_id = next(a for a in argv if a.startswith("--session-id=")).split("=", 1)[1]
    env = {"BRIDLE_MOCK_SCENARIO": str(STRUCTURED / "scenario.json")}
    proc = run([*argv, "--model", model], repo, env, json.dumps(init) + "\n" + json.dumps(user))
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(x) for x in proc.stdout.splitlines()]

    start = next(x for x in out if x.get("subtype") == "init")
    assert start["session_id"] == wanted_id
    result, claude = out[-1], recorded[-2]
    assert claude["type"] == "result"
    for key in ("subtype", "is_error", "structured_output", "result", "session_id"):
        assert result[key] == claude[key], key
    assert result["structured_output"] == {"tests": 3, "passing": False}

    # Stream events: Claude Code's line shape, one well-formed stream per response.
    recorded_events = [x for x in recorded if x["type"] == "stream_event"]
    ours = [x for x in out if x["type"] == "stream_event"]
    always = set.intersection(*(set(x) for x in recorded_events)) - {"api_message_id"}
    known = set.union(*(set(x) for x in recorded_events))
    assert ours and all(always <= set(x) <= known for x in ours)
    assert [x["event"]["type"] for x in ours if "message" in x["event"]["type"]] == [
        x["event"]["type"] for x in recorded_events if "message" in x["event"]["type"]
    ]
    answers = [x for x in out if x["type"] == "assistant"]
    (stream,) = streams(out)
    check_stream(stream, [b for x in answers for b in x["message"]["content"]])
    assert answers[0]["message"]["content"][0]["name"] == "StructuredOutput"

    # The same id again is refused before any work, with the fix.
    again = run([*argv, "--model", model], repo, env, json.dumps(init) + "\n" + json.dumps(user))
    assert again.returncode == 64 and again.stdout == ""
    assert f"session id {wanted_id} is already in use" in again.stderr
    assert f"-r {wanted_id}" in again.stderr


def test_updated_permissions_replay(tmp_path: Path) -> None:
    """The SDK's recorded answers (the first carries an addRules update for
    localSettings) given to bridle's asks in order: bridle asks what Claude Code
    asked and saves the same settings file."""
    repo = make_repo(tmp_path)
    sdk_side = lines(PERMISSIONS / "sdk-to-cli.ndjson")
    init, user, answers = sdk_side[0], sdk_side[1], sdk_side[2:]
    asked_by_claude = [
        x["request"]["tool_name"]
        for x in lines(PERMISSIONS / "cli-to-sdk.ndjson")
        if x["type"] == "control_request" and x["request"]["subtype"] == "can_use_tool"
    ]
    assert "updatedPermissions" in answers[0]["response"]["response"]
    bridle = Bridle(repo)
    bridle.send(init)
    bridle.until(response_to(init["request_id"]))
    bridle.send({**user, "message": {"role": "user", "content": "fix the failing test"}})
    asked: list[str] = []
    while (line := bridle.next()) is not None and line["type"] != "result":
        if line["type"] == "control_request" and line["request"]["subtype"] == "can_use_tool":
            answer = json.loads(json.dumps(answers[len(asked)]))
            answer["response"]["request_id"] = line["request_id"]
            # The recorded updatedInput names Claude Code's paths; keep bridle's call.
            answer["response"]["response"]["updatedInput"] = line["request"]["input"]
            asked.append(line["request"]["tool_name"])
            bridle.send(answer)
    code, err = bridle.finish()
    assert code == 0, err
    assert asked == asked_by_claude == ["Bash", "Edit"]
    saved = json.loads((repo / ".claude" / "settings.local.json").read_text())
    assert saved == {"permissions": {"allow": ["Bash(python -m unittest -q)"]}}
    assert suite_passes(repo)


# ------------------------------------------------------- structured output
def scenario_file(tmp_path: Path, final: str, turns: list[dict[str, Any]] | None = None) -> Path:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({"name": "s", "prompt": "p", "final": final, "turns": turns or []}))
    return path


@pytest.mark.parametrize("model", WIRES)
def test_invalid_answers_are_retried_then_reported(tmp_path: Path, model: str) -> None:
    bad = json.dumps({"answer": "four"})
    env = {"BRIDLE_MOCK_SCENARIO": str(scenario_file(tmp_path, bad))}
    args = ["-p", "what is 2+2", "--model", model, "--json-schema", json.dumps(SCHEMA)]
    proc = run([*args, "--output-format", "stream-json"], tmp_path, env)
    assert proc.returncode == 1, proc.stderr
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    calls = [b for x in out if x["type"] == "assistant" for b in x["message"]["content"]]
    assert [c["name"] for c in calls] == ["StructuredOutput"] * 5
    told = [b for x in out if x["type"] == "user" for b in x["message"]["content"]]
    assert all(t["is_error"] and "answer" in t["content"] for t in told)
    result = out[-1]
    assert result["subtype"] == "error_max_structured_output_retries" and result["is_error"]
    assert "structured_output" not in result
    assert result["errors"][0].startswith(
        "Failed to provide valid structured output after 5 attempts; the last error: "
    )
    # A second, valid try ends the turn with it (text output prints the JSON).
    turns = [{"op": "call", "tool": "StructuredOutput", "input": bad}]
    env = {"BRIDLE_MOCK_SCENARIO": str(scenario_file(tmp_path, '{"answer": 4}', turns))}
    proc = run(args, tmp_path, env)
    assert (proc.returncode, proc.stdout) == (0, '{"answer":4}\n'), proc.stderr


def test_a_text_answer_is_reminded_once(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "properties": {
            "verdict": {"enum": ["fixed", "not fixed"]},
            "files": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        },
        "required": ["verdict", "files"],
        "additionalProperties": False,
    }
    repo = make_repo(tmp_path)
    scenario = ROOT / "examples" / "buggy-project" / "scenario.json"
    with MockServer(scenario, keep_bodies=True) as srv:
        proc = run(
            ["-p", "fix the failing test", "--model", "mock/openai-responses",
             "--json-schema", json.dumps(schema), "--output-format", "json",
             "--permission-mode", "bypassPermissions"],
            repo, {"BRIDLE_MOCK_BASE_URL": srv.base_url},
        )  # fmt: skip
        bodies = [r["body"] for r in srv.requests if "body" in r]
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    # The mock, like a model that forgot, answered in text first; reminded, it called.
    assert result["structured_output"] == {"verdict": "fixed", "files": ["mock files"]}
    assert json.loads(result["result"]) == result["structured_output"]
    assert suite_passes(repo)
    reminders = [
        item
        for item in bodies[-1]["input"]
        if item.get("role") == "user" and "StructuredOutput tool" in json.dumps(item)
    ]
    assert len(reminders) == 1
    offered = next(t for t in bodies[0]["tools"] if t["name"] == "StructuredOutput")
    assert offered["parameters"] == schema


def test_bad_flags_exit_64_with_the_fix(tmp_path: Path) -> None:
    cases = {
        ("--json-schema", '{"type": "array"}'): 'must describe an object ("type": "object")',
        ("--json-schema", "{nope"): "--json-schema is not valid JSON",
        ("--json-schema", '{"type": "object", "properties": {"a": {"type": 3}}}'): (
            "--json-schema is not a valid JSON Schema: at properties/a/type"
        ),
        ("--session-id", "1234"): "is not a UUID; pass one such as",
        ("--include-partial-messages",): "needs --output-format stream-json",
        ("--session-id", "5b4f9b8e-6d1c-4c57-9a51-2f0e4f3a7d10", "-c"): "add --fork-session",
    }
    for extra, message in cases.items():
        proc = run(["-p", "hi", "--model", "mock/anthropic", *extra], tmp_path, {})
        assert proc.returncode == 64, (extra, proc.stderr)
        assert message in proc.stderr and proc.stdout == "", (extra, proc.stderr)


def test_a_schema_file_and_a_forked_session_id(tmp_path: Path) -> None:
    (tmp_path / "schema.json").write_text(json.dumps(SCHEMA))
    env = {"BRIDLE_MOCK_SCENARIO": str(scenario_file(tmp_path, '{"answer": 4}'))}
    first = run(["-p", "2+2?", "--model", "mock/gemini", "--json-schema", "schema.json",
                 "--output-format", "json"], tmp_path, env)  # fmt: skip
    assert first.returncode == 0, first.stderr
    parent = json.loads(first.stdout)
    assert parent["structured_output"] == {"answer": 4}
    fork_id = "0f6b2d1e-3c4a-4b5d-8e6f-7a8b9c0d1e2f"
    forked = run(["-p", "and 3+3?", "--model", "mock/gemini", "-r", parent["session_id"],
                  "--fork-session", "--session-id", fork_id, "--output-format", "json"],
                 tmp_path, env)  # fmt: skip
    assert forked.returncode == 0, forked.stderr
    assert json.loads(forked.stdout)["session_id"] == fork_id
    listed = run(["sessions", "show", fork_id], tmp_path, {})
    assert listed.returncode == 0 and "2+2?" in listed.stdout, listed.stderr


# ------------------------------------------------------------ the real SDK
def test_real_agent_sdk_structured_output_and_stream_events(tmp_path: Path) -> None:
    sdk = pytest.importorskip("claude_agent_sdk")
    import anyio

    argv = recorded_argv(STRUCTURED)
    schema = json.loads(argv[argv.index("--json-schema") + 1])
    session_id = "7d2e4f6a-8b9c-4d1e-a2f3-b4c5d6e7f809"
    options = sdk.ClaudeAgentOptions(
        cli_path=shutil.which("bridle", path=str(Path(sys.executable).parent)),
        cwd=str(make_repo(tmp_path)),
        model="mock/openai-chat",
        output_format={"type": "json_schema", "schema": schema},
        include_partial_messages=True,
        session_id=session_id,
        env={
            "BRIDLE_MOCK_SCENARIO": str(STRUCTURED / "scenario.json"),
            "BRIDLE_HOME": os.environ["BRIDLE_HOME"],
            "HOME": os.environ["HOME"],
        },
    )

    async def collect() -> list[Any]:
        return [m async for m in sdk.query(prompt="How many tests?", options=options)]

    messages = anyio.run(collect)
    final = messages[-1]
    assert isinstance(final, sdk.ResultMessage) and final.subtype == "success"
    assert final.structured_output == {"tests": 3, "passing": False}
    assert final.session_id == session_id
    events = [m.event for m in messages if isinstance(m, sdk.StreamEvent)]
    assert events[0]["type"] == "message_start"
    assert events[-1]["type"] == "message_stop"
    assert all(m.session_id == session_id for m in messages if isinstance(m, sdk.StreamEvent))
