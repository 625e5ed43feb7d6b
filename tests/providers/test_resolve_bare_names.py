"""A bare provider name resolves to that provider, never to a mock model that
shares the name (the mock's models are named after wires)."""

from __future__ import annotations

import pytest

from bridle.providers.resolve import resolve_model


@pytest.mark.parametrize(
    ("spec", "provider"),
    [
        ("gemini", "gemini"),
        ("anthropic", "anthropic"),
        ("mock/gemini", "mock"),
        ("deepseek", "deepseek"),
    ],
)
def test_bare_provider_names(spec: str, provider: str) -> None:
    env = {"BRIDLE_MOCK_BASE_URL": "http://127.0.0.1:9", "HOME": "/nonexistent"}
    resolved = resolve_model(spec, None, env, require_key=False)
    assert resolved.endpoint.provider == provider
