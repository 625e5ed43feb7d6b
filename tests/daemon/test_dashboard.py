"""The web dashboard in a real browser: Debian's Chromium (never a downloaded one)
driven by Playwright against a real `bridle daemon` on loopback with the mock model.

The page asks for the token (a wrong one is refused and not kept), lists tasks
with state and cost, submits a task, streams its log live over SSE read with
`fetch` (the token only ever in an Authorization header, never in a URL), and its
steer and stop buttons change the task. The page's own files are served without
a token but with a strict Content-Security-Policy and no way to read other files.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.daemon.conftest import TEST_CMD, TOKEN, Daemon, slow_scenario, submit, wait_for

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (scripts/test installs it with apt)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:  # the system browser: Playwright downloads nothing
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield b
        b.close()


def _watch(page: Any) -> dict[str, list[Any]]:
    """Console errors, failed requests and every request the page makes."""
    seen: dict[str, list[Any]] = {"errors": [], "requests": []}
    page.on("console", lambda m: m.type == "error" and seen["errors"].append(m.text))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("request", lambda r: seen["requests"].append(r))
    return seen


def _log_lines(page: Any) -> list[str]:
    return page.locator("#log .ev").all_inner_texts()


def _wait(page: Any, predicate: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"timed out waiting for {what}; log: {_log_lines(page)}")


def test_dashboard_submit_watch_steer_and_stop(
    daemon_factory: Any, origin: Path, tmp_path: Path, browser: Any
) -> None:
    d: Daemon = daemon_factory(slow_scenario(tmp_path, 1200)).start()
    page = browser.new_page()
    seen = _watch(page)
    page.goto(d.url + "/")

    # The token is asked for once; a wrong one is refused and not kept.
    page.fill("#token", "not-the-token")
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#login-error:has-text('Wrong token')")
    assert page.evaluate("sessionStorage.length") == 0
    assert page.is_hidden("#main")
    page.fill("#token", TOKEN)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#main", state="visible")
    seen["errors"].clear()  # the browser logs the refused token's 401

    # Submit a task from the page: it appears in the list and opens with its live log.
    page.fill("#submit-form [name=repo_url]", str(origin))
    page.fill("#submit-form [name=task]", "fix the failing test")
    page.fill("#submit-form [name=model]", "mock/anthropic")
    page.fill("#submit-form [name=branch]", "dash/fix")
    page.fill("#submit-form [name=test_command]", TEST_CMD)
    page.click("#submit-form button[type=submit]")
    page.wait_for_selector("#tasks tbody tr[data-id]")
    task_id = page.get_attribute("#tasks tbody tr[data-id]", "data-id")
    assert task_id
    row = page.locator(f"#tasks tbody tr[data-id='{task_id}']")
    assert row.locator("td.cost").inner_text().startswith("$")
    page.wait_for_selector("#detail", state="visible")
    assert page.inner_text("#d-id") == task_id

    # The log grows while the task runs (events arrive over the open stream).
    _wait(page, lambda: any(line.startswith("── lead") for line in _log_lines(page)), "lead")
    first = len(_log_lines(page))
    _wait(page, lambda: len(_log_lines(page)) > first + 1, "the log to grow")
    page.wait_for_selector("#d-state[data-state=running]", timeout=30_000)
    assert row.get_attribute("data-state") == "running"

    # Steer: the guidance reaches the running task and shows up in its log.
    page.fill("#steer-text", "keep the change small")
    page.click("#steer")
    _wait(
        page, lambda: any("keep the change small" in x for x in _log_lines(page)), "the steer event"
    )
    assert page.input_value("#steer-text") == ""
    with d.client() as c:
        events = c.get(f"/tasks/{task_id}/events").json()["events"]
    assert [e["text"] for e in events if e["kind"] == "steer"] == ["keep the change small"]

    # Stop: the task ends cancelled; the page shows it in the detail, list and log.
    page.click("#stop")
    page.wait_for_selector("#d-state[data-state=cancelled]", timeout=60_000)
    page.wait_for_selector(f"#tasks tbody tr[data-id='{task_id}'][data-state=cancelled]")
    _wait(page, lambda: _log_lines(page)[-1].startswith("task cancelled"), "task_finished")
    assert page.is_disabled("#stop") and page.is_disabled("#steer")
    with d.client() as c:
        done = wait_for(c, task_id, ("cancelled",))
    assert done["error"] == "stopped by request" and not done["result"]["pushed"]
    # Every event is shown once, in order (ids from the event log).
    with d.client() as c:
        events = c.get(f"/tasks/{task_id}/events").json()["events"]
    shown = [int(i) for i in page.eval_on_selector_all("#log .ev", "n => n.map(e => e.dataset.id)")]
    assert shown == sorted(set(shown)) and set(shown) <= {e["id"] for e in events}
    assert shown[-1] == events[-1]["id"]

    # The token went only in headers: never in a URL, and the stream sent it too.
    assert all(TOKEN not in r.url for r in seen["requests"])
    sse = [r for r in seen["requests"] if r.url.endswith(f"/tasks/{task_id}/sse")]
    assert sse and sse[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert seen["errors"] == []

    # A reload in the same tab keeps the token and reopens the task from the URL.
    page.reload()
    page.wait_for_selector("#main", state="visible")
    page.wait_for_selector("#d-state[data-state=cancelled]")
    _wait(page, lambda: _log_lines(page)[-1:] == ["task cancelled: stopped by request"], "replay")
    # Forgetting the token returns to the prompt.
    page.click("#logout")
    page.wait_for_selector("#login", state="visible")
    assert page.evaluate("sessionStorage.length") == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_live_log_resumes_after_a_daemon_restart_without_gaps_or_repeats(
    daemon_factory: Any, origin: Path, tmp_path: Path, browser: Any
) -> None:
    port = _free_port()
    scenario = slow_scenario(tmp_path, 300)
    d: Daemon = daemon_factory(scenario).start("--port", str(port))
    with d.client() as c:
        task = submit(c, origin, branch="dash/restart")
    page = browser.new_page()
    seen = _watch(page)
    page.goto(f"{d.url}/#task={task['id']}")
    page.fill("#token", TOKEN)
    page.click("#login-form button[type=submit]")
    _wait(page, lambda: len(_log_lines(page)) >= 4, "the first events")
    d.stop()  # the page's stream drops; the worker releases the task
    before = len(_log_lines(page))
    d2: Daemon = daemon_factory(scenario).start("--port", str(port))
    assert d2.url == d.url
    _wait(page, lambda: _log_lines(page)[-1:] == ["task succeeded"], "the task to finish", 120)
    shown = [int(i) for i in page.eval_on_selector_all("#log .ev", "n => n.map(e => e.dataset.id)")]
    assert len(shown) > before
    with d2.client() as c:
        events = c.get(f"/tasks/{task['id']}/events").json()["events"]
    assert shown == sorted(set(shown)), "an event was shown twice or out of order"
    always_shown = {"task_started", "task_resumed", "phase_started", "tool_started",
                    "tool_finished", "checkpoint", "pushed", "task_finished"}  # fmt: skip
    assert {e["id"] for e in events if e["kind"] in always_shown} <= set(shown)
    assert any(line.startswith("task resumed") for line in _log_lines(page))
    # The header follows from a fetch the finishing event starts.
    page.wait_for_selector("#d-state[data-state=succeeded]", timeout=30_000)
    # The reconnect said where it left off: the last event shown before the restart.
    streams = [r for r in seen["requests"] if r.url.endswith("/sse")]
    resumed = [int(r.headers["last-event-id"]) for r in streams if "last-event-id" in r.headers]
    assert resumed and resumed[0] in shown[:before]


def test_a_token_that_stops_working_returns_to_the_prompt(
    daemon_factory: Any, browser: Any
) -> None:
    d: Daemon = daemon_factory(workers=0).start()
    page = browser.new_page()
    page.goto(d.url + "/")
    page.evaluate("t => sessionStorage.setItem('bridle.daemon.token', t)", "stale-token")
    page.reload()
    page.wait_for_selector("#login-error:has-text('refused')")
    assert page.is_hidden("#main")
    assert page.evaluate("sessionStorage.length") == 0


def test_page_files_need_no_token_and_expose_nothing_else(daemon_factory: Any) -> None:
    d: Daemon = daemon_factory(workers=0).start()
    page = httpx.get(d.url + "/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    for name, kind in (("app.js", "text/javascript"), ("style.css", "text/css")):
        r = httpx.get(f"{d.url}/dashboard/{name}")
        assert r.status_code == 200 and r.headers["content-type"].startswith(kind)
    # Only the page's own files: no directory listing, no traversal, no other file.
    for path in ("/dashboard/", "/dashboard/index.html", "/dashboard/..%2Fapp.py",
                 "/dashboard/%2e%2e%2f%2e%2e%2fserver.py", "/dashboard/../app.py"):  # fmt: skip
        r = httpx.get(d.url + path)
        assert r.status_code == 404, (path, r.text)
        assert "import" not in r.text
    # The page is not part of the API document, and the API still wants the token.
    spec = httpx.get(d.url + "/openapi.json").json()
    assert "/" not in spec["paths"] and not any(p.startswith("/dashboard") for p in spec["paths"])
    assert httpx.get(d.url + "/tasks").status_code == 401


def test_task_text_is_shown_as_text_never_as_html(
    daemon_factory: Any, origin: Path, browser: Any
) -> None:
    d: Daemon = daemon_factory(workers=0).start()
    payload = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
    with d.client() as c:
        task = submit(c, origin, task=payload, branch="dash/xss")
        c.post(f"/tasks/{task['id']}/stop")
    page = browser.new_page()
    seen = _watch(page)
    page.goto(f"{d.url}/#task={task['id']}")
    page.fill("#token", TOKEN)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector(f"#tasks tbody tr[data-id='{task['id']}'] td.what")
    _wait(page, lambda: _log_lines(page) == ["task cancelled: stopped before it started"], "log")
    assert page.inner_text(f"#tasks tbody tr[data-id='{task['id']}'] td.what") == payload
    assert page.locator("#tasks img, #tasks script").count() == 0
    assert page.evaluate("window.pwned === undefined")
    assert seen["errors"] == []
