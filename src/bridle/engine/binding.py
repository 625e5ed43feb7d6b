"""Binding a model for the loop, and the accounts whose keys it uses.

`bind_model` resolves a model string to an endpoint and builds the
`ModelBinding` the engine talks to (client, pricing, request shaping).
`choose_accounts` decides which accounts' keys a session uses and in which
order, and `rotation` hands the engine the next account when one is exhausted.
`default_model` picks the model when nobody named one. Nothing here opens a
session or touches the store; that is `engine.setup`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bridle.core.errors import UsageError
from bridle.core.messages import Usage
from bridle.engine.loop import ModelBinding

# The model used when none is named, by the first key present: a provider name
# alone means that provider's flagship (the first model in its catalog entry).
_KEY_DEFAULTS = (
    ("ANTHROPIC_API_KEY", "sonnet"),
    ("OPENAI_API_KEY", "openai"),
    ("DEEPSEEK_API_KEY", "deepseek"),
    ("GEMINI_API_KEY", "gemini"),
    ("OPENROUTER_API_KEY", "openrouter"),
)


def default_model(settings: Any, env: Mapping[str, str]) -> str:
    configured = settings.get("model") or env.get("BRIDLE_MODEL")
    if configured:
        return str(configured)
    for var, model in _KEY_DEFAULTS:
        if env.get(var):
            return model
    raise UsageError(
        'no model: pass --model provider/model (see `bridle models`), set "model" in '
        "settings, or set an API key such as ANTHROPIC_API_KEY. To try bridle without a key, "
        "run the demo: scripts/demo"
    )


def bind_model(
    spec: str, settings: Any, env: Mapping[str, str], account_keys: Mapping[str, str] | None
) -> ModelBinding:
    from bridle.providers.pricing import cost_usd
    from bridle.providers.resolve import resolve_model
    from bridle.wire.client import ModelClient

    resolved = resolve_model(spec, settings, env, account_keys=account_keys)
    endpoint = resolved.endpoint
    client = ModelClient(endpoint, env=env)
    info = resolved.info

    def price(usage: Usage) -> float:
        return float(cost_usd(usage, info))

    max_out = getattr(info, "max_output_tokens", None) or 8192
    return ModelBinding(
        name=spec,
        provider=endpoint.provider,
        model=endpoint.model,
        wire=endpoint.wire,
        client=client,
        cost=price,
        max_output_tokens=min(int(max_out), 32000),
        context_window=_window(settings, getattr(info, "context_window", None)),
    )


def _window(settings: Any, catalog: int | None) -> int | None:
    """`context_window` from settings (for a model the catalog does not know, or to
    compact earlier), else the catalog's."""
    value = settings.get("context_window") if settings is not None else None
    return int(value) if value else (int(catalog) if catalog else None)


def prices_known(spec: str, settings: Any, env: Mapping[str, str]) -> bool:
    """Whether the catalog (or settings) prices `spec`; without prices a cost
    is reported as 0 and a budget cannot be enforced."""
    from bridle.providers.resolve import resolve_model

    resolved = resolve_model(spec, settings, env, require_key=False)
    return resolved.info.prices is not None


def choose_accounts(named: Sequence[str], settings: Any, env: Mapping[str, str]) -> list[str]:
    """The accounts named by the front end (keys come from the first; the others
    take over, in order, when a rate limit or quota is exhausted), else settings
    `accounts.rotation`, else the account of a `bridle shell` (BRIDLE_ACCOUNT),
    else the default account (`bridle accounts use NAME`), if any."""
    if named:
        return list(named)
    rotation = settings.get("accounts.rotation") or []
    if rotation:
        return [str(a) for a in rotation]
    from bridle.accounts.store import NATIVE, AccountStore

    store = AccountStore.from_env(env)
    implicit = env.get("BRIDLE_ACCOUNT") or store.default()
    if implicit and implicit != NATIVE and store.exists(implicit):
        return [implicit]
    return []


def keys_of(account: str, env: Mapping[str, str]) -> dict[str, str]:
    """The API keys stored for `account`."""
    from bridle.accounts.keys import account_keys

    return dict(account_keys(account, env))


def rotation(
    accounts: Sequence[str], spec: str, settings: Any, env: Mapping[str, str]
) -> Callable[[], tuple[str, ModelBinding] | None] | None:
    """The engine's `rotate_account`: the next account and the model bound with
    its keys, or None when every account has been tried."""
    queue = list(accounts[1:])
    if not queue:
        return None

    def rotate() -> tuple[str, ModelBinding] | None:
        if not queue:
            return None
        name = queue.pop(0)
        return name, bind_model(spec, settings, env, keys_of(name, env))

    return rotate
