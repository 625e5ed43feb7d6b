"""Where plugins are installed, which are enabled, and the marketplaces that list them.

Claude Code records its installs in `~/.claude/plugins/installed_plugins.json`
(`$CLAUDE_CONFIG_DIR` moves `~/.claude`): version 2 maps `name@marketplace` to a
list of installs (`scope` user/project/local, `installPath`, `version`,
`projectPath` for the project scopes); version 1 mapped it to one install.
bridle keeps its own installs in the same format in
`$BRIDLE_HOME/plugins/installed_plugins.json`, with copies under
`$BRIDLE_HOME/plugins/cache/<marketplace>/<name>/<version>/`, so a plugin either
tool installed works in bridle. A plugin is on when `enabledPlugins` in any
settings layer says `"name@marketplace": true`; `set_enabled` writes that key
into the settings file Claude Code uses for the scope (user
`~/.claude/settings.json`, project `.claude/settings.json`, local
`.claude/settings.local.json`), keeping every other key (a commented file is
kept beside it as `.bak`, since JSON cannot keep comments). Marketplaces are
folders holding Claude Code's `.claude-plugin/marketplace.json`; the ones added
are remembered in `$BRIDLE_HOME/plugins/known_marketplaces.json`. bridle
installs from local folders only: a marketplace entry whose source is a git
repository, a URL or an npm package is refused with the way to do it by hand.
"""

from __future__ import annotations

import datetime as _dt
import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridle.core.errors import UsageError
from bridle.extensions.frontmatter import Problem
from bridle.extensions.plugins import MANIFEST, Plugin, is_plugin_dir, load_plugin

MARKETPLACE = Path(".claude-plugin") / "marketplace.json"
SCOPES = ("user", "project", "local")
LOCAL_MARKETPLACE = "local"  # the marketplace name of a plugin installed from a folder


@dataclass(frozen=True)
class Installed:
    """One installed plugin, as Claude Code's or bridle's install record lists it."""

    key: str  # name@marketplace
    name: str
    marketplace: str
    path: Path
    source: str  # "claude" or "bridle": which tool installed it
    version: str | None = None
    scope: str = "user"


@dataclass(frozen=True)
class MarketplaceEntry:
    """One plugin a marketplace lists; only entries with a local `path` can be installed."""

    name: str
    description: str
    version: str | None
    source: Any  # "./path" or a source object
    path: Path | None  # the plugin's folder when the source is local


@dataclass(frozen=True)
class Marketplace:
    """A marketplace folder and the plugins its `marketplace.json` lists."""

    name: str
    root: Path
    file: Path
    owner: str
    plugins: tuple[MarketplaceEntry, ...]


def claude_dir(env: Mapping[str, str]) -> Path:
    from bridle.config.paths import user_home

    configured = env.get("CLAUDE_CONFIG_DIR")
    return Path(configured).expanduser() if configured else user_home(env) / ".claude"


def plugins_home(env: Mapping[str, str]) -> Path:
    from bridle.config.paths import bridle_home

    return bridle_home(env) / "plugins"


def installed(env: Mapping[str, str], project_root: Path) -> tuple[list[Installed], list[str]]:
    """Every install bridle and Claude Code recorded that applies in `project_root`
    (bridle's first), with a warning for each unreadable file or entry."""
    warnings: list[str] = []
    out: list[Installed] = []
    for source, path in (
        ("bridle", plugins_home(env) / "installed_plugins.json"),
        ("claude", claude_dir(env) / "plugins" / "installed_plugins.json"),
    ):
        out += _read_installed(path, source, project_root, warnings)
    return out, warnings


def _read_installed(
    path: Path, source: str, project_root: Path, warnings: list[str]
) -> list[Installed]:
    doc = _read_json(path, warnings)
    if doc is None:
        return []
    plugins = doc.get("plugins") if isinstance(doc, dict) else None
    if not isinstance(plugins, dict):
        warnings.append(f"{path}: plugins: must be an object of name@marketplace entries")
        return []
    here = str(project_root.resolve())
    out = []
    for key, raw in plugins.items():
        entries = raw if isinstance(raw, list) else [raw]
        chosen = _pick(entries, here)
        if chosen is None:
            continue
        install_path = chosen.get("installPath")
        if not isinstance(install_path, str) or not install_path:
            warnings.append(f"{path}: plugins.{key}: has no installPath; skipped")
            continue
        name, _, market = str(key).partition("@")
        out.append(
            Installed(
                key=str(key),
                name=name,
                marketplace=market,
                path=Path(install_path).expanduser(),
                source=source,
                version=chosen.get("version") if isinstance(chosen.get("version"), str) else None,
                scope=str(chosen.get("scope") or "user"),
            )
        )
    return out


