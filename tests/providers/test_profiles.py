"""Provider profiles end to end: every real catalog entry resolved and the request
it produces checked (reasoning sent back, the max-tokens field, temperature,
cache breakpoints), plus the strict parsing of the catalog and settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bridle.core.messages import (
    Message,
    ModelRequest,
    TextPart,
    ThinkingPart,
    ToolResultPart,
    ToolSpec,
    ToolUsePart,
)
from bridle.providers.resolve import ResolvedModel, resolve_model
from bridle.wire.adapter import adapter_for

TRAFFIC = Path(__file__).parent.parent / "fixtures" / "provider-traffic"
TOOL = ToolSpec("Read", "Read a file", {"type": "object"})


def resolved(ref: str) -> ResolvedModel:
    return resolve_model(ref, None, {}, require_key=False)


def tool_loop(wire: str) -> ModelRequest:
    """A thinking model's tool-call turn, answered, ready for the next call."""
    return ModelRequest(
        model="",
        system="Be brief.",
        tools=[TOOL],
        messages=[
            Message("user", [TextPart("fix it")]),
            Message(
                "assistant",
                [
                    ThinkingPart("I should read a.py first.", wire=wire),
                    ToolUsePart("call_1", "Read", {"file_path": "a.py"}),
                ],
            ),
            Message("user", [ToolResultPart("call_1", [TextPart("print(1)")])]),
        ],
        max_tokens=1000,
        temperature=0.2,
    )


def body_for(ref: str) -> dict[str, Any]:
    r = resolved(ref)
    return adapter_for(r.endpoint.wire).build_request(tool_loop(r.endpoint.wire), r.endpoint).body


@pytest.mark.parametrize(
    "ref", ["deepseek/deepseek-reasoner", "zhipu/glm-4.7", "moonshot/kimi-k2-thinking"]
)
def test_thinking_tool_loop_sends_reasoning_content_back(ref: str) -> None:
    """Regression: the catalog asked for `reasoning_content` but the wire checked a
    differently spelled quirk, so the provider rejected the second request."""
    assistant = body_for(ref)["messages"][2]
    assert assistant["role"] == "assistant" and assistant["tool_calls"]
    assert assistant["reasoning_content"] == "I should read a.py first."


def every_catalog_model() -> list[str]:
    from bridle.providers.catalog import load_catalog

    return [f"{p.name}/{m}" for p in load_catalog().providers.values() for m in p.models]


# What the catalog says each provider needs, written out so a catalog edit that
# drops one shows up here.
REASONING_CONTENT = {"deepseek", "zhipu", "moonshot"}
MAX_COMPLETION_TOKENS = {"openai-chat"}
NO_TEMPERATURE = {"altllm"}


@pytest.mark.parametrize("ref", every_catalog_model())
def test_every_catalog_model_builds_the_request_its_provider_needs(ref: str) -> None:
    r = resolved(ref)
    provider, wire = r.provider.name, r.endpoint.wire
    assert r.endpoint.profile == r.provider.profile_for(r.info)
    body = adapter_for(wire).build_request(tool_loop(wire), r.endpoint).body
    text = json.dumps(body)
    if wire == "openai-chat":
        assistant = body["messages"][2]
        assert ("reasoning_content" in assistant) == (provider in REASONING_CONTENT)
        if provider in REASONING_CONTENT:
            assert assistant["reasoning_content"] == "I should read a.py first."
        limit = "max_completion_tokens" if provider in MAX_COMPLETION_TOKENS else "max_tokens"
        assert body[limit] == 1000 and len({"max_tokens", "max_completion_tokens"} & set(body)) == 1
        assert ("temperature" in body) == (provider not in NO_TEMPERATURE)
    elif wire == "anthropic-messages":
        # Tools, system, the last message and the first user turn.
        assert text.count('"cache_control"') == 4
        assert body["temperature"] == 0.2
    elif wire == "openai-responses":
        assert body["include"] == ["reasoning.encrypted_content"]
        assert "max_output_tokens" in body and body["temperature"] == 0.2
    else:
        assert wire == "gemini"
        assert body["generationConfig"] == {"maxOutputTokens": 1000, "temperature": 0.2}


def test_the_provider_table_is_what_the_catalog_says() -> None:
    from bridle.providers.catalog import load_catalog

    providers = load_catalog().providers.values()
    assert {p.name for p in providers if p.profile.reasoning_roundtrip} == REASONING_CONTENT | {
        "ollama"
    }
    assert {p.name for p in providers if not p.profile.supports_temperature} == NO_TEMPERATURE
    assert {p.name for p in providers if p.profile.is_mock} == {"mock"}
    # OpenAI keeps max_completion_tokens when settings move it to the chat wire.
    chat = resolve_model(
        "openai/gpt-5", {"providers": {"openai": {"wire": "openai-chat"}}}, {}, require_key=False
    )
    req = adapter_for("openai-chat").build_request(tool_loop("openai-chat"), chat.endpoint)
    assert req.body["max_completion_tokens"] == 1000 and "max_tokens" not in req.body


