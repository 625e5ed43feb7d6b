"""Adding and removing MCP servers in the files Claude Code writes, so `bridle mcp
add/remove` and `claude mcp add/remove` see the same servers.

The local scope is `projects[<abs project path>].mcpServers` in `~/.claude.json`,
the user scope its top-level `mcpServers`, and the project scope `.mcp.json` in
the project. An edit reads the file, changes one entry and writes it back
atomically (`store.atomic`), keeping every other key as it was; a file that is
not valid JSON is refused, never overwritten. An entry is checked with the same
parser the loader uses before it is written. This module does not start servers
and does not decide which scope a front end defaults to (Claude Code: local).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from bridle.core.errors import ConfigError
from bridle.mcp.config import EntryError, claude_json_path, parse_entry, project_key
from bridle.store.atomic import atomic_write_text

EditScope = Literal["local", "project", "user"]
EDIT_SCOPES: tuple[EditScope, ...] = ("local", "project", "user")


def scope_file(
    scope: EditScope,
    project_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> Path:
    """The file a scope lives in."""
    if scope == "project":
        return Path(project_dir) / ".mcp.json"
    return claude_json_path(env, home)


def scope_entries(
    scope: EditScope,
    project_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> dict[str, Any]:
    """The raw `mcpServers` entries of one scope (empty when the file is absent)."""
    path = scope_file(scope, project_dir, env=env, home=home)
    doc = _load(path)
    servers = _servers(doc, scope, project_dir, create=False)
    return dict(servers) if servers else {}


def add_server(
    scope: EditScope,
    name: str,
    entry: Mapping[str, Any],
    project_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    replace: bool = False,
) -> Path:
    """Write `entry` as server `name` in `scope`; return the file written.

    Raises `ConfigError` when the entry is invalid, the name is taken in that
    scope (unless `replace`), or the file exists but is not valid JSON."""
    path = scope_file(scope, project_dir, env=env, home=home)
    try:
        # Variables stay as written (`${TOKEN}`), so check with a permissive lookup.
        parse_entry(name, dict(entry), scope=scope, source=str(path), env=_AnyVar())
    except EntryError as e:
        raise ConfigError(f"{e}", key=f"mcpServers.{name}") from e
    doc = _load(path)
    servers = _servers(doc, scope, project_dir, create=True)
    assert servers is not None
    if name in servers and not replace:
        raise ConfigError(
            f"MCP server {name!r} already exists in {scope} config ({path}); "
            f"remove it first with `bridle mcp remove {name} -s {scope}`"
        )
    servers[name] = dict(entry)
    _save(path, doc, scope)
    return path


def remove_server(
    name: str,
    project_dir: Path,
    *,
    scope: EditScope | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> tuple[EditScope, Path]:
    """Remove server `name` from `scope`, or from the one scope that has it.

    Raises `ConfigError` when no scope has it, or when several do and no scope
    was given (the message lists them, as Claude Code does)."""
    scopes = [scope] if scope is not None else list(EDIT_SCOPES)
    found = [s for s in scopes if name in scope_entries(s, project_dir, env=env, home=home)]
    if not found:
        where = f"{scope} config" if scope else "any scope (local, project, user)"
        raise ConfigError(f"no MCP server named {name!r} in {where}")
    if len(found) > 1:
        raise ConfigError(
            f"MCP server {name!r} exists in several scopes ({', '.join(found)}); "
            f"say which with -s, e.g. `bridle mcp remove {name} -s {found[0]}`"
        )
    target = found[0]
    path = scope_file(target, project_dir, env=env, home=home)
    doc = _load(path)
    servers = _servers(doc, target, project_dir, create=False)
    assert servers is not None
    del servers[name]
    _save(path, doc, target)
    return target, path


class _AnyVar(dict[str, str]):
    """An environment in which every variable is set, for checking an entry's shape."""

    def __missing__(self, key: str) -> str:
        return "x"

    def get(self, key: str, default: Any = None) -> str:
        return "x"

    def __contains__(self, key: object) -> bool:
        return True


def _load(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise ConfigError(f"cannot be read ({e.strerror or e})", path=str(path)) from e
    text = data.decode("utf-8-sig", "replace")
    if not text.strip():
        return {}
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(
            f"not valid JSON at line {e.lineno} column {e.colno} ({e.msg}); fix or move "
            "the file first, bridle will not overwrite it",
            path=str(path),
        ) from e
    if not isinstance(doc, dict):
        raise ConfigError("must hold a JSON object; bridle will not overwrite it", path=str(path))
    return doc


def _servers(
    doc: dict[str, Any], scope: EditScope, project_dir: Path, *, create: bool
) -> dict[str, Any] | None:
    holder: Any = doc
    if scope == "local":
        projects = doc.get("projects")
        if not isinstance(projects, dict):
            if not create:
                return None
            projects = doc["projects"] = {}
        key = project_key(project_dir)
        holder = projects.get(key)
        if not isinstance(holder, dict):
            if not create:
                return None
            holder = projects[key] = {}
    servers = holder.get("mcpServers")
    if not isinstance(servers, dict):
        if not create:
            return None
        servers = holder["mcpServers"] = {}
    return servers


def _save(path: Path, doc: dict[str, Any], scope: EditScope) -> None:
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    # ~/.claude.json holds tokens and keys: a new one is private to the user.
    mode = 0o600 if scope != "project" else None
    try:
        atomic_write_text(path, text, mode=mode)
    except OSError as e:
        raise ConfigError(f"cannot be written ({e.strerror or e})", path=str(path)) from e
