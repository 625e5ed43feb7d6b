"""Negative cases for the daemon's API, beyond what test_api.py and
test_daemon_cli.py cover: every operation in `/openapi.json` refuses a missing,
wrong, mis-schemed or misplaced token (and changes nothing); the bind rules for
each kind of address; and `..` in every disguise in `repo_url`, `branch`,
`base` and task ids. Misspelt query parameters are named, as body fields are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from bridle.core.errors import UsageError
from bridle.daemon.server import DaemonConfig
from tests.daemon.conftest import TOKEN, Daemon, submit

# Routes with their own check instead of the bearer token.
OPEN = {("get", "/health"), ("post", "/webhooks/github")}


def test_every_operation_refuses_a_bad_token_and_changes_nothing(
    daemon_factory: Any, origin: Path
) -> None:
    d: Daemon = daemon_factory(workers=0).start()
    task = submit(d.client(), origin, branch="neg/a")
    spec = httpx.get(d.url + "/openapi.json").json()
    operations = [
        (method, path) for path, item in spec["paths"].items() for method in item
        if (method, path) not in OPEN
    ]  # fmt: skip
    assert len(operations) >= 8, operations
    bad_headers: list[dict[str, str]] = [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"X-Api-Key": TOKEN},
        {"Cookie": f"token={TOKEN}"},
    ]
    body = {"repo_url": str(origin), "task": "sneaky", "text": "sneaky"}
    for method, path in operations:
        url = d.url + path.replace("{task_id}", task["id"])
        for headers in bad_headers:
            r = httpx.request(method, url, headers=headers, json=body, timeout=10)
            assert r.status_code == 401, (method, path, headers, r.text)
            assert r.json()["error"]["type"] == "unauthorized"
            assert r.headers["www-authenticate"] == "Bearer"
    # A token in the URL is not a token: refused before anything runs.
    r = httpx.get(d.url + "/tasks", params={"token": TOKEN})
    assert r.status_code == 400 and r.json()["error"]["message"].startswith("token:")
    r = httpx.get(d.url + "/tasks", params={"access_token": TOKEN})
    assert r.status_code == 400
    with d.client() as c:
        tasks = c.get("/tasks").json()["tasks"]
        assert [(t["id"], t["state"]) for t in tasks] == [(task["id"], "queued")]
        assert c.get(f"/tasks/{task['id']}/events").json()["events"] == []
        # The scheme is case-insensitive (RFC 7235); the token is not.
        lower = {"Authorization": f"bearer {TOKEN}"}
        assert httpx.get(d.url + "/tasks", headers=lower).status_code == 200
        upper = {"Authorization": f"Bearer {TOKEN.upper()}"}
        assert httpx.get(d.url + "/tasks", headers=upper).status_code == 401


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "example.com", "127.0.0.1.nip.io"]
)
def test_a_reachable_address_needs_tls_or_insecure_bind(host: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--insecure-bind") as err:
        DaemonConfig(host=host, data_dir=tmp_path).check()
    assert "--tls-cert" in str(err.value) and host in str(err.value)
    DaemonConfig(host=host, data_dir=tmp_path, insecure_bind=True).check()
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    DaemonConfig(host=host, data_dir=tmp_path, tls_cert=cert, tls_key=key).check()


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "localhost"])
def test_loopback_addresses_need_nothing(host: str, tmp_path: Path) -> None:
    DaemonConfig(host=host, data_dir=tmp_path).check()


def test_tls_needs_both_files(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="both --tls-cert and --tls-key"):
        DaemonConfig(host="0.0.0.0", tls_cert=tmp_path / "c.pem").check()
    with pytest.raises(UsageError, match="both --tls-cert and --tls-key"):
        DaemonConfig(tls_key=tmp_path / "k.pem").check()


def test_traversal_in_every_disguise_is_refused(daemon_factory: Any, origin: Path) -> None:
    d: Daemon = daemon_factory(workers=0).start()
    c = d.client()
    parent = origin.parent
    repos = [
        f"{origin}/..", f"{parent}/../{parent.name}/origin.git", f"{origin}/../origin.git",
        f"file://{origin}/../origin.git", f"file://{parent}/%2e%2e/{parent.name}/origin.git",
        f"file://{parent}/%2E%2E/x", "https://example.com/a/%2e%2e/%2e%2e/etc",
        "https://example.com/a/..%2f..%2fetc", "ssh://host/srv/../../etc", "git@host:../etc",
        "git@host:repo/../../etc", "relative/../path", "../origin.git", "~/x",
    ]  # fmt: skip
    for repo in repos:
        r = c.post("/tasks", json={"repo_url": repo, "task": "x"})
        assert r.status_code == 400, (repo, r.text)
        assert r.json()["error"]["message"].startswith("repo_url"), r.text
    branches = [
        "..", "../x", "a/../b", "a/..", "./x", ".hidden", "a/.b", "x.lock", "a\\..\\b",
        "a//b", "/abs", "-f", "--force", "@{-1}", "HEAD", "a b", "a~1", "a^", "a:b", "a?",
        "a*", "a[", "a\x00b", "a\nb", "x" * 201,
    ]  # fmt: skip
    for field in ("branch", "base"):
        for name in branches:
            body = {"repo_url": str(origin), "task": "x", field: name}
            r = c.post("/tasks", json=body)
            assert r.status_code == 400, (field, name, r.text)
            assert r.json()["error"]["message"].startswith(field), r.text
    assert c.get("/tasks").json()["tasks"] == []
    # Task ids are looked up, never used as paths.
    for tid in ("..", "..%2F..%2Fetc%2Fpasswd", "%2e%2e", "t0000000000/../x"):
        r = c.get(f"/tasks/{tid}/events")
        assert r.status_code == 404, (tid, r.text)


def test_misspelt_or_repeated_query_parameters_are_named(daemon_factory: Any) -> None:
    d: Daemon = daemon_factory(workers=0).start()
    c = d.client()
    r = c.get("/tasks", params={"stat": "queued"})
    assert r.status_code == 400
    message = r.json()["error"]["message"]
    assert message.startswith("stat:") and "state" in message
    r = c.get("/tasks?limit=1&limit=2")
    assert r.status_code == 400 and r.json()["error"]["message"].startswith("limit:")
    r = c.get("/tasks", params={"state": "done"})
    assert r.status_code == 400 and r.json()["error"]["message"].startswith("state:")
    assert c.get("/tasks", params={"state": "queued", "limit": 5}).status_code == 200
