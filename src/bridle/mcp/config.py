"""MCP server definitions, read from Claude Code's scopes into typed `ServerConfig`s.

Sources, by precedence (the first scope that names a server wins, and its entry
is used whole, never merged with a lower one): `--mcp-config FILE|JSON` values
(scope "cli"; with `strict` they are the only source), the local scope
(`projects[<abs project path>].mcpServers` in `~/.claude.json`), bridle's own
settings `mcpServers` (scope "settings", passed in already merged), the project's
`.mcp.json`, the user scope (top-level `mcpServers` in `~/.claude.json`, or in
`$CLAUDE_CONFIG_DIR/.claude.json`), and plugins' `.mcp.json` files (with
`${CLAUDE_PLUGIN_ROOT}` set to the plugin's folder). `${VAR}` and
`${VAR:-default}` expand in `command`, `args`, `env`, `url` and `headers`. A bad
file or entry never stops a run: it comes back as a warning that names the file
and the key, and only that server is skipped. This module reads files and the
environment it is given; it starts no server and never imports the `mcp` SDK.
Writing entries back (`bridle mcp add/remove`) lives in `mcp.scopes`.
"""

from __future__ import annotations

import json
import os
import re
from collections import ChainMap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bridle.config.paths import claude_json_path

Scope = Literal["cli", "local", "settings", "project", "user", "plugin"]
Transport = Literal["stdio", "sse", "http"]

# Highest precedence first.
SCOPES: tuple[Scope, ...] = ("cli", "local", "settings", "project", "user", "plugin")
TRANSPORTS: tuple[Transport, ...] = ("stdio", "sse", "http")

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class EntryError(ValueError):
    """One server entry cannot be used; the message says why and how to fix it."""


@dataclass(frozen=True)
class ServerConfig:
    """One MCP server, resolved: variables expanded, transport checked."""

    name: str
    scope: Scope
    source: str  # the file it came from, or "--mcp-config" / "settings"
    type: Transport
    command: str = ""
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    # Per-call timeout in milliseconds (the entry's `timeout`); None: MCP_TOOL_TIMEOUT.
    timeout: float | None = None
    # Working directory for a stdio server (plugins run from their folder).
    cwd: str | None = None

    def describe(self) -> str:
        """One line for `mcp list`: the command line or the URL."""
        if self.type == "stdio":
            return " ".join([self.command, *self.args])
        return f"{self.url} ({self.type.upper() if self.type == 'sse' else 'HTTP'})"


@dataclass
class McpConfig:
    """The servers that won, by name, and what was wrong with the rest."""

    servers: dict[str, ServerConfig] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Every definition seen, winners and shadowed ones, for `mcp get`.
    shadowed: list[ServerConfig] = field(default_factory=list)


def project_key(project_dir: Path) -> str:
    """The key Claude Code uses for a project in `~/.claude.json`'s `projects`."""
    return str(Path(os.path.abspath(project_dir)))


