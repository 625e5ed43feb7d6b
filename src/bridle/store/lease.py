"""Session leases: one writing process per session at a time.

A process that writes a session (a run, `-c`, `-r`) holds its lease: an
exclusive `flock` on `$BRIDLE_HOME/locks/<session id>.lock`, whose content is
the holder's pid. A second process asking for the same session gets
`SessionInUse`, naming the pid, instead of weaving a second conversation into
the first one's events. The kernel drops the lock when the holder's file is
closed, so a crashed or killed process never leaves a session locked; the
file itself is removed on release (a waiter that locked the removed file
notices and tries the new one). The lock is per open file, so two opens in one
process exclude each other too. Readers (list, show, export, fork's copy) need
no lease. POSIX only (Linux, macOS).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from bridle.core.errors import UsageError


class SessionInUse(UsageError):
    """Another process is writing the session (exit 64: fork it, or wait)."""

    def __init__(self, session_id: str, pid: int | None):
        self.session_id = session_id
        self.pid = pid
        holder = f"bridle process {pid}" if pid else "another bridle process"
        super().__init__(
            f"session {session_id} is in use by {holder}; wait for it to finish, or "
            f"continue in a new session with --fork-session (e.g. `bridle -r {session_id[:8]} "
            f'--fork-session -p "..."`)'
        )


class SessionLease:
    """A held lease; `release()` (or leaving a `with` block) gives it up."""

    def __init__(self, path: Path, fd: int):
        self.path = path
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        # Unlink while still holding the lock, so nobody can lock this inode and
        # believe it is the current one (acquire checks the path still names it).
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        os.close(fd)

    def __enter__(self) -> SessionLease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_path(home: Path, session_id: str) -> Path:
    return home / "locks" / f"{session_id}.lock"


def acquire(home: Path, session_id: str) -> SessionLease:
    """Take the lease on `session_id` under bridle's home `home`, or raise
    `SessionInUse` at once (no waiting)."""
    import fcntl

    path = lock_path(home, session_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise SessionInUse(session_id, pid) from None
        except BaseException:
            os.close(fd)
            raise
        if _same_file(fd, path):
            break
        os.close(fd)  # the holder released and removed it meanwhile: try the new file
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return SessionLease(path, fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None
