"""Session leases (`store.lease`, defect 5): one writing process per session.

A second taker, in this process or another, gets `SessionInUse` (a usage error,
exit 64) naming the holder's pid and the `--fork-session` way out; release
removes the lock file and frees the session; a holder killed with SIGKILL never
leaves it locked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridle.core.errors import UsageError
from bridle.store.lease import SessionInUse, acquire, lock_path

SID = "0f1e2d3c-4b5a-4968-8776-655443322110"


def test_a_second_taker_is_refused_until_release(tmp_path: Path) -> None:
    lease = acquire(tmp_path, SID)
    assert lease.held and lock_path(tmp_path, SID).read_text() == f"{os.getpid()}\n"
    with pytest.raises(SessionInUse) as refused:
        acquire(tmp_path, SID)
    assert isinstance(refused.value, UsageError)
    assert (refused.value.session_id, refused.value.pid) == (SID, os.getpid())
    assert str(refused.value) == (
        f"session {SID} is in use by bridle process {os.getpid()}; wait for it to finish, or "
        f'continue in a new session with --fork-session (e.g. `bridle -r 0f1e2d3c --fork-session -p "..."`)'
    )
    lease.release()
    assert not lease.held and not lock_path(tmp_path, SID).exists()
    lease.release()  # a second release is harmless
    with acquire(tmp_path, SID) as again:
        assert again.held
    assert not again.held and not lock_path(tmp_path, SID).exists()


def test_leases_on_different_sessions_are_independent(tmp_path: Path) -> None:
    with acquire(tmp_path, SID), acquire(tmp_path, "another-session") as other:
        assert other.held
        assert sorted(p.name for p in (tmp_path / "locks").iterdir()) == [
            f"{SID}.lock",
            "another-session.lock",
        ]


HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from bridle.store.lease import acquire
    lease = acquire(Path(sys.argv[1]), sys.argv[2])
    print("held", flush=True)
    time.sleep(60)
    """
)


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the lease on SID."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path), SID], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "held\n"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def test_another_process_holding_the_lease_is_named(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(SessionInUse) as refused:
        acquire(tmp_path, SID)
    assert refused.value.pid == holder.pid
    assert f"in use by bridle process {holder.pid};" in str(refused.value)


def test_a_killed_holder_leaves_the_session_free(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    # The kernel dropped the flock with the process; its stale file is reused.
    assert lock_path(tmp_path, SID).exists()
    with acquire(tmp_path, SID) as lease:
        assert lease.held
        assert lock_path(tmp_path, SID).read_text() == f"{os.getpid()}\n"


def test_a_stale_file_with_junk_does_not_block(tmp_path: Path) -> None:
    path = lock_path(tmp_path, SID)
    path.parent.mkdir(parents=True)
    path.write_text("not a pid at all, and longer than the old one\n")
    with acquire(tmp_path, SID):
        assert path.read_text() == f"{os.getpid()}\n"
