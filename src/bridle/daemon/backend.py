"""The task backend: the one interface between the daemon's API, its workers and storage.

A backend keeps tasks (a queue with leases), their steer/stop controls and each
task's event log (ids that only grow, so a Server-Sent Events client can resume
with `Last-Event-ID`). Every implementation (SQLite embedded today, PostgreSQL
later) passes the same conformance suite (`tests/daemon/test_backend_conformance.py`).
The rules an implementation must keep, whatever its storage:

- `create` is idempotent by `idempotency_key` and refuses (`BranchBusy`) a second
  unfinished task on the same repository and branch;
- `claim` hands a queued task, or a running task whose lease expired, to exactly
  one worker; `heartbeat` extends the lease only for its holder;
- `finish` moves a running task to a final state once: a second call, or a call
  from a worker that lost its lease, returns False and changes nothing;
- event ids increase in commit order within a task.

This module holds only values and the protocol; it does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

QUEUED = "queued"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"
FINAL_STATES = (SUCCEEDED, FAILED, CANCELLED)
STATES = (QUEUED, RUNNING, *FINAL_STATES)
PHASES = ("lead", "implement", "review", "test")


class BackendError(Exception):
    """A request the backend refuses; `status` is the HTTP status the API answers with."""

    status = 400
    type = "bad_request"


class TaskNotFound(BackendError):
    status = 404
    type = "not_found"


class BranchBusy(BackendError):
    status = 409
    type = "branch_busy"


class TaskFinished(BackendError):
    status = 409
    type = "task_finished"


@dataclass(frozen=True, slots=True)
class NewTask:
    """What a client asked for, already validated (see `daemon.validate`)."""

    repo_url: str
    task: str
    branch: str
    model: str | None = None
    account: str | None = None
    base: str | None = None
    max_cost_usd: float | None = None
    max_turns: int | None = None
    pipeline: tuple[str, ...] = PHASES
    test_command: str | None = None
    idempotency_key: str | None = None
    # Phase → another CLI that runs it (`claude@work`); phases not named run the engine.
    agents: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A phase's snapshot: the commit on the task's branch after the phase ran."""

    phase: str
    commit: str
    output: str
    cost_usd: float
    turns: int
    at: float
    round: int = 0  # which Implement/Test round (test failures send work back)
    ok: bool = True  # False: the phase failed (tests failed)

    def to_json(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "commit": self.commit,
            "output": self.output,
            "cost_usd": self.cost_usd,
            "turns": self.turns,
            "at": self.at,
            "round": self.round,
            "ok": self.ok,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Checkpoint:
        return cls(
            phase=str(d["phase"]),
            commit=str(d["commit"]),
            output=str(d.get("output", "")),
            cost_usd=float(d.get("cost_usd", 0.0)),
            turns=int(d.get("turns", 0)),
            at=float(d.get("at", 0.0)),
            round=int(d.get("round", 0)),
            ok=bool(d.get("ok", True)),
        )


@dataclass(frozen=True, slots=True)
class Task:
    """A task as the backend holds it: the request, where it is in its life, the lease of the
    worker running it, its spend so far and its checkpoints."""

    id: str
    spec: NewTask
    state: str
    created_at: float
    phase: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    cost_usd: float = 0.0
    turns: int = 0
    attempts: int = 0
    worker: str | None = None
    lease_expires: float | None = None
    stop_requested: bool = False
    checkpoints: tuple[Checkpoint, ...] = ()
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATES


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """One entry of a task's event log; `id` only grows, so SSE clients resume after it."""

    id: int
    task_id: str
    kind: str
    data: dict[str, Any]
    at: float


class TaskBackend(Protocol):
    """Storage for tasks, controls and event logs (see the module docstring)."""

    def create(self, spec: NewTask, now: float | None = None) -> tuple[Task, bool]:
        """The new task and True, or the task with the same idempotency key and False."""
        ...

    def get(self, task_id: str) -> Task: ...  # TaskNotFound

    def list_tasks(
        self, *, state: str | None = None, repo_url: str | None = None, limit: int = 50,
        offset: int = 0,
    ) -> list[Task]:  # fmt: skip
        """Newest first."""
        ...

    def queue_position(self, task_id: str) -> int | None:
        """1 for the next queued task to run; None when the task is not queued."""
        ...

    def claim(self, worker: str, lease_seconds: float, now: float | None = None) -> Task | None:
        """The oldest queued task, or a running one whose lease expired, now running
        under `worker` (attempts counted)."""
        ...

    def heartbeat(self, task_id: str, worker: str, lease_seconds: float) -> bool:
        """Extend the lease; False when `worker` no longer holds it."""
        ...

    def progress(
        self, task_id: str, worker: str, *, phase: str | None = None, cost_usd: float = 0.0,
        turns: int = 0, checkpoint: Checkpoint | None = None,
    ) -> bool:  # fmt: skip
        """Set the phase, add cost and turns, record a checkpoint; False without the lease."""
        ...

    def finish(
        self, task_id: str, worker: str, state: str, result: dict[str, Any],
        error: str | None = None,
    ) -> bool:  # fmt: skip
        """End a running task held by `worker`, once, appending its `task_finished`
        event in the same transaction."""
        ...

    def release(self, task_id: str, worker: str) -> bool:
        """Give up a running task (a worker shutting down): any worker may claim it now."""
        ...

    def request_stop(self, task_id: str) -> Task:
        """Queued: cancelled now (with its `task_finished` event). Running: flagged
        for its worker. Finished: TaskFinished."""
        ...

    def steer(self, task_id: str, text: str) -> Task:
        """Queue guidance for the task (TaskFinished when it ended)."""
        ...

    def take_steers(self, task_id: str) -> list[str]:
        """The guidance not yet delivered, oldest first; each is returned once."""
        ...

    def append_event(self, task_id: str, kind: str, data: dict[str, Any]) -> int: ...

    def events(self, task_id: str, after: int = 0, limit: int = 500) -> list[TaskEvent]:
        """Events with id > `after`, in id order."""
        ...

    def close(self) -> None: ...


def task_from_row(row: Any) -> Task:
    """A `Task` from a stored row (a mapping with the task table's columns, the
    spec, checkpoints and result as JSON text); both backends store it alike."""
    import json

    spec = json.loads(row["spec"])
    spec["pipeline"] = tuple(spec.get("pipeline") or ())
    return Task(
        id=row["id"],
        spec=NewTask(**spec),
        state=row["state"],
        created_at=row["created_at"],
        phase=row["phase"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        cost_usd=row["cost_usd"],
        turns=row["turns"],
        attempts=row["attempts"],
        worker=row["worker"],
        lease_expires=row["lease_expires"],
        stop_requested=bool(row["stop_requested"]),
        checkpoints=tuple(Checkpoint.from_json(c) for c in json.loads(row["checkpoints"])),
        result=json.loads(row["result"]),
        error=row["error"],
    )
