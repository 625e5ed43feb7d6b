"""The daemon's API end to end: a real `bridle daemon` on loopback, worker processes,
the mock model fixing examples/buggy-project in a clone of a local bare origin."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from tests.daemon.conftest import TEST_CMD, Daemon, git, slow_scenario, submit, wait_for


def _sse(client: httpx.Client, task_id: str, last: int | None, stop_after: int | None = None):
    """(id, kind) pairs read from the stream, at most `stop_after` of them."""
    headers = {"Last-Event-ID": str(last)} if last is not None else {}
    got: list[tuple[int, str]] = []
    with client.stream("GET", f"/tasks/{task_id}/sse", headers=headers, timeout=60) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        eid, kind = None, None
        for line in r.iter_lines():
            if line.startswith("id:"):
                eid = int(line[3:].strip())
            elif line.startswith("event:"):
                kind = line[6:].strip()
            elif line == "" and eid is not None:
                got.append((eid, str(kind)))
                eid = None
                if kind == "task_finished" or (stop_after and len(got) >= stop_after):
                    break
    return got


def test_auth_health_and_openapi(daemon_factory: Any) -> None:
    d: Daemon = daemon_factory(workers=0).start()
    assert httpx.get(d.url + "/health").json()["status"] == "ok"
    for token in (None, "wrong"):
        r = d.client(token).get("/tasks")
        assert r.status_code == 401
        assert r.json()["error"]["type"] == "unauthorized"
        assert r.headers["www-authenticate"] == "Bearer"
        assert d.client(token).post("/tasks", json={}).status_code == 401
    spec = d.client().get("/openapi.json").json()
    stop = spec["paths"]["/tasks/{task_id}/stop"]["post"]["description"]
    assert "**queued**" in stop and "**running**" in stop and "**finished**" in stop
    assert "Last-Event-ID" in spec["paths"]["/tasks/{task_id}/sse"]["get"]["description"]


def test_bad_requests_name_the_field(daemon_factory: Any, origin: Path) -> None:
    d: Daemon = daemon_factory(workers=0).start()
    c = d.client()
    cases = [
        ({"task": "x"}, "repo_url"),
        ({"repo_url": str(origin), "task": ""}, "task"),
        ({"repo_url": "relative/path", "task": "x"}, "repo_url"),
        ({"repo_url": f"{origin}/../../etc", "task": "x"}, "repo_url"),
        ({"repo_url": "https://example.com/../x.git", "task": "x"}, "repo_url"),
        ({"repo_url": "ext::sh -c touch% /tmp/pwned", "task": "x"}, "repo_url"),
        ({"repo_url": "--upload-pack=evil", "task": "x"}, "repo_url"),
        ({"repo_url": str(origin), "task": "x", "branch": "../../escape"}, "branch"),
        ({"repo_url": str(origin), "task": "x", "branch": "-f"}, "branch"),
        ({"repo_url": str(origin), "task": "x", "max_turns": 0}, "max_turns"),
        ({"repo_url": str(origin), "task": "x", "pipeline": ["deploy"]}, "pipeline"),
        ({"repo_url": str(origin), "task": "x", "colour": "red"}, "colour"),
    ]
    for body, field in cases:
        r = c.post("/tasks", json=body)
        assert r.status_code == 400, (body, r.text)
        err = r.json()["error"]
        assert err["type"] == "invalid_request" and err["message"].startswith(field), err
    assert c.get("/tasks").json()["tasks"] == []
    assert c.get("/tasks/nope").json()["error"]["type"] == "not_found"
    assert c.get("/tasks", params={"state": "bogus"}).status_code == 400


def test_idempotency_conflict_queue_and_stop_or_steer_while_queued(
    daemon_factory: Any, origin: Path
) -> None:
    d: Daemon = daemon_factory(workers=0).start()  # nothing runs: everything stays queued
    c = d.client()
    a = submit(c, origin, branch="fix/a", idempotency_key="k1")
    again = c.post("/tasks", json={"repo_url": str(origin), "task": "t", "idempotency_key": "k1"})
    assert again.status_code == 200 and again.json()["id"] == a["id"]
    busy = c.post("/tasks", json={"repo_url": str(origin), "task": "t", "branch": "fix/a"})
    assert busy.status_code == 409 and busy.json()["error"]["type"] == "branch_busy"
    b = submit(c, origin, branch="fix/b")
    assert (a["queue_position"], b["queue_position"]) == (1, 2)
    assert c.post(f"/tasks/{b['id']}/steer", json={"text": "be brief"}).status_code == 200
    stopped = c.post(f"/tasks/{a['id']}/stop").json()
    assert stopped["state"] == "cancelled"
    assert c.get(f"/tasks/{b['id']}").json()["queue_position"] == 1
    for op, body in (("stop", None), ("steer", {"text": "x"})):
        r = c.post(f"/tasks/{a['id']}/{op}", json=body)
        assert r.status_code == 409 and r.json()["error"]["type"] == "task_finished"
    page = c.get("/tasks", params={"state": "queued"}).json()
    assert [t["id"] for t in page["tasks"]] == [b["id"]]
    assert [e["kind"] for e in c.get(f"/tasks/{a['id']}/events").json()["events"]] == [
        "task_finished"
    ]


def test_a_task_fixes_the_project_and_pushes_its_branch(daemon_factory: Any, origin: Path) -> None:
    d: Daemon = daemon_factory().start()
    c = d.client()
    task = submit(c, origin, branch="fix/mean")
    done = wait_for(c, task["id"], ("succeeded", "failed", "cancelled"))
    assert done["state"] == "succeeded", done
    phases = [p["phase"] for p in done["checkpoints"]]
    assert phases == ["start", "lead", "implement", "review", "test"]
    assert c.get(f"/tasks/{task['id']}/checkpoints").json() == done["checkpoints"]
    result = done["result"]
    assert result["pushed"] and "stats.py | 2 +-" in result["diff_stat"]
    assert "Fixed `mean()`" in result["summary"]
    # The branch on origin holds one commit per phase, and the fix.
    log = git("log", "--format=%s", "fix/mean", cwd=origin).splitlines()
    assert log[:4] == [f"bridle: {p} (task {task['id']})" for p in reversed(phases[1:])]
    fixed = git("show", "fix/mean:stats.py", cwd=origin)
    assert "return sum(values) / len(values)" in fixed
    # Lead and review are read-only: the fix was made by the implement phase.
    lead, impl = done["checkpoints"][1]["commit"], done["checkpoints"][2]["commit"]
    assert git("diff", "--stat", f"{lead}^", lead, cwd=origin) == ""
    assert "stats.py" in git("diff", "--stat", lead, impl, cwd=origin)
    events = c.get(f"/tasks/{task['id']}/events").json()["events"]
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "task_started" and kinds[-2:] == ["pushed", "task_finished"]
    assert {"assistant_message", "tool_started", "tool_finished", "turn_result"} <= set(kinds)
    tests = [e for e in events if e["kind"] == "test_finished"]
    assert [(t["command"], t["exit_code"]) for t in tests] == [(TEST_CMD, 0)]
    # The task is free again: a new task may use the branch.
    assert submit(c, origin, branch="fix/mean")["state"] == "queued"


def test_test_failures_go_back_to_implement_a_bounded_number_of_times(
    daemon_factory: Any, origin: Path, tmp_path: Path
) -> None:
    scenario = tmp_path / "nothing.json"
    scenario.write_text(json.dumps({"name": "idle", "final": "Nothing to change.", "turns": []}))
    d: Daemon = daemon_factory(scenario).start()
    c = d.client()
    task = submit(c, origin, pipeline=["implement", "test"])
    done = wait_for(c, task["id"], ("succeeded", "failed", "cancelled"))
    assert done["state"] == "failed" and "tests still fail after 3 round(s)" in done["error"]
    rounds = [(p["phase"], p["round"], p["ok"]) for p in done["checkpoints"][1:]]
    assert rounds == [
        ("implement", 0, True), ("test", 0, False), ("implement", 1, True),
        ("test", 1, False), ("implement", 2, True), ("test", 2, False),
    ]  # fmt: skip
    assert not done["result"]["pushed"]
    assert "refs/heads/" + done["branch"] not in git("for-each-ref", cwd=origin)


def test_sse_reconnect_with_last_event_id_across_a_daemon_restart(
    daemon_factory: Any, origin: Path, tmp_path: Path
) -> None:
    scenario = slow_scenario(tmp_path, 150)
    d: Daemon = daemon_factory(scenario).start()
    task = submit(d.client(), origin)
    first = _sse(d.client(), task["id"], None, stop_after=6)
    d.stop()  # the worker releases the task; the next daemon resumes it
    d2: Daemon = daemon_factory(scenario).start()
    rest = _sse(d2.client(), task["id"], first[-1][0])
    seen = first + rest
    everything = d2.client().get(f"/tasks/{task['id']}/events").json()["events"]
    assert seen == [(e["id"], e["kind"]) for e in everything]
    assert [i for i, _ in seen] == sorted({i for i, _ in seen})
    assert seen[-1][1] == "task_finished"
    assert [k for _, k in seen].count("task_finished") == 1
    final = d2.client().get(f"/tasks/{task['id']}").json()
    assert final["state"] == "succeeded" and final["attempts"] == 2
    # A client that saw everything gets an empty stream that ends at once.
    assert _sse(d2.client(), task["id"], seen[-1][0]) == []


def test_steer_and_stop_a_running_task(daemon_factory: Any, origin: Path, tmp_path: Path) -> None:
    d: Daemon = daemon_factory(slow_scenario(tmp_path, 400)).start()
    c = d.client()
    task = submit(c, origin)
    wait_for(c, task["id"], ("running",))
    assert c.post(f"/tasks/{task['id']}/steer", json={"text": "keep it small"}).status_code == 200
    deadline_events: list[dict[str, Any]] = []
    for _ in range(100):
        deadline_events = c.get(f"/tasks/{task['id']}/events").json()["events"]
        if any(e["kind"] == "steer" for e in deadline_events):
            break
        time.sleep(0.1)
    steer = [e for e in deadline_events if e["kind"] == "steer"]
    assert steer and steer[0]["text"] == "keep it small"
    stopping = c.post(f"/tasks/{task['id']}/stop").json()
    assert stopping["stop_requested"]
    done = wait_for(c, task["id"], ("succeeded", "failed", "cancelled"))
    assert done["state"] == "cancelled" and done["error"] == "stopped by request"
    assert not done["result"]["pushed"]
    assert done["checkpoints"][-1]["phase"] != "test"
