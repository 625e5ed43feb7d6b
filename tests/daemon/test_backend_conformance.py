"""The task backend conformance suite: every `TaskBackend` implementation must pass it.

The `backend` fixture is parametrised over the implementations: SQLite, and
PostgreSQL (procrastinate's queue) in a fresh database of the throwaway cluster
that `pg_cluster` starts. Tests use only the protocol.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bridle.daemon.backend import (
    CANCELLED,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    BranchBusy,
    Checkpoint,
    NewTask,
    TaskBackend,
    TaskFinished,
    TaskNotFound,
)
from bridle.daemon.sqlite_backend import SqliteBackend


def _sqlite(tmp_path: Path, request: pytest.FixtureRequest) -> TaskBackend:
    return SqliteBackend(tmp_path / "tasks.db")


def _postgres(tmp_path: Path, request: pytest.FixtureRequest) -> TaskBackend:
    from bridle.daemon.postgres_backend import PostgresBackend

    return PostgresBackend(request.getfixturevalue("pg_url"))


IMPLEMENTATIONS = {"sqlite": _sqlite, "postgresql": _postgres}


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TaskBackend]:
    b = IMPLEMENTATIONS[request.param](tmp_path, request)
    yield b
    b.close()


def spec(branch: str = "b1", repo: str = "/r", key: str | None = None) -> NewTask:
    return NewTask(repo_url=repo, task="fix it", branch=branch, idempotency_key=key)


def test_create_get_and_list(backend: TaskBackend) -> None:
    a, created = backend.create(spec("a"), now=1.0)
    b, _ = backend.create(spec("b"), now=2.0)
    assert created and a.state == QUEUED and a.spec == spec("a")
    assert backend.get(a.id) == a
    assert [t.id for t in backend.list_tasks()] == [b.id, a.id]
    assert [t.id for t in backend.list_tasks(limit=1, offset=1)] == [a.id]
    assert backend.list_tasks(state=RUNNING) == []
    assert [t.id for t in backend.list_tasks(repo_url="/r")] == [b.id, a.id]
    with pytest.raises(TaskNotFound):
        backend.get("nope")


def test_idempotency_key_returns_the_same_task(backend: TaskBackend) -> None:
    a, first = backend.create(spec("a", key="k1"))
    b, second = backend.create(spec("a", key="k1"))
    assert (first, second) == (True, False) and a.id == b.id
    assert len(backend.list_tasks()) == 1


def test_branch_lock_until_the_task_ends(backend: TaskBackend) -> None:
    a, _ = backend.create(spec("same"))
    with pytest.raises(BranchBusy, match="same"):
        backend.create(spec("same"))
    backend.create(spec("same", repo="/other"))  # another repository is fine
    claimed = backend.claim("w1", 30)
    assert claimed is not None and claimed.id == a.id
    with pytest.raises(BranchBusy):
        backend.create(spec("same"))
    assert backend.finish(a.id, "w1", SUCCEEDED, {"summary": "ok"})
    again, created = backend.create(spec("same"))
    assert created and again.id != a.id


def test_claim_order_queue_position_and_single_holder(backend: TaskBackend) -> None:
    a, _ = backend.create(spec("a"), now=1.0)
    b, _ = backend.create(spec("b"), now=2.0)
    assert (backend.queue_position(a.id), backend.queue_position(b.id)) == (1, 2)
    got = backend.claim("w1", 30)
    assert got is not None and got.id == a.id and got.state == RUNNING
    assert got.worker == "w1" and got.attempts == 1
    assert backend.queue_position(a.id) is None and backend.queue_position(b.id) == 1
    got2 = backend.claim("w2", 30)
    assert got2 is not None and got2.id == b.id
    assert backend.claim("w3", 30) is None


def test_expired_lease_is_claimed_again_and_the_old_holder_is_locked_out(
    backend: TaskBackend,
) -> None:
    a, _ = backend.create(spec())
    backend.claim("w1", 30, now=100.0)
    assert backend.claim("w2", 30, now=120.0) is None  # lease still valid
    again = backend.claim("w2", 30, now=time.time() + 60)  # expired
    assert again is not None and again.id == a.id and again.attempts == 2
    assert again.worker == "w2"
    assert not backend.heartbeat(a.id, "w1", 30)
    assert not backend.progress(a.id, "w1", phase="lead")
    assert not backend.finish(a.id, "w1", SUCCEEDED, {})
    assert backend.heartbeat(a.id, "w2", 30)
    assert backend.finish(a.id, "w2", SUCCEEDED, {"summary": "done"})
    assert not backend.finish(a.id, "w2", SUCCEEDED, {})  # once only
    finished = [e for e in backend.events(a.id) if e.kind == "task_finished"]
    assert [e.data for e in finished] == [{"state": SUCCEEDED, "error": None}]
    assert backend.get(a.id).result == {"summary": "done"}


def test_release_lets_another_worker_resume_at_once(backend: TaskBackend) -> None:
    a, _ = backend.create(spec())
    backend.claim("w1", 300)
    assert backend.release(a.id, "w1")
    got = backend.claim("w2", 300)
    assert got is not None and got.id == a.id and got.attempts == 2


def test_progress_accumulates_cost_turns_and_checkpoints(backend: TaskBackend) -> None:
    a, _ = backend.create(spec())
    backend.claim("w1", 30)
    p1 = Checkpoint("lead", "c1", "plan", 0.5, 3, 1.0)
    p2 = Checkpoint("test", "c2", "FAILED", 0.0, 0, 2.0, round=1, ok=False)
    assert backend.progress(a.id, "w1", phase="lead", cost_usd=0.5, turns=3, checkpoint=p1)
    assert backend.progress(a.id, "w1", phase="test", checkpoint=p2)
    t = backend.get(a.id)
    assert (t.phase, t.cost_usd, t.turns, t.checkpoints) == ("test", 0.5, 3, (p1, p2))


def test_stop_in_every_state(backend: TaskBackend) -> None:
    queued, _ = backend.create(spec("q"))
    stopped = backend.request_stop(queued.id)
    assert stopped.state == CANCELLED
    assert [e.kind for e in backend.events(queued.id)] == ["task_finished"]
    with pytest.raises(TaskFinished):
        backend.request_stop(queued.id)
    running, _ = backend.create(spec("r"))
    backend.claim("w1", 30)
    flagged = backend.request_stop(running.id)
    assert flagged.state == RUNNING and flagged.stop_requested
    with pytest.raises(TaskNotFound):
        backend.request_stop("nope")


def test_steers_are_delivered_once_in_order(backend: TaskBackend) -> None:
    a, _ = backend.create(spec())
    backend.steer(a.id, "one")
    backend.steer(a.id, "two")
    assert backend.take_steers(a.id) == ["one", "two"]
    assert backend.take_steers(a.id) == []
    backend.claim("w1", 30)
    backend.finish(a.id, "w1", SUCCEEDED, {})
    with pytest.raises(TaskFinished):
        backend.steer(a.id, "late")


def test_events_have_increasing_ids_and_resume_after_an_id(backend: TaskBackend) -> None:
    a, _ = backend.create(spec("a"))
    b, _ = backend.create(spec("b"))
    ids = [backend.append_event(a.id if i % 2 else b.id, "k", {"i": i}) for i in range(10)]
    assert ids == sorted(ids) and len(set(ids)) == 10
    mine = backend.events(a.id)
    assert [e.data["i"] for e in mine] == [1, 3, 5, 7, 9]
    assert [e.data["i"] for e in backend.events(a.id, after=mine[1].id)] == [5, 7, 9]
    assert [e.data["i"] for e in backend.events(a.id, after=mine[1].id, limit=1)] == [5]


def _open(where: str) -> TaskBackend:
    """A backend in another process: a PostgreSQL URL, or a SQLite file's path."""
    if where.startswith("postgresql://"):
        from bridle.daemon.postgres_backend import PostgresBackend

        return PostgresBackend(where)
    return SqliteBackend(Path(where))


