"""Model resolution, table-driven: every accepted form, errors, keys, overrides."""

from __future__ import annotations

from typing import Any

import pytest

from bridle.config.settings import Settings
from bridle.core.errors import ConfigError, MissingKeyError, UnknownModelError
from bridle.providers.resolve import resolve_model
from bridle.wire.endpoint import Endpoint
from bridle.wire.profile import Profile

MOCK = "http://127.0.0.1:4010"
AN, CHAT, RESP, GEM = "anthropic-messages", "openai-chat", "openai-responses", "gemini"

# spec -> (provider, model sent, wire, base_url, known to the catalog)
FORMS: list[tuple[str, tuple[str, str, str, str, bool]]] = [
    ("sonnet", ("anthropic", "claude-sonnet-5-5", AN, "https://api.anthropic.com", True)),
    ("opus", ("anthropic", "claude-opus-5-5", AN, "https://api.anthropic.com", True)),
    ("haiku", ("anthropic", "claude-haiku-5-5", AN, "https://api.anthropic.com", True)),
    ("Sonnet", ("anthropic", "claude-sonnet-5-5", AN, "https://api.anthropic.com", True)),
    (
        "claude-sonnet-4-6",
        ("anthropic", "claude-sonnet-4-6", AN, "https://api.anthropic.com", True),
    ),
    (
        "claude-sonnet-4-5-20250929",
        ("anthropic", "claude-sonnet-4-5-20250929", AN, "https://api.anthropic.com", True),
    ),
    (
        "claude-3-7-sonnet-latest",
        ("anthropic", "claude-3-7-sonnet-latest", AN, "https://api.anthropic.com", False),
    ),
    (
        "anthropic/claude-opus-4-6",
        ("anthropic", "claude-opus-4-6", AN, "https://api.anthropic.com", True),
    ),
    ("gpt-5", ("openai", "gpt-5", RESP, "https://api.openai.com/v1", True)),
    ("gpt-4o", ("openai", "gpt-4o", RESP, "https://api.openai.com/v1", True)),
    ("gpt-6-preview", ("openai", "gpt-6-preview", RESP, "https://api.openai.com/v1", False)),
    ("o3", ("openai", "o3", RESP, "https://api.openai.com/v1", True)),
    ("o4-mini", ("openai", "o4-mini", RESP, "https://api.openai.com/v1", True)),
    ("o1-pro", ("openai", "o1-pro", RESP, "https://api.openai.com/v1", False)),
    ("openai-chat/gpt-5", ("openai-chat", "gpt-5", CHAT, "https://api.openai.com/v1", True)),
    ("altllm/altllm-basic", ("altllm", "altllm-basic", CHAT, "https://api.altllm.ai/v1", True)),
    ("altllm-mega", ("altllm", "altllm-mega", CHAT, "https://api.altllm.ai/v1", True)),
    ("deepseek-v3", ("deepseek", "deepseek-chat", CHAT, "https://api.deepseek.com/v1", True)),
    ("deepseek-chat", ("deepseek", "deepseek-chat", CHAT, "https://api.deepseek.com/v1", True)),
    (
        "deepseek/deepseek-reasoner",
        ("deepseek", "deepseek-reasoner", CHAT, "https://api.deepseek.com/v1", True),
    ),
    ("deepseek-v9", ("deepseek", "deepseek-v9", CHAT, "https://api.deepseek.com/v1", False)),
    ("glm-4.7", ("zhipu", "glm-4.7", CHAT, "https://api.z.ai/api/paas/v4", True)),
    ("glm/glm-4.6", ("zhipu", "glm-4.6", CHAT, "https://api.z.ai/api/paas/v4", True)),
    ("zhipu/glm-5", ("zhipu", "glm-5", CHAT, "https://api.z.ai/api/paas/v4", False)),
    ("kimi-k2", ("moonshot", "kimi-k2-0905-preview", CHAT, "https://api.moonshot.ai/v1", True)),
    ("kimi/kimi-k2.5", ("moonshot", "kimi-k2.5", CHAT, "https://api.moonshot.ai/v1", True)),
    (
        "moonshot-v1-128k",
        ("moonshot", "moonshot-v1-128k", CHAT, "https://api.moonshot.ai/v1", False),
    ),
    ("minimax-m2", ("minimax", "MiniMax-M2", CHAT, "https://api.minimax.io/v1", True)),
    ("MiniMax-M2.1", ("minimax", "MiniMax-M2.1", CHAT, "https://api.minimax.io/v1", True)),
    ("MiniMax-M3", ("minimax", "MiniMax-M3", CHAT, "https://api.minimax.io/v1", False)),
    (
        "qwen3-coder",
        (
            "qwen",
            "qwen3-coder-plus",
            CHAT,
            "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
            True,
        ),
    ),
    (
        "qwen-max",
        ("qwen", "qwen-max", CHAT, "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", False),
    ),
    (
        "dashscope/qwen3-max",
        ("qwen", "qwen3-max", CHAT, "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", True),
    ),
    (
        "gemini-2.5-pro",
        ("gemini", "gemini-2.5-pro", GEM, "https://generativelanguage.googleapis.com", True),
    ),
    (
        "google/gemini-2.5-flash",
        ("gemini", "gemini-2.5-flash", GEM, "https://generativelanguage.googleapis.com", True),
    ),
    ("grok-4", ("xai", "grok-4", CHAT, "https://api.x.ai/v1", True)),
    ("grok-code-fast-1", ("xai", "grok-code-fast-1", CHAT, "https://api.x.ai/v1", True)),
    (
        "mistral-large-latest",
        ("mistral", "mistral-large-latest", CHAT, "https://api.mistral.ai/v1", True),
    ),
    ("codestral-2508", ("mistral", "codestral-2508", CHAT, "https://api.mistral.ai/v1", False)),
    (
        "openrouter/anthropic/claude-sonnet-4.5",
        ("openrouter", "anthropic/claude-sonnet-4.5", CHAT, "https://openrouter.ai/api/v1", True),
    ),
    (
        "openrouter/meta-llama/llama-4",
        ("openrouter", "meta-llama/llama-4", CHAT, "https://openrouter.ai/api/v1", False),
    ),
    (
        "groq/openai/gpt-oss-120b",
        ("groq", "openai/gpt-oss-120b", CHAT, "https://api.groq.com/openai/v1", True),
    ),
    (
        "llama-3.3-70b-versatile",
        ("groq", "llama-3.3-70b-versatile", CHAT, "https://api.groq.com/openai/v1", True),
    ),
    (
        "ollama/qwen3-coder:30b",
        ("ollama", "qwen3-coder:30b", CHAT, "http://localhost:11434/v1", True),
    ),
    ("lmstudio/local-model", ("lmstudio", "local-model", CHAT, "http://localhost:1234/v1", False)),
    ("mock", ("mock", "default", AN, MOCK, True)),
    ("mock/default", ("mock", "default", AN, MOCK, True)),
    ("mock/openai-chat", ("mock", "openai-chat", CHAT, MOCK + "/v1", True)),
    ("mock/openai-responses", ("mock", "openai-responses", RESP, MOCK + "/v1", True)),
    ("mock/gemini", ("mock", "gemini", GEM, MOCK, True)),
    ("mock/gpt-5", ("mock", "gpt-5", RESP, MOCK + "/v1", True)),
    ("mock/claude-sonnet", ("mock", "claude-sonnet", AN, MOCK, True)),
    ("mock/deepseek-chat", ("mock", "deepseek-chat", CHAT, MOCK + "/v1", True)),
]


