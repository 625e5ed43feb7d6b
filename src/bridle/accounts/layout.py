"""An account's directories and the symlinks that share data with the real setup.

Every account keeps its CLIs' config under `<account>/home/`: `.claude`, `.codex`,
`.gemini`, `.copilot`. In `config-dir` isolation each CLI is pointed there through
its own variable and HOME is left alone; in `home` isolation HOME is that directory
too, and the CLI-tool catalog (`.aws`, `.config/gh`, ...) is symlinked into it per
the account's sharing choices. Shared entries (sessions, skills, settings...) are
symlinks into the *primary* config dirs, the user's real `~/.claude` and friends:
that is the shared store.

Data safety is the point of this module, because this is where altergo lost data:
a real file or directory is never deleted, nor overwritten without a copy kept. Data
found where a link should go is moved into the shared store when nothing is there
yet, merged entry by entry when both sides have a directory (a file the store holds
byte for byte is not kept twice), and otherwise quarantined under
`<name>.bridle-conflict-<ts>`. A shared file a CLI saved over its link (by renaming
a temp file) is carried back into the store after the launch, if nobody changed the
store's copy meanwhile. Credential files are never moved or linked. Teardown
removes only symlinks that point into the shared store. Every function returns the
`Change`s it made, for the CLI to print; none of them prints.
"""

from __future__ import annotations

import filecmp
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bridle.accounts.files import atomic_write_bytes, quarantine, timestamp
from bridle.accounts.specs import CATALOG, TOOLS, CliSpec
from bridle.accounts.store import Account
from bridle.config.paths import user_home


@dataclass(frozen=True)
class Change:
    """One thing a setup or repair did to an account's files, as the CLI prints it."""

    kind: str  # linked, promoted, merged, quarantined, unlinked, kept
    path: Path
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind:<11} {self.path}" + (f"  ({self.detail})" if self.detail else "")


@dataclass(frozen=True)
class AccountPaths:
    """Where one account's files live, and where the primary (shared) ones live."""

    root: Path
    real_home: Path

    @property
    def home(self) -> Path:
        return self.root / "home"

    def tool_dir(self, spec: CliSpec) -> Path:
        return self.home / spec.dot_dir

    def config_env_value(self, spec: CliSpec) -> Path:
        return self.home if spec.config_env_is_home else self.tool_dir(spec)

    def primary_dir(self, spec: CliSpec) -> Path:
        return self.real_home / spec.dot_dir

    @property
    def claude_json(self) -> Path:
        return self.tool_dir(TOOLS["claude"]) / ".claude.json"

    @property
    def primary_claude_json(self) -> Path:
        return self.real_home / ".claude.json"


def account_paths(root: Path, env: Mapping[str, str] | None = None) -> AccountPaths:
    """`BRIDLE_REAL_HOME` (set inside a `home` account) wins over HOME."""
    env = os.environ if env is None else env
    real = env.get("BRIDLE_REAL_HOME")
    return AccountPaths(root=root, real_home=Path(real) if real else user_home(env))


def _points_to(link: Path, target: Path) -> bool:
    raw = os.readlink(link)
    if Path(raw) == target:
        return True
    return os.path.realpath(link) == os.path.realpath(target)


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def link_shared(
    spec: CliSpec, entry: str, src: Path, dst: Path, *, now: datetime | None = None
) -> list[Change]:
    """Make `dst` (in the account) a symlink to `src` (in the shared store), safely."""
    if entry in spec.credential_files or not spec.is_shared(entry):
        raise ValueError(f"{spec.name}: {entry!r} is not a shared entry")
    is_dir = entry in spec.shared_dirs
    if dst.is_symlink():
        if _points_to(dst, src):
            return []
        return [Change("kept", dst, f"links to {os.readlink(dst)}; left alone")]
    if not _exists(dst):
        if is_dir and not _exists(src):
            src.mkdir(parents=True, exist_ok=True)  # a dangling link there is the user's
        elif not _exists(src):
            return []  # nothing to share yet; a file the CLI writes is promoted later
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.symlink_to(src)
        return [Change("linked", dst, f"-> {src}")]
    changes: list[Change] = []
    if not _exists(src):
        src.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(dst), str(src))
        changes.append(Change("promoted", src, f"moved from {dst}"))
    elif is_dir and dst.is_dir() and src.is_dir():
        conflicts = dst.with_name(f"{entry}.bridle-conflict-{timestamp(now)}")
        changes += _merge_into(dst, src, conflicts)
        if any(dst.iterdir()):
            return [*changes, Change("kept", dst, "could not empty it; not linked")]
        dst.rmdir()
        changes.append(Change("merged", src, f"from {dst}"))
    else:
        moved = quarantine(dst, now=now)
        changes.append(Change("quarantined", moved, f"was {dst}; the shared {src} is kept"))
    dst.symlink_to(src)
    changes.append(Change("linked", dst, f"-> {src}"))
    return changes


def _merge_into(source: Path, into: Path, conflicts: Path) -> list[Change]:
    """Move every child of `source` into `into`; a clash goes under `conflicts`."""
    changes: list[Change] = []
    for child in sorted(source.iterdir()):
        target = into / child.name
        if not _exists(target):
            shutil.move(str(child), str(target))
        elif _real_dir(child) and _real_dir(target):
            changes += _merge_into(child, target, conflicts / child.name)
            if not any(child.iterdir()):
                child.rmdir()
        elif _same_file_content(child, target):
            child.unlink()  # the store already holds these very bytes
        else:
            conflicts.mkdir(parents=True, exist_ok=True)
            shutil.move(str(child), str(conflicts / child.name))
            changes.append(Change("quarantined", conflicts / child.name, f"clashed with {target}"))
    return changes


def _same_file_content(a: Path, b: Path) -> bool:
    if a.is_symlink() or b.is_symlink() or not (a.is_file() and b.is_file()):
        return False
    return filecmp.cmp(a, b, shallow=False)


def _real_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def setup_tool(paths: AccountPaths, spec: CliSpec, *, now: datetime | None = None) -> list[Change]:
    """Create the account's config dir for `spec` and link its shared entries.

    Idempotent; also the add-provider path, where an existing (orphaned) config dir
    gives up only its shareable entries and keeps its credentials.
    """
    tool_dir = paths.tool_dir(spec)
    tool_dir.mkdir(parents=True, exist_ok=True)
    primary = paths.primary_dir(spec)
    changes: list[Change] = []
    for entry in spec.shared_entries:
        changes += link_shared(spec, entry, primary / entry, tool_dir / entry, now=now)
    return changes


@dataclass(frozen=True)
class SharedFileState:
    """Whether an account's shared file was bridle's link when a launch began, and
    the identity (inode, size, mtime) of the shared copy it pointed to."""

    linked: bool
    stamp: tuple[int, int, int] | None


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def shared_file_states(paths: AccountPaths, spec: CliSpec) -> dict[str, SharedFileState]:
    """Snapshot the account's shared files before a CLI runs (see `adopt_replaced_files`)."""
    tool_dir, primary = paths.tool_dir(spec), paths.primary_dir(spec)
    states = {}
    for entry in spec.shared_files:
        dst, src = tool_dir / entry, primary / entry
        linked = dst.is_symlink() and _points_to(dst, src)
        states[entry] = SharedFileState(linked, _stamp(src) if linked else None)
    return states


def adopt_replaced_files(
    paths: AccountPaths,
    spec: CliSpec,
    before: dict[str, SharedFileState],
) -> list[Change]:
    """Carry a shared file a CLI saved over bridle's link back into the shared store.

    Some CLIs save by renaming a temp file over the path (Copilot's `mcp-config.json`
    does), which replaces the link with a real file that only this account sees. If
    the shared copy is the one the link pointed to when the launch began, the new
    file is the CLI's edit of it: it becomes the shared copy (the one it replaces is
    kept under `<account>/backups/<tool>/`) and the link is restored. If another
    account changed the shared copy meanwhile, nothing is adopted: `setup_tool`
    then quarantines this account's file, so neither edit is lost.
    """
    tool_dir, primary = paths.tool_dir(spec), paths.primary_dir(spec)
    changes: list[Change] = []
    for entry, state in before.items():
        dst, src = tool_dir / entry, primary / entry
        if not state.linked or dst.is_symlink() or not dst.is_file():
            continue
        if state.stamp is None or _stamp(src) != state.stamp:
            continue
        backup = paths.root / "backups" / spec.name / entry
        backup.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, backup)
        atomic_write_bytes(src, dst.read_bytes())
        dst.unlink()
        dst.symlink_to(src)
        changes.append(Change("promoted", src, f"{spec.display} rewrote it in {dst}"))
    return changes


def _into_store(link: Path, stores: list[Path]) -> bool:
    raw = Path(os.readlink(link))
    target = raw if raw.is_absolute() else link.parent / raw
    resolved = Path(os.path.realpath(link))
    for store in stores:
        for candidate in (target, resolved):
            if candidate == store or store in candidate.parents:
                return True
        real_store = Path(os.path.realpath(store))
        if resolved == real_store or real_store in resolved.parents:
            return True
    return False


def teardown_tool(paths: AccountPaths, spec: CliSpec) -> list[Change]:
    """Remove the symlinks in the account's config dir that point into the store."""
    tool_dir = paths.tool_dir(spec)
    if not _real_dir(tool_dir):
        return []
    store = [paths.primary_dir(spec)]
    changes = []
    for child in sorted(tool_dir.iterdir()):
        if child.is_symlink() and _into_store(child, store):
            child.unlink()
            changes.append(Change("unlinked", child))
    return changes


def catalog_sharing(account: Account) -> dict[str, bool]:
    return {e.id: account.shared.get(e.id, e.shared) for e in CATALOG}


def apply_catalog(paths: AccountPaths, account: Account) -> list[Change]:
    """For a `home` account, link or unlink each catalog entry per its sharing."""
    changes: list[Change] = []
    sharing = catalog_sharing(account)
    for entry in CATALOG:
        for rel in entry.paths:
            src, dst = paths.real_home / rel, paths.home / rel
            if not sharing[entry.id]:
                if dst.is_symlink() and _points_to(dst, src):
                    dst.unlink()
                    changes.append(Change("unlinked", dst, f"{entry.name} now isolated"))
                continue
            if not _exists(src) or dst.is_symlink():
                if dst.is_symlink() and not _points_to(dst, src):
                    changes.append(Change("kept", dst, f"links to {os.readlink(dst)}"))
                continue
            if dst.exists():
                # The account's own credentials for this tool: never merged or moved.
                changes.append(Change("kept", dst, f"account has its own {entry.name} data"))
                continue
            if dst.parent.is_symlink():
                changes.append(Change("kept", dst.parent, "is a symlink; not linking inside it"))
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.symlink_to(src)
            changes.append(Change("linked", dst, f"-> {src}"))
    return changes


def teardown_catalog(paths: AccountPaths) -> list[Change]:
    changes = []
    for entry in CATALOG:
        for rel in entry.paths:
            dst = paths.home / rel
            if dst.is_symlink() and _into_store(dst, [paths.real_home / rel]):
                dst.unlink()
                changes.append(Change("unlinked", dst))
    return changes


def setup_account(
    paths: AccountPaths, account: Account, *, now: datetime | None = None
) -> list[Change]:
    paths.home.mkdir(parents=True, exist_ok=True)
    changes: list[Change] = []
    for name in account.providers:
        changes += setup_tool(paths, TOOLS[name], now=now)
    if account.isolation == "home":
        changes += apply_catalog(paths, account)
    else:
        changes += teardown_catalog(paths)
    return changes


def teardown_account(paths: AccountPaths) -> list[Change]:
    changes: list[Change] = []
    for spec in TOOLS.values():
        changes += teardown_tool(paths, spec)
    return changes + teardown_catalog(paths)


def quarantined_entries(paths: AccountPaths) -> list[Path]:
    """Conflict copies bridle set aside inside the account (user data to look at)."""
    if not paths.home.is_dir():
        return []
    found = []
    for parent, dirs, files in os.walk(paths.home):  # does not follow symlinks
        for name in dirs + files:
            if ".bridle-conflict-" in name:
                found.append(Path(parent) / name)
    return sorted(found)
