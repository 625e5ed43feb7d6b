"""Import an altergo installation (`~/.altergo/accounts/<name>/`) into bridle.

altergo gives each account a whole HOME: `.claude/` (with `.credentials.json` and an
optional `.oauth-token`), `.claude.json` beside it, `.codex/`, `.gemini/`,
`.copilot/`, CLI-tool dirs such as `.ssh`, and an `account.json` that is version 2
(`provider`) or version 3 (`providers` + `default_provider`). Each account becomes a
bridle account in `home` isolation (what altergo users had), with altergo's sharing
overrides from `~/.altergo/.altergo.json`. Everything is *copied*, never moved: the
altergo tree is left exactly as it was, so a failed or partial import loses nothing.
The copy is staged in a hidden directory and renamed into place in one step.
Symlinks into the real HOME are not copied; bridle recreates its own links.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridle.accounts.files import atomic_write_json
from bridle.accounts.keys import OAUTH_TOKEN_FILE
from bridle.accounts.layout import Change, setup_account
from bridle.accounts.runner import Accounts
from bridle.accounts.specs import CATALOG_IDS, TOOL_NAMES, TOOLS
from bridle.accounts.store import Account, validate_name
from bridle.core.errors import UsageError

# Regenerable bulk that is not worth copying.
_SKIP_TOP = frozenset({".cache", "account.json", "MIGRATED.txt"})


@dataclass(frozen=True)
class Imported:
    """What became of one altergo account: imported (as `name`), skipped or failed, and why."""

    source: str
    name: str | None
    status: str  # imported, skipped, failed
    detail: str = ""


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def altergo_providers(meta: dict[str, Any] | None) -> tuple[list[str], str]:
    """altergo's own coercion of v2/v3 `account.json` into (providers, default)."""
    meta = meta or {}
    if meta.get("version") == 3 and isinstance(meta.get("providers"), list):
        providers = [p for p in meta["providers"] if p in TOOL_NAMES]
        providers = list(dict.fromkeys(providers)) or ["claude"]
        default = meta.get("default_provider")
        if not (isinstance(default, str) and default in providers):
            default = providers[0]
        return providers, default
    provider = meta.get("provider")
    provider = provider if provider in TOOL_NAMES else "claude"
    return [provider], provider


def _bridle_name(name: str) -> str:
    try:
        return validate_name(name)
    except UsageError:
        return validate_name(f"altergo-{name}"[:64])


def _copy_tree(src: Path, dst: Path, real_home: Path) -> None:
    """Copy `src` to `dst` keeping modes; skip links into the real HOME's dot dirs."""
    for parent, dirs, files in os.walk(src):
        rel = Path(parent).relative_to(src)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        shutil.copymode(parent, dst / rel)
        for name in list(dirs) + files:
            path = Path(parent) / name
            if path.is_symlink():
                target = Path(os.path.realpath(path))
                if target == real_home or real_home in target.parents:
                    if name in dirs:
                        dirs.remove(name)
                    continue
                os.symlink(os.readlink(path), dst / rel / name)
                if name in dirs:
                    dirs.remove(name)
            elif name in files:
                shutil.copy2(path, dst / rel / name, follow_symlinks=False)


def import_one(
    ctx: Accounts, source: Path, sharing: dict[str, bool]
) -> tuple[Imported, list[Change]]:
    real_home = ctx.paths("x").real_home
    meta_file = source / "account.json"
    meta = _read_json(meta_file) if meta_file.exists() else None
    if meta_file.exists() and meta is None:
        return Imported(
            str(source), None, "failed", f"{meta_file} is not valid JSON; left as is"
        ), []
    if meta is None and not (source / ".claude").is_dir():
        return Imported(str(source), None, "skipped", "no account.json and no .claude"), []
    name = _bridle_name(source.name)
    if ctx.store.dir(name).exists():
        return Imported(str(source), name, "skipped", f"bridle already has {name!r}"), []
    providers, default = altergo_providers(meta)
    staging = ctx.store.root / f".import-{name}-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)  # our own copy from an interrupted run
    try:
        _stage(ctx, source, staging, name, providers, default, meta, sharing, real_home)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # copies only; the source is untouched
        raise
    os.rename(staging, ctx.store.dir(name))
    account = ctx.store.load(name)
    changes = setup_account(ctx.paths(name), account, now=ctx.now())
    detail = f"providers {', '.join(providers)}" + (
        f" (was {source.name!r})" if name != source.name else ""
    )
    return Imported(str(source), name, "imported", detail), changes


def _stage(
    ctx: Accounts,
    source: Path,
    staging: Path,
    name: str,
    providers: list[str],
    default: str,
    meta: dict[str, Any] | None,
    sharing: dict[str, bool],
    real_home: Path,
) -> None:
    home = staging / "home"
    home.mkdir(parents=True)
    for child in sorted(source.iterdir()):
        if child.name in _SKIP_TOP or child.is_symlink():
            continue
        if child.is_dir():
            _copy_tree(child, home / child.name, real_home)
        else:
            shutil.copy2(child, home / child.name, follow_symlinks=False)
    claude_dir = home / TOOLS["claude"].dot_dir
    # altergo ran Claude with HOME isolation, so `.claude.json` sat beside `.claude/`;
    # bridle sets CLAUDE_CONFIG_DIR, which looks for it inside.
    if (home / ".claude.json").is_file() and not (claude_dir / ".claude.json").exists():
        claude_dir.mkdir(exist_ok=True)
        os.rename(home / ".claude.json", claude_dir / ".claude.json")
    token = claude_dir / ".oauth-token"
    if token.is_file():
        shutil.copy2(token, staging / OAUTH_TOKEN_FILE)
        os.chmod(staging / OAUTH_TOKEN_FILE, 0o600)
    account = Account(name=name, providers=providers, default_provider=default, isolation="home")
    account.shared = dict(sharing)
    account.created = str((meta or {}).get("created") or "")
    account.extra = {"imported_from": str(source)}
    if not account.created:
        account.created = ctx.now().isoformat(timespec="seconds")
    atomic_write_json(staging / "account.json", account.to_json())


def import_altergo(ctx: Accounts, altergo_root: Path) -> list[Imported]:
    accounts_dir = altergo_root / "accounts"
    if not accounts_dir.is_dir():
        raise UsageError(
            f"no altergo accounts at {accounts_dir}; pass --from with altergo's directory."
        )
    settings = _read_json(altergo_root / ".altergo.json") or {}
    raw_shared = settings.get("shared") if isinstance(settings.get("shared"), dict) else {}
    sharing = {
        k: v for k, v in (raw_shared or {}).items() if k in CATALOG_IDS and isinstance(v, bool)
    }
    results = []
    for source in sorted(accounts_dir.iterdir()):
        if source.name.startswith(".") or not source.is_dir() or source.is_symlink():
            continue
        result, _changes = import_one(ctx, source, sharing)
        results.append(result)
    active = settings.get("active_account")
    if ctx.store.default() is None and isinstance(active, str):
        for r in results:
            if r.status == "imported" and Path(r.source).name == active and r.name:
                ctx.store.set_default(r.name)
    return results
