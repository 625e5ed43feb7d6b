"""Claude Code plugins: folders of skills, commands, agents, hooks, MCP servers and styles.

A plugin is a folder whose optional `.claude-plugin/plugin.json` names it and
may move its components. Without a manifest the folder's name is the plugin's
name and the default layout is read: `commands/`, `agents/`, `skills/`,
`output-styles/`, `hooks/hooks.json` and `.mcp.json` (or a lone `SKILL.md` at
the root). As Claude Code's manifest reference says, `commands`, `agents` and
`outputStyles` paths replace their default folder, `skills` paths add to
`skills/`, and `hooks` and `mcpServers` (paths or inline objects) add to the
default files. Every path starts with `./` and stays inside the plugin. The
manifest is validated strictly: a manifest that is not JSON, lacks a kebab-case
`name`, or has a known key of the wrong type is a `Problem` naming the file
and key, and that plugin is skipped (unknown keys are ignored, as Claude Code
does). `find_plugins` gathers the plugins a session uses: `--plugin-dir`
folders first, then those installed by bridle and by Claude Code
(`installed_plugins.json`, see `extensions.plugin_registry`) that `enabledPlugins`
turns on. Each plugin gets a data folder, `$BRIDLE_HOME/plugins/data/<name>`,
for `${CLAUDE_PLUGIN_DATA}`. This module reads files only; it never writes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridle.extensions.frontmatter import Problem

MANIFEST = Path(".claude-plugin") / "plugin.json"
_NAME = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*")
_TEXT_KEYS = ("version", "description", "homepage", "repository", "license", "displayName")
# Component key -> (default location, replaces the default when declared?)
_FOLDERS = {
    "commands": ("commands", True),
    "agents": ("agents", True),
    "outputStyles": ("output-styles", True),
    "skills": ("skills", False),
}


class ManifestError(ValueError):
    """A manifest key is unusable; `key` names it."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Plugin:
    """One plugin, its components resolved to paths inside `root`."""

    name: str
    root: Path
    source: str  # "--plugin-dir", "bridle", or "claude" (installed by Claude Code)
    data_dir: Path  # ${CLAUDE_PLUGIN_DATA}
    key: str = ""  # the enabledPlugins key ("name@marketplace"); "" for --plugin-dir
    version: str | None = None
    description: str = ""
    author: str | None = None
    commands: tuple[Path, ...] = ()  # files or folders of command .md files
    agents: tuple[Path, ...] = ()
    skills: tuple[Path, ...] = ()  # folders of <name>/SKILL.md, or one skill's folder
    output_styles: tuple[Path, ...] = ()
    hook_files: tuple[Path, ...] = ()
    inline_hooks: tuple[Mapping[str, Any], ...] = ()
    mcp_files: tuple[Path, ...] = ()
    inline_mcp: tuple[Mapping[str, Any], ...] = ()
    manifest: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def expand(self, text: str) -> str:
        """`${CLAUDE_PLUGIN_ROOT}` and `${CLAUDE_PLUGIN_DATA}` in a component's text."""
        return text.replace("${CLAUDE_PLUGIN_ROOT}", str(self.root)).replace(
            "${CLAUDE_PLUGIN_DATA}", str(self.data_dir)
        )

    def components(self) -> dict[str, int]:
        """How many of each component the plugin has (files on disk, for listing)."""
        return {
            "commands": sum(1 for _ in _markdown(self.commands, recursive=True)),
            "agents": sum(1 for _ in _markdown(self.agents, recursive=True)),
            "skills": sum(1 for _ in _skill_files(self.skills)),
            "output styles": sum(1 for _ in _markdown(self.output_styles, recursive=False)),
            "hooks": len([p for p in self.hook_files if p.is_file()]) + len(self.inline_hooks),
            "mcp": len([p for p in self.mcp_files if p.is_file()]) + len(self.inline_mcp),
        }


@dataclass
class FoundPlugins:
    """The plugins found, the first of each name kept, with what was skipped and hidden."""

    plugins: list[Plugin] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, plugin: Plugin) -> None:
        for kept in self.plugins:
            if kept.name == plugin.name:
                self.notes.append(
                    f"plugin {plugin.name!r} in {plugin.root} is hidden by {kept.root}"
                )
                return
        self.plugins.append(plugin)