def _pick(entries: list[Any], project: str) -> dict[str, Any] | None:
    """This project's install (project/local scope) over the user's; None if neither."""
    mine = [e for e in entries if isinstance(e, dict)]
    for e in mine:
        if e.get("scope") in ("project", "local") and _same(e.get("projectPath"), project):
            return e
    for e in mine:
        if e.get("scope") in (None, "user", "managed"):
            return e
    return None


def _same(path: Any, project: str) -> bool:
    if not isinstance(path, str):
        return False
    try:
        return str(Path(path).expanduser().resolve()) == project
    except OSError:
        return False


def resolve_key(name: str, items: list[Installed]) -> Installed:
    """The install `name` means: `name@marketplace` exactly, or a bare name with
    one install. Unknown or ambiguous names are a `UsageError` with the fix."""
    exact = [i for i in items if i.key == name]
    if exact:
        return exact[0]
    bare = {i.key: i for i in items if i.name == name}
    if len(bare) == 1:
        return next(iter(bare.values()))
    if bare:
        raise UsageError(
            f"{name!r} is installed from several marketplaces: say which, {', '.join(bare)}"
        )
    raise UsageError(
        f"no installed plugin named {name!r}; see `bridle plugins list`, or install it with "
        "`bridle plugins install PATH` (a plugin folder, or NAME@MARKETPLACE)"
    )


def settings_path(scope: str, project_root: Path, env: Mapping[str, str]) -> Path:
    """The settings file Claude Code keeps `enabledPlugins` in for `scope`."""
    if scope == "user":
        return claude_dir(env) / "settings.json"
    if scope == "project":
        return project_root / ".claude" / "settings.json"
    if scope == "local":
        return project_root / ".claude" / "settings.local.json"
    raise UsageError(f"--scope {scope}: the scopes are {', '.join(SCOPES)}")


def set_enabled(path: Path, key: str, on: bool) -> None:
    """Write `enabledPlugins[key] = on` into the settings file at `path`, merging."""
    from bridle.store.settings_file import edit_settings

    edit_settings(path, "enabledPlugins", lambda plugins: plugins.__setitem__(key, on))


def read_marketplace(path: Path) -> Marketplace:
    """A marketplace folder (or its `marketplace.json`), validated; `UsageError` if not."""
    path = path.expanduser().resolve()
    file = path if path.is_file() else path / MARKETPLACE
    root = file.parent.parent if file.parent.name == ".claude-plugin" else file.parent
    if not file.is_file():
        raise UsageError(f"{path} is not a marketplace: it has no {MARKETPLACE}")
    warnings: list[str] = []
    doc = _read_json(file, warnings)
    if doc is None or warnings:
        raise UsageError(warnings[0] if warnings else f"{file}: is empty")

    def bad(key: str, why: str) -> UsageError:
        return UsageError(f"{file}: {key}: {why}")

    if not isinstance(doc, dict):
        raise bad("(top)", 'must be an object with "name", "owner" and "plugins"')
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip() or " " in name:
        raise bad("name", "is required: the marketplace's kebab-case name")
    owner = doc.get("owner")
    if not isinstance(owner, dict) or not isinstance(owner.get("name"), str):
        raise bad("owner", 'must be an object with a "name" ({"name": "Your Name"})')
    items = doc.get("plugins")
    if not isinstance(items, list):
        raise bad("plugins", "must be a list of plugin entries")
    meta = doc.get("metadata")
    base = root / str((meta.get("pluginRoot") if isinstance(meta, dict) else None) or ".")
    entries = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise bad(f"plugins[{i}]", 'must be an object with a "name" and a "source"')
        source = item.get("source")
        if not isinstance(source, str | dict):
            raise bad(f"plugins[{i}].source", 'must be "./path" or a source object')
        local = None
        if isinstance(source, str):
            local = (base / source).resolve() if not source.startswith("/") else Path(source)
        elif source.get("source") in ("directory", "local") and isinstance(source.get("path"), str):
            local = (root / source["path"]).resolve()
        entries.append(
            MarketplaceEntry(
                name=item["name"],
                description=str(item.get("description") or ""),
                version=item.get("version") if isinstance(item.get("version"), str) else None,
                source=source,
                path=local,
            )
        )
    return Marketplace(name, root, file, str(owner["name"]), tuple(entries))


def known_marketplaces(env: Mapping[str, str]) -> tuple[list[Marketplace], list[str]]:
    """The marketplaces added with `marketplace add`, read again from their folders."""
    warnings: list[str] = []
    doc = _read_json(plugins_home(env) / "known_marketplaces.json", warnings) or {}
    out = []
    for name, entry in doc.items() if isinstance(doc, dict) else []:
        where = entry.get("installLocation") if isinstance(entry, dict) else None
        try:
            out.append(read_marketplace(Path(str(where))))
        except UsageError as e:
            warnings.append(f"marketplace {name}: {e} (add it again, or remove it from the file)")
    return out, warnings