@pytest.mark.parametrize(("spec", "expected"), FORMS, ids=[f[0] for f in FORMS])
def test_resolution_forms(spec: str, expected: tuple[str, str, str, str, bool]) -> None:
    r = resolve_model(spec, None, {"BRIDLE_MOCK_BASE_URL": MOCK}, require_key=False)
    e = r.endpoint
    assert (e.provider, e.model, e.wire, e.base_url, r.info.known) == expected
    assert r.spec == spec


UNKNOWN: list[tuple[str, list[str]]] = [
    ("deepsek-chat", ["deepseek/deepseek-chat"]),
    ("sonet", ["sonnet"]),
    ("deepseek/", ["deepseek/deepseek-chat"]),
    ("gemni-2.5-pro", ["gemini/gemini-2.5-pro"]),
    ("nosuch/model-x", []),
    ("frobnicator", []),
    ("", []),
]


@pytest.mark.parametrize(("spec", "must_suggest"), UNKNOWN, ids=[u[0] or "empty" for u in UNKNOWN])
def test_unknown_models_list_close_matches(spec: str, must_suggest: list[str]) -> None:
    with pytest.raises(UnknownModelError) as err:
        resolve_model(spec, None, {}, require_key=False)
    assert err.value.model == spec
    for ref in must_suggest:
        assert ref in err.value.suggestions
    if must_suggest:
        assert f"Did you mean: {err.value.suggestions[0]}" in str(err.value)
    assert "bridle models" in str(err.value)


