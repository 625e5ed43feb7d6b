"""Which `core.errors` class each provider's error answer becomes: an exhausted
quota or credit balance is a non-retryable `QuotaExceeded` (the account must
rotate at once), a request longer than the model's window is a
`ContextWindowExceeded`, and a plain rate limit stays a retryable
`RateLimitError`. Bodies go through each wire module's own `http_error` (the one
boundary where foreign errors are mapped), in the shapes the providers document
and send; the in-stream quota error is a real recorded OpenAI stream."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bridle.core.errors import (
    AuthenticationError,
    BadRequestError,
    ContextWindowExceeded,
    ProviderError,
    ProviderHTTPError,
    QuotaExceeded,
    RateLimitError,
    StreamError,
)
from bridle.wire._assembler import Assembler
from bridle.wire._sse import iter_sse
from bridle.wire.adapter import adapter_for

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "provider-traffic"


def classify(wire: str, status: int, body: dict[str, Any], provider: str) -> ProviderHTTPError:
    return adapter_for(wire).http_error(status, json.dumps(body).encode(), provider)


GEMINI_QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
)


def gemini_429(quota_id: str) -> dict[str, Any]:
    return {
        "error": {
            "code": 429,
            "message": GEMINI_QUOTA_MESSAGE,
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [
                        {
                            "quotaMetric": "generativelanguage.googleapis.com/"
                            "generate_content_free_tier_requests",
                            "quotaId": quota_id,
                        }
                    ],
                },
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "59s"},
            ],
        }
    }


QUOTA = [
    pytest.param(
        "openai-chat",
        429,
        {
            "error": {
                "message": "You exceeded your current quota, please check your plan and billing "
                "details.",
                "type": "insufficient_quota",
                "param": None,
                "code": "insufficient_quota",
            }
        },
        "openai",
        id="openai-insufficient_quota",
    ),
    pytest.param(
        "openai-responses",
        429,
        {"error": {"message": "You exceeded your current quota.", "type": "insufficient_quota"}},
        "openai",
        id="openai-responses-insufficient_quota",
    ),
    pytest.param(
        "anthropic-messages",
        400,
        {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "message": "Your credit balance is too low to access the Anthropic API. Please "
                "go to Plans & Billing to upgrade or purchase credits.",
            },
        },
        "anthropic",
        id="anthropic-credit-balance",
    ),
    pytest.param(
        "anthropic-messages",
        402,
        {"type": "error", "error": {"type": "billing_error", "message": "Billing issue."}},
        "anthropic",
        id="anthropic-billing_error",
    ),
    pytest.param(
        "gemini",
        429,
        gemini_429("GenerateRequestsPerDayPerProjectPerModel-FreeTier"),
        "gemini",
        id="gemini-per-day",
    ),
    pytest.param(
        "openai-chat",
        402,
        {
            "error": {
                "message": "Insufficient Balance",
                "type": "unknown_error",
                "param": None,
                "code": "invalid_request_error",
            }
        },
        "deepseek",
        id="deepseek-402",
    ),
    pytest.param(
        "openai-chat",
        402,
        {
            "error": {
                "code": 402,
                "message": "Insufficient credits. Add more using https://openrouter.ai/credits",
            }
        },
        "openrouter",
        id="openrouter-402",
    ),
    pytest.param(
        "openai-chat",
        429,
        {"error": {"code": "1113", "message": "余额不足或无可用资源包,请充值。"}},
        "zai",
        id="glm-1113",
    ),
]


@pytest.mark.parametrize(("wire", "status", "body", "provider"), QUOTA)
def test_an_exhausted_quota_is_quota_exceeded_and_not_retried(
    wire: str, status: int, body: dict[str, Any], provider: str
) -> None:
    err = classify(wire, status, body, provider)
    assert type(err) is QuotaExceeded
    # A RateLimitError, so account rotation catches it; never retried on the same account.
    assert isinstance(err, RateLimitError) and not err.retryable
    assert err.kind == "quota"
    assert err.status == status
    assert "add credit or raise the quota, or switch account with --account" in str(err)


RATE = [
    pytest.param(
        "gemini",
        429,
        gemini_429("GenerateRequestsPerMinutePerProjectPerModel-FreeTier"),
        "gemini",
        id="gemini-per-minute",
    ),
    pytest.param(
        "openai-chat",
        429,
        {
            "error": {
                "message": "Rate limit reached for gpt-4o in organization org-x on tokens per "
                "min (TPM): Limit 30000, Used 29000, Requested 2000.",
                "type": "tokens",
                "param": None,
                "code": "rate_limit_exceeded",
            }
        },
        "openai",
        id="openai-tpm",
    ),
    pytest.param(
        "anthropic-messages",
        429,
        {
            "type": "error",
            "error": {
                "type": "rate_limit_error",
                "message": "This request would exceed your organization's rate limit of 50,000 "
                "input tokens per minute.",
            },
        },
        "anthropic",
        id="anthropic-rate_limit_error",
    ),
]


@pytest.mark.parametrize(("wire", "status", "body", "provider"), RATE)
def test_a_rate_limit_that_resets_is_retried(
    wire: str, status: int, body: dict[str, Any], provider: str
) -> None:
    err = classify(wire, status, body, provider)
    assert type(err) is RateLimitError and err.retryable and err.kind == "rate_limit"


WINDOW = [
    pytest.param(
        "openai-chat",
        400,
        {
            "error": {
                "message": "This model's maximum context length is 128000 tokens. However, your "
                "messages resulted in 130511 tokens. Please reduce the length of the messages.",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }
        },
        "openai",
        id="openai-context_length_exceeded",
    ),
    pytest.param(
        "openai-responses",
        400,
        {
            "error": {
                "message": "Your input exceeds the context window of this model. Please adjust "
                "your input and try again.",
                "type": "invalid_request_error",
                "param": "input",
                "code": "context_length_exceeded",
            }
        },
        "openai",
        id="openai-responses-context-window",
    ),
    pytest.param(
        "anthropic-messages",
        400,
        {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "message": "prompt is too long: 208310 tokens > 200000 maximum",
            },
        },
        "anthropic",
        id="anthropic-prompt-too-long",
    ),
    pytest.param(
        "gemini",
        400,
        {
            "error": {
                "code": 400,
                "message": "The input token count (1196265) exceeds the maximum number of "
                "tokens allowed (1048575).",
                "status": "INVALID_ARGUMENT",
            }
        },
        "gemini",
        id="gemini-input-token-count",
    ),
    pytest.param(
        "openai-chat",
        400,
        {
            "error": {
                "message": "This model's maximum context length is 65536 tokens. However, you "
                "requested 70144 tokens (62144 in the messages, 8000 in the completion). Please "
                "reduce the length of the messages or completion.",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_request_error",
            }
        },
        "deepseek",
        id="deepseek-maximum-context-length",
    ),
]


@pytest.mark.parametrize(("wire", "status", "body", "provider"), WINDOW)
def test_a_request_longer_than_the_window_is_context_window_exceeded(
    wire: str, status: int, body: dict[str, Any], provider: str
) -> None:
    err = classify(wire, status, body, provider)
    assert type(err) is ContextWindowExceeded
    assert isinstance(err, BadRequestError) and not err.retryable
    assert err.kind == "context_window"
    assert "no longer fits the model's context window" in str(err)


def test_recorded_client_errors_keep_their_classes() -> None:
    """Every non-200 answer in the recorded corpus keeps its class: none of them
    is a quota or a context window, whatever words it contains."""
    seen = {}
    for meta_path in sorted(CORPUS.glob("*/*/meta.json")):
        meta = json.loads(meta_path.read_text("utf-8"))
        if meta["status"] == 200:
            continue
        body = (meta_path.parent / "response.body").read_bytes()
        err = adapter_for(meta["wire"]).http_error(meta["status"], body, meta["provider"])
        seen[meta_path.parent.name] = type(err).__name__
    assert seen == {
        "pai-anthropic-effort-xhigh-unsupported-400": "BadRequestError",
        "pai-anthropic-unknown-model-404": "NotFoundError",
        "pai-google-unknown-model-404": "NotFoundError",
        "pai-groq-tool-use-failed-error.1": "BadRequestError",
        "pai-openai-chat-unknown-model-404": "NotFoundError",
        "pai-openai-o1-mini-system-role-400": "BadRequestError",
        "pai-openrouter-errors-raised-429.1": "RateLimitError",
        "pai-openai-responses-http-error-400": "BadRequestError",
        "pai-openai-responses-modified-history-400.2": "BadRequestError",
    }


def test_an_output_limit_error_is_not_a_context_window() -> None:
    body = {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "max_tokens: 100000 > 64000, which is the maximum allowed number of "
            "output tokens for claude-sonnet-4",
        },
    }
    err = classify("anthropic-messages", 400, body, "anthropic")
    assert type(err) is BadRequestError and err.kind == "provider"


def test_recorded_in_stream_quota_error_is_quota_exceeded() -> None:
    """OpenAI sends `insufficient_quota` inside a 200 Responses stream (recorded)."""
    body = CORPUS / "openai-responses/vai-openai-responses-in-stream-error/response.body"
    adapter = adapter_for("openai-responses")
    asm = Assembler("openai-responses", "openai")
    for event in adapter.decode_stream(iter_sse(iter([body.read_bytes()])), "openai"):
        asm.feed(event)
    with pytest.raises(ProviderError) as info:
        asm.result()
    assert type(info.value) is QuotaExceeded and not info.value.retryable


def test_other_in_stream_errors_stay_stream_errors() -> None:
    from bridle.core.errors import stream_error_for

    err = stream_error_for(None, "overloaded_error", "Overloaded", provider="anthropic")
    assert type(err) is StreamError and err.retryable and err.kind == "provider"
    window = stream_error_for(None, "invalid_request_error", "prompt is too long: 1 > 0")
    assert type(window) is ContextWindowExceeded


def test_error_kinds() -> None:
    from bridle.core.errors import ConnectionFailed, StreamTimeout

    assert ConnectionFailed("x").kind == StreamTimeout("x").kind == "network"
    assert AuthenticationError("x", status=401).kind == "auth"
