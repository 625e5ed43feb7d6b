"""GitHub webhooks on a real daemon: signed deliveries create tasks, replays and other
events are ignored, unsigned or mis-signed ones get 401 and create nothing.

Payloads are GitHub's own example deliveries (`@octokit/webhooks-examples`, which
scripts/test installs with `@octokit/webhooks-schemas`), adjusted to name the
`bridle` label or mention `@bridle`, and validated against GitHub's published
schema before they are sent; without those packages, hand-written fixtures from
GitHub's documentation (tests/fixtures/github) are sent instead.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.daemon.conftest import BUGGY, ROOT, TEST_CMD, Daemon, git, wait_for

SECRET = "It's a Secret to Everybody"
FIXTURES = ROOT / "tests" / "fixtures" / "github"
FULL_NAME = "octo-org/stats"


def _octokit() -> Path | None:
    where = os.environ.get("BRIDLE_TEST_WEBHOOKS") or str(
        ROOT / ".cache" / "webhooks" / "node_modules" / "@octokit"
    )
    path = Path(where)
    ok = (path / "webhooks-schemas" / "schema.json").exists()
    return path if ok and (path / "webhooks-examples").is_dir() else None


def _example(octokit: Path, event: str, action: str) -> dict[str, Any]:
    """GitHub's first example delivery of `event`/`action` that its schema accepts (a
    few older examples lack fields the schema has since made required)."""
    index = json.loads(
        (octokit / "webhooks-examples" / "api.github.com" / "index.json").read_text()
    )
    entry = next(e for e in index if e["name"] == event)
    for example in entry["examples"]:
        if example.get("action") == action and _valid(octokit, f"{event}${action}", example):
            return copy.deepcopy(example)
    raise AssertionError(f"no {event}/{action} example passes GitHub's schema")


def _validator(octokit: Path, name: str) -> Any:
    import jsonschema

    schema = json.loads((octokit / "webhooks-schemas" / "schema.json").read_text())
    ref = {"$ref": f"#/definitions/{name}", "definitions": schema["definitions"]}
    return jsonschema.Draft7Validator(ref)


def _valid(octokit: Path, name: str, payload: dict[str, Any]) -> bool:
    return bool(_validator(octokit, name).is_valid(payload))


def _validate(octokit: Path, name: str, payload: dict[str, Any]) -> None:
    _validator(octokit, name).validate(payload)


def payloads() -> dict[str, dict[str, Any]]:
    """labeled (the bridle label), comment (@bridle ...), other_label, chatter."""
    octokit = _octokit()
    if octokit is None:
        labeled = json.loads((FIXTURES / "issues-labeled.json").read_text())
        comment = json.loads((FIXTURES / "issue_comment-created.json").read_text())
    else:
        labeled = _example(octokit, "issues", "labeled")
        label = {**labeled["label"], "name": "bridle"}
        labeled["label"] = label
        labeled["issue"]["labels"] = [*labeled["issue"]["labels"], label]
        comment = _example(octokit, "issue_comment", "created")
        comment["comment"]["body"] = "@bridle fix the failing test"
    for p in (labeled, comment):
        p["repository"]["full_name"] = FULL_NAME
    other = copy.deepcopy(labeled)
    other["label"] = {**other["label"], "name": "bug"}
    other["issue"]["labels"] = [other["label"]]
    chatter = copy.deepcopy(comment)
    chatter["comment"]["body"] = "thanks, @bridle looks promising"
    out = {"labeled": labeled, "comment": comment, "other_label": other, "chatter": chatter}
    if octokit is not None:
        for key, p in out.items():
            _validate(octokit, "issues$labeled" if "label" in key else "issue_comment$created", p)
    return out


def test_deliveries_follow_githubs_published_schemas() -> None:
    octokit = _octokit()
    if octokit is None:
        pytest.skip("@octokit/webhooks-schemas is not installed (scripts/test installs it)")
    bad = payloads()["labeled"]
    del bad["issue"]["number"]
    import jsonschema

    with pytest.raises(jsonschema.ValidationError):
        _validate(octokit, "issues$labeled", bad)


def _sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post(
    url: str, event: str, payload: dict[str, Any], delivery: str | None = None,
    signature: str | None = "sign",
) -> httpx.Response:  # fmt: skip
    body = json.dumps(payload).encode()
    headers = {
        "X-GitHub-Event": event, "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/test",
    }  # fmt: skip
    if signature == "sign":
        headers["X-Hub-Signature-256"] = _sign(body)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return httpx.post(url + "/webhooks/github", content=body, headers=headers, timeout=30)


def _settings(origin: Path) -> None:
    home = Path(os.environ["BRIDLE_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.json").write_text(json.dumps({
        "test_command": TEST_CMD,
        "daemon": {
            "github_webhook_secret": "$HOOK_SECRET", "github_model": "mock/anthropic",
            "github_repos": {FULL_NAME: str(origin)},
        },
    }))  # fmt: skip


def test_signed_deliveries_create_tasks_and_the_rest_create_nothing(
    daemon_factory: Any, origin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _settings(origin)
    monkeypatch.setenv("HOOK_SECRET", SECRET)  # settings values expand $VARS
    d: Daemon = daemon_factory(BUGGY / "scenario.json", workers=1).start()
    c = d.client()
    p = payloads()

    # Unsigned, mis-signed, signed with another secret, or a tampered body: 401, nothing made.
    assert _post(d.url, "issues", p["labeled"], signature=None).status_code == 401
    assert _post(d.url, "issues", p["labeled"], signature="sha256=00").status_code == 401
    other = _sign(json.dumps(p["labeled"]).encode(), "wrong secret")
    assert _post(d.url, "issues", p["labeled"], signature=other).status_code == 401
    tampered = _sign(json.dumps(p["other_label"]).encode())
    r = _post(d.url, "issues", p["labeled"], signature=tampered)
    assert r.status_code == 401 and r.json()["error"]["type"] == "unauthorized"
    assert c.get("/tasks").json()["tasks"] == []

    # Events that do not ask for work are ignored with the reason.
    for event, payload in (("issues", p["other_label"]), ("issue_comment", p["chatter"]),
                           ("ping", {"zen": "Keep it logically awesome.", "hook_id": 1})):  # fmt: skip
        r = _post(d.url, event, payload)
        assert r.status_code == 200 and r.json()["status"] == "ignored", r.text
    assert c.get("/tasks").json()["tasks"] == []

    # The labelled issue and the @bridle comment each make a task; a replay makes none.
    delivery = str(uuid.uuid4())
    first = _post(d.url, "issues", p["labeled"], delivery=delivery)
    assert first.status_code == 201, first.text
    task = first.json()["task"]
    number = p["labeled"]["issue"]["number"]
    assert task["branch"] == f"bridle/issue-{number}" and task["repo_url"] == str(origin)
    assert p["labeled"]["issue"]["title"] in task["task"] and task["model"] == "mock/anthropic"
    replay = _post(d.url, "issues", p["labeled"], delivery=delivery)
    assert replay.status_code == 200
    assert replay.json() == {
        "status": "ignored", "reason": "delivery already handled", "task_id": task["id"],
    }  # fmt: skip
    said = _post(d.url, "issue_comment", p["comment"])
    assert said.status_code == 201, said.text
    asked = said.json()["task"]
    assert asked["task"].startswith("fix the failing test")
    assert asked["branch"] == f"bridle/issue-{p['comment']['issue']['number']}-comment-" + str(
        p["comment"]["comment"]["id"]
    )
    assert len(c.get("/tasks").json()["tasks"]) == 2

    # The labelled issue's task runs like any other and pushes its branch.
    done = wait_for(c, task["id"], ("succeeded", "failed", "cancelled"))
    assert done["state"] == "succeeded", done
    assert "return sum(values) / len(values)" in git(
        "show", f"bridle/issue-{number}:stats.py", cwd=origin
    )
    wait_for(c, asked["id"], ("succeeded", "failed", "cancelled"))


def test_webhooks_are_refused_without_a_secret(daemon_factory: Any, origin: Path) -> None:
    d: Daemon = daemon_factory(workers=0).start()
    r = _post(d.url, "issues", payloads()["labeled"])
    assert r.status_code == 401 and "github_webhook_secret" in r.json()["error"]["message"]
    assert d.client().get("/tasks").json()["tasks"] == []
