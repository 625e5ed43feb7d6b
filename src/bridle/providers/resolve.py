"""Model resolution: a user's model string to an `Endpoint` plus `ModelInfo`.

Accepted forms, tried in order:

    sonnet | opus | haiku       catalog aliases for the current Anthropic models
    provider/model              any provider name or alias; model may contain '/'
    a known model id or alias   `deepseek-chat`, `llama-3.3-70b-versatile`, `kimi-k2`
    a provider name alone       its first catalog model (`mock` -> mock/default)
    a known prefix              `claude-*`, `gpt-*`, `o1/o3/o4*`, `gemini-*`, `glm-*`,
                                `kimi-*`, `moonshot-*`, `qwen*`, `deepseek-*`,
                                `minimax-*`, `grok-*`, `mistral-*`, `codestral-*`

Anything else raises `UnknownModelError` with close matches. A model the catalog
does not list still resolves under a known provider (providers add models faster
than catalogs do); its `ModelInfo.known` is False and its prices are unknown.

Base URL: `<PROVIDER>_BASE_URL` (also for the provider's aliases and listed extras)
> settings `providers.<name>.base_url` > catalog. A zhipu/moonshot/minimax (also
deepseek/qwen) base URL whose path holds `/anthropic` or `/coding` selects the
anthropic-messages wire (coding-plan endpoints), unless settings name the wire
or the path is an OpenAI-style `/paas/` one (z.ai's `/api/coding/paas/v4`).

Key, first found: the account's stored keys (by env var name) > `<PROVIDER>_API_KEY`
> settings `api_key` > the provider's key env vars. Nothing here does network I/O.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from bridle.core.errors import ConfigError, MissingKeyError, UnknownModelError
from bridle.providers.catalog import Catalog, ModelInfo, ProviderSpec, load_catalog
from bridle.wire.endpoint import Endpoint

_OPENAI_WIRES = ("openai-chat", "openai-responses")


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """A model string resolved: where to send requests, the model's entry, and where the key
    came from."""

    spec: str  # what the user asked for
    endpoint: Endpoint
    info: ModelInfo
    provider: ProviderSpec
    key_source: str | None  # "account:NAME", "env:NAME", "settings", or None

    @property
    def ref(self) -> str:
        return f"{self.provider.name}/{self.endpoint.model}"


def resolve_model(
    spec: str,
    settings: Any = None,
    env: Mapping[str, str] | None = None,
    account_keys: Mapping[str, str] | None = None,
    *,
    require_key: bool = True,
    catalog: Catalog | None = None,
) -> ResolvedModel:
    """Resolve `spec` against the catalog and settings (a `Settings`, a plain
    settings dict, or None). With `require_key`, a provider that needs a key and
    has none raises `MissingKeyError`, and the mock without an address raises
    `ConfigError`; without it both resolve with `api_key`/`base_url` empty."""
    env = env or {}
    if catalog is None:
        catalog = catalog_for(settings)
    provider, model = parse_model_spec(spec, catalog)
    info = provider.find_model(model)
    if info is None and provider.profile.is_mock and provider.models:
        # Every mock model is free; the name only picks the wire.
        info = replace(next(iter(provider.models.values())), id=model, wire=None)
    elif info is None:
        info = ModelInfo(id=model, provider=provider.name, known=False)

    base_url = _base_url(provider, env)
    wire = _wire(provider, info)
    if provider.anthropic_switch and not provider.wire_explicit and _is_anthropic_path(base_url):
        wire = "anthropic-messages"
        base_url = _strip_suffix(base_url.rstrip("/"), "/v1")
    if provider.profile.root_base_url and base_url:
        root = _strip_suffix(base_url.rstrip("/"), "/v1")
        base_url = root + "/v1" if wire in _OPENAI_WIRES else root
    if not base_url and require_key:
        raise ConfigError(
            f"no base URL for {provider.name}: set "
            f"{[*provider.base_url_env, *env_names(provider, 'BASE_URL')][0]} "
            f"or providers.{provider.name}.base_url"
            + (" (start one with `bridle mock serve`)" if provider.profile.is_mock else ""),
            key=f"providers.{provider.name}.base_url",
        )

    key, key_source = find_key(provider, env, account_keys)
    if key is None and provider.needs_key and require_key:
        raise MissingKeyError(provider.name, key_env_names(provider))

    endpoint = Endpoint(
        provider=provider.name,
        wire=wire,
        base_url=base_url.rstrip("/"),
        model=info.id,
        api_key=key,
        headers=dict(provider.headers),
        profile=provider.profile_for(info),
    )
    if provider.max_retries is not None:
        endpoint.max_retries = provider.max_retries
    return ResolvedModel(spec, endpoint, info, provider, key_source)


def catalog_for(settings: Any) -> Catalog:
    """The catalog with `settings`' provider overrides applied."""
    overrides = settings.get("providers") if settings is not None else None
    source = "settings"
    sources = getattr(settings, "sources", None)
    if isinstance(sources, dict):
        source = sources.get("providers", source)
    return load_catalog(overrides or None, source=source)