def _where(b: TaskBackend) -> str:
    return str(getattr(b, "url", None) or getattr(b, "path", ""))


def _append_many(where: str, task_id: str, n: int) -> None:
    b = _open(where)
    for i in range(n):
        b.append_event(task_id, "k", {"i": i})
    b.close()


def _claim_all(where: str, worker: str, out: Any) -> None:
    b = _open(where)
    got = []
    while (t := b.claim(worker, 300)) is not None:
        got.append(t.id)
    out.put((worker, got))
    b.close()


def test_concurrent_writers_and_a_polling_reader_miss_no_event(backend: TaskBackend) -> None:
    """Several processes write at once (the API and each worker are processes) while a
    reader polls as the SSE stream does: it sees every event once, in id order."""
    a, _ = backend.create(spec())
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(_where(backend), a.id, 60)) for _ in range(3)]
    for p in procs:
        p.start()
    seen: list[int] = []
    while any(p.is_alive() for p in procs) or len(seen) < 180:
        batch = backend.events(a.id, after=seen[-1] if seen else 0)
        seen += [e.id for e in batch]
        if not batch and not any(p.is_alive() for p in procs):
            break
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert seen == [e.id for e in backend.events(a.id, limit=1000)]
    assert len(seen) == 180 and seen == sorted(set(seen))


def test_concurrent_claims_hand_each_task_to_one_worker(backend: TaskBackend) -> None:
    ids = {backend.create(spec(f"b{i}"))[0].id for i in range(30)}
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_claim_all, args=(_where(backend), f"w{i}", out)) for i in range(3)]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    claimed = [task_id for _, got in results for task_id in got]
    assert sorted(claimed) == sorted(ids)  # every task once, none twice
    for worker, got in results:
        assert all(backend.get(t).worker == worker for t in got)


def test_postgres_reconnects_after_a_database_restart(pg_cluster: Any) -> None:
    from bridle.daemon.postgres_backend import PostgresBackend

    b = PostgresBackend(pg_cluster.database())
    a, _ = b.create(spec())
    first = b.append_event(a.id, "k", {"i": 1})
    pg_cluster.restart()  # the backend's connection is cut
    assert b.get(a.id).id == a.id
    assert b.append_event(a.id, "k", {"i": 2}) > first
    assert [e.data["i"] for e in b.events(a.id)] == [1, 2]
    b.close()


def test_postgres_unreachable_says_so(tmp_path: Path) -> None:
    from bridle.daemon.backend import BackendError
    from bridle.daemon.postgres_backend import PostgresBackend

    url = f"postgresql://nobody@/nothing?host={tmp_path}&port=1"
    with pytest.raises(BackendError, match=r"(?s)unreachable.*PostgreSQL is running") as caught:
        PostgresBackend(url, retry_seconds=0.3)
    assert caught.value.status == 503
