"""A daemon worker: a process that claims tasks from the backend and runs them.

`python -m bridle.daemon.worker --data-dir DIR --lease SECONDS` (the store is the
data dir's SQLite file, or the PostgreSQL URL in `BRIDLE_DAEMON_DATABASE`, kept
out of argv so `ps` shows no password) loops: claim a
task (a queued one, or a running one whose lease expired because its worker
died), run its pipeline, finish it. While a task runs, a control thread renews
the lease every half second (a quarter of the lease when shorter) and delivers
what clients sent: a stop request interrupts the engine, steer texts go to the running phase. A worker
that loses its lease (it stalled past the lease) interrupts the task and leaves
it to the new holder without finishing it; SIGTERM releases the lease at once so
another worker can resume the task from its last checkpoint. Workers are
processes, not threads, so a crash or `kill -9` of one loses one task's
progress since its last checkpoint and nothing else. A database that stays away
past the backend's retries (or that it refuses) ends the worker with one line
on stderr and exit 1; the daemon starts another.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any

from bridle.core.errors import BridleError
from bridle.daemon.backend import FAILED, BackendError, Task, TaskBackend
from bridle.daemon.pipeline import LeaseLost, TaskRun

DEFAULT_LEASE = 30.0


def _control(backend: TaskBackend, run: TaskRun, lease: float, done: threading.Event) -> None:
    # Stop and steer are answered within half a second, whatever the lease.
    while not done.wait(min(0.5, lease / 4)):
        if not backend.heartbeat(run.task.id, run.worker, lease):
            run.log.emit("lease_lost", worker=run.worker)
            run.interrupt(lease_lost=True)
            return
        try:
            task = backend.get(run.task.id)
            if task.stop_requested and not run.stop.is_set():
                run.log.emit("stop_requested")
                run.interrupt()
            for text in backend.take_steers(run.task.id):
                run.deliver_steer(text)
        except Exception as e:  # a busy database now and then: try again next tick
            print(f"bridle worker {run.worker}: control check failed: {e}", file=sys.stderr)


def run_task(
    backend: TaskBackend, task: Task, worker: str, data_dir: Path, env: dict[str, str],
    lease: float, share_checkpoints: bool = False,
) -> str | None:  # fmt: skip
    """Run one claimed task to its end; the final state, or None when it was left
    to another worker (lease lost, or this process is shutting down)."""
    run = TaskRun(backend, task, worker, data_dir, env, share_checkpoints=share_checkpoints)
    done = threading.Event()
    control = threading.Thread(
        target=_control, args=(backend, run, lease, done), daemon=True, name="task-control"
    )
    control.start()
    try:
        state, result, error = run.run()
    except LeaseLost:
        return None
    except BaseException as e:
        if not isinstance(e, Exception):  # SIGTERM/SIGINT: another worker resumes it
            done.set()  # no heartbeat may renew the lease after it is released
            control.join(timeout=5)
            backend.release(task.id, worker)
            raise
        state, result, error = FAILED, {}, f"{type(e).__name__}: {e}"
        run.log.emit("error", message=error)
    finally:
        done.set()
        control.join(timeout=5)
    return state if backend.finish(task.id, worker, state, result, error) else None


def serve(
    data_dir: Path, lease: float, poll: float, env: dict[str, str], database: str | None = None
) -> None:
    from bridle.daemon.backends import open_backend

    worker = f"{socket.gethostname()}:{os.getpid()}"
    backend = open_backend(database, data_dir)
    parent = os.getppid()
    try:
        # A worker whose daemon is gone (killed with -9) stops taking tasks.
        while os.getppid() == parent:
            task = backend.claim(worker, lease)
            if task is None:
                threading.Event().wait(poll)
                continue
            run_task(backend, task, worker, data_dir, env, lease, database is not None)
    finally:
        backend.close()


def _terminated(signum: int, frame: Any) -> None:
    raise SystemExit(143)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bridle.daemon.worker")
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--lease", type=float, default=DEFAULT_LEASE)
    parser.add_argument("--poll", type=float, default=0.2)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminated)
    try:
        # Not passed on: the agents' commands must not see the database's password.
        database = os.environ.pop("BRIDLE_DAEMON_DATABASE", None)
        serve(args.data_dir, args.lease, args.poll, dict(os.environ), database)
    except (SystemExit, KeyboardInterrupt):
        return 0
    except (BackendError, BridleError) as e:  # the database stayed away, or was refused
        print(f"bridle worker: {e}", file=sys.stderr)  # the daemon starts another worker
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
