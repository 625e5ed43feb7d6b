"""Which session stores are indexed: each tool's primary config dir, and every account's own.

The primary dirs honour the tools' own variables (`CLAUDE_CONFIG_DIR`,
`CODEX_HOME`, `GEMINI_CLI_HOME` which holds `.gemini`, `COPILOT_HOME`). Accounts
keep their CLIs' config under `$BRIDLE_HOME/accounts/<name>/home/.<tool>`; their
session dirs are usually symlinks into the primary ones, which the indexer
resolves so a file reached twice is read once and simply becomes visible to both
accounts. Accounts are found by listing the directory, so this works whatever
else the account has or lacks. The primary dirs belong to the account named ""
(the user's own setup). Inside an account's context (`bridle shell`, a launched
CLI) HOME and the config-dir variables point into that account; those are not
the primary dirs, so the real HOME (`BRIDLE_REAL_HOME`) is used and variables
pointing under `$BRIDLE_HOME/accounts` are ignored, and the index stays the same
from wherever it is queried. Nothing is created or written here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

TOOLS = ("claude", "codex", "gemini", "copilot")
DOT_DIRS = {"claude": ".claude", "codex": ".codex", "gemini": ".gemini", "copilot": ".copilot"}
MARKERS = {"claude": "projects", "codex": "sessions", "gemini": "tmp", "copilot": "session-state"}
PRIMARY = ""


@dataclass(frozen=True, slots=True)
class Root:
    """One tool's config dir whose sessions are indexed, and the account it belongs to."""

    tool: str
    path: Path  # the tool's config dir (the one holding MARKERS[tool])
    account: str  # "" for the user's own setup


CONFIG_ENV = {
    "claude": "CLAUDE_CONFIG_DIR",
    "codex": "CODEX_HOME",
    "gemini": "GEMINI_CLI_HOME",  # the directory that holds .gemini
    "copilot": "COPILOT_HOME",
}


def _in_accounts(path: str, env: Mapping[str, str]) -> bool:
    accounts = os.path.realpath(bridle_home(env) / "accounts")
    return os.path.realpath(os.path.expanduser(path)).startswith(accounts + os.sep)


def real_home(env: Mapping[str, str]) -> Path:
    """The user's own HOME, also inside a `home`-isolated account (whose HOME is its own)."""
    home = env.get("HOME") or str(Path.home())
    real = env.get("BRIDLE_REAL_HOME")
    return Path(real) if real and _in_accounts(home, env) else Path(home)


def primary_dir(tool: str, env: Mapping[str, str]) -> Path:
    """The user's own config dir of `tool`: its variable if the user set it, else ~/.<tool>."""
    value = env.get(CONFIG_ENV[tool])
    if value and not _in_accounts(value, env):
        path = Path(value).expanduser()
        return path / DOT_DIRS[tool] if tool == "gemini" else path
    return real_home(env) / DOT_DIRS[tool]


def bridle_home(env: Mapping[str, str]) -> Path:
    explicit = env.get("BRIDLE_HOME")
    if explicit:
        return Path(explicit).expanduser()
    return Path(env.get("HOME") or Path.home()) / ".bridle"


def account_names(env: Mapping[str, str]) -> list[str]:
    try:
        entries = os.scandir(bridle_home(env) / "accounts")
    except OSError:
        return []
    with entries:
        return sorted(e.name for e in entries if e.is_dir() and not e.name.startswith("."))


def all_roots(env: Mapping[str, str] | None = None, tools: tuple[str, ...] = TOOLS) -> list[Root]:
    """Every config dir to index, primary first; only those that exist."""
    env = os.environ if env is None else env
    out = [Root(t, primary_dir(t, env), PRIMARY) for t in tools]
    accounts = bridle_home(env) / "accounts"
    for name in account_names(env):
        for t in tools:
            out.append(Root(t, accounts / name / "home" / DOT_DIRS[t], name))
    return [
        r
        for r in out
        if (r.path / MARKERS[r.tool]).is_dir() or (r.tool == "codex" and r.path.is_dir())
    ]
