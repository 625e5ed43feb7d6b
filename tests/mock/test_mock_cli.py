"""`bridle mock serve` and `bridle mock check` as a user runs them, plus scenario
validation messages that name the file, the turn and the fix."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridle.core.errors import ConfigError
from bridle.mock import parse_scenario

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "buggy-project" / "scenario.json"


def bridle(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridle", *args], capture_output=True, text=True, timeout=60
    )


def test_serve_prints_port_first_serves_logs_and_stops_on_sigterm(tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    argv = [
        sys.executable,
        "-m",
        "bridle",
        "mock",
        "serve",
        "--scenario",
        str(EXAMPLE),
        "--port",
        "0",
        "--log",
        str(log),
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("PORT=")
        port = int(first.strip()[5:])
        body = {
            "messages": [{"role": "user", "content": "go"}],
            "tools": [{"name": "Glob", "input_schema": {}}],
        }
        resp = httpx.post(f"http://127.0.0.1:{port}/v1/messages", json=body)
        assert resp.json()["content"][1]["input"] == {"pattern": "**/*.py"}
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=20)
    assert rc == 0
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [
        {
            k: e[k]
            for k in ("method", "path", "wire", "stream", "tools", "turn", "op", "tool", "status")
        }
        for e in entries
    ] == [
        {
            "method": "POST",
            "path": "/v1/messages",
            "wire": "anthropic-messages",
            "stream": False,
            "tools": ["Glob"],
            "turn": 0,
            "op": "glob",
            "tool": "Glob",
            "status": 200,
        }
    ]
    assert entries[0]["body_bytes"] == len(json.dumps(body, separators=(",", ":")))


@pytest.mark.parametrize(
    "args",
    [
        ["mock", "serve"],
        ["mock", "serve", "--scenario", str(EXAMPLE), "--replay", str(EXAMPLE)],
        ["mock", "serve", "--record", "http://127.0.0.1:9"],
        ["mock", "serve", "--scenario", str(EXAMPLE), "--cassette", "x.json"],
    ],
)
def test_serve_usage_errors_exit_64(args: list[str]) -> None:
    assert bridle(*args).returncode == 64


def test_serve_reports_a_bad_scenario_with_file_and_turn(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"turns": [{"op": "read", "path": "a"}, {"op": "teleport"}]}))
    done = bridle("mock", "serve", "--scenario", str(bad))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip() == (
        f"bridle: {bad}: turns[1]: unknown op 'teleport'; use one of read, write, edit, bash, grep, glob, final, call, calls"
    )


def test_check_lists_turns_as_json() -> None:
    done = bridle("mock", "check", str(EXAMPLE), "--json")
    assert done.returncode == 0
    parsed = json.loads(done.stdout)
    assert [t["op"] for t in parsed["turns"]] == ["glob", "bash", "read", "edit", "bash", "final"]
    assert (parsed["name"], parsed["prompt"]) == ("fix-mean", "fix the failing test")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "<s>: a scenario must be a JSON object with a `turns` list"),
        ({"turns": {}}, "<s>: turns: `turns` must be a list of {op: ...} objects"),
        (
            {"turns": [{"op": "edit", "path": "a", "old": "x"}]},
            "<s>: turns[0]: op 'edit' needs a string field 'new'",
        ),
        (
            {"turns": [{"op": "edit", "path": "a", "old": "", "new": "y"}]},
            "<s>: turns[0]: `old` must not be empty: it is the text the edit replaces",
        ),
        (
            {"turns": [{"op": "bash", "command": 3}]},
            "<s>: turns[0]: field 'command' must be a string",
        ),
        (
            {"turns": [{"op": "bash", "command": "x", "fault": {"kind": "418"}}]},
            "<s>: turns[0]: fault kind '418' is unknown; use one of 429, 500, 529, cut, stall, malformed",
        ),
        (
            {"turns": [{"op": "bash", "command": "x", "fault": {"kind": "cut", "times": 0}}]},
            "<s>: turns[0]: fault `times` must be a positive integer",
        ),
        (
            {"turns": [{"op": "bash", "command": "x", "delay_ms": -1}]},
            "<s>: turns[0]: `delay_ms` must be a non-negative integer",
        ),
        ({"name": 5, "turns": []}, "<s>: name: must be a string"),
    ],
)
def test_scenario_validation_messages(raw: object, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_scenario(raw, source="<s>")
    assert str(err.value) == message


def test_scenario_unknown_keys_are_ignored_and_final_defaults() -> None:
    scenario = parse_scenario(
        {
            "description": "x",
            "turns": [{"op": "glob", "pattern": "*", "note": 1}, {"op": "final", "text": "bye"}],
        },
        source="s.json",
    )
    assert (scenario.name, scenario.final, len(scenario.turns)) == ("s", "bye", 2)
    assert scenario.turn(7).args == {"text": "bye"}


def test_serve_logs_a_violation_reason_on_stderr_and_in_the_log(tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    argv = [sys.executable, "-m", "bridle", "mock", "serve", "--scenario", str(EXAMPLE)]
    proc = subprocess.Popen(
        [*argv, "--log", str(log)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().strip().removeprefix("PORT="))
        orphan = {
            "messages": [
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t9"}]}
            ],
            "tools": [{"name": "Glob", "input_schema": {}}],
        }
        resp = httpx.post(f"http://127.0.0.1:{port}/v1/messages", json=orphan)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    reason = "messages[0]: tool_result 't9' has no preceding tool_use with that id"
    assert (resp.status_code, resp.json()["error"]["message"]) == (400, reason)
    assert proc.returncode == 0
    assert err == f"bridle mock: 400 anthropic-messages /v1/messages: {reason}\n"
    [entry] = [json.loads(line) for line in log.read_text().splitlines()]
    assert (entry["status"], entry["violation"], entry["tools"]) == (400, reason, ["Glob"])


@pytest.mark.parametrize(
    ("turn", "message"),
    [
        ({"op": "call"}, "op 'call' needs a string field 'tool'"),
        (
            {"op": "call", "tool": "Skill", "input": "{nope"},
            "`input` must be a JSON object as text",
        ),
        ({"op": "call", "tool": "Skill", "input": "[1]"}, "`input` must be a JSON object as text"),
    ],
)
def test_a_call_turn_is_checked(tmp_path: Path, turn: dict[str, Any], message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"turns": [turn]}))
    done = bridle("mock", "check", str(bad))
    assert done.returncode == 1 and message in done.stderr


def test_calls_and_agents_are_validated(tmp_path: Path) -> None:
    from bridle.core.errors import ConfigError
    from bridle.mock.scenario import parse_scenario

    doc = {
        "turns": [{"op": "calls", "tool": "Agent", "inputs": "[{}, {}]"}, {"op": "final"}],
        "agents": {"[x]": {"turns": [{"op": "read", "path": "a"}], "final": "sub"}},
    }
    s = parse_scenario(doc)
    # A `calls` turn takes one place per call: after 2 calls comes the final turn.
    assert s.turn(0).op == "calls" and s.turn(2).op == "final"
    assert s.for_texts(["say [x] please"]).final == "sub"
    assert s.for_texts(["nothing"]) is s
    for bad in ("[]", "{}", "[1]", "not json"):
        with pytest.raises(ConfigError, match="inputs"):
            parse_scenario({"turns": [{"op": "calls", "tool": "A", "inputs": bad}]})
    with pytest.raises(ConfigError, match="agents"):
        parse_scenario({"turns": [], "agents": []})
