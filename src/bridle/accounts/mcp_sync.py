"""Two-way sync of Claude Code's `mcpServers` between the primary `~/.claude.json`
and an account's own `.claude.json` (inside its `CLAUDE_CONFIG_DIR`).

It is a three-way merge per server name against the state last synced for that
account (`<account>/mcp-sync.json`): a server added or changed on one side is copied
to the other, a server deleted on one side is deleted on the other (so it does not
come back), and when both sides changed the same server differently the account's
version wins. Only the `mcpServers` key is rewritten; `oauthAccount` and every other
key are read and written back untouched. Each file is changed under Claude Code's
own lock (`<file>.lock`, see `files.config_lock`), always primary first to rule out
deadlock, re-read under the lock, and replaced atomically keeping its mode. A file
that is not valid JSON is never written: the sync stops with a clear error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridle.accounts.files import atomic_write_json, config_lock, read_json_object

_ABSENT: Any = object()


@dataclass(frozen=True)
class SyncResult:
    servers: list[str]
    added_to_primary: list[str]
    added_to_account: list[str]
    removed_from_primary: list[str]
    removed_from_account: list[str]

    @property
    def changed(self) -> bool:
        return bool(
            self.added_to_primary
            or self.added_to_account
            or self.removed_from_primary
            or self.removed_from_account
        )


def merge_servers(
    primary: dict[str, Any], account: dict[str, Any], base: dict[str, Any] | None
) -> dict[str, Any]:
    """The merged `mcpServers`. `base=None` (never synced) means a plain union."""
    merged: dict[str, Any] = {}
    last = base or {}
    for name in sorted(set(primary) | set(account) | set(last)):
        p = primary.get(name, _ABSENT)
        a = account.get(name, _ABSENT)
        b = last.get(name, _ABSENT)
        if a is not _ABSENT and (p is _ABSENT or a == p):
            if p is _ABSENT and b is not _ABSENT and a == b:
                continue  # primary deleted it and the account did not touch it
            merged[name] = a
        elif p is not _ABSENT and a is _ABSENT:
            if b is not _ABSENT and p == b:
                continue  # the account deleted it and primary did not touch it
            merged[name] = p
        elif p is not _ABSENT and a is not _ABSENT:
            # Both present and different: take the side that changed since last sync.
            merged[name] = p if (b is not _ABSENT and a == b) else a
    return merged


def _servers(data: dict[str, Any], path: Path) -> dict[str, Any]:
    value = data.get("mcpServers", {})
    if not isinstance(value, dict):
        from bridle.core.errors import UserError

        raise UserError(f"{path}: 'mcpServers' must be an object; fix it by hand and retry.")
    return value


def sync_claude_mcp(primary_file: Path, account_file: Path, state_file: Path) -> SyncResult:
    """Merge `mcpServers` both ways and record the result as the new base state."""
    with config_lock(primary_file), config_lock(account_file):
        primary = read_json_object(primary_file, "Claude Code config")
        account = read_json_object(account_file, "Claude Code config")
        state = read_json_object(state_file, "MCP sync state")
        base = state.get("mcpServers") if isinstance(state.get("mcpServers"), dict) else None
        p_servers = _servers(primary, primary_file)
        a_servers = _servers(account, account_file)
        merged = merge_servers(p_servers, a_servers, base)
        if merged != p_servers:
            _write_servers(primary_file, primary, merged)
        if merged != a_servers:
            _write_servers(account_file, account, merged)
        if base != merged:
            atomic_write_json(state_file, {"mcpServers": merged})
    return SyncResult(
        servers=sorted(merged),
        added_to_primary=sorted(set(merged) - set(p_servers)),
        added_to_account=sorted(set(merged) - set(a_servers)),
        removed_from_primary=sorted(set(p_servers) - set(merged)),
        removed_from_account=sorted(set(a_servers) - set(merged)),
    )


def _write_servers(path: Path, data: dict[str, Any], servers: dict[str, Any]) -> None:
    # Key order is kept (a dict update), so the diff a user sees is only mcpServers.
    out = dict(data)
    if servers or "mcpServers" in data:
        out["mcpServers"] = servers
    atomic_write_json(path, out, new_mode=0o600)


def describe(result: SyncResult) -> str:
    parts = []
    for label, names in (
        ("added to primary", result.added_to_primary),
        ("added to account", result.added_to_account),
        ("removed from primary", result.removed_from_primary),
        ("removed from account", result.removed_from_account),
    ):
        if names:
            parts.append(f"{label}: {', '.join(names)}")
    return "; ".join(parts) if parts else "in sync"


def dumps(result: SyncResult) -> str:
    return json.dumps(result.__dict__, sort_keys=True)