def test_suggestions_for_a_known_provider_stay_within_it() -> None:
    with pytest.raises(UnknownModelError) as err:
        resolve_model("deepseek/", None, {}, require_key=False)
    assert err.value.suggestions and all(s.startswith("deepseek/") for s in err.value.suggestions)


def test_unlisted_model_under_known_provider_passes_through() -> None:
    # Providers ship models faster than catalogs; a typo surfaces as the provider's 404.
    r = resolve_model("deepseek/deepseek-v5", None, {}, require_key=False)
    assert (r.endpoint.model, r.info.known, r.info.prices) == ("deepseek-v5", False, None)


# provider spec, env, account keys -> (key, source)
KEYS: list[tuple[str, str, dict[str, str], dict[str, str] | None, tuple[str, str]]] = [
    (
        "deepseek env",
        "deepseek-chat",
        {"DEEPSEEK_API_KEY": "d1"},
        None,
        ("d1", "env:DEEPSEEK_API_KEY"),
    ),
    ("altllm seed name", "altllm-basic", {"ALTLLM": "a1"}, None, ("a1", "env:ALTLLM")),
    (
        "altllm generic",
        "altllm-basic",
        {"ALTLLM": "a1", "ALTLLM_API_KEY": "a2"},
        None,
        ("a2", "env:ALTLLM_API_KEY"),
    ),
    ("zhipu", "glm-4.7", {"ZHIPUAI_API_KEY": "z1"}, None, ("z1", "env:ZHIPUAI_API_KEY")),
    ("glm alias var", "glm-4.7", {"GLM_API_KEY": "g1"}, None, ("g1", "env:GLM_API_KEY")),
    ("kimi var", "kimi-k2", {"KIMI_API_KEY": "k1"}, None, ("k1", "env:KIMI_API_KEY")),
    ("moonshot var", "kimi-k2", {"MOONSHOT_API_KEY": "m1"}, None, ("m1", "env:MOONSHOT_API_KEY")),
    (
        "dashscope",
        "qwen3-coder",
        {"DASHSCOPE_API_KEY": "q1"},
        None,
        ("q1", "env:DASHSCOPE_API_KEY"),
    ),
    (
        "gemini google var",
        "gemini-2.5-pro",
        {"GOOGLE_API_KEY": "g2"},
        None,
        ("g2", "env:GOOGLE_API_KEY"),
    ),
    (
        "empty env ignored",
        "gpt-5",
        {"OPENAI_API_KEY": "", "OPENAI_CHAT_API_KEY": "x"},
        None,
        ("", ""),
    ),
    (
        "account wins",
        "deepseek-chat",
        {"DEEPSEEK_API_KEY": "d1"},
        {"DEEPSEEK_API_KEY": "acct"},
        ("acct", "account:DEEPSEEK_API_KEY"),
    ),
    ("account by seed name", "altllm-basic", {}, {"ALTLLM": "acct"}, ("acct", "account:ALTLLM")),
]


@pytest.mark.parametrize(
    ("spec", "env", "account", "expected"), [k[1:] for k in KEYS], ids=[k[0] for k in KEYS]
)
def test_key_lookup(
    spec: str, env: dict[str, str], account: dict[str, str] | None, expected: tuple[str, str]
) -> None:
    r = resolve_model(spec, None, env, account, require_key=False)
    assert (r.endpoint.api_key or "", r.key_source or "") == expected


def test_missing_key_names_env_var_and_command() -> None:
    with pytest.raises(MissingKeyError) as err:
        resolve_model("deepseek-chat", None, {})
    assert err.value.env_vars == ["DEEPSEEK_API_KEY"]
    assert "DEEPSEEK_API_KEY" in str(err.value)
    assert "bridle accounts keys set <account> DEEPSEEK_API_KEY" in str(err.value)


