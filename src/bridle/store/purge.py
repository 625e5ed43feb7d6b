"""Delete everything bridle stored for one of its own sessions.

A bridle session lives in three places under `$BRIDLE_HOME`: its rows in
`bridle.db` (the session and, by cascade, its events), the full text of tool
outputs too long for the model (`tool-output/<session id>/`, where the engine
points `ToolContext.output_dir` and Bash spools), and the lock file of its lease
(`locks/<session id>.lock`). `purge_session` takes the session's lease first, so
a session another process is writing is refused, never deleted under it; then
it deletes the rows, the outputs directory and (by releasing the lease) the lock
file, and returns what it removed so the front end can say so. The history
index entry is the caller's to drop (`history` sits beside `store`, not below).
Forks of the session keep their own rows and outputs.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bridle.core.errors import UserError
from bridle.store.lease import SessionInUse, acquire, lock_path
from bridle.store.sessions import SessionStore


def output_dir(home: Path, session_id: str) -> Path:
    """Where the session's spilled tool outputs live (engine.setup uses the same)."""
    return home / "tool-output" / session_id


@dataclass(frozen=True)
class Purged:
    """What purging one session removed, for the line `describe` prints."""

    session_id: str
    events: int
    outputs: int  # files removed from the outputs directory
    output_bytes: int
    output_dir: Path | None  # None when the session had none
    lock_file: Path | None  # None when there was no lock file

    def describe(self) -> str:
        parts = [f"{self.events} event{'' if self.events == 1 else 's'}"]
        if self.output_dir is not None:
            noun = "output" if self.outputs == 1 else "outputs"
            parts.append(
                f"{self.outputs} saved tool {noun} ({_size(self.output_bytes)}) in {self.output_dir}"
            )
        if self.lock_file is not None:
            parts.append(f"its lock file {self.lock_file}")
        return f"deleted session {self.session_id}: " + ", ".join(parts)


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    size = float(n)
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            break
    return f"{size:.1f} {unit}"


def purge_session(conn: sqlite3.Connection, home: Path, session_id: str) -> Purged:
    """Delete the session's rows, spilled outputs and lock file; see the module doc."""
    store = SessionStore(conn)
    lock = lock_path(home, session_id)
    had_lock = lock.exists()
    try:
        lease = acquire(home, session_id)
    except SessionInUse as e:
        holder = f"bridle process {e.pid}" if e.pid else "another bridle process"
        raise UserError(
            f"session {session_id} is in use by {holder}: wait for it to finish (or stop it), "
            f"then delete the session. Nothing was deleted."
        ) from None
    try:
        (events,) = conn.execute(
            "SELECT count(*) FROM events WHERE session_id = ?", (session_id,)
        ).fetchone()
        store.delete(session_id)
        outputs, size, where = _remove_outputs(output_dir(home, session_id))
    finally:
        lease.release()  # removes the lock file
    return Purged(session_id, int(events), outputs, size, where, lock if had_lock else None)


def _remove_outputs(where: Path) -> tuple[int, int, Path | None]:
    if not where.is_dir():
        return 0, 0, None
    count = size = 0
    for path in where.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink():
                count += 1
                size += path.stat().st_size
        except OSError:
            pass
    try:
        shutil.rmtree(where)
    except OSError as e:
        raise UserError(
            f"the session's rows are deleted, but its saved tool outputs in {where} could not "
            f"be removed ({e.strerror or e}): remove the directory yourself (`rm -r '{where}'`)."
        ) from e
    return count, size, where
