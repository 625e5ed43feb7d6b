"""The provider catalog: built-in entries from `catalog.toml`, extended or
overridden by the user's `providers.<name>` settings (Codex `model_providers` style).

A `ProviderSpec` says where a provider lives and how it authenticates (wire,
base URL, key env vars, headers) and how it bends the wire (its typed `Profile`);
a `ModelInfo` says what one of its models costs and holds (context window, max
output, prices per million tokens) and which profile fields it overrides. The
catalog is parsed strictly (`providers.profiles`): an unknown key or profile
field is a `ConfigError` naming the file, provider and key. This module only
builds and looks up these values. It reads no environment and no credentials;
choosing a base URL or key for a run is `providers.resolve`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bridle.config.schema import check_provider
from bridle.core.errors import ConfigError
from bridle.core.pycache import cached_data
from bridle.providers.profiles import (
    CATALOG_MODEL_KEYS,
    CATALOG_PROVIDER_KEYS,
    CATALOG_TOP_KEYS,
    check_entry,
    profile_fields,
)
from bridle.wire.profile import DEFAULT, Profile

CATALOG_PATH = Path(__file__).with_name("catalog.toml")


@dataclass(frozen=True, slots=True)
class Prices:
    """USD per million tokens. `None` for a cache price means it bills as input."""

    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What bridle knows about one model of a provider; `known` is False for a model the
    catalog does not list."""

    id: str  # the id sent to the provider
    provider: str
    context_window: int | None = None
    max_output: int | None = None
    prices: Prices | None = None  # None: unknown, cost is reported as 0 and flagged
    # Other names for the model; resolving one sends `id`.
    aliases: tuple[str, ...] = ()
    # Pinned API ids sharing this entry's data; resolving one sends the snapshot id.
    snapshots: tuple[str, ...] = ()
    # Profile fields this model sets over its provider's (`Profile` field -> value).
    profile: Mapping[str, Any] = field(default_factory=dict)
    wire: str | None = None  # a per-model wire override
    known: bool = True  # False when the model is not in the catalog

    @property
    def ref(self) -> str:
        return f"{self.provider}/{self.id}"

    @property
    def max_output_tokens(self) -> int | None:
        return self.max_output


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """One provider: where it lives, how to authenticate, which wire and profile to speak, and
    its models."""

    name: str
    wire: str
    base_url: str
    api_key_env: tuple[str, ...] = ()
    base_url_env: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    needs_key: bool = True
    profile: Profile = DEFAULT
    anthropic_switch: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    models: dict[str, ModelInfo] = field(default_factory=dict)
    # From settings: these win over the catalog and the wire heuristics.
    api_key: str | None = None
    max_retries: int | None = None
    wire_explicit: bool = False
    custom: bool = False  # declared only in settings
    source: str = "catalog"

    def profile_for(self, info: ModelInfo) -> Profile:
        """This provider's profile with the model's own fields merged over it."""
        return replace(self.profile, **info.profile) if info.profile else self.profile

    def find_model(self, model: str) -> ModelInfo | None:
        """The catalog entry for a model id, alias or snapshot, ignoring case."""
        found = self.models.get(model)
        if found is not None:
            return found
        low = model.lower()
        for info in self.models.values():
            if info.id.lower() == low or any(a.lower() == low for a in info.aliases):
                return info
            for snapshot in info.snapshots:
                if snapshot.lower() == low:
                    return replace(info, id=snapshot, snapshots=())
        return None


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every provider known (built-in, extended by settings), and the model aliases."""

    providers: dict[str, ProviderSpec]
    aliases: dict[str, str]  # "sonnet" -> "anthropic/claude-sonnet-..."

    def provider(self, name: str) -> ProviderSpec | None:
        """A provider by name or alias, ignoring case."""
        low = name.lower()
        found = self.providers.get(low)
        if found is not None:
            return found
        for spec in self.providers.values():
            if low == spec.name.lower() or low in (a.lower() for a in spec.aliases):
                return spec
        return None

    def models(self) -> list[ModelInfo]:
        return [m for p in self.providers.values() for m in p.models.values()]


def load_catalog(
    overrides: Mapping[str, Any] | None = None,
    *,
    source: str = "settings",
    catalog_path: Path = CATALOG_PATH,
) -> Catalog:
    """The built-in catalog with the `providers` settings object applied on top.

    `source` names the settings file in errors (Settings.sources["providers"])."""
    path = str(catalog_path)
    try:
        # Parsed once per edit of the file, like a .pyc: importing tomllib and
        # parsing the catalog would cost every run about 5 ms.
        if catalog_path == CATALOG_PATH:
            raw = cached_data(catalog_path, _parse_toml)
        else:
            raw = _parse_toml(catalog_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:  # tomllib.TOMLDecodeError is a ValueError
        raise ConfigError(f"cannot read the provider catalog: {e}", path=path) from e
    check_entry(raw, CATALOG_TOP_KEYS, path, "")
    table = raw.get("providers", {})
    providers = {name: _provider_from_toml(name, entry, path) for name, entry in table.items()}
    for name, entry in table.items():
        shared = entry.get("models_from")
        if shared and shared not in providers:
            raise ConfigError(
                f"names no provider in this catalog (known: {', '.join(providers)})",
                path=path,
                key=f"providers.{name}.models_from",
            )
        if shared:
            providers[name] = replace(
                providers[name],
                models={k: replace(m, provider=name) for k, m in providers[shared].models.items()},
            )
    catalog = Catalog(providers, dict(raw.get("aliases", {})))
    for name, entry in (overrides or {}).items():
        check_provider(name, entry, source)
        base = catalog.provider(name)
        spec = _apply_override(name, base, entry, source)
        catalog.providers[spec.name] = spec
    return catalog


def _parse_toml(text: str) -> Any:
    import tomllib  # only when the catalog changed: it costs more to import than to parse

    return tomllib.loads(text)


def _provider_from_toml(name: str, entry: Any, path: str) -> ProviderSpec:
    key = f"providers.{name}"
    check_entry(entry, CATALOG_PROVIDER_KEYS, path, key)
    if "wire" not in entry:
        raise ConfigError(
            "missing; set it to one of anthropic-messages, openai-chat, openai-responses, gemini",
            path=path,
            key=f"{key}.wire",
        )
    models = {
        model_id: _model_from_toml(
            name,
            model_id,
            check_entry(spec, CATALOG_MODEL_KEYS, path, f"{key}.models.{model_id}"),
            path,
        )
        for model_id, spec in entry.get("models", {}).items()
    }
    return ProviderSpec(
        name=name,
        wire=entry["wire"],
        base_url=entry.get("base_url", ""),
        api_key_env=tuple(entry.get("api_key_env", ())),
        base_url_env=tuple(entry.get("base_url_env", ())),
        aliases=tuple(entry.get("aliases", ())),
        prefixes=tuple(entry.get("prefixes", ())),
        needs_key=entry.get("needs_key", True),
        profile=Profile(**profile_fields(entry.get("profile", {}), path, f"{key}.profile")),
        anthropic_switch=entry.get("anthropic_switch", False),
        headers=dict(entry.get("headers", {})),
        models=models,
    )


def _model_from_toml(provider: str, model_id: str, spec: dict[str, Any], path: str) -> ModelInfo:
    prices = None
    if "input" in spec and "output" in spec:
        prices = Prices(
            spec["input"], spec["output"], spec.get("cache_read"), spec.get("cache_write")
        )
    return ModelInfo(
        id=model_id,
        provider=provider,
        context_window=spec.get("context"),
        max_output=spec.get("max_output"),
        prices=prices,
        aliases=tuple(spec.get("aliases", ())),
        snapshots=tuple(spec.get("snapshots", ())),
        profile=profile_fields(
            spec.get("profile", {}), path, f"providers.{provider}.models.{model_id}.profile"
        ),
        wire=spec.get("wire"),
    )


def _apply_override(
    name: str, base: ProviderSpec | None, entry: Mapping[str, Any], source: str
) -> ProviderSpec:
    env = entry.get("api_key_env")
    env_names = (env,) if isinstance(env, str) else tuple(env or ())
    profile = profile_fields(entry.get("profile", {}), source, f"providers.{name}.profile")
    if base is None:
        missing = [k for k in ("wire", "base_url") if k not in entry]
        if missing:
            raise ConfigError(
                f"a new provider needs {' and '.join(missing)} "
                f"(known providers are overridden by name; this name matches none)",
                path=source,
                key=f"providers.{name}",
            )
        return ProviderSpec(
            name=name,
            wire=entry["wire"],
            base_url=entry["base_url"],
            api_key_env=env_names,
            # A custom endpoint with no key configured is a local gateway.
            needs_key=bool(env_names or entry.get("api_key")),
            headers=dict(entry.get("headers", {})),
            profile=Profile(**profile),
            api_key=entry.get("api_key"),
            max_retries=entry.get("max_retries"),
            wire_explicit=True,
            custom=True,
            source=source,
            models=_override_models(name, {}, entry.get("models") or {}, source),
        )
    return replace(
        base,
        models=_override_models(name, base.models, entry.get("models") or {}, source),
        wire=entry.get("wire", base.wire),
        base_url=entry.get("base_url", base.base_url),
        api_key_env=tuple(dict.fromkeys((*env_names, *base.api_key_env))),
        headers={**base.headers, **entry.get("headers", {})},
        profile=replace(base.profile, **profile),
        api_key=entry.get("api_key", base.api_key),
        max_retries=entry.get("max_retries", base.max_retries),
        wire_explicit=base.wire_explicit or "wire" in entry,
        source=source,
    )


def _override_models(
    provider: str, models: dict[str, ModelInfo], entries: Mapping[str, Any], source: str
) -> dict[str, ModelInfo]:
    """Settings `providers.<p>.models.<id>` on top of the catalog's models: a known
    model keeps what the entry does not set; a new id becomes a model of `provider`."""
    out = dict(models)
    for model_id, spec in entries.items():
        base = out.get(model_id) or ModelInfo(id=model_id, provider=provider)
        prices = base.prices
        if "input" in spec or "output" in spec:
            old = base.prices
            prices = Prices(
                spec.get("input", old.input if old else 0.0),
                spec.get("output", old.output if old else 0.0),
                spec.get("cache_read", old.cache_read if old else None),
                spec.get("cache_write", old.cache_write if old else None),
            )
        out[model_id] = replace(
            base,
            context_window=spec.get("context", base.context_window),
            max_output=spec.get("max_output", base.max_output),
            prices=prices,
        )
    return out