def test_missing_key_lists_every_accepted_variable_preferred_first() -> None:
    with pytest.raises(MissingKeyError) as err:
        resolve_model("altllm-basic", None, {})
    assert err.value.env_vars == ["ALTLLM", "ALTLLM_API_KEY"]
    with pytest.raises(MissingKeyError) as err:
        resolve_model("kimi-k2", None, {})
    assert err.value.env_vars == ["MOONSHOT_API_KEY", "KIMI_API_KEY"]


@pytest.mark.parametrize("spec", ["ollama/gpt-oss:20b", "lmstudio/any", "mock/default"])
def test_local_providers_need_no_key(spec: str) -> None:
    r = resolve_model(spec, None, {"BRIDLE_MOCK_BASE_URL": MOCK})
    assert r.endpoint.api_key is None


def test_mock_without_address_is_a_clear_error_only_when_required() -> None:
    with pytest.raises(ConfigError) as err:
        resolve_model("mock/default", None, {})
    assert str(err.value) == (
        "providers.mock.base_url: no base URL for mock: set BRIDLE_MOCK_BASE_URL or "
        "providers.mock.base_url (start one with `bridle mock serve`)"
    )
    assert resolve_model("mock/default", None, {}, require_key=False).endpoint.base_url == ""


def test_mock_address_from_settings_and_wire_from_settings() -> None:
    settings = {"providers": {"mock": {"base_url": MOCK + "/v1/", "wire": "gemini"}}}
    r = resolve_model("mock/default", settings, {})
    assert (r.endpoint.wire, r.endpoint.base_url) == ("gemini", MOCK)
    # A model name that names a wire beats the setting.
    r = resolve_model("mock/openai-chat", settings, {})
    assert (r.endpoint.wire, r.endpoint.base_url) == ("openai-chat", MOCK + "/v1")


ENV_OVERRIDES = [
    ("deepseek-chat", {"DEEPSEEK_BASE_URL": "http://127.0.0.1:9/v1"}, "http://127.0.0.1:9/v1"),
    ("sonnet", {"ANTHROPIC_BASE_URL": "http://gw.example/"}, "http://gw.example"),
    ("gpt-5", {"OPENAI_BASE_URL": "http://o.example/v1"}, "http://o.example/v1"),
    ("openai-chat/gpt-5", {"OPENAI_BASE_URL": "http://o.example/v1"}, "http://o.example/v1"),
    (
        "openai-chat/gpt-5",
        {"OPENAI_BASE_URL": "http://a/v1", "OPENAI_CHAT_BASE_URL": "http://b/v1"},
        "http://b/v1",
    ),
    (
        "glm-4.7",
        {"GLM_BASE_URL": "https://open.bigmodel.cn/api/paas/v4"},
        "https://open.bigmodel.cn/api/paas/v4",
    ),
    ("gemini-2.5-pro", {"GEMINI_BASE_URL": "http://g.example"}, "http://g.example"),
    ("mock", {"MOCK_BASE_URL": "http://127.0.0.1:5"}, "http://127.0.0.1:5"),
]


@pytest.mark.parametrize(("spec", "env", "base_url"), ENV_OVERRIDES)
def test_base_url_env_overrides(spec: str, env: dict[str, str], base_url: str) -> None:
    assert resolve_model(spec, None, env, require_key=False).endpoint.base_url == base_url


def test_env_base_url_beats_settings_and_generic_key_beats_settings_key() -> None:
    settings = {
        "providers": {"zhipu": {"base_url": "https://s.example/v4", "api_key": "from-settings"}}
    }
    # ZHIPUAI_API_KEY is the catalog's variable: settings' explicit key wins over it.
    r = resolve_model("glm-4.7", settings, {"ZHIPUAI_API_KEY": "z"})
    assert (r.endpoint.base_url, r.endpoint.api_key, r.key_source) == (
        "https://s.example/v4",
        "from-settings",
        "settings",
    )
    # <PROVIDER>_API_KEY / <ALIAS>_API_KEY and <PROVIDER>_BASE_URL override settings.
    r = resolve_model(
        "glm-4.7", settings, {"GLM_API_KEY": "g", "ZHIPU_BASE_URL": "https://e.example/v4"}
    )
    assert (r.endpoint.base_url, r.endpoint.api_key, r.key_source) == (
        "https://e.example/v4",
        "g",
        "env:GLM_API_KEY",
    )


