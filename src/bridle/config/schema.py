"""Validation of the settings keys bridle knows, with errors naming file and key.

Checks are hand-written rather than pydantic models so that loading settings,
which every command does, costs no pydantic import. Each known key has a checker
that raises `ConfigError(path=..., key=...)` with the fix. Unknown top-level keys
are not errors (other tools share these files, and newer bridle versions add
keys); they are returned as warnings. This module validates shapes only; it does
not merge layers or read files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bridle.core.errors import ConfigError

WIRES = ("anthropic-messages", "openai-chat", "openai-responses", "gemini")
PROVIDER_KEYS = (
    "wire",
    "base_url",
    "api_key_env",
    "api_key",
    "headers",
    "max_retries",
    "profile",  # its fields are checked by providers.profiles
    "models",  # per-model context window, output limit and prices
)
MODEL_KEYS = ("context", "max_output", "input", "output", "cache_read", "cache_write")
MODES = ("default", "acceptEdits", "plan", "dontAsk", "bypassPermissions")
# bridle has no approval classifier, so `auto` keeps the rule-based part of Claude
# Code's auto mode: reads and in-project edits run, everything else asks.
MODE_ALIASES = {"auto": "acceptEdits", "bypass": "bypassPermissions", "manual": "default"}
PERMISSION_MODES = MODES + tuple(MODE_ALIASES)
PERMISSION_KEYS = ("allow", "ask", "deny", "defaultMode", "additionalDirectories")
# Keys bridle or a tool sharing these files uses, accepted without a shape check.
KNOWN_UNCHECKED = frozenset(
    {
        "account",
        "agent",
        "apiKeyHelper",
        "autoMemoryDirectory",
        "autoMemoryEnabled",
        "bash",
        "claudeMdExcludes",
        "cleanupPeriodDays",
        "compaction",
        "daemon",
        "disabledMcpjsonServers",
        "enableAllProjectMcpServers",
        "enabledMcpjsonServers",
        "enabledPlugins",
        "includeCoAuthoredBy",
        "mock",
        "outputStyle",
        "preferredNotifChannel",
        "statusLine",
        "test_command",
        "theme",
    }
)


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false"}.get(
        type(value), type(value).__name__
    )


def _need(cond: bool, msg: str, path: str | None, key: str) -> None:
    if not cond:
        raise ConfigError(msg, path=path, key=key)


def _str_list(value: Any, path: str | None, key: str) -> None:
    _need(isinstance(value, list), f"must be a list of strings, got {_type_name(value)}", path, key)
    for i, item in enumerate(value):
        _need(
            isinstance(item, str), f"must be a string, got {_type_name(item)}", path, f"{key}[{i}]"
        )


def _str_map(value: Any, path: str | None, key: str) -> None:
    _need(isinstance(value, dict), f"must be an object, got {_type_name(value)}", path, key)
    for k, v in value.items():
        _need(isinstance(v, str), f"must be a string, got {_type_name(v)}", path, f"{key}.{k}")


def check_provider(name: str, entry: Any, path: str | None) -> None:
    """One `providers.<name>` entry: exactly the keys in `PROVIDER_KEYS`."""
    key = f"providers.{name}"
    _need(isinstance(entry, dict), f"must be an object, got {_type_name(entry)}", path, key)
    for k in entry:
        _need(
            k in PROVIDER_KEYS,
            f"unknown key {k!r}; valid keys are {', '.join(PROVIDER_KEYS)}",
            path,
            f"{key}.{k}",
        )
    if "wire" in entry:
        _need(
            entry["wire"] in WIRES,
            f"unknown wire {entry['wire']!r}; valid wires are {', '.join(WIRES)}",
            path,
            f"{key}.wire",
        )
    for k in ("base_url", "api_key"):
        if k in entry:
            _need(isinstance(entry[k], str), "must be a string", path, f"{key}.{k}")
    if "base_url" in entry:
        url = entry["base_url"]
        _need(
            url.startswith(("http://", "https://")),
            f"must start with http:// or https://, got {url!r}",
            path,
            f"{key}.base_url",
        )
    if "api_key_env" in entry:
        env = entry["api_key_env"]
        if not isinstance(env, str):
            _str_list(env, path, f"{key}.api_key_env")
    if "headers" in entry:
        _str_map(entry["headers"], path, f"{key}.headers")
    if "max_retries" in entry:
        n = entry["max_retries"]
        _need(
            isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= 100,
            f"must be a whole number from 0 to 100, got {n!r}",
            path,
            f"{key}.max_retries",
        )
    if "models" in entry:
        _models(entry["models"], path, f"{key}.models")


def _models(value: Any, path: str | None, key: str) -> None:
    """`providers.<name>.models`: {model id: {context, max_output, input, output,
    cache_read, cache_write}}; tokens are whole numbers, prices USD per million."""
    _need(isinstance(value, dict), f"must be an object, got {_type_name(value)}", path, key)
    for model, spec in value.items():
        where = f"{key}.{model}"
        _need(isinstance(spec, dict), f"must be an object, got {_type_name(spec)}", path, where)
        for k, v in spec.items():
            _need(
                k in MODEL_KEYS,
                f"unknown key {k!r}; valid keys are {', '.join(MODEL_KEYS)}",
                path,
                f"{where}.{k}",
            )
            whole = k in ("context", "max_output")
            ok = isinstance(v, int | float) and not isinstance(v, bool) and v >= (1 if whole else 0)
            _need(
                ok and (not whole or isinstance(v, int)),
                "must be a whole number of tokens" if whole else "must be a price of 0 or more",
                path,
                f"{where}.{k}",
            )


def _providers(value: Any, path: str | None) -> None:
    _need(isinstance(value, dict), f"must be an object, got {_type_name(value)}", path, "providers")
    for name, entry in value.items():
        _need(
            bool(name) and "/" not in name,
            "a provider name must be non-empty and contain no '/'",
            path,
            f"providers.{name}",
        )
        check_provider(name, entry, path)


def _permissions(value: Any, path: str | None) -> None:
    key = "permissions"
    _need(isinstance(value, dict), f"must be an object, got {_type_name(value)}", path, key)
    for k in ("allow", "ask", "deny", "additionalDirectories"):
        if k in value:
            _str_list(value[k], path, f"{key}.{k}")
    if "defaultMode" in value:
        _need(
            value["defaultMode"] in PERMISSION_MODES,
            f"unknown mode {value['defaultMode']!r}; valid modes are {', '.join(PERMISSION_MODES)}",
            path,
            f"{key}.defaultMode",
        )


def _hooks(value: Any, path: str | None) -> None:
    _need(isinstance(value, dict), f"must be an object, got {_type_name(value)}", path, "hooks")
    for event, groups in value.items():
        key = f"hooks.{event}"
        _need(isinstance(groups, list), "must be a list of matcher groups", path, key)
        for i, group in enumerate(groups):
            gkey = f"{key}[{i}]"
            _need(isinstance(group, dict), "must be an object with 'hooks'", path, gkey)
            if "matcher" in group:
                _need(
                    isinstance(group["matcher"], str), "must be a string", path, f"{gkey}.matcher"
                )
            hooks = group.get("hooks")
            _need(isinstance(hooks, list), "must be a list of hooks", path, f"{gkey}.hooks")
            for j, hook in enumerate(hooks):
                hkey = f"{gkey}.hooks[{j}]"
                _need(isinstance(hook, dict), "must be an object", path, hkey)
                _need(
                    isinstance(hook.get("type"), str),
                    "needs a type (command, http or prompt)",
                    path,
                    f"{hkey}.type",
                )
                if "timeout" in hook:
                    t = hook["timeout"]
                    _need(
                        isinstance(t, int | float) and not isinstance(t, bool) and t > 0,
                        "must be a positive number of seconds",
                        path,
                        f"{hkey}.timeout",
                    )


def _env(value: Any, path: str | None) -> None:
    _need(isinstance(value, dict), f"must be an object, got {_type_name(value)}", path, "env")
    for k, v in value.items():
        _need(
            isinstance(v, str | int | float | bool),
            f"must be a string, got {_type_name(v)}",
            path,
            f"env.{k}",
        )


def _string(name: str) -> Callable[[Any, str | None], None]:
    def check(value: Any, path: str | None) -> None:
        _need(isinstance(value, str), f"must be a string, got {_type_name(value)}", path, name)

    return check


def _positive(name: str) -> Callable[[Any, str | None], None]:
    def check(value: Any, path: str | None) -> None:
        _need(
            isinstance(value, int | float) and not isinstance(value, bool) and value > 0,
            f"must be a positive number, got {value!r}",
            path,
            name,
        )

    return check


CHECKS: dict[str, Callable[[Any, str | None], None]] = {
    "model": _string("model"),
    "small_model": _string("small_model"),
    "providers": _providers,
    "permissions": _permissions,
    "hooks": _hooks,
    "env": _env,
    "verify": lambda v, p: _str_map(v, p, "verify"),
    "max_turns": _positive("max_turns"),
    "max_cost": _positive("max_cost"),
    "context_window": _positive("context_window"),
    "compact_threshold": _positive("compact_threshold"),
    "autoCompactPct": _positive("autoCompactPct"),
    "autoCompactEnabled": lambda v, p: _need(
        isinstance(v, bool), "must be true or false", p, "autoCompactEnabled"
    ),
    "tmuxPortal": lambda v, p: _need(isinstance(v, bool), "must be true or false", p, "tmuxPortal"),
    "mcpServers": lambda v, p: _need(isinstance(v, dict), "must be an object", p, "mcpServers"),
    "env_allow": lambda v, p: _str_list(v, p, "env_allow"),
    "accounts": lambda v, p: _accounts(v, p),
    "webfetch": lambda v, p: _webfetch(v, p),
    "disableAllHooks": lambda v, p: _need(
        isinstance(v, bool), f"must be true or false, got {v!r}", p, "disableAllHooks"
    ),
    "allowedHttpHookUrls": lambda v, p: _str_list(v, p, "allowedHttpHookUrls"),
    "httpHookAllowedEnvVars": lambda v, p: _str_list(v, p, "httpHookAllowedEnvVars"),
    "sandbox": lambda v, p: _sandbox(v, p),
    "agents": lambda v, p: _agents(v, p),
}


SANDBOX_BOOLS = (
    "enabled",
    "failIfUnavailable",
    "autoAllowBashIfSandboxed",
    "allowUnsandboxedCommands",
    "ignoreViolations",  # Claude Code's; accepted, not used
    "enableWeakerNestedSandbox",  # Claude Code's; accepted, not used
)
SANDBOX_KEYS = (*SANDBOX_BOOLS, "mode", "excludedCommands", "filesystem", "network", "bwrapPath",
                "maxProcesses")  # fmt: skip
SANDBOX_FS = ("allowWrite", "denyWrite", "denyRead", "allowRead")
SANDBOX_NET_LISTS = ("allowedDomains", "deniedDomains", "allowUnixSockets")
SANDBOX_NET_BOOLS = ("allowLocalBinding", "allowAllUnixSockets", "allowManagedDomainsOnly")


def _keys(value: Any, valid: tuple[str, ...], path: str | None, key: str) -> None:
    _need(isinstance(value, dict), f"must be an object, got {_type_name(value)}", path, key)
    for k in value:
        _need(k in valid, f"unknown key {k!r}; valid keys are {', '.join(valid)}", path, f"{key}.{k}")  # fmt: skip


def _bool(value: Any, path: str | None, key: str) -> None:
    _need(isinstance(value, bool), f"must be true or false, got {value!r}", path, key)


def _sandbox(value: Any, path: str | None) -> None:
    """Claude Code's `sandbox` shape, plus bridle's `mode` and `maxProcesses`."""
    _keys(value, SANDBOX_KEYS, path, "sandbox")
    for k in SANDBOX_BOOLS:
        if k in value:
            _bool(value[k], path, f"sandbox.{k}")
    if "mode" in value:
        _need(
            value["mode"] in ("read-only", "workspace-write", "off"),
            f"must be read-only, workspace-write or off, got {value['mode']!r}",
            path,
            "sandbox.mode",
        )
    if "excludedCommands" in value:
        _str_list(value["excludedCommands"], path, "sandbox.excludedCommands")
    if "bwrapPath" in value:
        _need(isinstance(value["bwrapPath"], str), "must be a path string", path, "sandbox.bwrapPath")  # fmt: skip
    if "maxProcesses" in value:
        n = value["maxProcesses"]
        _need(isinstance(n, int) and not isinstance(n, bool) and n > 0,
              f"must be a positive whole number, got {n!r}", path, "sandbox.maxProcesses")  # fmt: skip
    if "filesystem" in value:
        fs = value["filesystem"]
        _keys(fs, SANDBOX_FS, path, "sandbox.filesystem")
        for k in fs:
            _str_list(fs[k], path, f"sandbox.filesystem.{k}")
    if "network" in value:
        net = value["network"]
        valid = (*SANDBOX_NET_LISTS, *SANDBOX_NET_BOOLS, "httpProxyPort", "socksProxyPort")
        _keys(net, valid, path, "sandbox.network")
        for k in net:
            if k in SANDBOX_NET_LISTS:
                _str_list(net[k], path, f"sandbox.network.{k}")
            elif k in SANDBOX_NET_BOOLS:
                _bool(net[k], path, f"sandbox.network.{k}")


def _accounts(value: Any, path: str | None) -> None:
    _need(isinstance(value, dict), f"must be an object, got {_type_name(value)}", path, "accounts")
    if "rotation" in value:
        _str_list(value["rotation"], path, "accounts.rotation")


AGENT_CLIS = ("claude", "codex", "gemini", "copilot")


def _agents(value: Any, path: str | None) -> None:
    """`{"max_parallel": n, "max_depth": n, "external": {cli: {"args", "model", "timeout"}}}`."""
    _need(isinstance(value, dict), f"must be an object, got {_type_name(value)}", path, "agents")
    _keys(value, ("max_parallel", "max_depth", "external"), path, "agents")
    for key in ("max_parallel", "max_depth"):
        if key in value:
            v = value[key]
            ok = isinstance(v, int) and not isinstance(v, bool) and v > 0
            _need(ok, f"must be a whole number of at least 1, got {v!r}", path, f"agents.{key}")
    external = value.get("external", {})
    _need(isinstance(external, dict), "must be an object of CLIs", path, "agents.external")
    _keys(external, AGENT_CLIS, path, "agents.external")
    for cli, conf in external.items():
        where = f"agents.external.{cli}"
        _need(isinstance(conf, dict), '{"args": [...], "model": "..."}', path, where)
        _keys(conf, ("args", "model", "timeout"), path, where)
        if "args" in conf:
            _str_list(conf["args"], path, f"{where}.args")
        if "model" in conf:
            _need(isinstance(conf["model"], str), "must be a string", path, f"{where}.model")
        if "timeout" in conf:
            _positive(f"{where}.timeout")(conf["timeout"], path)


def _webfetch(value: Any, path: str | None) -> None:
    _need(isinstance(value, dict), f"must be an object, got {_type_name(value)}", path, "webfetch")
    flag = value.get("allow_private_network", False)
    _need(
        isinstance(flag, bool),
        f"must be true or false, got {flag!r}",
        path,
        "webfetch.allow_private_network",
    )


def validate(data: Any, path: str | None) -> list[str]:
    """Check one layer's data; raise on a wrong known key, return warnings."""
    if not isinstance(data, dict):
        raise ConfigError(f"must hold a JSON object at the top, got {_type_name(data)}", path=path)
    warnings = []
    for key, value in data.items():
        check = CHECKS.get(key)
        if check is not None:
            check(value, path)
        elif key not in KNOWN_UNCHECKED and not key.startswith(
            "$"
        ):  # "$schema" and friends are fine
            warnings.append(f"{path or 'settings'}: unknown key {key!r} (ignored by bridle)")
    return warnings
