"""Injected faults per wire: 429 with retry-after, 500, 529/503, a cut stream, a
stall and a malformed chunk. Each fails the first `times` attempts at its turn and
then the identical request succeeds, which is what a retrying client relies on."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from bridle.mock import MockServer, parse_scenario

WIRES = ["anthropic-messages", "openai-chat", "openai-responses", "gemini"]


def scenario(fault: dict[str, Any]) -> Any:
    return parse_scenario(
        {"name": "f", "final": "done", "turns": [{"op": "bash", "command": "true", "fault": fault}]}
    )


def call(wire: str, stream: bool = False) -> tuple[str, dict[str, Any]]:
    if wire == "anthropic-messages":
        tools = [{"name": "Bash", "input_schema": {}}]
        return "/v1/messages", {
            "messages": [{"role": "user", "content": "go"}],
            "tools": tools,
            "stream": stream,
        }
    if wire == "openai-chat":
        tools = [{"type": "function", "function": {"name": "Bash"}}]
        return "/v1/chat/completions", {
            "messages": [{"role": "user", "content": "go"}],
            "tools": tools,
            "stream": stream,
        }
    if wire == "openai-responses":
        return "/v1/responses", {
            "input": "go",
            "tools": [{"type": "function", "name": "Bash"}],
            "stream": stream,
        }
    body = {
        "contents": [{"role": "user", "parts": [{"text": "go"}]}],
        "tools": [{"functionDeclarations": [{"name": "Bash"}]}],
    }
    return "/v1beta/models/m:" + (
        "streamGenerateContent?alt=sse" if stream else "generateContent"
    ), body


ERRORS = {
    ("anthropic-messages", 429): {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "rate limited by the mock scenario"},
    },
    ("openai-chat", 429): {
        "error": {
            "message": "rate limited by the mock scenario",
            "type": "rate_limit_exceeded",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    },
    ("openai-responses", 429): {
        "error": {
            "message": "rate limited by the mock scenario",
            "type": "rate_limit_exceeded",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    },
    ("gemini", 429): {
        "error": {
            "code": 429,
            "message": "rate limited by the mock scenario",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"}],
        }
    },
}


@pytest.mark.parametrize("wire", WIRES)
def test_429_carries_retry_after_then_the_retry_succeeds(wire: str) -> None:
    path, body = call(wire)
    with MockServer(scenario({"kind": "429", "times": 1, "retry_after": 2})) as srv:
        first = httpx.post(srv.base_url + path, json=body)
        second = httpx.post(srv.base_url + path, json=body)
    assert (first.status_code, first.headers["retry-after"], first.json()) == (
        429,
        "2",
        ERRORS[wire, 429],
    )
    assert second.status_code == 200
    assert [(e["turn"], e.get("fault"), e["status"]) for e in srv.requests] == [
        (0, "429", 429),
        (0, None, 200),
    ]


@pytest.mark.parametrize(
    ("wire", "kind", "status", "error_type"),
    [
        ("anthropic-messages", "500", 500, "api_error"),
        ("anthropic-messages", "529", 529, "overloaded_error"),
        ("openai-chat", "500", 500, "server_error"),
        ("openai-chat", "529", 503, "server_error"),
        ("openai-responses", "529", 503, "server_error"),
        ("gemini", "500", 500, "INTERNAL"),
        ("gemini", "529", 503, "UNAVAILABLE"),
    ],
)
def test_server_errors_fail_exactly_times_attempts(
    wire: str, kind: str, status: int, error_type: str
) -> None:
    path, body = call(wire)
    with MockServer(scenario({"kind": kind, "times": 2})) as srv:
        codes = [httpx.post(srv.base_url + path, json=body) for _ in range(3)]
    assert [r.status_code for r in codes] == [status, status, 200]
    err = codes[0].json()["error"]
    assert err.get("status", err.get("type")) == error_type
    assert codes[1].headers["content-type"] == "application/json"


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
@pytest.mark.parametrize("wire", WIRES)
def test_cut_drops_the_connection_mid_body(wire: str, stream: bool) -> None:
    path, body = call(wire, stream)
    with (
        MockServer(scenario({"kind": "cut"})) as srv,
        httpx.Client(base_url=srv.base_url) as client,
    ):
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(path, json=body).read()
        after = client.post(path, json=body)
    assert after.status_code == 200
    assert srv.requests[0]["fault"] == "cut"


@pytest.mark.parametrize("wire", WIRES)
def test_stall_goes_silent_until_the_client_gives_up(wire: str) -> None:
    path, body = call(wire, stream=True)
    timeout = httpx.Timeout(5.0, read=0.3)
    with (
        MockServer(scenario({"kind": "stall"}), stall_seconds=60) as srv,
        httpx.Client(base_url=srv.base_url, timeout=timeout) as client,
    ):
        got: list[bytes] = []
        with pytest.raises(httpx.ReadTimeout), client.stream("POST", path, json=body) as resp:
            assert resp.status_code == 200
            got.extend(resp.iter_raw())
        after = client.post(path, json=body)
    assert after.status_code == 200
    # The first event arrived before the silence, so a stream *idle* timeout is what fires.
    assert b"".join(got).startswith(
        b"event: " if wire in ("anthropic-messages", "openai-responses") else b"data: "
    )


@pytest.mark.parametrize("wire", WIRES)
def test_malformed_chunk_is_not_json(wire: str) -> None:
    path, body = call(wire, stream=True)
    with MockServer(scenario({"kind": "malformed"})) as srv:
        resp = httpx.post(srv.base_url + path, json=body)
    datas = [
        line[6:]
        for line in resp.text.replace("\r\n", "\n").split("\n")
        if line.startswith("data: ")
    ]
    assert resp.status_code == 200
    assert len(datas) == 2
    json.loads(datas[0])
    with pytest.raises(json.JSONDecodeError):
        json.loads(datas[1])


def test_malformed_whole_body_is_truncated_json() -> None:
    path, body = call("openai-chat")
    with MockServer(scenario({"kind": "malformed"})) as srv:
        resp = httpx.post(srv.base_url + path, json=body)
        good = httpx.post(srv.base_url + path, json=body)
    with pytest.raises(json.JSONDecodeError):
        resp.json()
    created = re.compile(r'"created": ?\d+')
    assert created.sub("", good.text).startswith(created.sub("", resp.text))


def test_fault_counts_are_per_conversation() -> None:
    path, body = call("openai-chat")
    other = json.loads(json.dumps(body))
    other["messages"][0]["content"] = "another session"
    with MockServer(scenario({"kind": "500", "times": 1})) as srv:
        codes = [
            httpx.post(srv.base_url + path, json=b).status_code for b in (body, other, body, other)
        ]
    assert codes == [500, 500, 200, 200]