def test_settings_override_of_builtin_provider() -> None:
    settings = Settings(
        {
            "providers": {
                "deepseek": {
                    "base_url": "https://proxy.example/v1",
                    "headers": {"X-Team": "a"},
                    "max_retries": 9,
                    "api_key_env": "TEAM_DS_KEY",
                }
            }
        },
        sources={"providers": "/p/.bridle/settings.json"},
    )
    r = resolve_model("deepseek-chat", settings, {"TEAM_DS_KEY": "t"})
    assert r.endpoint == Endpoint(
        provider="deepseek",
        wire="openai-chat",
        base_url="https://proxy.example/v1",
        model="deepseek-chat",
        api_key="t",
        headers={"X-Team": "a"},
        max_retries=9,
        profile=Profile(
            reasoning_roundtrip="reasoning_content",
            usage_on_finish_chunk=True,
            off_peak_discount=True,
        ),
    )
    assert r.info.prices is not None and r.info.context_window == 1000000


def test_custom_provider_from_settings() -> None:
    settings = {
        "providers": {
            "acme": {
                "wire": "openai-responses",
                "base_url": "https://llm.acme.example/v1",
                "api_key_env": ["ACME_TOKEN"],
                "headers": {"X-Org": "7"},
            }
        }
    }
    r = resolve_model("acme/acme-coder", settings, {"ACME_TOKEN": "tok"})
    assert r.endpoint == Endpoint(
        provider="acme",
        wire="openai-responses",
        base_url="https://llm.acme.example/v1",
        model="acme-coder",
        api_key="tok",
        headers={"X-Org": "7"},
    )
    assert (r.info.known, r.info.prices) == (False, None)
    with pytest.raises(MissingKeyError) as err:
        resolve_model("acme/acme-coder", settings, {})
    assert err.value.env_vars == ["ACME_TOKEN", "ACME_API_KEY"]


def test_custom_provider_without_key_settings_is_keyless() -> None:
    settings = {
        "providers": {
            "local-gw": {"wire": "anthropic-messages", "base_url": "http://127.0.0.1:8080"}
        }
    }
    r = resolve_model("local-gw/m", settings, {})
    assert (r.endpoint.api_key, r.endpoint.wire) == (None, "anthropic-messages")
    r = resolve_model("local-gw/m", settings, {"LOCAL_GW_API_KEY": "k"})
    assert r.endpoint.api_key == "k"


SETTINGS_ERRORS: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "new provider needs base_url",
        {"acme": {"wire": "openai-chat"}},
        "providers.acme",
        "a new provider needs base_url",
    ),
    (
        "unknown wire",
        {"deepseek": {"wire": "soap"}},
        "providers.deepseek.wire",
        "unknown wire 'soap'; valid wires are anthropic-messages, openai-chat, openai-responses, gemini",
    ),
    (
        "unknown key",
        {"deepseek": {"model": "x"}},
        "providers.deepseek.model",
        "unknown key 'model'",
    ),
]


@pytest.mark.parametrize(
    ("providers", "key", "message"),
    [e[1:] for e in SETTINGS_ERRORS],
    ids=[e[0] for e in SETTINGS_ERRORS],
)
def test_bad_provider_settings_name_file_and_key(
    providers: dict[str, Any], key: str, message: str
) -> None:
    settings = Settings({"providers": providers}, sources={"providers": "/u/.bridle/settings.json"})
    with pytest.raises(ConfigError) as err:
        resolve_model("deepseek-chat", settings, {}, require_key=False)
    assert (err.value.path, err.value.key) == ("/u/.bridle/settings.json", key)
    assert message in str(err.value)


