"""Sync of Claude Code's `mcpServers` between the primary `~/.claude.json` and
the `.claude.json` of one or more accounts (inside their `CLAUDE_CONFIG_DIR`).

Each account keeps the state it last synced to (`<account>/mcp-sync.json`), and the
merge is three-way per server name against it: a server added or changed on a side
reaches every side, a server deleted on one side is deleted everywhere (so it does
not come back), and when two sides changed the same server differently the later
account's version wins (an edit beats a deletion) and the clash is reported. Several
accounts are merged in ONE pass: the primary's servers are folded with each account
in turn (each against its own last state), and the result is written to the
primary and to every account, so one run leaves them all equal. Only the
`mcpServers` key is rewritten; `oauthAccount` and every other key are read and
written back untouched. Every file is changed under Claude Code's own lock
(`<file>.lock`, see `files.config_lock`), always the primary first (which rules
out deadlock between syncs), re-read under the lock, and replaced atomically
keeping its mode. A file that is not valid JSON is never written: the sync stops
with a clear error before writing anything.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridle.accounts.files import atomic_write_json, config_lock, read_json_object

_ABSENT: Any = object()


Side = tuple[str, dict[str, Any], dict[str, Any] | None]  # (account, servers, last state)


@dataclass(frozen=True)
class SyncResult:
    """What one sync changed, for one account. `*_primary` lists the changes to
    the primary that this account's edits caused; `*_account` what the account got."""

    servers: list[str]
    added_to_primary: list[str]
    added_to_account: list[str]
    removed_from_primary: list[str]
    removed_from_account: list[str]
    updated_in_primary: list[str] = field(default_factory=list)
    updated_in_account: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.added_to_primary
            or self.added_to_account
            or self.removed_from_primary
            or self.removed_from_account
            or self.updated_in_primary
            or self.updated_in_account
        )


