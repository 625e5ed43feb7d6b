"""The scale-out task backend: task state and event log in PostgreSQL, the queue run by procrastinate.

Several daemons (the API) and workers on several machines share one database.
Task rows, steers and events live in `bridle_*` tables (psycopg 3); the queue is
procrastinate's: each task has one procrastinate job (queue `bridle`, task name
`bridle.run_task`, its lock and queueing lock the task id, so one task never runs
twice at once), and the backend drives it through procrastinate's own schema and
SQL functions (`procrastinate.sql.queries`) inside the same transaction that
changes the task row, so the job and the task can never disagree (the schema,
kept at the installed procrastinate's version, is `daemon.pg_schema`'s): `claim` is
procrastinate's `fetch_job` (`FOR UPDATE SKIP LOCKED`, oldest first), a task whose
lease expired is a stalled job given back with procrastinate's `retry_job` (which
fails instead of retrying a job whose abort was requested: the task then ends
cancelled), `finish` is `finish_job`, and a stop is `cancel_job` (queued) or an
abort request (running). Each worker name is a registered procrastinate worker
whose heartbeat follows the task's. Leases and timestamps use the database's
clock, so machines need not agree on the time. Event ids come from one sequence,
taken under a per-task advisory lock held until commit, so within a task they
grow in commit order and a Server-Sent Events reader never sees a smaller id
appear later. Connections come from a small pool (psycopg_pool), each checked
before use; a lost connection (a database restart) is retried on another for up
to `retry_seconds`; an event carries a unique key, so an append whose commit
answer was lost is not written twice. psycopg and procrastinate are
imported only when this backend is opened. Implements `daemon.backend.TaskBackend`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, TypeVar

from bridle.daemon.backend import (
    CANCELLED,
    FAILED,
    FINAL_STATES,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    BackendError,
    BranchBusy,
    Checkpoint,
    NewTask,
    Task,
    TaskEvent,
    TaskFinished,
    TaskNotFound,
    task_from_row,
)

QUEUE = "bridle"
JOB_TASK = "bridle.run_task"
_NOW = "extract(epoch from clock_timestamp())::float8"
T = TypeVar("T")


_QUIET = logging.NullHandler()


class BackendUnavailable(BackendError):
    status = 503
    type = "database_unavailable"


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


class PostgresBackend:
    """`TaskBackend` over a PostgreSQL database; safe to share between threads."""

    def __init__(self, url: str, retry_seconds: float = 60.0, pool_size: int = 8):
        from procrastinate.sql import queries
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        # The pool's failed connection attempts are the backend's to report (an
        # unreachable database is `BackendUnavailable`, with the cause); without a
        # handler, Python would print each attempt's warning on stderr as well.
        logging.getLogger("psycopg.pool").addHandler(_QUIET)
        self.url = url
        self.retry_seconds = retry_seconds
        self._q = queries
        self._lock = threading.Lock()  # the worker registry
        self._workers: dict[str, int] = {}
        self._pool = ConnectionPool(
            url, min_size=1, max_size=pool_size, open=True, name="bridle-tasks",
            kwargs={"autocommit": True, "row_factory": dict_row, "connect_timeout": 10},
            check=ConnectionPool.check_connection,  # a restarted server's connections are dropped
        )  # fmt: skip
        try:
            from bridle.daemon.pg_schema import migrate

            migrate(self._run)
        except BaseException:
            self._pool.close()
            raise

    # ------------------------------------------------------------ plumbing
    def _run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(cursor, *args)` in one transaction on a pooled connection, again on
        another when the database went away (until `retry_seconds` have passed)."""
        import psycopg

        deadline = time.monotonic() + self.retry_seconds
        delay = 0.05
        while True:
            wait = min(10.0, max(0.1, deadline - time.monotonic()))
            try:
                with self._pool.connection(timeout=wait) as conn:
                    with conn.transaction(), conn.cursor() as cur:
                        return fn(cur, *args)
            except psycopg.OperationalError as e:
                if time.monotonic() > deadline:
                    raise BackendUnavailable(
                        f"the task database is unreachable ({self._why(e)}); check that "
                        "PostgreSQL is running and the --database URL is right"
                    ) from e
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def _why(self, error: Exception) -> str:
        """The connection error itself (the pool only says it timed out), on one line."""
        import psycopg

        try:
            psycopg.connect(self.url, connect_timeout=5).close()
        except psycopg.Error as e:
            error = e
        return " ".join(str(error).split())

    def _now(self, cur: Any, now: float | None) -> float:
        if now is not None:
            return now
        cur.execute(f"SELECT {_NOW} AS now")
        return float(cur.fetchone()["now"])

    def _row(self, cur: Any, task_id: str) -> dict[str, Any] | None:
        cur.execute("SELECT * FROM bridle_tasks WHERE id = %s", (task_id,))
        row: dict[str, Any] | None = cur.fetchone()
        return row

    def _worker_id(self, worker: str) -> int:
        """The procrastinate worker standing for `worker` (registered on first use)."""
        with self._lock:
            if worker not in self._workers:

                def register(cur: Any) -> int:
                    cur.execute(self._q["register_worker"])
                    return int(cur.fetchone()["worker_id"])

                self._workers[worker] = self._run(register)
            return self._workers[worker]

    # --------------------------------------------------------------- tasks
    def create(self, spec: NewTask, now: float | None = None) -> tuple[Task, bool]:
        import psycopg

        task_id = "t" + uuid.uuid4().hex[:12]
        for _ in range(5):
            try:
                return self._run(self._create, spec, task_id, now)
            except psycopg.errors.UniqueViolation:
                continue  # another daemon won a race: look again
        raise BranchBusy(f"branch {spec.branch!r} of {spec.repo_url} is contended; try again")

    def _create(
        self, cur: Any, spec: NewTask, task_id: str, now: float | None
    ) -> tuple[Task, bool]:
        mine = self._row(cur, task_id)
        if mine is not None:  # the commit's answer was lost and this is the retry
            return task_from_row(mine), True
        if spec.idempotency_key:
            cur.execute(
                "SELECT * FROM bridle_tasks WHERE idempotency_key = %s", (spec.idempotency_key,)
            )
            row = cur.fetchone()
            if row is not None:
                return task_from_row(row), False
        cur.execute(
            "SELECT id FROM bridle_tasks WHERE repo_url = %s AND branch = %s AND state IN (%s, %s)",
            (spec.repo_url, spec.branch, QUEUED, RUNNING),
        )
        busy = cur.fetchone()
        if busy is not None:
            raise BranchBusy(
                f"task {busy['id']} already works on branch {spec.branch!r} of "
                f"{spec.repo_url}; wait for it to finish, stop it, or choose another branch"
            )
        cur.execute(
            "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(%s, %s, 0, %s, %s, %s::jsonb,"
            " NULL)::procrastinate_job_to_defer_v1])) AS id",
            (QUEUE, JOB_TASK, task_id, task_id, json.dumps({"task_id": task_id})),
        )
        job_id = cur.fetchone()["id"]
        data = asdict(spec)
        data["pipeline"] = list(spec.pipeline)
        cur.execute(
            "INSERT INTO bridle_tasks (id, spec, repo_url, branch, idempotency_key, state,"
            f" created_at, job_id) VALUES (%s, %s, %s, %s, %s, %s, COALESCE(%s::float8, {_NOW}),"
            " %s) RETURNING *",
            (
                task_id, json.dumps(data), spec.repo_url, spec.branch, spec.idempotency_key,
                QUEUED, now, job_id,
            ),
        )  # fmt: skip
        return task_from_row(cur.fetchone()), True

    def get(self, task_id: str) -> Task:
        row = self._run(self._row, task_id)
        if row is None:
            raise TaskNotFound(f"no task {task_id!r}; `bridle tasks list` shows the tasks")
        return task_from_row(row)

    def list_tasks(
        self, *, state: str | None = None, repo_url: str | None = None, limit: int = 50,
        offset: int = 0,
    ) -> list[Task]:  # fmt: skip
        def read(cur: Any) -> list[Task]:
            cur.execute(
                "SELECT * FROM bridle_tasks WHERE (%(state)s::text IS NULL OR state = %(state)s)"
                " AND (%(repo)s::text IS NULL OR repo_url = %(repo)s)"
                " ORDER BY created_at DESC, seq DESC LIMIT %(limit)s OFFSET %(offset)s",
                {"state": state, "repo": repo_url, "limit": limit, "offset": offset},
            )
            return [task_from_row(r) for r in cur.fetchall()]

        return self._run(read)

    def queue_position(self, task_id: str) -> int | None:
        def read(cur: Any) -> int | None:
            row = self._row(cur, task_id)
            if row is None:
                raise TaskNotFound(f"no task {task_id!r}; `bridle tasks list` shows the tasks")
            if row["state"] != QUEUED:
                return None
            # procrastinate fetches jobs oldest first (all bridle jobs share a priority).
            cur.execute(
                "SELECT count(*) AS n FROM bridle_tasks WHERE state = %s AND job_id <= %s",
                (QUEUED, row["job_id"]),
            )
            return int(cur.fetchone()["n"])

        return self._run(read)

    def claim(self, worker: str, lease_seconds: float, now: float | None = None) -> Task | None:
        wid = self._worker_id(worker)
        return self._run(self._claim, worker, wid, lease_seconds, now)

    def _claim(
        self, cur: Any, worker: str, wid: int, lease: float, now: float | None
    ) -> Task | None:
        now = self._now(cur, now)
        self._retry_stalled(cur, now)
        for _ in range(10):
            cur.execute(self._q["fetch_job"], {"queues": [QUEUE], "worker_id": wid})
            job = cur.fetchone()
            if job is None or job["id"] is None:
                return None
            cur.execute(
                "UPDATE bridle_tasks SET state = %s, worker = %s, lease_expires = %s,"
                " attempts = attempts + 1, started_at = COALESCE(started_at, %s)"
                " WHERE id = %s AND state = %s RETURNING *",
                (RUNNING, worker, now + lease, now, job["args"]["task_id"], QUEUED),
            )
            row = cur.fetchone()
            if row is not None:
                return task_from_row(row)
            # A job whose task is not waiting (never expected): close it, take the next.
            cur.execute(self._q["finish_job"], {"job_id": job["id"], "status": "failed",
                                                "delete_job": False})  # fmt: skip
        return None

    def _retry_stalled(self, cur: Any, now: float) -> None:
        """Running tasks whose lease expired: their jobs go back to the queue."""
        cur.execute(
            "SELECT t.id, t.job_id, j.abort_requested FROM bridle_tasks t"
            " JOIN procrastinate_jobs j ON j.id = t.job_id"
            " WHERE t.state = %s AND t.lease_expires < %s AND j.status = 'doing'"
            " FOR UPDATE OF t SKIP LOCKED",
            (RUNNING, now),
        )
        for row in cur.fetchall():
            self._requeue(cur, row["id"], row["job_id"], row["abort_requested"])

    def _requeue(self, cur: Any, task_id: str, job_id: int, abort_requested: bool) -> None:
        """procrastinate's retry: the job waits again, or fails when its abort was
        requested, and then the task ends cancelled (nobody runs it any more)."""
        cur.execute(self._q["retry_job"], {
            "job_id": job_id, "retry_at": None, "new_priority": None,
            "new_queue_name": None, "new_lock": None,
        })  # fmt: skip
        if abort_requested:
            why = "stopped by request (its worker left before it stopped)"
            cur.execute(
                f"UPDATE bridle_tasks SET state = %s, finished_at = {_NOW}, error = %s,"
                " worker = NULL, lease_expires = NULL WHERE id = %s",
                (CANCELLED, why, task_id),
            )
            self._event(cur, task_id, "task_finished", {"state": CANCELLED, "error": why})
        else:
            cur.execute(
                "UPDATE bridle_tasks SET state = %s, worker = NULL, lease_expires = NULL"
                " WHERE id = %s",
                (QUEUED, task_id),
            )

    def heartbeat(self, task_id: str, worker: str, lease_seconds: float) -> bool:
        wid = self._workers.get(worker)

        def beat(cur: Any) -> bool:
            cur.execute(
                f"UPDATE bridle_tasks SET lease_expires = {_NOW} + %s"
                " WHERE id = %s AND worker = %s AND state = %s",
                (lease_seconds, task_id, worker, RUNNING),
            )
            ok: bool = cur.rowcount == 1
            if ok and wid is not None:
                cur.execute(self._q["update_heartbeat"], {"worker_id": wid})
            return ok

        return self._run(beat)

    def progress(
        self, task_id: str, worker: str, *, phase: str | None = None, cost_usd: float = 0.0,
        turns: int = 0, checkpoint: Checkpoint | None = None,
    ) -> bool:  # fmt: skip
        def write(cur: Any) -> bool:
            cur.execute(
                "SELECT checkpoints FROM bridle_tasks WHERE id = %s AND worker = %s"
                " AND state = %s FOR UPDATE",
                (task_id, worker, RUNNING),
            )
            row = cur.fetchone()
            if row is None:
                return False
            points = json.loads(row["checkpoints"])
            if checkpoint is not None:
                points.append(checkpoint.to_json())
            cur.execute(
                "UPDATE bridle_tasks SET phase = COALESCE(%s, phase), cost_usd = cost_usd + %s,"
                " turns = turns + %s, checkpoints = %s WHERE id = %s",
                (phase, cost_usd, turns, json.dumps(points), task_id),
            )
            return True

        return self._run(write)

    def finish(
        self, task_id: str, worker: str, state: str, result: dict[str, Any],
        error: str | None = None,
    ) -> bool:  # fmt: skip
        if state not in FINAL_STATES:
            raise ValueError(f"not a final state: {state}")

        def write(cur: Any) -> bool:
            cur.execute(
                f"UPDATE bridle_tasks SET state = %s, result = %s, error = %s,"
                f" finished_at = {_NOW}, lease_expires = NULL"
                " WHERE id = %s AND worker = %s AND state = %s RETURNING job_id",
                (state, json.dumps(result), error, task_id, worker, RUNNING),
            )
            row = cur.fetchone()
            if row is None:
                return False
            self._finish_job(cur, row["job_id"], state)
            self._event(cur, task_id, "task_finished", {"state": state, "error": error})
            return True

        return self._run(write)

    def _finish_job(self, cur: Any, job_id: int, state: str) -> None:
        cur.execute(
            "SELECT status, abort_requested FROM procrastinate_jobs WHERE id = %s FOR UPDATE",
            (job_id,),
        )
        job = cur.fetchone()
        if job is None or job["status"] not in ("todo", "doing"):
            return
        status = {SUCCEEDED: "succeeded", FAILED: "failed"}.get(state)
        if status is None:  # cancelled: procrastinate's "aborted" needs an abort request
            status = "aborted" if job["abort_requested"] else "failed"
        cur.execute(self._q["finish_job"], {"job_id": job_id, "status": status,
                                            "delete_job": False})  # fmt: skip

    def release(self, task_id: str, worker: str) -> bool:
        def write(cur: Any) -> bool:
            cur.execute(
                "SELECT t.job_id, j.abort_requested FROM bridle_tasks t"
                " JOIN procrastinate_jobs j ON j.id = t.job_id"
                " WHERE t.id = %s AND t.worker = %s AND t.state = %s AND j.status = 'doing'"
                " FOR UPDATE OF t",
                (task_id, worker, RUNNING),
            )
            row = cur.fetchone()
            if row is None:
                return False
            self._requeue(cur, task_id, row["job_id"], row["abort_requested"])
            return True

        return self._run(write)

    # ------------------------------------------------------------ controls
    def request_stop(self, task_id: str) -> Task:
        def write(cur: Any) -> None:
            cur.execute("SELECT state, job_id FROM bridle_tasks WHERE id = %s FOR UPDATE",
                        (task_id,))  # fmt: skip
            row = cur.fetchone()
            if row is None:
                raise TaskNotFound(f"no task {task_id!r}; `bridle tasks list` shows the tasks")
            if row["state"] in FINAL_STATES:
                raise TaskFinished(
                    f"task {task_id} already ended ({row['state']}); nothing to stop"
                )
            queued = row["state"] == QUEUED
            cur.execute(self._q["cancel_job"], {"job_id": row["job_id"], "abort": not queued,
                                                "delete_job": False})  # fmt: skip
            if queued:
                why = "stopped before it started"
                cur.execute(
                    f"UPDATE bridle_tasks SET state = %s, finished_at = {_NOW}, error = %s"
                    " WHERE id = %s",
                    (CANCELLED, why, task_id),
                )
                self._event(cur, task_id, "task_finished", {"state": CANCELLED, "error": why})
            else:
                cur.execute("UPDATE bridle_tasks SET stop_requested = true WHERE id = %s",
                            (task_id,))  # fmt: skip

        self._run(write)
        return self.get(task_id)

    def steer(self, task_id: str, text: str) -> Task:
        def write(cur: Any) -> None:
            row = self._row(cur, task_id)
            if row is None:
                raise TaskNotFound(f"no task {task_id!r}; `bridle tasks list` shows the tasks")
            if row["state"] in FINAL_STATES:
                raise TaskFinished(
                    f"task {task_id} already ended ({row['state']}); submit a new task instead"
                )
            cur.execute("INSERT INTO bridle_steers (task_id, text) VALUES (%s, %s)",
                        (task_id, text))  # fmt: skip

        self._run(write)
        return self.get(task_id)

    def take_steers(self, task_id: str) -> list[str]:
        def take(cur: Any) -> list[str]:
            cur.execute(
                "UPDATE bridle_steers SET taken = true WHERE id IN (SELECT id FROM bridle_steers"
                " WHERE task_id = %s AND NOT taken FOR UPDATE) RETURNING id, text",
                (task_id,),
            )
            return [r["text"] for r in sorted(cur.fetchall(), key=lambda r: r["id"])]

        return self._run(take)

    # -------------------------------------------------------------- events
    def append_event(self, task_id: str, kind: str, data: dict[str, Any]) -> int:
        key = uuid.uuid4().hex
        return self._run(self._event, task_id, kind, data, key)

    def _event(
        self, cur: Any, task_id: str, kind: str, data: dict[str, Any], key: str | None = None
    ) -> int:
        # Held until commit: this task's next event takes its id after this one is visible.
        cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (task_id,))
        key = key or uuid.uuid4().hex
        cur.execute(
            f"INSERT INTO bridle_events (task_id, kind, data, at, key) VALUES (%s, %s, %s,"
            f" {_NOW}, %s) ON CONFLICT (key) DO NOTHING RETURNING id",
            (task_id, kind, json.dumps(data, default=str), key),
        )
        row = cur.fetchone()
        if row is None:
            cur.execute("SELECT id FROM bridle_events WHERE key = %s", (key,))
            row = cur.fetchone()
        return int(row["id"])

    def events(self, task_id: str, after: int = 0, limit: int = 500) -> list[TaskEvent]:
        def read(cur: Any) -> list[TaskEvent]:
            cur.execute(
                "SELECT id, task_id, kind, data, at FROM bridle_events"
                " WHERE task_id = %s AND id > %s ORDER BY id LIMIT %s",
                (task_id, after, limit),
            )
            return [
                TaskEvent(r["id"], r["task_id"], r["kind"], json.loads(r["data"]), r["at"])
                for r in cur.fetchall()
            ]

        return self._run(read)

    def close(self) -> None:
        try:
            with self._pool.connection(timeout=2) as conn, conn.cursor() as cur:
                for wid in self._workers.values():
                    cur.execute(self._q["unregister_worker"], {"worker_id": wid})
        except Exception:
            pass  # the database is gone: its stale worker rows do no harm
        self._workers.clear()
        self._pool.close()
