"""Every recorded case, served by a real loopback HTTP server with its recorded
status and content type, comes out of `ModelClient` as its expected.json says:
a `ModelResponse`, or the typed error carrying the expected status, type and
message. This is the path the engine takes, URL conventions and auth included."""

from __future__ import annotations

import json

import pytest

from bridle.core.errors import (
    BadRequestError,
    NotFoundError,
    ProviderHTTPError,
    QuotaExceeded,
    RateLimitError,
    StreamError,
)
from bridle.core.messages import Message, ModelRequest, ModelResponse, TextPart
from bridle.wire.client import ModelClient
from bridle.wire.endpoint import Endpoint

from .corpus import Case, as_expected, load_cases, normalised_expected
from .loopback import LoopbackServer, Reply

CASES = load_cases()
SUFFIX = {"anthropic-messages": "", "openai-chat": "/v1", "openai-responses": "/v1", "gemini": ""}
AUTH = {
    "anthropic-messages": ("x-api-key", "k-123"),
    "openai-chat": ("authorization", "Bearer k-123"),
    "openai-responses": ("authorization", "Bearer k-123"),
    "gemini": ("x-goog-api-key", "k-123"),
}


def expected_path(case: Case, model: str) -> str:
    if case.wire == "anthropic-messages":
        return "/v1/messages"
    if case.wire == "openai-chat":
        return "/v1/chat/completions"
    if case.wire == "openai-responses":
        return "/v1/responses"
    verb = "streamGenerateContent?alt=sse" if case.streaming else "generateContent"
    return f"/v1beta/models/{model}:{verb}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case_through_model_client(case: Case) -> None:
    body = case.body
    third = max(1, len(body) // 3)
    reply = Reply(
        status=case.meta["status"],
        content_type=case.meta["content_type"],
        chunks=[body[:third], body[third : 2 * third], body[2 * third :]],
    )
    model = case.meta.get("model") or "some-model"
    with LoopbackServer([reply]) as server:
        endpoint = Endpoint(
            provider=case.meta["provider"],
            wire=case.wire,
            base_url=server.base_url + SUFFIX[case.wire],
            model=model,
            api_key="k-123",
            max_retries=0,
        )
        req = ModelRequest(model, [Message("user", [TextPart("hi")])], stream=case.streaming)
        with ModelClient(endpoint) as client:
            try:
                resp = client.complete(req)
            except ProviderHTTPError as e:
                error = {"status": e.status, "type": e.error_type, "message": e.message}
                assert e.provider == case.meta["provider"]
                if case.meta["status"] >= 400:
                    got = as_expected(case.wire, ModelResponse([], None), error)
                    assert got == normalised_expected(case)
                else:
                    # An in-stream error is raised; the content before it is
                    # checked through Assembler.partial() in test_recorded_traffic.
                    # A used-up quota keeps its own class (the account rotates).
                    assert isinstance(e, StreamError | QuotaExceeded)
                    assert error == case.expected["error"]
            else:
                assert as_expected(case.wire, resp, None) == normalised_expected(case)
    [seen] = server.seen
    assert seen.path == expected_path(case, model)
    key, value = AUTH[case.wire]
    assert seen.headers[key] == value
    sent = json.loads(seen.body)
    if case.wire != "gemini":
        assert sent["model"] == model
        assert bool(sent.get("stream")) == case.streaming


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("anthropic-messages/pai-anthropic-unknown-model-404", NotFoundError),
        ("anthropic-messages/pai-anthropic-effort-xhigh-unsupported-400", BadRequestError),
        ("openai-chat/pai-openrouter-errors-raised-429.1", RateLimitError),
        ("gemini/pai-google-unknown-model-404", NotFoundError),
        ("openai-responses/pai-openai-responses-http-error-400", BadRequestError),
    ],
)
def test_http_errors_are_typed(name: str, cls: type) -> None:
    [case] = [c for c in CASES if c.name == name]
    reply = Reply(status=case.meta["status"], content_type="application/json", chunks=[case.body])
    with LoopbackServer([reply]) as server:
        endpoint = Endpoint(
            case.meta["provider"],
            case.wire,
            server.base_url + SUFFIX[case.wire],
            "m",
            max_retries=0,
        )
        with ModelClient(endpoint) as client, pytest.raises(cls) as info:
            client.complete(ModelRequest("m", [Message("user", [TextPart("hi")])], stream=False))
    text = str(info.value)
    assert text.startswith(f"{case.meta['provider']}: HTTP {case.meta['status']}")
    assert case.expected["error"]["message"] in text


WHOLE = [c for c in CASES if not c.streaming and c.meta["status"] < 400]


@pytest.mark.parametrize("case", WHOLE, ids=lambda c: c.name)
def test_streaming_request_answered_with_json_is_parsed_whole(case: Case) -> None:
    """Some providers and gateways answer `stream: true` with one complete JSON
    body: that is the whole response, on every wire, not an error."""
    reply = Reply(status=200, content_type="application/json", chunks=[case.body])
    model = case.meta.get("model") or "some-model"
    with LoopbackServer([reply]) as server:
        endpoint = Endpoint(
            case.meta["provider"], case.wire, server.base_url + SUFFIX[case.wire], model
        )
        req = ModelRequest(model, [Message("user", [TextPart("hi")])], stream=True)
        with ModelClient(endpoint) as client:
            resp = client.complete(req)
    assert as_expected(case.wire, resp, None) == normalised_expected(case)
    [seen] = server.seen
    if case.wire == "gemini":  # the streaming URL was asked
        assert seen.path == f"/v1beta/models/{model}:streamGenerateContent?alt=sse"
    else:
        assert json.loads(seen.body)["stream"] is True


def test_gemini_stream_answered_with_a_json_array_is_parsed_whole() -> None:
    """`streamGenerateContent` without `alt=sse` sends a JSON array of chunks."""
    chunks = [
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hel"}]}}]},
        {
            "candidates": [
                {"content": {"role": "model", "parts": [{"text": "lo"}]}, "finishReason": "STOP"}
            ],
            "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 2},
        },
    ]
    reply = Reply(status=200, content_type="application/json", chunks=[json.dumps(chunks).encode()])
    with LoopbackServer([reply]) as server:
        endpoint = Endpoint("gemini", "gemini", server.base_url, "gemini-x")
        with ModelClient(endpoint) as client:
            resp = client.complete(ModelRequest("gemini-x", [Message("user", [TextPart("hi")])]))
    assert (resp.text, resp.raw_stop_reason, resp.usage.input_tokens, resp.usage.output_tokens) == (
        "Hello",
        "STOP",
        4,
        2,
    )