def _merge_one(
    current: dict[str, Any],
    account: dict[str, Any],
    base: dict[str, Any] | None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Fold one account into `current` (the primary plus the accounts folded so
    far), against that account's last synced state. Returns the merged servers and
    the names both sides changed differently (`changed` or `deleted here`/`there`)."""
    merged: dict[str, Any] = {}
    clashes: dict[str, str] = {}
    last = base or {}
    for name in sorted(set(current) | set(account) | set(last)):
        p = current.get(name, _ABSENT)
        a = account.get(name, _ABSENT)
        b = last.get(name, _ABSENT)
        if a is not _ABSENT and (p is _ABSENT or a == p):
            if p is _ABSENT and b is not _ABSENT:
                if a == b:
                    continue  # deleted on the other side, untouched here
                clashes[name] = "deleted there"
            merged[name] = a
        elif p is not _ABSENT and a is _ABSENT:
            if b is not _ABSENT:
                if p == b:
                    continue  # the account deleted it and the other side did not touch it
                clashes[name] = "deleted here"
            merged[name] = p
        elif p is not _ABSENT and a is not _ABSENT:
            # Both present and different: take the side that changed since last sync.
            if b is not _ABSENT and a == b:
                merged[name] = p
            else:
                if b is _ABSENT or p != b:
                    clashes[name] = "changed"
                merged[name] = a
    return merged, clashes


def merge_servers(
    primary: dict[str, Any], account: dict[str, Any], base: dict[str, Any] | None
) -> dict[str, Any]:
    """The merged `mcpServers` of one account. `base=None` (never synced) means a union."""
    return _merge_one(primary, account, base)[0]


def merge_all(
    primary: dict[str, Any], accounts: list[Side]
) -> tuple[dict[str, Any], dict[str, list[str]], dict[str, str]]:
    """Merge the primary with every account in one pass.

    Returns the servers every side gets, the reported conflicts per account, and for
    each server name the side whose change decided it (`primary` or an account)."""
    merged = dict(primary)
    source = dict.fromkeys(primary, "primary")
    conflicts: dict[str, list[str]] = {}
    for name, servers, base in accounts:
        after, clashes = _merge_one(merged, servers, base)
        for server, kind in clashes.items():
            other = source.get(server, "primary")
            if kind == "changed":
                text = f"changed in {other} and in {name}; kept {name}'s version"
            elif kind == "deleted there":
                text = f"deleted in {other}, changed in {name}; kept {name}'s version"
            else:
                text = f"changed in {other}, deleted in {name}; kept {other}'s version"
            conflicts.setdefault(name, []).append(f"{server}: {text}")
        for server in set(merged) | set(after):
            if merged.get(server, _ABSENT) != after.get(server, _ABSENT):
                source[server] = name
        merged = after
    return merged, conflicts, source


def _servers(data: dict[str, Any], path: Path) -> dict[str, Any]:
    value = data.get("mcpServers", {})
    if not isinstance(value, dict):
        from bridle.core.errors import UserError

        raise UserError(f"{path}: 'mcpServers' must be an object; fix it by hand and retry.")
    return value


def sync_claude_mcp(primary_file: Path, account_file: Path, state_file: Path) -> SyncResult:
    """Merge one account's `mcpServers` with the primary's, both ways."""
    return sync_claude_mcp_all(primary_file, [("account", account_file, state_file)])["account"]


def sync_claude_mcp_all(
    primary_file: Path, accounts: list[tuple[str, Path, Path]]
) -> dict[str, SyncResult]:
    """Merge the primary and every `(name, .claude.json, state file)` in one pass,
    write the result everywhere, and record it as each account's new last state."""
    with contextlib.ExitStack() as locks:
        locks.enter_context(config_lock(primary_file))
        for _name, account_file, _state in accounts:
            locks.enter_context(config_lock(account_file))
        primary = read_json_object(primary_file, "Claude Code config")
        p_servers = _servers(primary, primary_file)
        sides: list[Side] = []
        datas: list[dict[str, Any]] = []
        bases: list[dict[str, Any] | None] = []
        for name, account_file, state_file in accounts:
            data = read_json_object(account_file, "Claude Code config")
            state = read_json_object(state_file, "MCP sync state")
            base = state.get("mcpServers") if isinstance(state.get("mcpServers"), dict) else None
            sides.append((name, _servers(data, account_file), base))
            datas.append(data)
            bases.append(base)
        merged, conflicts, source = merge_all(p_servers, sides)
        # Every file was read and checked above; only now is anything written.
        if merged != p_servers:
            _write_servers(primary_file, primary, merged)
        for (_name, account_file, state_file), (_, a_servers, _b), data, base in zip(
            accounts, sides, datas, bases, strict=True
        ):
            if merged != a_servers:
                _write_servers(account_file, data, merged)
            if base != merged:
                atomic_write_json(state_file, {"mcpServers": merged})
    results = {}
    for name, a_servers, _base in sides:

        def caused(names: set[str], name: str = name) -> list[str]:
            return sorted(n for n in names if source.get(n) == name)

        results[name] = SyncResult(
            servers=sorted(merged),
            added_to_primary=caused(set(merged) - set(p_servers)),
            added_to_account=sorted(set(merged) - set(a_servers)),
            removed_from_primary=caused(set(p_servers) - set(merged)),
            removed_from_account=sorted(set(a_servers) - set(merged)),
            updated_in_primary=caused(_updated(p_servers, merged)),
            updated_in_account=sorted(_updated(a_servers, merged)),
            conflicts=conflicts.get(name, []),
        )
    return results


def _updated(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {n for n in set(before) & set(after) if before[n] != after[n]}


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
        ("removed from primary", result.removed_from_primary),
        ("updated in primary", result.updated_in_primary),
        ("added to account", result.added_to_account),
        ("removed from account", result.removed_from_account),
        ("updated in account", result.updated_in_account),
    ):
        if names:
            parts.append(f"{label}: {', '.join(names)}")
    parts += [f"conflict: {c}" for c in result.conflicts]
    return "; ".join(parts) if parts else "in sync"


def dumps(result: SyncResult) -> str:
    return json.dumps(result.__dict__, sort_keys=True)
