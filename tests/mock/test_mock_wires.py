"""Each wire end to end over raw HTTP: a client offering bridle's tools walks the
example scenario statelessly, streaming and not, and sees the same tool calls and
final text. The response decoding here is a third, deliberately tiny reader, so it
shares nothing with `bridle.wire` or the mock's encoders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridle.mock import MockServer, load_scenario

REPO = Path(__file__).resolve().parents[2]
SCENARIO = REPO / "examples" / "buggy-project" / "scenario.json"
TOOLS = ["Read", "Write", "Edit", "Bash", "Grep", "Glob"]


def sse(text: str) -> list[dict[str, Any]]:
    out = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data = "".join(line[6:] for line in block.split("\n") if line.startswith("data: "))
        if data and data != "[DONE]":
            out.append(json.loads(data))
    return out


def decode(wire: str, stream: bool, text: str) -> tuple[str, dict[str, Any] | None, str]:
    """(assistant text, tool call {id, name, input} or None, stop reason)."""
    said, call, stop = "", None, ""
    if wire == "anthropic-messages":
        if not stream:
            body = json.loads(text)
            said = "".join(b["text"] for b in body["content"] if b["type"] == "text")
            uses = [b for b in body["content"] if b["type"] == "tool_use"]
            call = (
                {"id": uses[0]["id"], "name": uses[0]["name"], "input": uses[0]["input"]}
                if uses
                else None
            )
            return said, call, body["stop_reason"]
        args = ""
        for ev in sse(text):
            if ev["type"] == "content_block_start" and ev["content_block"]["type"] == "tool_use":
                call = {"id": ev["content_block"]["id"], "name": ev["content_block"]["name"]}
            elif ev["type"] == "content_block_delta":
                said += ev["delta"].get("text", "")
                args += ev["delta"].get("partial_json", "")
            elif ev["type"] == "message_delta":
                stop = ev["delta"]["stop_reason"]
        if call:
            call["input"] = json.loads(args)
        return said, call, stop
    if wire == "openai-chat":
        if not stream:
            choice = json.loads(text)["choices"][0]
            tc = (choice["message"].get("tool_calls") or [None])[0]
            if tc:
                call = {
                    "id": tc["id"],
                    "name": tc["function"]["name"],
                    "input": json.loads(tc["function"]["arguments"]),
                }
            return choice["message"]["content"] or "", call, choice["finish_reason"]
        args = ""
        for ev in sse(text):
            for choice in ev["choices"]:
                delta = choice["delta"]
                said += delta.get("content") or ""
                for tc in delta.get("tool_calls") or []:
                    if tc.get("id"):
                        call = {"id": tc["id"], "name": tc["function"]["name"]}
                    args += tc["function"].get("arguments", "")
                stop = choice["finish_reason"] or stop
        if call:
            call["input"] = json.loads(args)
        return said, call, stop
    if wire == "openai-responses":
        if stream:
            events = sse(text)
            said = "".join(
                ev["delta"] for ev in events if ev["type"] == "response.output_text.delta"
            )
            body = events[-1]["response"]
            assert events[-1]["type"] == "response.completed"
        else:
            body = json.loads(text)
        for item in body["output"]:
            if item["type"] == "function_call":
                call = {
                    "id": item["call_id"],
                    "name": item["name"],
                    "input": json.loads(item["arguments"]),
                }
            elif not stream:
                said += "".join(p["text"] for p in item["content"])
        return said, call, body["status"]
    chunks = sse(text) if stream else [json.loads(text)]
    for chunk in chunks:
        cand = chunk["candidates"][0]
        for part in cand["content"]["parts"]:
            said += part.get("text", "")
            if "functionCall" in part:
                call = {
                    "id": None,
                    "name": part["functionCall"]["name"],
                    "input": part["functionCall"]["args"],
                }
        stop = cand.get("finishReason") or stop
    return said, call, stop


def request(
    wire: str, stream: bool, cwd: str, history: list[dict[str, Any]]
) -> tuple[str, dict[str, Any]]:
    system = f"You are a coding agent. Working directory: {cwd}"
    schema = {"type": "object", "properties": {}}
    if wire == "anthropic-messages":
        tools = [{"name": n, "input_schema": schema} for n in TOOLS]
        return "/v1/messages", {
            "model": "m",
            "system": system,
            "messages": history,
            "tools": tools,
            "stream": stream,
        }
    if wire == "openai-chat":
        tools = [{"type": "function", "function": {"name": n, "parameters": schema}} for n in TOOLS]
        messages = [{"role": "system", "content": system}, *history]
        return "/v1/chat/completions", {
            "model": "m",
            "messages": messages,
            "tools": tools,
            "stream": stream,
        }
    if wire == "openai-responses":
        tools = [{"type": "function", "name": n, "parameters": schema} for n in TOOLS]
        return "/v1/responses", {
            "model": "m",
            "instructions": system,
            "input": history,
            "tools": tools,
            "stream": stream,
        }
    tools = [{"functionDeclarations": [{"name": n, "parameters": schema} for n in TOOLS]}]
    body = {"systemInstruction": {"parts": [{"text": system}]}, "contents": history, "tools": tools}
    path = "/v1beta/models/m:" + ("streamGenerateContent?alt=sse" if stream else "generateContent")
    return path, body


def answer(wire: str, said: str, call: dict[str, Any], result: str) -> list[dict[str, Any]]:
    """The assistant turn plus its tool result, as each wire's client sends them back."""
    if wire == "anthropic-messages":
        content = ([{"type": "text", "text": said}] if said else []) + [
            {"type": "tool_use", **call}
        ]
        return [
            {"role": "assistant", "content": content},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": call["id"], "content": result}],
            },
        ]
    if wire == "openai-chat":
        fn = {"name": call["name"], "arguments": json.dumps(call["input"])}
        return [
            {
                "role": "assistant",
                "content": said or None,
                "tool_calls": [{"id": call["id"], "type": "function", "function": fn}],
            },
            {"role": "tool", "tool_call_id": call["id"], "content": result},
        ]
    if wire == "openai-responses":
        return [
            {
                "type": "function_call",
                "call_id": call["id"],
                "name": call["name"],
                "arguments": json.dumps(call["input"]),
            },
            {"type": "function_call_output", "call_id": call["id"], "output": result},
        ]
    return [
        {
            "role": "model",
            "parts": [{"functionCall": {"name": call["name"], "args": call["input"]}}],
        },
        {
            "role": "user",
            "parts": [{"functionResponse": {"name": call["name"], "response": {"output": result}}}],
        },
    ]


