"""Strict reading of the provider catalog's shapes: which keys a provider entry, a
model entry and a profile table may hold, and what each value must look like.

`catalog.toml` and settings `providers.<name>` entries are data that users
extend, so a typo must not silently do nothing: an unknown key or profile field,
or a value of the wrong type, is a `ConfigError` that names the file, the
provider and the key, and lists what is valid. The profile type itself
(`wire.profile.Profile`) lives below `providers/` so the wire modules can read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bridle.core.errors import ConfigError
from bridle.wire.endpoint import WIRES
from bridle.wire.profile import CHOICES, FIELDS

# key -> kind of value, for catalog.toml's [providers.<name>] tables.
CATALOG_PROVIDER_KEYS: dict[str, str] = {
    "wire": "wire",
    "base_url": "str",
    "api_key_env": "str_list",
    "base_url_env": "str_list",
    "aliases": "str_list",
    "prefixes": "str_list",
    "needs_key": "bool",
    "anthropic_switch": "bool",
    "headers": "str_map",
    "models_from": "str",
    "profile": "profile",
    "models": "table",
}
# key -> kind of value, for one model of [providers.<name>.models].
CATALOG_MODEL_KEYS: dict[str, str] = {
    "context": "int",
    "max_output": "int",
    "input": "number",
    "output": "number",
    "cache_read": "number",
    "cache_write": "number",
    "aliases": "str_list",
    "snapshots": "str_list",
    "wire": "wire",
    "profile": "profile",
}
CATALOG_TOP_KEYS: dict[str, str] = {"aliases": "str_map", "providers": "table"}

_KINDS = {
    "str": (lambda v: isinstance(v, str), "a string"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0, "a whole number"),
    "number": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v >= 0,
        "a price of 0 or more",
    ),
    "str_list": (
        lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "a list of strings",
    ),
    "str_map": (
        lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
        "a table of strings",
    ),
    "table": (lambda v: isinstance(v, dict), "a table"),
    "wire": (lambda v: v in WIRES, "one of " + ", ".join(WIRES)),
}


def check_entry(entry: Any, keys: Mapping[str, str], path: str, key: str) -> dict[str, Any]:
    """`entry` (the table at `key` in `path`, "" for the file's top) holds only
    `keys`, each well typed."""
    if not isinstance(entry, dict):
        raise ConfigError(f"must be a table, got {entry!r}", path=path, key=key or None)
    for name, value in entry.items():
        where = f"{key}.{name}" if key else name
        kind = keys.get(name)
        if kind is None:
            raise ConfigError(
                f"unknown key {name!r}; valid keys are {', '.join(keys)}", path=path, key=where
            )
        if kind == "profile":
            profile_fields(value, path, where)
            continue
        ok, what = _KINDS[kind]
        if not ok(value):
            raise ConfigError(f"must be {what}, got {value!r}", path=path, key=where)
    return entry


def profile_fields(table: Any, path: str | None, key: str) -> dict[str, Any]:
    """The `Profile` fields a profile table sets, checked and converted (a choice
    spelled "none" becomes None)."""
    if not isinstance(table, dict):
        raise ConfigError(f"must be a table of profile fields, got {table!r}", path=path, key=key)
    out: dict[str, Any] = {}
    for name, value in table.items():
        if name not in FIELDS:
            raise ConfigError(
                f"unknown profile field {name!r}; valid fields are {', '.join(FIELDS)}",
                path=path,
                key=f"{key}.{name}",
            )
        choices = CHOICES.get(name)
        if choices is not None:
            if not isinstance(value, str) or value not in choices:
                raise ConfigError(
                    f"must be one of {', '.join(map(repr, choices))}, got {value!r}",
                    path=path,
                    key=f"{key}.{name}",
                )
            out[name] = choices[value]
        elif isinstance(value, bool):
            out[name] = value
        else:
            raise ConfigError(
                f"must be true or false, got {value!r}", path=path, key=f"{key}.{name}"
            )
    return out