def test_ollama_sends_reasoning_back_as_recorded() -> None:
    recorded = json.loads(
        (TRAFFIC / "openai-chat" / "pai-ollama-cloud-tool-output.2" / "request.json").read_text()
    )
    assert "reasoning" in recorded["messages"][1]
    assistant = body_for("ollama/gpt-oss:20b")["messages"][2]
    assert assistant["reasoning"] == "I should read a.py first."
    assert "reasoning_content" not in assistant


def test_model_profile_fields_merge_over_the_provider() -> None:
    haiku, sonnet = resolved("anthropic/claude-haiku-5-5"), resolved("anthropic/claude-sonnet-5-5")
    assert haiku.endpoint.profile.tiered_long_context
    assert not sonnet.endpoint.profile.tiered_long_context
    assert haiku.endpoint.profile.prompt_caching  # the provider's fields stay
    gpt = resolved("openai-chat/gpt-5.5")  # models_from shares the model's fields
    assert gpt.endpoint.profile.tiered_long_context
    assert gpt.endpoint.profile.max_tokens_field == "max_completion_tokens"


def test_deepseek_next_request_matches_the_recorded_one() -> None:
    """The reply DeepSeek sent, turned into history, goes back the way DeepSeek's
    own recorded follow-up request carried it."""
    from bridle.wire._assembler import Assembler

    case = TRAFFIC / "openai-chat" / "pai-deepseek-deferred-capability-with-thinking.1"
    r = resolved("deepseek/deepseek-reasoner")
    adapter = adapter_for(r.endpoint.wire)
    events = adapter.parse_response(json.loads((case / "response.body").read_text()), "deepseek")
    reply = Assembler(r.endpoint.wire).feed_all(events).result().to_message()
    results = [ToolResultPart(t.id, [TextPart("{}")]) for t in reply.tool_uses]
    req = ModelRequest(
        "", [Message("user", [TextPart("My guess is 4")]), reply, Message("user", results)]
    )
    sent = adapter.build_request(req, r.endpoint).body["messages"][1]
    follow_up = case.with_name(case.name[:-1] + "2") / "request.json"
    recorded = json.loads(follow_up.read_text())["messages"][3]
    assert sent["reasoning_content"] == recorded["reasoning_content"] != ""
    assert sent["content"] == recorded["content"]
    assert [(c["id"], c["function"]["name"]) for c in sent["tool_calls"]] == [
        (c["id"], c["function"]["name"]) for c in recorded["tool_calls"]
    ]


# Recorded traffic showing each answer-side field, from a provider that sets it.
TRAITS = [
    ("openrouter", "sse_comments", "pai-openrouter-stream-encrypted-reasoning", "\n: OPENROUTER"),
    ("zhipu", "repeated_role", "pai-zai-thinking-stream", None),
    ("qwen", "empty_tool_delta_ids", "vai-alibaba-tool-call", '"id":""'),
    ("ollama", "reasoning_field", "pai-ollama-cloud-tool-output.1", '"reasoning":'),
    ("deepseek", "usage_on_finish_chunk", "pai-deepseek-thinking-stream", None),
]