def load_servers(
    project_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    settings_servers: Mapping[str, Any] | None = None,
    plugin_files: Sequence[Path | tuple[Any, ...]] = (),
    cli_configs: Sequence[str] = (),
    strict: bool = False,
) -> McpConfig:
    """Every configured server, resolved by scope precedence (see the module doc)."""
    env = dict(os.environ if env is None else env)
    result = McpConfig()
    seen: dict[str, ServerConfig] = {}

    def take(scope: Scope, source: str, where: str, servers: object, **kw: Any) -> None:
        if servers is None:
            return
        if not isinstance(servers, dict):
            result.warnings.append(f"{source}: {where}: must be an object of servers")
            return
        for name, raw in servers.items():
            try:
                cfg = parse_entry(name, raw, scope=scope, source=source, env=env, **kw)
            except EntryError as e:
                result.warnings.append(f"{source}: {where}.{name}: {e} (server skipped)")
                continue
            if name in seen:
                result.shadowed.append(cfg)
            else:
                seen[name] = cfg

    for i, value in enumerate(cli_configs):
        source, doc = _read_cli_config(value, i, result.warnings)
        if doc is not None:
            take("cli", source, "mcpServers", _servers_of(doc, source, result.warnings))
    if not strict:
        path = claude_json_path(env, home)
        user_doc = _read_json(path, result.warnings)
        if isinstance(user_doc, dict):
            projects = user_doc.get("projects")
            key = project_key(project_dir)
            if isinstance(projects, dict):
                entry = projects.get(key)
                if entry is None:
                    entry = projects.get(str(Path(project_dir).resolve()))
                if isinstance(entry, dict):
                    where = f"projects[{key}].mcpServers"
                    take("local", str(path), where, entry.get("mcpServers"))
        if settings_servers:
            take("settings", "settings", "mcpServers", dict(settings_servers))
        mcp_json = Path(project_dir) / ".mcp.json"
        doc = _read_json(mcp_json, result.warnings)
        if doc is not None:
            take(
                "project", str(mcp_json), "mcpServers", _servers_of(doc, mcp_json, result.warnings)
            )
        if isinstance(user_doc, dict):
            take("user", str(path), "mcpServers", user_doc.get("mcpServers"))
        for item in plugin_files:
            # A (file, {"CLAUDE_PLUGIN_ROOT": ..., "CLAUDE_PLUGIN_DATA": ...}) pair
            # names the plugin's folders (a bare file's plugin is its folder); a
            # third item is a manifest's inline object, `file` naming the manifest.
            plugin_file, plugin_vars, *inline = item if isinstance(item, tuple) else (item, {})
            doc = (
                inline[0]
                if inline
                else _read_json(Path(plugin_file), result.warnings, missing_ok=False)
            )
            if doc is None:
                continue
            root = plugin_vars.get("CLAUDE_PLUGIN_ROOT") or str(Path(plugin_file).parent)
            servers = doc.get("mcpServers", doc) if isinstance(doc, dict) else doc
            take(
                "plugin", str(plugin_file), "mcpServers", servers,
                plugin_root=root, plugin_vars=plugin_vars,
            )  # fmt: skip
    result.servers = seen
    return result


def parse_entry(
    name: str,
    raw: object,
    *,
    scope: Scope,
    source: str,
    env: Mapping[str, str],
    plugin_root: str | None = None,
    plugin_vars: Mapping[str, str] | None = None,
) -> ServerConfig:
    """One entry of an `mcpServers` object as a `ServerConfig`; `EntryError` if unusable."""
    if not name.strip():
        raise EntryError("a server needs a non-empty name")
    if not isinstance(raw, dict):
        raise EntryError(f"must be an object, got {_kind(raw)}")
    lookup: Mapping[str, str] = env
    if plugin_root is not None:
        own = {**(plugin_vars or {}), "CLAUDE_PLUGIN_ROOT": plugin_root}
        lookup = ChainMap(own, env)  # type: ignore[arg-type]
    kind = raw.get("type", raw.get("transport"))
    if kind is None:
        if "command" in raw:
            kind = "stdio"
        elif "url" in raw:
            raise EntryError(
                'has a "url" but no "type": add "type": "http" (streamable HTTP) '
                'or "type": "sse" to say which transport the server speaks'
            )
        else:
            raise EntryError('needs "command" (a stdio server) or "type" and "url"')
    if kind == "streamable-http":
        kind = "http"
    if kind not in TRANSPORTS:
        allowed = ", ".join(f'"{t}"' for t in TRANSPORTS)
        raise EntryError(f'"type" is {json.dumps(kind)}; bridle supports {allowed}')
    timeout = raw.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        raise EntryError(f'"timeout" must be a positive number of milliseconds, got {timeout!r}')

    def expand(value: str, where: str) -> str:
        return expand_vars(value, lookup, server=name, where=where)

    if kind == "stdio":
        command = raw.get("command")
        if not isinstance(command, str) or not command.strip():
            raise EntryError('needs "command": the program that starts the server')
        args = _strings(raw.get("args", []), "args")
        env_map = _string_map(raw.get("env", {}), "env")
        cwd = raw.get("cwd")
        if cwd is not None and not isinstance(cwd, str):
            raise EntryError(f'"cwd" must be a string, got {_kind(cwd)}')
        return ServerConfig(
            name=name,
            scope=scope,
            source=source,
            type="stdio",
            command=expand(command, "command"),
            args=tuple(expand(a, f"args[{i}]") for i, a in enumerate(args)),
            env={k: expand(v, f"env.{k}") for k, v in env_map.items()},
            timeout=float(timeout) if timeout is not None else None,
            cwd=expand(cwd, "cwd") if cwd else plugin_root,
        )
    url = raw.get("url")
    if not isinstance(url, str) or not url.strip():
        raise EntryError(f'a "{kind}" server needs "url"')
    url = expand(url, "url")
    if not url.startswith(("http://", "https://")):
        raise EntryError(f'"url" must start with http:// or https://, got {url!r}')
    headers = _string_map(raw.get("headers", {}), "headers")
    return ServerConfig(
        name=name,
        scope=scope,
        source=source,
        type="sse" if kind == "sse" else "http",
        url=url,
        headers={k: expand(v, f"headers.{k}") for k, v in headers.items()},
        timeout=float(timeout) if timeout is not None else None,
    )


