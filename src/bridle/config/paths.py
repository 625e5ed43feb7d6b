"""Where bridle keeps its files: `$BRIDLE_HOME` (default `~/.bridle`).

Paths are computed from an environment mapping passed in, never cached in module
state, so tests point `BRIDLE_HOME` and `HOME` at temp dirs without monkeypatching.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def user_home(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    home = env.get("HOME")
    return Path(home) if home else Path.home()


def bridle_home(env: Mapping[str, str] | None = None) -> Path:
    """`$BRIDLE_HOME`, else `~/.bridle`. Not created here; writers create it."""
    env = os.environ if env is None else env
    explicit = env.get("BRIDLE_HOME")
    if explicit:
        return Path(explicit).expanduser()
    return user_home(env) / ".bridle"


def database_path(env: Mapping[str, str] | None = None) -> Path:
    return bridle_home(env) / "bridle.db"


def user_settings_path(env: Mapping[str, str] | None = None) -> Path:
    """The user layer of settings: `$BRIDLE_HOME/settings.json`."""
    return bridle_home(env) / "settings.json"


def managed_settings_path() -> Path:
    """Settings an administrator enforces over every other layer."""
    return Path("/etc/bridle/managed-settings.json")


def claude_json_path(env: Mapping[str, str] | None = None, home: Path | None = None) -> Path:
    """Where Claude Code keeps its user and local MCP scopes: `~/.claude.json`, or
    `$CLAUDE_CONFIG_DIR/.claude.json` when that is set."""
    env = os.environ if env is None else env
    config_dir = env.get("CLAUDE_CONFIG_DIR")
    if config_dir:
        return Path(config_dir).expanduser() / ".claude.json"
    return (home or user_home(env)) / ".claude.json"