def first_user(wire: str, prompt: str) -> dict[str, Any]:
    if wire == "gemini":
        return {"role": "user", "parts": [{"text": prompt}]}
    return {"role": "user", "content": prompt}


WIRES = ["anthropic-messages", "openai-chat", "openai-responses", "gemini"]
STOPS = {
    "anthropic-messages": ("tool_use", "end_turn"),
    "openai-chat": ("tool_calls", "stop"),
    "openai-responses": ("completed", "completed"),
    "gemini": ("STOP", "STOP"),
}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("wire", WIRES)
def test_walks_the_example_scenario(tmp_path: Path, wire: str, stream: bool) -> None:
    scenario = load_scenario(SCENARIO)
    cwd = str(tmp_path)
    (tmp_path / "stats.py").write_text(
        "def mean(values):\n    return sum(values) / (len(values) + 1)\n"
    )
    history = [first_user(wire, scenario.prompt)]
    seen: list[tuple[str, str, dict[str, Any] | None]] = []
    with MockServer(scenario) as srv, httpx.Client(base_url=srv.base_url, timeout=30) as client:
        for _ in range(len(scenario.turns) + 1):
            path, body = request(wire, stream, cwd, history)
            resp = client.post(path, json=body)
            assert resp.status_code == 200, resp.text
            expected_type = "text/event-stream" if stream else "application/json"
            assert resp.headers["content-type"] == expected_type
            said, call, stop = decode(wire, stream, resp.text)
            seen.append((said, stop, call and {"name": call["name"], "input": call["input"]}))
            if call is None:
                break
            call["id"] = call["id"] or f"gemini-{len(seen)}"
            history += answer(wire, said, call, "ok")
    tool_stop, end_stop = STOPS[wire]
    cmd = "python -m unittest -q"
    assert seen == [
        (
            "Let me look at the project files.",
            tool_stop,
            {"name": "Glob", "input": {"pattern": "**/*.py"}},
        ),
        (
            "Running the tests to see what fails.",
            tool_stop,
            {"name": "Bash", "input": {"command": cmd, "description": f"Run {cmd}"}},
        ),
        ("", tool_stop, {"name": "Read", "input": {"file_path": f"{cwd}/stats.py"}}),
        (
            "`mean()` divides by one too many. Fixing it.",
            tool_stop,
            {
                "name": "Edit",
                "input": {
                    "file_path": f"{cwd}/stats.py",
                    "old_string": "return sum(values) / (len(values) + 1)",
                    "new_string": "return sum(values) / len(values)",
                },
            },
        ),
        (
            "Re-running the tests.",
            tool_stop,
            {"name": "Bash", "input": {"command": cmd, "description": f"Run {cmd}"}},
        ),
        (scenario.final, end_stop, None),
    ]
    assert [e["turn"] for e in srv.requests] == [0, 1, 2, 3, 4, 5]
    assert srv.violations == []