def add_marketplace(path: Path, env: Mapping[str, str]) -> Marketplace:
    from bridle.store.atomic import atomic_write_text

    market = read_marketplace(path)
    file = plugins_home(env) / "known_marketplaces.json"
    warnings: list[str] = []
    doc = _read_json(file, warnings)
    if warnings:
        raise UsageError(f"{warnings[0]}; fix or delete {file}")
    doc = doc if isinstance(doc, dict) else {}
    doc[market.name] = {
        "source": {"source": "directory", "path": str(market.root)},
        "installLocation": str(market.root),
        "lastUpdated": _dt.datetime.now(_dt.UTC).isoformat().replace("+00:00", "Z"),
    }
    atomic_write_text(file, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return market


def install(spec: str, env: Mapping[str, str], *, link: bool = False) -> Installed:
    """Copy (or link) a plugin folder, or a known marketplace's `name@marketplace`
    entry, into bridle's plugin folder and record it; returns the install."""
    source, market = _plugin_source(spec, env)
    loaded = load_plugin(source, source="bridle", data_home=plugins_home(env) / "data")
    if isinstance(loaded, Problem):
        raise UsageError(f"cannot install {spec}: {loaded}")
    plugin: Plugin = loaded
    key = f"{plugin.name}@{market}"
    target = plugins_home(env) / "cache" / market / plugin.name / (plugin.version or "local")
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if link:
        target.symlink_to(source, target_is_directory=True)
    else:
        shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    _record(env, key, target, plugin.version)
    return Installed(key, plugin.name, market, target, "bridle", plugin.version)


def _plugin_source(spec: str, env: Mapping[str, str]) -> tuple[Path, str]:
    path = Path(spec).expanduser()
    if path.is_dir():
        if is_plugin_dir(path):
            return path.resolve(), LOCAL_MARKETPLACE
        if (path / MARKETPLACE).is_file():
            raise UsageError(
                f"{spec} is a marketplace, not a plugin: add it with `bridle plugins marketplace "
                "add PATH`, then install NAME@MARKETPLACE"
            )
        raise UsageError(f"{spec} is not a plugin: it has no {MANIFEST} and no plugin folders")
    name, at, market_name = spec.partition("@")
    if not at:
        raise UsageError(
            f"{spec}: no such folder; give a plugin folder, or NAME@MARKETPLACE from "
            "`bridle plugins marketplace list`"
        )
    markets, _ = known_marketplaces(env)
    market = next((m for m in markets if m.name == market_name), None)
    if market is None:
        raise UsageError(
            f"no marketplace named {market_name!r}; add it with `bridle plugins marketplace add PATH`"
        )
    entry = next((e for e in market.plugins if e.name == name), None)
    if entry is None:
        names = ", ".join(e.name for e in market.plugins) or "none"
        raise UsageError(f"marketplace {market_name} has no plugin {name!r} (it has: {names})")
    if entry.path is None or not entry.path.is_dir():
        raise UsageError(
            f"{spec}: its source {json.dumps(entry.source)} is not a local folder; bridle "
            "installs from folders only: fetch it yourself, then `bridle plugins install DIR`"
        )
    return entry.path, market.name


def _record(env: Mapping[str, str], key: str, target: Path, version: str | None) -> None:
    from bridle.store.atomic import atomic_write_text

    file = plugins_home(env) / "installed_plugins.json"
    warnings: list[str] = []
    doc = _read_json(file, warnings)
    if warnings:
        raise UsageError(f"{warnings[0]}; fix or delete {file}")
    doc = doc if isinstance(doc, dict) and isinstance(doc.get("plugins"), dict) else None
    doc = doc or {"version": 2, "plugins": {}}
    now = _dt.datetime.now(_dt.UTC).isoformat().replace("+00:00", "Z")
    doc["plugins"][key] = [
        {
            "scope": "user",
            "installPath": str(target),
            "version": version or "local",
            "installedAt": now,
            "lastUpdated": now,
        }
    ]
    atomic_write_text(file, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def _read_json(path: Path, warnings: list[str]) -> Any:
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        warnings.append(f"{path}: cannot be read as JSON ({_why(e)})")
        return None


def _why(e: Exception) -> str:
    if isinstance(e, json.JSONDecodeError):
        return f"{e.msg} at line {e.lineno}"
    if isinstance(e, OSError):
        return e.strerror or str(e)
    return str(e)


def now_enabled(settings: Any) -> Mapping[str, Any]:
    """The merged `enabledPlugins` of a `config.settings.Settings` (empty if unset)."""
    value = settings.get("enabledPlugins") if settings is not None else None
    return value if isinstance(value, Mapping) else {}
