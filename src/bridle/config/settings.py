"""Layered settings: read every settings file, validate it, and merge the layers.

Precedence, highest first (ARCHITECTURE.md):

    managed      /etc/bridle/managed-settings.json (path injectable)
    cli          overrides from flags, a dict (dotted keys allowed: {"a.b": 1})
    local        <project>/.bridle/settings.local.json
    project      <project>/.bridle/settings.json
    user         $BRIDLE_HOME/settings.json (default ~/.bridle/settings.json)
    claude-local <project>/.claude/settings.local.json   (Claude Code's files: only
    claude       <project>/.claude/settings.json          the keys in CLAUDE_KEYS,
    claude-user  ~/.claude/settings.json                  such as permissions, hooks)

`<project>` is the nearest ancestor of the cwd holding `.git`, else the cwd.

Merging: objects merge key by key, a higher layer's scalar or list replaces a
lower one's, except that `permissions.allow/ask/deny/additionalDirectories` and
each `hooks.<Event>` list concatenate across layers (higher layers first,
duplicates dropped) so a managed deny or a user hook is never silently lost.

Files are JSONC. `$VAR`, `${VAR}` and `${VAR:-default}` in string values are
expanded from the env mapping passed in (see `config.jsonc`); an undefined
variable is a `ConfigError` naming the file and key. Values under `hooks`,
`permissions`, `verify`, `statusLine` and `apiKeyHelper` are shell commands or
patterns and stay verbatim; the `.claude` layer and CLI overrides are never
expanded (Claude Code does not expand, and the shell already did).

This module reads files and returns plain data; it never writes settings and
imports nothing heavier than the stdlib.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridle.config.jsonc import expand_vars, parse_jsonc
from bridle.config.paths import managed_settings_path, user_home, user_settings_path
from bridle.config.schema import validate
from bridle.core.errors import ConfigError

NO_EXPAND = frozenset({"hooks", "permissions", "verify", "statusLine", "apiKeyHelper"})
CLAUDE_KEYS = (
    "agent",
    "permissions",
    "hooks",
    "env",
    "disableAllHooks",
    "allowedHttpHookUrls",
    "httpHookAllowedEnvVars",
    "outputStyle",
    "enabledPlugins",
    "enableAllProjectMcpServers",
    "enabledMcpjsonServers",
    "disabledMcpjsonServers",
    "statusLine",
    "autoMemoryEnabled",
    "autoMemoryDirectory",
    "claudeMdExcludes",
)
_CONCAT = {("permissions", "allow"), ("permissions", "ask"), ("permissions", "deny")}
_CONCAT.add(("permissions", "additionalDirectories"))
_SECRET = re.compile(
    r"api[-_]?key|(?:^|[-_])key(?:$|[-_])|token|secret|passw(?:or)?d|authorization|credential|cookie",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Layer:
    """One settings source after parsing and expansion."""

    name: str  # managed | cli | local | project | user | claude-local | claude | claude-user
    source: str  # the file path, or "cli"
    data: dict[str, Any]


@dataclass(slots=True)
class Settings:
    """Merged settings. `sources` maps each top-level key to the highest layer
    (file path, or "cli") that set it."""

    data: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    layers: tuple[Layer, ...] = ()
    warnings: tuple[str, ...] = ()
    project_root: Path | None = None

    def get(self, dotted: str, default: Any = None) -> Any:
        """`settings.get("providers.deepseek.base_url")`; `default` when any step is missing."""
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def redacted(self) -> dict[str, Any]:
        """The merged data with keys, tokens and secret-looking env values masked,
        and the password in any `scheme://user:password@host` URL (for
        `--print-config`)."""
        return _redact(self.data)


def parse_settings_arg(raw: str, cwd: Path | None = None) -> dict[str, Any]:
    """The `--settings` value: a JSON object given inline, or the path of a JSONC
    file holding one. A value that does not look like JSON is taken as a path,
    so a missing file is reported as missing, not as bad JSON."""
    text = raw
    if not raw.lstrip().startswith("{"):
        path = Path(raw).expanduser()
        if cwd is not None and not path.is_absolute():
            path = cwd / path
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as e:
            raise ConfigError(
                f"--settings {raw}: no such file; pass a settings file that exists "
                """or a JSON object such as '{"model": "sonnet"}'"""
            ) from e
        except IsADirectoryError as e:
            raise ConfigError(f"--settings {raw}: is a directory, not a settings file") from e
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"--settings {raw}: cannot read the file: {e}") from e
        data = parse_jsonc(text, str(path))
        where = str(path)
    else:
        import json

        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(
                f"--settings: not valid JSON ({e}); pass a JSON object or a file path"
            ) from e
        where = "--settings"
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: settings must be a JSON object")
    return data


def find_project_root(cwd: Path) -> Path:
    """The nearest ancestor of `cwd` (itself included) that holds `.git`, else `cwd`."""
    cwd = cwd.resolve()
    for directory in (cwd, *cwd.parents):
        if (directory / ".git").exists():
            return directory
    return cwd


def load_settings(
    cwd: Path,
    env: Mapping[str, str],
    cli: dict[str, Any] | None = None,
    managed_path: Path | None = None,
) -> Settings:
    """Read, validate and merge every layer that exists for a run in `cwd`."""
    root = find_project_root(Path(cwd))
    user_file = user_settings_path(env)
    warnings: list[str] = []
    layers: list[Layer] = []  # lowest first

    claude_layers, bridle_layers = _layer_paths(root, env)
    # Claude Code's own files, lowest first: a user's hooks, rules and style apply.
    for name, path in claude_layers:
        if name == "claude-user" and _same_file(path, root / ".claude" / "settings.json"):
            continue  # the project is $HOME itself
        claude = _read_layer(name, path, env, expand=False)
        if claude is not None:
            picked = {k: v for k, v in claude.data.items() if k in CLAUDE_KEYS}
            layers.append(Layer(name, claude.source, picked))
    for name, path in bridle_layers:
        if name != "user" and _same_file(path, user_file):
            continue  # the project is $HOME itself: its .bridle is the user layer
        layer = _read_layer(name, path, env)
        if layer is not None:
            layers.append(layer)
    if cli:
        layers.append(Layer("cli", "cli", _undot(cli)))
    managed = _read_layer("managed", managed_path or managed_settings_path(), env)
    if managed is not None:
        layers.append(managed)

    data: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for layer in layers:
        warnings.extend(validate(layer.data, layer.source))
        data = merge(data, layer.data)
        for key in layer.data:
            sources[key] = layer.source
    return Settings(data, sources, tuple(reversed(layers)), tuple(warnings), root)


def _layer_paths(
    root: Path, env: Mapping[str, str]
) -> tuple[list[tuple[str, Path]], list[tuple[str, Path]]]:
    """Claude Code's layers and bridle's, each lowest first, for a project at `root`."""
    claude = [
        ("claude-user", user_home(env) / ".claude" / "settings.json"),
        ("claude", root / ".claude" / "settings.json"),
        ("claude-local", root / ".claude" / "settings.local.json"),
    ]
    ours = [
        ("user", user_settings_path(env)),
        ("project", root / ".bridle" / "settings.json"),
        ("local", root / ".bridle" / "settings.local.json"),
    ]
    return claude, ours


def settings_files(root: Path, env: Mapping[str, str]) -> list[Path]:
    """Every file `load_settings` may read for a project at `root`, present or not."""
    claude, ours = _layer_paths(root, env)
    return [path for _, path in claude + ours] + [managed_settings_path()]


def merge(low: dict[str, Any], high: dict[str, Any], _path: tuple[str, ...] = ()) -> dict[str, Any]:
    """A new dict: `high` over `low`, by the rules in the module docstring."""
    out = dict(low)
    for key, value in high.items():
        here = (*_path, key)
        old = out.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            out[key] = merge(old, value, here)
        elif isinstance(old, list) and isinstance(value, list) and _concatenates(here):
            combined = list(value)
            combined.extend(item for item in old if item not in value)
            out[key] = combined
        else:
            out[key] = value
    return out


def _concatenates(path: tuple[str, ...]) -> bool:
    return path in _CONCAT or (len(path) == 2 and path[0] == "hooks")


def _read_layer(name: str, path: Path, env: Mapping[str, str], expand: bool = True) -> Layer | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except IsADirectoryError as e:
        raise ConfigError("is a directory; settings must be a JSON file", path=str(path)) from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read settings: {e}", path=str(path)) from e
    data = parse_jsonc(text, str(path))
    if not isinstance(data, dict):
        raise ConfigError("must hold a JSON object at the top", path=str(path))
    if expand:
        data = expand_vars(data, env, path=str(path), skip=NO_EXPAND)
    return Layer(name, str(path), data)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _undot(cli: dict[str, Any]) -> dict[str, Any]:
    """`{"a.b": 1, "c": 2}` -> `{"a": {"b": 1}, "c": 2}`, merging shared prefixes."""
    out: dict[str, Any] = {}
    for key, value in cli.items():
        parts = key.split(".")
        nested: Any = value
        for part in reversed(parts[1:]):
            nested = {part: nested}
        out = merge(out, {parts[0]: nested})
    return out


def _mask(value: Any) -> Any:
    if not isinstance(value, str) or not value:
        return value
    return "****" + value[-4:] if len(value) >= 16 else "****"


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            secret = _SECRET.search(k) is not None and not k.endswith("_env")
            if secret and not isinstance(v, dict | list):
                out[k] = _mask(v)
            else:
                out[k] = _redact(v)
        return out
    if isinstance(value, list):
        return [_redact(v) for v in value]
    if isinstance(value, str) and "@" in value:
        return _URL_USERINFO.sub(_mask_userinfo, value)
    return value


# `scheme://user:password@host`: the password (or a lone token user) is a secret.
# The userinfo runs to the authority's last `@`: a typed password may hold one.
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<info>[^/?#\s]+)@")


def _mask_userinfo(m: re.Match[str]) -> str:
    user, sep, _password = m.group("info").partition(":")
    return f"{m.group('scheme')}{user}:****@" if sep else f"{m.group('scheme')}****@"