def expand_vars(value: str, env: Mapping[str, str], *, server: str, where: str) -> str:
    """`${VAR}` and `${VAR:-default}` replaced from `env`; a variable that is unset
    and has no default raises `EntryError` naming the server and the field."""

    def sub(m: re.Match[str]) -> str:
        var, default = m.group(1), m.group(2)
        got = env.get(var)
        if got is not None and (got != "" or default is None):
            return got
        if default is not None:
            return default
        raise EntryError(
            f"{where} uses ${{{var}}}, which is not set; set {var} in the environment "
            f"or write ${{{var}:-default}} (server {server!r})"
        )

    return _VAR.sub(sub, value)


def build_entry(
    transport: Transport,
    target: str,
    args: Iterable[str] = (),
    *,
    env: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An entry shaped as `claude mcp add` writes it: `target` is the command of a
    stdio server or the URL of an SSE/HTTP one."""
    if transport == "stdio":
        return {"type": "stdio", "command": target, "args": list(args), "env": dict(env or {})}
    entry: dict[str, Any] = {"type": transport, "url": target}
    if headers:
        entry["headers"] = dict(headers)
    return entry


def parse_header(text: str) -> tuple[str, str]:
    """A `-H "Name: value"` argument as (name, value)."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise EntryError(f'header {text!r} must look like "Name: value"')
    return name.strip(), value.strip()


def _servers_of(doc: object, source: object, warnings: list[str]) -> object:
    if not isinstance(doc, dict):
        warnings.append(f'{source}: must be a JSON object like {{"mcpServers": {{...}}}}')
        return None
    if "mcpServers" not in doc:
        warnings.append(f'{source}: has no "mcpServers" object; nothing loaded from it')
        return None
    return doc["mcpServers"]


def _read_cli_config(value: str, index: int, warnings: list[str]) -> tuple[str, object]:
    """A `--mcp-config` value: inline JSON when it starts with `{`, else a file."""
    text = value.strip()
    if text.startswith("{"):
        source = f"--mcp-config #{index + 1}"
        try:
            return source, json.loads(text)
        except ValueError as e:
            warnings.append(f"{source}: not valid JSON ({e}); pass a file path or a JSON object")
            return source, None
    path = Path(value).expanduser()
    if not path.exists():
        warnings.append(f"--mcp-config {value}: no such file; pass a JSON file or inline JSON")
        return str(path), None
    return str(path), _read_json(path, warnings)


def _read_json(path: Path, warnings: list[str], *, missing_ok: bool = True) -> object:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if not missing_ok:
            warnings.append(f"{path}: no such file")
        return None
    except OSError as e:
        warnings.append(f"{path}: cannot be read ({e.strerror or e})")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        warnings.append(f"{path}: not UTF-8 at byte {e.start}; save it as UTF-8")
        return None
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        warnings.append(f"{path}: not valid JSON at line {e.lineno} column {e.colno}: {e.msg}")
        return None


def _strings(value: object, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise EntryError(f'"{what}" must be a list of strings, got {json.dumps(value)}')
    return list(value)


def _string_map(value: object, what: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise EntryError(f'"{what}" must be an object of strings, got {_kind(value)}')
    out: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(item, str):
            raise EntryError(f'"{what}.{key}" must be a string, got {json.dumps(item)}')
        out[str(key)] = item
    return out


def _kind(value: object) -> str:
    names: dict[type, str] = {dict: "an object", list: "a list", str: "a string"}
    return names.get(type(value), json.dumps(value) if value is None else repr(value))