@pytest.mark.parametrize(("provider", "field", "case", "mark"), TRAITS)
def test_answer_fields_match_recorded_traffic(
    provider: str, field: str, case: str, mark: str | None
) -> None:
    from bridle.providers.catalog import load_catalog

    spec = load_catalog().provider(provider)
    assert spec is not None and getattr(spec.profile, field) is True
    body = (TRAFFIC / "openai-chat" / case / "response.body").read_text()
    chunks = [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: {")]
    if field == "repeated_role":
        assert all(c["choices"][0]["delta"].get("role") == "assistant" for c in chunks)
    elif field == "usage_on_finish_chunk":
        [last] = [c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
        assert last["usage"]["completion_tokens"] > 0
    else:
        assert mark is not None and mark in "\n" + body


# ---------------------------------------------------------------------------
# Strict parsing

GOOD = """
[aliases]
fast = "acme/a1"

[providers.acme]
wire = "openai-chat"
base_url = "https://acme.example/v1"
profile = { reasoning_roundtrip = "reasoning_content" }

[providers.acme.models]
"a1" = { context = 1000, input = 1.0, output = 2.0, profile = { tiered_long_context = true } }
"""


def load(tmp_path: Path, text: str) -> Any:
    from bridle.providers.catalog import load_catalog

    path = tmp_path / "catalog.toml"
    path.write_text(text)
    return load_catalog(catalog_path=path)


def test_a_well_formed_catalog_loads(tmp_path: Path) -> None:
    spec = load(tmp_path, GOOD).provider("acme")
    profile = spec.profile_for(spec.models["a1"])
    assert profile.reasoning_roundtrip == "reasoning_content" and profile.tiered_long_context


@pytest.mark.parametrize(
    ("old", "new", "key", "fix"),
    [
        # an unknown provider key (the old free-string quirks among them)
        (
            'base_url = "https',
            'quirks = ["x"]\nbase_url = "https',
            "providers.acme.quirks",
            "valid keys",
        ),
        # an unknown model key
        ("context = 1000,", "contxt = 1000,", "providers.acme.models.a1.contxt", "valid keys"),
        # an unknown profile field, provider level and model level
        (
            '{ reasoning_roundtrip = "reasoning_content" }',
            "{ reasoning_content = true }",
            "providers.acme.profile.reasoning_content",
            "valid fields are reasoning_roundtrip",
        ),
        (
            "{ tiered_long_context = true }",
            "{ tiered = true }",
            "providers.acme.models.a1.profile.tiered",
            "tiered_long_context",
        ),
        # a value of the wrong kind
        (
            '"reasoning_content" }',
            '"reasoning_contnet" }',
            "providers.acme.profile.reasoning_roundtrip",
            "'none', 'reasoning_content'",
        ),
        (
            "tiered_long_context = true",
            'tiered_long_context = "yes"',
            "providers.acme.models.a1.profile.tiered_long_context",
            "true or false",
        ),
        ('wire = "openai-chat"', 'wire = "openai"', "providers.acme.wire", "openai-chat"),
        ("input = 1.0", 'input = "1.0"', "providers.acme.models.a1.input", "price"),
        ('fast = "acme/a1"', 'fast = "acme/a1"\n[extras]\nx = 1', "extras", "valid keys"),
    ],
)
def test_catalog_errors_name_file_provider_and_key(
    tmp_path: Path, old: str, new: str, key: str, fix: str
) -> None:
    from bridle.core.errors import ConfigError

    assert old in GOOD
    with pytest.raises(ConfigError) as err:
        load(tmp_path, GOOD.replace(old, new, 1))
    assert err.value.path == str(tmp_path / "catalog.toml")
    assert err.value.key == key
    assert str(err.value).startswith(f"{tmp_path / 'catalog.toml'}: {key}: ")
    assert fix in str(err.value)


def test_settings_profile_fields_are_checked_and_applied() -> None:
    from bridle.config.settings import Settings
    from bridle.core.errors import ConfigError

    source = "/p/.bridle/settings.json"
    gateway = {"wire": "openai-chat", "base_url": "https://gw.example/v1"}
    settings = Settings(
        {"providers": {"gw": {**gateway, "profile": {"reasoning_roundtrip": "reasoning_content"}}}},
        sources={"providers": source},
    )
    r = resolve_model("gw/thinker", settings, {}, require_key=False)
    assert r.endpoint.profile.reasoning_roundtrip == "reasoning_content"
    body = adapter_for("openai-chat").build_request(tool_loop("openai-chat"), r.endpoint).body
    assert body["messages"][2]["reasoning_content"] == "I should read a.py first."
    # A built-in entry keeps its other fields when settings override one.
    off = Settings({"providers": {"deepseek": {"profile": {"usage_on_finish_chunk": False}}}})
    profile = resolve_model("deepseek-chat", off, {}, require_key=False).endpoint.profile
    assert profile.reasoning_roundtrip == "reasoning_content"
    assert not profile.usage_on_finish_chunk

    for bad, key in [
        ({"reasoning": "reasoning_content"}, "providers.deepseek.profile.reasoning"),
        ({"prompt_caching": "off"}, "providers.deepseek.profile.prompt_caching"),
        (["prompt_caching"], "providers.deepseek.profile"),
    ]:
        settings = Settings(
            {"providers": {"deepseek": {"profile": bad}}}, sources={"providers": source}
        )
        with pytest.raises(ConfigError) as err:
            resolve_model("deepseek-chat", settings, {}, require_key=False)
        assert (err.value.path, err.value.key) == (source, key)
        assert str(err.value).startswith(f"{source}: {key}: ")


def test_wire_and_engine_never_branch_on_a_provider_name() -> None:
    """Behaviour comes from profile fields: no `provider == "openai"` and no quirk
    strings in the wire modules or the engine."""
    import re

    import bridle

    root = Path(bridle.__file__).parent
    pattern = re.compile(r"provider\s*(==|!=)\s*['\"]|provider\s+(not\s+)?in\s*[(\[{]|quirks")
    found = [
        f"{path.relative_to(root)}:{n}: {line.strip()}"
        for package in ("wire", "engine")
        for path in sorted((root / package).rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []
