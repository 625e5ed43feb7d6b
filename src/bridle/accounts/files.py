"""Safe file primitives the account code is built on: atomic writes that keep the
file mode, conflict quarantine, and a lock compatible with Claude Code's own.

Atomic writes are bridle's one writer (`store.atomic`): a unique temp file in the target's directory, are fsynced and
then `os.replace`d over the target (and the directory is fsynced), so a reader sees
the old bytes or the new bytes, never a mix. A symlinked target is written through
its link, so a dotfiles checkout stays a symlink. `quarantine` renames a real file or
directory aside under a timestamped name instead of deleting it, and `set_aside`
moves a file into a backup directory: bridle never deletes user data. `config_lock`
follows the proper-lockfile convention Claude Code uses for `~/.claude.json` (an
atomic `mkdir` of `<file>.lock`, stale once its mtime is older than ten seconds), so
a running Claude Code and bridle never write the same file at the same moment. This module does not decide *what* to write or link; callers do.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from bridle.core.errors import UserError
from bridle.store.atomic import atomic_write

# proper-lockfile's default: a lock whose mtime is older than this is abandoned.
LOCK_STALE_SECONDS = 10.0


def atomic_write_bytes(path: Path, data: bytes, *, new_mode: int = 0o600) -> None:
    """Replace `path` with `data` atomically, keeping its mode (or `new_mode` if new)."""
    atomic_write(path, data, mode=new_mode)


def atomic_write_text(path: Path, text: str, *, new_mode: int = 0o600) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), new_mode=new_mode)


def atomic_write_json(path: Path, value: Any, *, new_mode: int = 0o600) -> None:
    atomic_write_text(
        path, json.dumps(value, indent=2, ensure_ascii=False) + "\n", new_mode=new_mode
    )


def timestamp(now: datetime | None = None) -> str:
    return (now or datetime.now()).strftime("%Y%m%dT%H%M%S")


def quarantine(path: Path, *, now: datetime | None = None) -> Path:
    """Rename `path` aside to `<name>.bridle-conflict-<ts>` (plus `-N` if taken)."""
    base = f"{path.name}.bridle-conflict-{timestamp(now)}"
    dest = path.with_name(base)
    n = 2
    while dest.exists() or dest.is_symlink():
        dest = path.with_name(f"{base}-{n}")
        n += 1
    os.rename(path, dest)
    return dest


def set_aside(path: Path, directory: Path) -> Path:
    """Move `path` into `directory` under its own name (plus `-N` if taken)."""
    directory.mkdir(parents=True, exist_ok=True)
    dest = directory / path.name
    n = 2
    while dest.exists() or dest.is_symlink():
        dest = directory / f"{path.stem}-{n}{path.suffix}"
        n += 1
    shutil.move(str(path), str(dest))
    return dest


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    """Parse a JSON object file; a corrupt file is a clear error and is left untouched."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        value = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as e:
        raise UserError(
            f"{what} {path} is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}). "
            "bridle left it untouched: fix it by hand or move it aside, then retry."
        ) from e
    if not isinstance(value, dict):
        raise UserError(
            f"{what} {path} must hold a JSON object, found {type(value).__name__}. "
            "bridle left it untouched: fix it by hand or move it aside, then retry."
        )
    return value


@contextlib.contextmanager
def config_lock(
    path: Path,
    *,
    timeout: float = 30.0,
    stale: float = LOCK_STALE_SECONDS,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Path]:
    """Hold `<path>.lock` (a directory, as proper-lockfile makes it) while the body runs.

    A lock whose mtime is older than `stale` seconds belongs to a process that died
    (proper-lockfile refreshes the mtime every `stale/2` while it holds one), so it
    is removed and taken over. Gives up with a clear error after `timeout` seconds.
    """
    lock = Path(f"{path}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    deadline = clock() + timeout
    delay = 0.005
    while True:
        try:
            os.mkdir(lock)
            break
        except FileExistsError:
            pass
        try:
            age = clock() - lock.stat().st_mtime
        except FileNotFoundError:
            continue  # released between our mkdir and stat: try again at once
        if age > stale:
            with contextlib.suppress(FileNotFoundError, OSError):
                os.rmdir(lock)
            continue
        if clock() >= deadline:
            raise UserError(
                f"{lock} has been held for {age:.0f}s by another process (Claude Code or "
                "bridle). Wait for it to finish; if nothing is running, remove that directory."
            )
        sleep(delay)
        delay = min(delay * 2, 0.1)
    try:
        yield lock
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.rmdir(lock)
