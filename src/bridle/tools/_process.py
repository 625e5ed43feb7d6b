"""Running a child process the way every tool should: scrubbed environment,
stdin from /dev/null, its own process group, output spooled to a file (stdout and
stderr merged in order), and the whole group killed on timeout or cancellation.

Spooling to a file rather than a pipe means a background grandchild that keeps
the output open never blocks us, and huge output never sits in memory; a
command whose output passes `MAX_SPOOL_BYTES` (checked as it runs, so it may
overshoot by what it writes in a quarter second) is killed like a timeout. This
module does not interpret the output or decide where a command may run.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bridle.store.atomic import new_temp_file
from bridle.tools.base import ToolContext
from bridle.tools.interrupts import held

SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
READ_LIMIT = 4 * 1024 * 1024  # bytes of spooled output read back into memory
MAX_SPOOL_BYTES = 64 * 1024 * 1024  # runaway output: the command is killed past this
GRACE_SECONDS = 2.0


def child_env(ctx: ToolContext, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a child: `ctx.env` (else `base`, else ours) without
    variables whose names look like secrets, except those in `ctx.env_allow`."""
    src = ctx.env if ctx.env is not None else (base if base is not None else os.environ)
    allow = set(ctx.env_allow)
    return {k: v for k, v in src.items() if k in allow or not SECRET_NAME.search(k)}


@dataclass
class Finished:
    """How a child process ended, and its output: the first `READ_LIMIT` bytes as text, all of
    it in `spool`."""

    exit_code: int | None  # None when killed by us
    output: str
    spool: Path  # full merged output; the caller deletes or keeps it
    size: int  # bytes in the spool
    timed_out: bool = False
    cancelled: bool = False
    overflowed: bool = False  # killed for writing more than MAX_SPOOL_BYTES


def run_group(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    cancel: threading.Event | None = None,
    spool_dir: Path | None = None,
    max_output: int = MAX_SPOOL_BYTES,
) -> Finished:
    """Run `argv` in a new session; kill its process group on timeout, cancel or
    runaway output."""
    if spool_dir is None:
        import tempfile

        spool_dir = Path(tempfile.gettempdir())
    fd, name = new_temp_file(spool_dir, "bridle-out-", ".txt")
    spool = Path(name)
    timed_out = cancelled = overflowed = False
    proc: subprocess.Popen[bytes] | None = None
    pidfd: int | None = None
    try:
        # A Ctrl-C or SIGTERM while the child starts waits until `proc` is held,
        # so the handler below can always kill the group it started.
        with held(), os.fdopen(fd, "wb") as out:
            proc = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        pidfd = _pidfd(proc.pid)
        waited = 0.0
        step = 0.05
        while True:
            try:
                _wait_exact(proc, pidfd, step)
                break
            except subprocess.TimeoutExpired:
                waited += step
                step = min(step * 2, 0.25)
                if cancel is not None and cancel.is_set():
                    cancelled = True
                elif waited >= timeout:
                    timed_out = True
                elif spool.stat().st_size > max_output:
                    overflowed = True
                if cancelled or timed_out or overflowed:
                    _kill_group(proc)
                    break
    except BaseException:
        # SIGINT/SIGTERM (or anything else) unwinding through us: the command's
        # whole group must not outlive bridle, nor its output spool.
        if proc is not None:
            _kill_group(proc)
        spool.unlink(missing_ok=True)
        raise
    finally:
        if pidfd is not None:
            os.close(pidfd)
    size = spool.stat().st_size
    with spool.open("rb") as f:
        data = f.read(READ_LIMIT)
    text = data.decode("utf-8", "replace")
    if size > READ_LIMIT:
        text += f"\n[... output continues: {size} bytes in total]"
    code = None if (timed_out or cancelled or overflowed) else proc.returncode
    return Finished(
        code, text, spool, size, timed_out=timed_out, cancelled=cancelled, overflowed=overflowed
    )


def _wait_exact(proc: subprocess.Popen[bytes], pidfd: int | None, timeout: float) -> None:
    """Popen.wait(timeout), but returning the moment the child exits: Popen polls
    with sleeps that double up to 50 ms, which adds up to that much to every short
    command; a pidfd (Linux) wakes us exactly."""
    if pidfd is None:
        proc.wait(timeout=timeout)
        return
    ready, _, _ = select.select([pidfd], [], [], timeout)
    if not ready:
        raise subprocess.TimeoutExpired(proc.args, timeout)
    proc.wait()


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):  # not Linux, or a kernel before 5.3
        return None


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the group, then SIGKILL whatever is left after a grace period."""
    pgid = proc.pid  # start_new_session makes the child its group's leader
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    try:
        proc.wait(timeout=GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        pass
    # Grandchildren may ignore SIGTERM or outlive the leader: always finish the group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=GRACE_SECONDS)
