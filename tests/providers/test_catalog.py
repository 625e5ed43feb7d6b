"""The built-in catalog's data holds together: conventions, keys, prices, aliases."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridle.core.errors import ConfigError
from bridle.providers.catalog import load_catalog
from bridle.providers.resolve import resolve_model
from bridle.wire.endpoint import WIRES

REQUIRED = {
    "anthropic",
    "openai",
    "openai-chat",
    "altllm",
    "deepseek",
    "zhipu",
    "moonshot",
    "minimax",
    "qwen",
    "gemini",
    "openrouter",
    "groq",
    "mistral",
    "xai",
    "ollama",
    "lmstudio",
    "mock",
}
ALIASES = {"glm": "zhipu", "kimi": "moonshot", "dashscope": "qwen", "google": "gemini"}
KEY_VARS = {
    "anthropic": "ANTHROPIC_API_KEY",
    "openai": "OPENAI_API_KEY",
    "altllm": "ALTLLM",
    "deepseek": "DEEPSEEK_API_KEY",
    "zhipu": "ZHIPUAI_API_KEY",
    "moonshot": "MOONSHOT_API_KEY",
    "minimax": "MINIMAX_API_KEY",
    "qwen": "DASHSCOPE_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "groq": "GROQ_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "xai": "XAI_API_KEY",
}


def test_required_providers_aliases_and_key_vars() -> None:
    catalog = load_catalog()
    assert set(catalog.providers) >= REQUIRED
    for alias, name in ALIASES.items():
        assert catalog.provider(alias).name == name  # type: ignore[union-attr]
    for name, var in KEY_VARS.items():
        assert catalog.providers[name].api_key_env[0] == var
    assert {"KIMI_API_KEY", "GLM_API_KEY"} <= {
        *catalog.providers["moonshot"].api_key_env,
        *catalog.providers["zhipu"].api_key_env,
    }
    keyless = {n for n, p in catalog.providers.items() if not p.needs_key}
    assert keyless == {"ollama", "lmstudio", "mock"}


@pytest.mark.parametrize("name", sorted(REQUIRED - {"mock"}))
def test_base_url_follows_its_wire_convention(name: str) -> None:
    p = load_catalog().providers[name]
    assert p.wire in WIRES
    assert p.base_url.startswith(("https://", "http://localhost")) and not p.base_url.endswith("/")
    if p.wire == "anthropic-messages":
        assert not p.base_url.endswith("/v1")
    if p.wire == "gemini":
        assert "v1beta" not in p.base_url
    if p.wire.startswith("openai"):
        assert p.base_url.endswith(("/v1", "/v4"))


def test_every_model_has_sane_numbers_and_resolves_to_itself() -> None:
    catalog = load_catalog()
    for info in catalog.models():
        if info.prices is not None:
            p = info.prices
            assert 0 <= p.input <= 100 and 0 <= p.output <= 400, info.ref
            assert p.cache_read is None or p.cache_read <= p.input, info.ref
            assert p.cache_write is None or p.cache_write >= p.input, info.ref
        if info.context_window is not None:
            assert info.max_output is not None and info.max_output <= info.context_window, info.ref
        r = resolve_model(
            info.ref, None, {"BRIDLE_MOCK_BASE_URL": "http://127.0.0.1:1"}, require_key=False
        )
        assert (r.provider.name, r.endpoint.model, r.info) == (info.provider, info.id, info)
        for alias in info.aliases:
            assert (
                resolve_model(
                    f"{info.provider}/{alias}", None, {}, require_key=False
                ).endpoint.model
                == info.id
            )


def test_priced_frontier_models_have_cache_prices() -> None:
    catalog = load_catalog()
    for name in ("anthropic",):
        for info in catalog.providers[name].models.values():
            assert info.prices and info.prices.cache_read and info.prices.cache_write, info.ref


def test_top_level_aliases_point_at_listed_models() -> None:
    catalog = load_catalog()
    for alias, target in catalog.aliases.items():
        provider, model = target.split("/", 1)
        assert model in catalog.providers[provider].models, alias


def test_openai_chat_shares_openai_models_under_its_own_name() -> None:
    catalog = load_catalog()
    chat = catalog.providers["openai-chat"]
    assert set(chat.models) == set(catalog.providers["openai"].models)
    assert {m.provider for m in chat.models.values()} == {"openai-chat"}


def test_broken_catalog_file_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "catalog.toml"
    bad.write_text("[providers.x\n")
    with pytest.raises(ConfigError) as err:
        load_catalog(catalog_path=bad)
    assert err.value.path == str(bad)


# Providers whose public pages list model ids but no context window or prices.
UNPUBLISHED = {"altllm"}


def test_every_model_has_context_and_prices_unless_unpublished() -> None:
    catalog = load_catalog()
    missing = {
        info.ref for info in catalog.models() if info.prices is None or info.context_window is None
    }
    assert {ref.split("/", 1)[0] for ref in missing} == UNPUBLISHED
    for name in UNPUBLISHED:
        assert all(m.prices is None for m in catalog.providers[name].models.values())