def parse_model_spec(spec: str, catalog: Catalog) -> tuple[ProviderSpec, str]:
    """The provider and the model id (as typed, or the alias target) for `spec`."""
    text = spec.strip()
    alias = catalog.aliases.get(text.lower())
    if alias:
        text = alias
    if "/" in text:
        head, tail = text.split("/", 1)
        provider = catalog.provider(head)
        if provider is not None and tail:
            return provider, tail
    for provider in catalog.providers.values():
        # The mock's model names are wire names ("gemini", "anthropic"): only
        # `mock/<name>` reaches them, so a bare provider name is never shadowed.
        if not provider.profile.is_mock and provider.find_model(text) is not None:
            return provider, text
    if "/" not in text:
        named = catalog.provider(text)
        if named is not None and named.models:  # "mock" -> mock/default
            return named, next(iter(named.models))
        low = text.lower()
        for provider in catalog.providers.values():
            if any(low.startswith(p.lower()) for p in provider.prefixes):
                return provider, text
    raise UnknownModelError(spec, suggest(spec, catalog))


def suggest(spec: str, catalog: Catalog, n: int = 5) -> list[str]:
    """Close matches for an unknown model string, as `provider/model` refs."""
    candidates: dict[str, str] = {}
    for info in catalog.models():
        candidates.setdefault(info.id.lower(), info.ref)
        candidates.setdefault(info.ref.lower(), info.ref)
        for a in info.aliases:
            candidates.setdefault(a.lower(), f"{info.provider}/{a}")
    for alias in catalog.aliases:
        candidates.setdefault(alias, alias)
    low = spec.strip().lower()
    words = [low]
    if "/" in low:
        head, tail = low.split("/", 1)
        provider = catalog.provider(head)
        words.append(tail)
        if provider is not None:  # e.g. "deepseek/deepsek-chat": only that provider's models
            candidates = {k: v for k, v in candidates.items() if v.startswith(provider.name + "/")}
    found: list[str] = []
    for word in words:
        for match in difflib.get_close_matches(word, list(candidates), n=n, cutoff=0.6):
            ref = candidates[match]
            if ref not in found:
                found.append(ref)
    return found[:n]


def env_names(provider: ProviderSpec, suffix: str) -> list[str]:
    """`<NAME>_<suffix>` for the provider and each of its aliases."""
    names = [provider.name, *provider.aliases]
    return [n.upper().replace("-", "_") + "_" + suffix for n in names]


def key_env_names(provider: ProviderSpec) -> list[str]:
    """Every env var that can hold this provider's key, the preferred one first."""
    return list(dict.fromkeys((*provider.api_key_env, *env_names(provider, "API_KEY"))))


def find_key(
    provider: ProviderSpec,
    env: Mapping[str, str],
    account_keys: Mapping[str, str] | None = None,
) -> tuple[str | None, str | None]:
    """The key to send and where it came from, or (None, None)."""
    names = key_env_names(provider)
    for name in (*names, provider.name):
        value = (account_keys or {}).get(name)
        if value:
            return value, f"account:{name}"
    generic = env_names(provider, "API_KEY")
    for name in generic:
        if env.get(name):
            return env[name], f"env:{name}"
    if provider.api_key:
        return provider.api_key, "settings"
    for name in names:
        if env.get(name):
            return env[name], f"env:{name}"
    return None, None


def _base_url(provider: ProviderSpec, env: Mapping[str, str]) -> str:
    for name in (*env_names(provider, "BASE_URL"), *provider.base_url_env):
        if env.get(name):
            return env[name]
    return provider.base_url


def _wire(provider: ProviderSpec, info: ModelInfo) -> str:
    if provider.profile.is_mock:
        return info.wire or _mock_wire(info.id) or provider.wire
    if provider.wire_explicit:
        return provider.wire
    return info.wire or provider.wire


def _mock_wire(model: str) -> str | None:
    """The wire a mock model name asks for, e.g. `mock/claude-x`, `mock/gpt-5`."""
    low = model.lower()
    if low.startswith(("claude", "anthropic")):
        return "anthropic-messages"
    if low.startswith("gemini"):
        return "gemini"
    if "chat" in low:
        return "openai-chat"
    if low.startswith(("gpt", "o1", "o3", "o4", "openai", "responses", "codex")):
        return "openai-responses"
    return None


def _is_anthropic_path(base_url: str) -> bool:
    path = urlsplit(base_url).path.lower()
    return ("/anthropic" in path or "/coding" in path) and "/paas/" not in path


def _strip_suffix(text: str, suffix: str) -> str:
    return text[: -len(suffix)] if text.endswith(suffix) else text