# provider spec, base url (via settings), explicit wire -> (wire, base_url)
CODING_PLAN = [
    (
        "glm-4.7",
        "https://open.bigmodel.cn/api/anthropic",
        None,
        (AN, "https://open.bigmodel.cn/api/anthropic"),
    ),
    ("glm-4.7", "https://api.z.ai/api/anthropic/", None, (AN, "https://api.z.ai/api/anthropic")),
    (
        "glm-4.7",
        "https://api.z.ai/api/coding/paas/v4",
        None,
        (CHAT, "https://api.z.ai/api/coding/paas/v4"),
    ),
    ("kimi-k2", "https://api.kimi.com/coding/", None, (AN, "https://api.kimi.com/coding")),
    (
        "kimi-k2",
        "https://api.moonshot.ai/anthropic",
        None,
        (AN, "https://api.moonshot.ai/anthropic"),
    ),
    (
        "minimax-m2",
        "https://api.minimax.io/anthropic/v1",
        None,
        (AN, "https://api.minimax.io/anthropic"),
    ),
    (
        "minimax-m2",
        "https://api.minimax.io/anthropic",
        CHAT,
        (CHAT, "https://api.minimax.io/anthropic"),
    ),
    (
        "deepseek-chat",
        "https://api.deepseek.com/anthropic",
        None,
        (AN, "https://api.deepseek.com/anthropic"),
    ),
    (
        "groq/llama-3.3-70b-versatile",
        "https://gw.example/anthropic/v1",
        None,
        (CHAT, "https://gw.example/anthropic/v1"),
    ),
    (
        "glm-4.7",
        "https://anthropic.example.com/v1",
        None,
        (CHAT, "https://anthropic.example.com/v1"),
    ),
]


@pytest.mark.parametrize(("spec", "base_url", "wire", "expected"), CODING_PLAN)
def test_coding_plan_base_url_switches_wire(
    spec: str, base_url: str, wire: str | None, expected: tuple[str, str]
) -> None:
    provider = resolve_model(spec, None, {}, require_key=False).provider.name
    entry: dict[str, Any] = {"base_url": base_url}
    if wire:
        entry["wire"] = wire
    r = resolve_model(spec, {"providers": {provider: entry}}, {}, require_key=False)
    assert (r.endpoint.wire, r.endpoint.base_url) == expected


def test_coding_plan_switch_from_env_base_url() -> None:
    r = resolve_model(
        "glm-4.7",
        None,
        {"ZHIPU_BASE_URL": "https://open.bigmodel.cn/api/anthropic", "GLM_API_KEY": "k"},
    )
    assert (r.endpoint.wire, r.endpoint.api_key) == (AN, "k")


def test_resolution_leaves_no_trace_between_calls() -> None:
    settings = {"providers": {"deepseek": {"base_url": "https://p.example/v1"}}}
    assert (
        resolve_model("deepseek-chat", settings, {}, require_key=False).endpoint.base_url
        == "https://p.example/v1"
    )
    assert (
        resolve_model("deepseek-chat", None, {}, require_key=False).endpoint.base_url
        == "https://api.deepseek.com/v1"
    )


# wire -> (URL path after base_url, the header carrying the key, its value)
SETTINGS_ON_THE_WIRE = [
    (AN, "/v1/messages", "x-api-key", "sk-set"),
    (CHAT, "/chat/completions", "authorization", "Bearer sk-set"),
    (RESP, "/responses", "authorization", "Bearer sk-set"),
    (GEM, "/v1beta/models/m1:streamGenerateContent?alt=sse", "x-goog-api-key", "sk-set"),
]


@pytest.mark.parametrize(("wire", "path", "auth", "value"), SETTINGS_ON_THE_WIRE)
def test_provider_settings_reach_the_http_request(
    wire: str, path: str, auth: str, value: str
) -> None:
    """`providers.<name>.{wire,base_url,api_key,headers,max_retries}` end up in
    the request the wire layer sends, for every wire."""
    from bridle.core.messages import Message, ModelRequest, TextPart
    from bridle.wire.adapter import adapter_for

    settings = {
        "providers": {
            "gw": {
                "wire": wire,
                "base_url": "https://gw.example/api",
                "api_key": "sk-set",
                "headers": {"X-Team": "blue"},
                "max_retries": 0,
            }
        }
    }
    r = resolve_model("gw/m1", settings, {})
    assert (r.endpoint.wire, r.endpoint.max_retries, r.key_source) == (wire, 0, "settings")
    req = ModelRequest("m1", [Message("user", [TextPart("hi")])])
    http = adapter_for(wire).build_request(req, r.endpoint)
    assert http.url == "https://gw.example/api" + path
    assert (http.headers[auth], http.headers["X-Team"]) == (value, "blue")
