"""Requests that offer no tools (titles, quota probes, Gemini CLI's routing
classifier) get a short reply, JSON fitting the schema when one is asked for, and
never consume the script."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from bridle.mock import MockServer, load_scenario

SCENARIO = load_scenario(
    Path(__file__).resolve().parents[2] / "examples" / "buggy-project" / "scenario.json"
)

# The schema Gemini CLI 0.61 sends to gemini-*-flash-lite:generateContent.
CLASSIFIER = {
    "contents": [
        {"role": "user", "parts": [{"text": "Rate the complexity of: fix the failing test"}]}
    ],
    "generationConfig": {
        "responseMimeType": "application/json",
        "responseJsonSchema": {
            "type": "OBJECT",
            "properties": {
                "complexity_reasoning": {"type": "STRING"},
                "complexity_score": {"type": "INTEGER"},
            },
            "required": ["complexity_reasoning", "complexity_score"],
        },
    },
}
CHOICE_SCHEMA = {
    "type": "object",
    "properties": {
        "model_choice": {"type": "string", "enum": ["flash", "pro"]},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "ok": {"type": ["boolean", "null"]},
    },
}


def test_anthropic_title_request_gets_short_text_and_script_stays_put() -> None:
    with MockServer(SCENARIO) as srv, httpx.Client(base_url=srv.base_url) as client:
        side = client.post(
            "/v1/messages",
            json={
                "model": "haiku",
                "messages": [{"role": "user", "content": "Write a 5-word title"}],
            },
        ).json()
        main = client.post(
            "/v1/messages",
            json={
                "messages": [{"role": "user", "content": "go"}],
                "tools": [{"name": "Glob", "input_schema": {}}],
            },
        ).json()
    assert (side["content"], side["stop_reason"]) == ([{"type": "text", "text": "OK."}], "end_turn")
    assert main["content"][1]["input"] == {"pattern": "**/*.py"}
    assert [(e.get("side"), e.get("turn")) for e in srv.requests] == [(True, None), (None, 0)]


def test_gemini_classifier_gets_json_fitting_its_schema() -> None:
    with MockServer(SCENARIO) as srv:
        resp = httpx.post(
            srv.base_url + "/v1beta/models/gemini-3.5-flash-lite:generateContent", json=CLASSIFIER
        ).json()
    text = resp["candidates"][0]["content"]["parts"][0]["text"]
    assert json.loads(text) == {
        "complexity_reasoning": "mock complexity_reasoning",
        "complexity_score": 0,
    }
    assert resp["candidates"][0]["finishReason"] == "STOP"


def test_chat_response_format_json_schema() -> None:
    body = {
        "messages": [{"role": "user", "content": "pick"}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "c", "schema": CHOICE_SCHEMA},
        },
    }
    with MockServer(SCENARIO) as srv:
        resp = httpx.post(srv.base_url + "/v1/chat/completions", json=body).json()
    assert json.loads(resp["choices"][0]["message"]["content"]) == {
        "model_choice": "flash",
        "tags": ["mock tags"],
        "ok": False,
    }


def test_responses_text_format_json_schema_streamed() -> None:
    body = {
        "input": "pick",
        "stream": True,
        "text": {"format": {"type": "json_schema", "name": "c", "schema": CHOICE_SCHEMA}},
    }
    with MockServer(SCENARIO) as srv:
        resp = httpx.post(srv.base_url + "/v1/responses", json=body)
    done = [json.loads(line[6:]) for line in resp.text.splitlines() if line.startswith("data: ")][
        -1
    ]
    text = done["response"]["output"][0]["content"][0]["text"]
    assert json.loads(text) == {"model_choice": "flash", "tags": ["mock tags"], "ok": False}


def test_json_asked_in_prompt_without_schema_gets_an_object() -> None:
    body = {"messages": [{"role": "user", "content": "Reply in JSON with a title"}]}
    with MockServer(SCENARIO) as srv:
        resp = httpx.post(srv.base_url + "/v1/messages", json=body).json()
    assert json.loads(resp["content"][0]["text"]) == {}


def test_count_tokens_endpoints() -> None:
    body = json.dumps({"messages": [{"role": "user", "content": "x" * 400}]}).encode()
    with MockServer(SCENARIO) as srv:
        anthropic = httpx.post(srv.base_url + "/v1/messages/count_tokens", content=body).json()
        count = srv.base_url + "/v1beta/models/m:countTokens"
        gemini = httpx.post(count, content=b'{"contents": []}').json()
    assert anthropic == {"input_tokens": len(body) // 4}
    assert gemini == {"totalTokens": 4}
