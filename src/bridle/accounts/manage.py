"""Account operations behind `bridle accounts ...`: add, rename, remove, providers,
teardown and the status `list`/`show` report.

Each operation keeps every reference consistent: a rename moves the directory (one
atomic rename), then updates `account.json`, the default account, keyring entries,
the last-session records and live tmux portal names. Removal tears the links down
first, refuses while bridle-quarantined conflict copies are inside (they are user
data), and then deletes only the account's own directory, never following a link.
Functions return what changed for the CLI to print; they never print or prompt.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bridle.accounts import sessions
from bridle.accounts.keys import KeyStore, load_oauth_token, system_keyring
from bridle.accounts.layout import (
    AccountPaths,
    Change,
    catalog_sharing,
    quarantined_entries,
    setup_account,
    setup_tool,
    teardown_account,
    teardown_tool,
)
from bridle.accounts.runner import Accounts, rename_tmux_sessions
from bridle.accounts.specs import TOOLS, CliSpec, catalog_entry, tool
from bridle.accounts.store import Account, validate_name
from bridle.core.errors import UsageError


def add_account(
    ctx: Accounts,
    name: str,
    providers: list[str],
    isolation: str,
    sharing: Mapping[str, bool] | None = None,
) -> tuple[Account, list[Change]]:
    for p in providers:
        tool(p)
    for entry_id in sharing or {}:
        catalog_entry(entry_id)
    account = ctx.store.create(name, providers or ["claude"], isolation)
    account.shared = dict(sharing or {})
    ctx.store.save(account)
    changes = setup_account(ctx.paths(name), account, now=ctx.now())
    if ctx.store.default() is None:
        ctx.store.set_default(name)
    return account, changes


def add_provider(ctx: Accounts, name: str, provider: str) -> list[Change]:
    spec = tool(provider)
    account = ctx.store.load(name)
    # An existing config dir (say, left by an earlier remove-provider) gives up only
    # its shareable entries; credentials stay in the account.
    changes = setup_tool(ctx.paths(name), spec, now=ctx.now())
    if spec.name not in account.providers:
        account.providers.append(spec.name)
        ctx.store.save(account)
    return changes


def remove_provider(ctx: Accounts, name: str, provider: str) -> list[Change]:
    spec = tool(provider)
    account = ctx.store.load(name)
    if spec.name not in account.providers:
        raise UsageError(
            f"account {name!r} has no {spec.name} (it has {', '.join(account.providers)})."
        )
    if account.providers == [spec.name]:
        raise UsageError(
            f"{spec.name} is the only provider of {name!r}; remove the account instead "
            f"with `bridle accounts rm {name}`."
        )
    changes = teardown_tool(ctx.paths(name), spec)
    account.providers.remove(spec.name)
    if account.default_provider == spec.name:
        account.default_provider = account.providers[0]
    ctx.store.save(account)
    return changes


def set_default_provider(ctx: Accounts, name: str, provider: str) -> Account:
    spec = tool(provider)
    account = ctx.store.load(name)
    if spec.name not in account.providers:
        raise UsageError(
            f"account {name!r} has no {spec.name}; add it first with "
            f"`bridle accounts add-provider {name} {spec.name}`."
        )
    account.default_provider = spec.name
    ctx.store.save(account)
    return account


def set_sharing(ctx: Accounts, name: str, entry_id: str, shared: bool) -> list[Change]:
    entry = catalog_entry(entry_id)
    account = ctx.store.load(name)
    if shared == entry.shared:
        account.shared.pop(entry.id, None)
    else:
        account.shared[entry.id] = shared
    ctx.store.save(account)
    return setup_account(ctx.paths(name), account, now=ctx.now())


def rename_account(ctx: Accounts, old: str, new: str) -> list[str]:
    validate_name(new)
    account = ctx.store.load(old)
    ctx.store.refuse_case_variant(new, besides=old)
    # On a case-insensitive filesystem `new` may be `old`'s own directory.
    case_only = new != old and new.lower() == old.lower()
    if not case_only and (ctx.store.exists(new) or ctx.store.dir(new).exists()):
        raise UsageError(f"{new!r} is taken; choose another name or remove that account first.")
    keys = KeyStore(ctx.store.dir(old), old, system_keyring(ctx.env))
    was_default = ctx.store.default() == old
    os.rename(ctx.store.dir(old), ctx.store.dir(new))
    done = [f"moved {ctx.store.dir(old)} -> {ctx.store.dir(new)}"]
    account.name = new
    ctx.store.save(account)
    if was_default:
        ctx.store.set_default(new)
        done.append("default account updated")
    keys.dir = ctx.store.dir(new)
    if keys.backend is not None and keys.names():
        keys.move_to(new)
        done.append("keyring entries moved")
    sessions.rename_account(ctx.record_file, old, new)
    for target in rename_tmux_sessions(old, new, ctx.env):
        done.append(f"tmux session renamed to {target}")
    return done


def remove_account(ctx: Accounts, name: str) -> list[Change]:
    ctx.store.load(name)
    paths = ctx.paths(name)
    kept = quarantined_entries(paths)
    if kept:
        listing = "\n  ".join(str(p) for p in kept)
        raise UsageError(
            f"account {name!r} holds conflict copies bridle set aside (your data):\n  {listing}\n"
            "Move or delete them yourself, then run `bridle accounts rm` again."
        )
    changes = teardown_account(paths)
    keys = KeyStore(ctx.store.dir(name), name, system_keyring(ctx.env))
    if keys.backend is not None:
        for key in keys.names():
            keys.remove(key)
    if ctx.store.default() == name:
        ctx.store.set_default(None)
    # rmtree never follows symlinks; teardown already removed the shared ones.
    shutil.rmtree(ctx.store.dir(name))
    changes.append(Change("removed", ctx.store.dir(name)))
    return changes


# --- status ------------------------------------------------------------------------


def login_state(paths: AccountPaths, spec: CliSpec) -> str:
    tool_dir = paths.tool_dir(spec)
    if spec.name == "claude":
        if load_oauth_token(paths.root):
            return "token"
        if (tool_dir / ".credentials.json").is_file():
            return "logged in"
        try:
            data = json.loads((tool_dir / ".claude.json").read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("oauthAccount"):
                return "logged in"
        except (OSError, ValueError):
            pass
        return "not logged in"
    for name in spec.credential_files:
        if (tool_dir / name).is_file():
            return "logged in"
    return "not logged in"


@dataclass(frozen=True)
class Status:
    """One account as `bridle accounts list`/`show` report it: login state and last use per
    provider, and which catalog entries it shares."""

    account: Account
    default: bool
    providers: dict[str, dict[str, Any]]
    sharing: dict[str, bool]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.account.name,
            "default": self.default,
            "isolation": self.account.isolation,
            "default_provider": self.account.default_provider,
            "providers": self.providers,
            "created": self.account.created,
        }
        if self.account.isolation == "home":
            data["shared"] = self.sharing
        return data


def status(ctx: Accounts, name: str) -> Status:
    account = ctx.store.load(name)
    paths = ctx.paths(name)
    records = sessions.last_used_by_account(ctx.record_file)
    providers = {}
    for pname in account.providers:
        spec = TOOLS[pname]
        record = records.get(f"{name}:{pname}") or {}
        providers[pname] = {
            "login": login_state(paths, spec),
            "last_used": account.last_used.get(pname),
            "last_session": record.get("id"),
            "config_dir": str(paths.config_env_value(spec)),
        }
    return Status(account, ctx.store.default() == name, providers, catalog_sharing(account))
