"""`bridle models`: list the model catalog, with prices and whether a key is set.

Reads settings (so custom providers and overrides show up) and the environment,
and reports where a key would come from without ever printing it. Account keys
live in `accounts/` and are not consulted here. Importing this module pulls in
click and the provider catalog only: no httpx.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click


@click.command("models")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array instead of a table.")
@click.option(
    "--provider", "provider_name", metavar="P", help="Only this provider (name or alias)."
)
def models(as_json: bool, provider_name: str | None) -> None:
    """List the model catalog and which keys are set."""
    from bridle.config.settings import load_settings
    from bridle.providers.resolve import catalog_for

    env = dict(os.environ)
    settings = load_settings(Path.cwd(), env)
    catalog = catalog_for(settings)
    providers = list(catalog.providers.values())
    if provider_name:
        one = catalog.provider(provider_name)
        if one is None:
            names = ", ".join(p.name for p in providers)
            raise click.UsageError(f"unknown provider {provider_name!r}; known: {names}")
        providers = [one]
    rows = [row for p in providers for row in _rows(p, catalog, settings, env)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        click.echo(_table(rows))


def _rows(provider: Any, catalog: Any, settings: Any, env: dict[str, str]) -> list[dict[str, Any]]:
    from bridle.providers.resolve import find_key, key_env_names, resolve_model

    _, source = find_key(provider, env)
    key = {
        "needed": provider.needs_key,
        "present": source is not None,
        "source": source,
        "env_vars": key_env_names(provider),
    }
    out = []
    for info in list(provider.models.values()) or [None]:
        spec = f"{provider.name}/{info.id}" if info else provider.name
        if info is not None:
            resolved = resolve_model(spec, settings, env, require_key=False, catalog=catalog)
            wire, base_url = resolved.endpoint.wire, resolved.endpoint.base_url
        else:
            wire, base_url = provider.wire, provider.base_url
        prices = info.prices if info else None
        out.append(
            {
                "provider": provider.name,
                "model": info.id if info else None,
                "ref": spec,
                "aliases": list(info.aliases) if info else [],
                "snapshots": list(info.snapshots) if info else [],
                "wire": wire,
                "base_url": base_url,
                "context_window": info.context_window if info else None,
                "max_output": info.max_output if info else None,
                "prices": None
                if prices is None
                else {
                    "input": prices.input,
                    "output": prices.output,
                    # What a cached token costs: the input price when the
                    # provider bills no separate cache price (as `pricing.cost`).
                    "cache_read": _or_input(prices.cache_read, prices.input),
                    "cache_write": _or_input(prices.cache_write, prices.input),
                },
                "key": key,
                "custom": provider.custom,
            }
        )
    return out


def _or_input(price: float | None, input_price: float) -> float:
    return input_price if price is None else price


def _tokens(n: int | None) -> str:
    if n is None:
        return "-"
    if n >= 1_000_000:
        return f"{n / 1_000_000:.2f}".rstrip("0").rstrip(".") + "M"
    return f"{round(n / 1000)}k" if n >= 1000 else str(n)


def _price(p: float | None) -> str:
    return "-" if p is None else f"{p:g}"


def _key_text(key: dict[str, Any]) -> str:
    if key["present"]:
        return f"yes ({key['source']})"
    if not key["needed"]:
        return "not needed"
    return f"no (set {key['env_vars'][0]})"


def _table(rows: list[dict[str, Any]]) -> str:
    head = ("MODEL", "WIRE", "CONTEXT", "MAX OUT", "$IN", "$OUT", "$CACHE R", "$CACHE W", "KEY")
    lines = [head]
    for r in rows:
        p = r["prices"] or {}
        lines.append(
            (
                r["ref"],
                r["wire"],
                _tokens(r["context_window"]),
                _tokens(r["max_output"]),
                _price(p.get("input")),
                _price(p.get("output")),
                _price(p.get("cache_read")),
                _price(p.get("cache_write")),
                _key_text(r["key"]),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    text = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]
    text.append("Prices: USD per million tokens. - = unknown. Keys are never printed.")
    return "\n".join(text)