def is_plugin_dir(root: Path) -> bool:
    """Whether `root` looks like a plugin: a manifest, or a default component."""
    if (root / MANIFEST).is_file():
        return True
    layout = ("commands", "agents", "skills", "output-styles", "hooks/hooks.json", ".mcp.json")
    return any((root / p).exists() for p in layout) or (root / "SKILL.md").is_file()


def load_plugin(
    root: Path, *, source: str, data_home: Path, key: str = "", name: str | None = None
) -> Plugin | Problem:
    """The plugin in `root`, or the `Problem` that stops it. `name` is the fallback
    name for a plugin without a manifest (default: the folder's name)."""
    path = root / MANIFEST
    manifest: dict[str, Any] = {}
    if path.is_file():
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            return Problem(str(path), f"is not valid JSON ({_why(e)}); fix it or remove the plugin")
        if not isinstance(data, dict):
            return Problem(str(path), 'must hold a JSON object (`{"name": "my-plugin"}`)')
        manifest = data
    elif not root.is_dir():
        return Problem(str(root), "is not a folder")
    try:
        return _plugin(root, manifest, source, data_home, key, name)
    except ManifestError as e:
        return Problem(str(path), str(e), e.key)


def _plugin(
    root: Path,
    manifest: dict[str, Any],
    source: str,
    data_home: Path,
    key: str,
    fallback: str | None,
) -> Plugin:
    if manifest:
        name = manifest.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ManifestError("name", 'is required: the plugin\'s kebab-case name ("my-plugin")')
    else:
        name = fallback or root.name
    if not _NAME.fullmatch(name):
        raise ManifestError("name", f"{name!r} must be kebab-case, with no spaces (my-plugin)")
    for text_key in _TEXT_KEYS:
        if text_key in manifest and not isinstance(manifest[text_key], str):
            raise ManifestError(text_key, f"must be a string, not {_kind(manifest[text_key])}")
    keywords = manifest.get("keywords")
    if keywords is not None and not (
        isinstance(keywords, list) and all(isinstance(k, str) for k in keywords)
    ):
        raise ManifestError("keywords", 'must be a list of strings (["review", "git"])')
    author = manifest.get("author")
    if author is not None and not (
        isinstance(author, dict) and isinstance(author.get("name", ""), str)
    ):
        raise ManifestError("author", 'must be an object ({"name": "...", "email": "..."})')
    folders: dict[str, tuple[Path, ...]] = {}
    for field_name, (default, replaces) in _FOLDERS.items():
        declared = _paths(root, manifest, field_name)
        if declared is None or not replaces:
            base = (root / default,)
            if field_name == "skills" and not base[0].exists() and (root / "SKILL.md").is_file():
                base = (root,)  # a single-skill plugin
            folders[field_name] = (*base, *(declared or ()))
        else:
            folders[field_name] = declared
    hook_files, inline_hooks = _files_or_inline(root, manifest, "hooks", root / "hooks/hooks.json")
    mcp_files, inline_mcp = _files_or_inline(root, manifest, "mcpServers", root / ".mcp.json")
    return Plugin(
        name=name,
        root=root,
        source=source,
        data_dir=data_home / name,
        key=key,
        version=manifest.get("version"),
        description=manifest.get("description") or "",
        author=(author or {}).get("name") if isinstance(author, dict) else None,
        commands=folders["commands"],
        agents=folders["agents"],
        skills=folders["skills"],
        output_styles=folders["outputStyles"],
        hook_files=hook_files,
        inline_hooks=inline_hooks,
        mcp_files=mcp_files,
        inline_mcp=inline_mcp,
        manifest=manifest,
    )


def _paths(root: Path, manifest: Mapping[str, Any], key: str) -> tuple[Path, ...] | None:
    """A component key's paths (None when the manifest does not declare it)."""
    if key not in manifest or manifest[key] is None:
        return None
    value = manifest[key]
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise ManifestError(key, f'must be a "./path" or a list of them, not {_kind(value)}')
    return tuple(_inside(root, key, v) for v in items)


