"""Request-invariant checks per wire: a conversation whose tool results do not pair
with preceding tool calls gets a 400 in the wire's error shape, the reason is kept
in `srv.violations` and the request log, and the script does not move."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bridle.mock import MockServer, parse_scenario

SCENARIO = parse_scenario(
    {"name": "i", "final": "done", "turns": [{"op": "bash", "command": "true"}]}
)


def a_use(i: str) -> dict[str, Any]:
    return {"type": "tool_use", "id": i, "name": "Bash", "input": {}}


def a_result(i: str) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": i, "content": "ok"}


def c_call(*ids: str) -> dict[str, Any]:
    calls = [
        {"id": i, "type": "function", "function": {"name": "Bash", "arguments": "{}"}} for i in ids
    ]
    return {"role": "assistant", "content": None, "tool_calls": calls}


def g_call(name: str) -> dict[str, Any]:
    return {"role": "model", "parts": [{"functionCall": {"name": name, "args": {}}}]}


def g_answer(name: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"functionResponse": {"name": name, "response": {}}}]}


USER = {"role": "user", "content": "go"}
G_USER = {"role": "user", "parts": [{"text": "go"}]}

CASES: list[tuple[str, str, list[dict[str, Any]], str]] = [
    (
        "anthropic-messages",
        "/v1/messages",
        [USER, {"role": "user", "content": [a_result("toolu_x")]}],
        "messages[1]: tool_result 'toolu_x' has no preceding tool_use with that id",
    ),
    (
        "anthropic-messages",
        "/v1/messages",
        [
            USER,
            {"role": "assistant", "content": [a_use("t1"), a_use("t1")]},
            {"role": "user", "content": [a_result("t1")]},
        ],
        "messages[1]: duplicate tool_use id 't1'",
    ),
    (
        "anthropic-messages",
        "/v1/messages",
        [
            USER,
            {"role": "assistant", "content": [a_use("t1")]},
            USER,
            {"role": "assistant", "content": "hm"},
            {"role": "user", "content": [a_result("t1")]},
        ],
        "messages[2]: tool_use 't1' from messages[1] got no tool_result; "
        "messages[4]: tool_result 't1' does not directly follow its tool_use",
    ),
    (
        "openai-chat",
        "/v1/chat/completions",
        [USER, {"role": "tool", "tool_call_id": "call_x", "content": "ok"}],
        "messages[1]: tool message 'call_x' has no preceding tool_call with that id",
    ),
    (
        "openai-chat",
        "/v1/chat/completions",
        [USER, c_call("c1", "c2"), {"role": "tool", "tool_call_id": "c1", "content": "ok"}, USER],
        "messages[3]: tool_call 'c2' from messages[1] got no tool message",
    ),
    (
        "openai-chat",
        "/v1/chat/completions",
        [
            USER,
            c_call("c1"),
            {"role": "tool", "tool_call_id": "c1", "content": "ok"},
            {"role": "tool", "tool_call_id": "c1", "content": "again"},
        ],
        "messages[3]: second tool message for id 'c1'",
    ),
    (
        "openai-responses",
        "/v1/responses",
        [USER, {"type": "function_call_output", "call_id": "call_x", "output": "ok"}],
        "input[1]: function_call_output 'call_x' has no preceding function_call with that id",
    ),
    (
        "openai-responses",
        "/v1/responses",
        [USER, {"type": "function_call", "call_id": "c1", "name": "Bash", "arguments": "{}"}],
        "end of input: function_call 'c1' from input[1] got no function_call_output",
    ),
    (
        "gemini",
        "/v1beta/models/m:generateContent",
        [G_USER, g_answer("Bash")],
        "contents[1]: functionResponse without a preceding functionCall turn",
    ),
    (
        "gemini",
        "/v1beta/models/m:generateContent",
        [G_USER, g_call("Bash"), g_answer("Read")],
        "contents[2]: functionResponse parts ['Read'] do not answer the functionCall parts ['Bash']",
    ),
    (
        "gemini",
        "/v1beta/models/m:generateContent",
        [G_USER, g_call("Bash"), G_USER],
        "contents[2]: functionCall parts ['Bash'] got no functionResponse",
    ),
]


def body_for(wire: str, conversation: list[dict[str, Any]]) -> dict[str, Any]:
    if wire == "anthropic-messages":
        return {"messages": conversation, "tools": [{"name": "Bash", "input_schema": {}}]}
    if wire == "openai-chat":
        return {
            "messages": conversation,
            "tools": [{"type": "function", "function": {"name": "Bash"}}],
        }
    if wire == "openai-responses":
        return {"input": conversation, "tools": [{"type": "function", "name": "Bash"}]}
    return {"contents": conversation, "tools": [{"functionDeclarations": [{"name": "Bash"}]}]}


def error_for(wire: str, reason: str) -> dict[str, Any]:
    if wire == "anthropic-messages":
        return {"type": "error", "error": {"type": "invalid_request_error", "message": reason}}
    if wire == "gemini":
        return {"error": {"code": 400, "message": reason, "status": "INVALID_ARGUMENT"}}
    return {
        "error": {
            "message": reason,
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_request_error",
        }
    }


@pytest.mark.parametrize(
    ("wire", "path", "conversation", "reason"),
    CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)],
)
def test_violation_is_a_wire_shaped_400(
    wire: str, path: str, conversation: list[dict[str, Any]], reason: str
) -> None:
    with MockServer(SCENARIO) as srv:
        resp = httpx.post(srv.base_url + path, json=body_for(wire, conversation))
    assert (resp.status_code, resp.json()) == (400, error_for(wire, reason))
    assert srv.violations == [f"{wire} {path}: {reason}"]
    assert srv.requests[0]["violation"] == reason
    assert "turn" not in srv.requests[0]


@pytest.mark.parametrize("wire", ["anthropic-messages", "openai-chat"])
def test_body_that_is_not_json_is_a_violation(wire: str) -> None:
    path = "/v1/messages" if wire == "anthropic-messages" else "/v1/chat/completions"
    with MockServer(SCENARIO) as srv:
        resp = httpx.post(
            srv.base_url + path, content=b"{nope", headers={"content-type": "application/json"}
        )
    assert resp.status_code == 400
    assert "request body is not a JSON object" in srv.violations[0]