@pytest.mark.parametrize(
    ("path", "wire"),
    [
        ("/v1/messages?beta=true", "anthropic-messages"),
        ("/messages", "anthropic-messages"),
        ("/chat/completions", "openai-chat"),
        ("/api/v1/chat/completions", "openai-chat"),
        ("/responses", "openai-responses"),
        ("/v1/models/m:generateContent", "gemini"),
    ],
)
def test_routes_with_and_without_version_prefix(path: str, wire: str) -> None:
    with MockServer(SCENARIO) as srv:
        body = (
            {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
            if wire == "gemini"
            else {"messages": [], "input": "hi"}
        )
        resp = httpx.post(srv.base_url + path, json=body)
    assert resp.status_code == 200
    assert srv.requests[0]["wire"] == wire


def test_models_list_and_health_probes() -> None:
    with MockServer(SCENARIO) as srv, httpx.Client(base_url=srv.base_url) as client:
        models = client.get("/v1/models").json()
        gemini = client.get("/v1beta/models").json()
        head = client.head("/")
        health = client.get("/health").json()
        missing = client.post("/v1/nothing", json={})
    assert [m["id"] for m in models["data"]] == ["mock"]
    assert [m["name"] for m in gemini["models"]] == ["models/mock"]
    assert (head.status_code, head.content) == (200, b"")
    assert health == {"ok": True, "server": "bridle mock"}
    assert missing.status_code == 404
    assert "no route for POST /v1/nothing" in missing.json()["error"]["message"]


def test_concurrent_clients_are_served() -> None:
    import concurrent.futures

    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"name": "Glob", "input_schema": {}}],
    }
    with MockServer(SCENARIO) as srv:

        def one(_: int) -> str:
            with httpx.Client(base_url=srv.base_url) as client:
                return client.post("/v1/messages", json=body).json()["content"][1]["name"]

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            names = list(pool.map(one, range(40)))
    assert names == ["Glob"] * 40
    assert len(srv.requests) == 40


def test_gemini_stream_without_alt_sse_is_a_json_array() -> None:
    body = {
        "contents": [{"role": "user", "parts": [{"text": "go"}]}],
        "tools": [{"functionDeclarations": [{"name": "glob"}]}],
    }
    with MockServer(SCENARIO) as srv:
        resp = httpx.post(srv.base_url + "/v1beta/models/m:streamGenerateContent", json=body)
    chunks = resp.json()
    parts = [p for c in chunks for p in c["candidates"][0]["content"]["parts"]]
    assert parts[-1] == {"functionCall": {"name": "glob", "args": {"pattern": "**/*.py"}}}
    assert "".join(p.get("text", "") for p in parts) == "Let me look at the project files."
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"


def test_delayed_turn_still_answers_its_op() -> None:
    from bridle.mock import parse_scenario

    scenario = parse_scenario(
        {"turns": [{"op": "glob", "pattern": "*.md", "delay_ms": 30}], "final": "ok"}
    )
    body = {
        "messages": [{"role": "user", "content": "go"}],
        "tools": [{"name": "Glob", "input_schema": {}}],
    }
    with MockServer(scenario) as srv:
        resp = httpx.post(srv.base_url + "/v1/messages", json=body).json()
    assert resp["content"] == [
        {
            "type": "tool_use",
            "id": resp["content"][0]["id"],
            "name": "Glob",
            "input": {"pattern": "*.md"},
        }
    ]


def test_gzip_and_chunked_request_bodies_are_decoded() -> None:
    import gzip

    body = {
        "messages": [{"role": "user", "content": "go"}],
        "tools": [{"name": "Glob", "input_schema": {}}],
    }
    packed = gzip.compress(json.dumps(body).encode())
    with MockServer(SCENARIO) as srv:
        zipped = httpx.post(
            srv.base_url + "/v1/messages", content=packed, headers={"content-encoding": "gzip"}
        )
        chunked = httpx.post(
            srv.base_url + "/v1/messages", content=iter([json.dumps(body).encode()])
        )
        bad = httpx.post(
            srv.base_url + "/v1/messages", content=b"x", headers={"content-encoding": "br"}
        )
    assert zipped.json()["content"][1]["input"] == {"pattern": "**/*.py"}
    assert chunked.json()["content"][1]["input"] == {"pattern": "**/*.py"}
    assert (bad.status_code, bad.json()) == (
        400,
        {"error": {"message": "bridle mock: unsupported content-encoding 'br'"}},
    )


@pytest.mark.parametrize("wire", WIRES)
def test_turn_comes_from_the_conversation_not_from_server_state(tmp_path: Path, wire: str) -> None:
    """A fresh server answers a conversation already three calls deep with turn 3,
    then a new conversation with turn 0, then the first one again, unchanged."""
    scenario = load_scenario(SCENARIO)
    cwd = str(tmp_path)
    earlier = [
        {"id": "c0", "name": "Glob", "input": {"pattern": "**/*.py"}},
        {"id": "c1", "name": "Bash", "input": {"command": "python -m unittest -q"}},
        {"id": "c2", "name": "Read", "input": {"file_path": f"{cwd}/stats.py"}},
    ]
    deep = [first_user(wire, scenario.prompt)]
    for call in earlier:
        deep += answer(wire, "", call, "ok")
    fresh = [first_user(wire, scenario.prompt)]
    names = []
    with MockServer(scenario) as srv, httpx.Client(base_url=srv.base_url, timeout=30) as client:
        for history in (deep, fresh, deep):
            path, body = request(wire, False, cwd, history)
            resp = client.post(path, json=body)
            assert resp.status_code == 200, resp.text
            _, call, _ = decode(wire, False, resp.text)
            assert call is not None
            names.append(call["name"])
    assert names == ["Edit", "Glob", "Edit"]
    assert [e["turn"] for e in srv.requests] == [3, 0, 3]