def _inside(root: Path, key: str, rel: str) -> Path:
    if not rel.startswith("./"):
        raise ManifestError(key, f"{rel!r} must start with ./ (a path inside the plugin)")
    resolved = (root / rel).resolve()
    top = root.resolve()
    if resolved == top or top not in resolved.parents:
        raise ManifestError(key, f"{rel!r} must name a file or folder inside the plugin")
    return root / rel[2:].rstrip("/")


def _files_or_inline(
    root: Path, manifest: Mapping[str, Any], key: str, default: Path
) -> tuple[tuple[Path, ...], tuple[Mapping[str, Any], ...]]:
    """`hooks`/`mcpServers`: the default file plus declared paths or inline objects."""
    files: list[Path] = [default]
    inline: list[Mapping[str, Any]] = []
    value = manifest.get(key)
    entries = value if isinstance(value, list) else ([] if value is None else [value])
    for entry in entries:
        if isinstance(entry, dict):
            inline.append(entry)
        elif isinstance(entry, str):
            path = _inside(root, key, entry)
            if path.resolve() != default.resolve():  # listing the default loads it once
                files.append(path)
        else:
            raise ManifestError(
                key, f"must be a path, a list of paths or an object, not {_kind(entry)}"
            )
    return tuple(files), tuple(inline)


def plugin_dirs(
    dirs: Sequence[Path], *, data_home: Path, found: FoundPlugins | None = None
) -> FoundPlugins:
    """Plugins from `--plugin-dir` folders; a folder that is not a plugin is a `Problem`."""
    found = found or FoundPlugins()
    for d in dirs:
        root = Path(d).expanduser()
        if not root.is_dir():
            found.problems.append(Problem(str(root), "--plugin-dir: no such folder"))
            continue
        if not is_plugin_dir(root):
            found.problems.append(
                Problem(
                    str(root),
                    "--plugin-dir: not a plugin (no .claude-plugin/plugin.json, commands/, "
                    "agents/, skills/, output-styles/, hooks/hooks.json or .mcp.json)",
                )
            )
            continue
        loaded = load_plugin(root.resolve(), source="--plugin-dir", data_home=data_home)
        if isinstance(loaded, Problem):
            found.problems.append(loaded)
        else:
            found.add(loaded)
    return found


def find_plugins(
    *,
    dirs: Sequence[Path],
    installed: Iterable[Any],
    enabled: Mapping[str, Any] | None,
    data_home: Path,
) -> FoundPlugins:
    """`--plugin-dir` plugins, then each installed plugin (`plugin_registry.Installed`)
    whose `enabledPlugins` key is true; the first plugin of a name wins."""
    found = plugin_dirs(dirs, data_home=data_home)
    for item in installed:
        if not _enabled(enabled, item.key):
            continue
        if not item.path.is_dir():
            found.problems.append(
                Problem(
                    str(item.path),
                    f"plugin {item.key} is enabled but its folder is missing; reinstall it "
                    f"(bridle plugins install, or claude plugin install {item.key})",
                )
            )
            continue
        loaded = load_plugin(
            item.path, source=item.source, data_home=data_home, key=item.key, name=item.name
        )
        if isinstance(loaded, Problem):
            found.problems.append(loaded)
        else:
            found.add(loaded)
    return found


def _enabled(enabled: Mapping[str, Any] | None, key: str) -> bool:
    return isinstance(enabled, Mapping) and enabled.get(key) is True


def _markdown(paths: Iterable[Path], *, recursive: bool) -> Iterable[Path]:
    for p in paths:
        if p.is_file() and p.suffix == ".md":
            yield p
        elif p.is_dir():
            yield from sorted(p.rglob("*.md") if recursive else p.glob("*.md"))


def _skill_files(paths: Iterable[Path]) -> Iterable[Path]:
    for p in paths:
        if (p / "SKILL.md").is_file():
            yield p / "SKILL.md"
        elif p.is_dir():
            yield from sorted(p.glob("*/SKILL.md"))


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false"}.get(
        type(value), type(value).__name__
    )


def _why(e: Exception) -> str:
    if isinstance(e, json.JSONDecodeError):
        return f"{e.msg} at line {e.lineno}"
    if isinstance(e, OSError):
        return e.strerror or str(e)
    return str(e)
