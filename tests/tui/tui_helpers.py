"""Helpers for the app's Pilot tests: a copy of the buggy example project, an app
over a session against a `MockServer` (started outside the test's event loop),
and waiting for what the app shows."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bridle.engine.options import SessionOptions
from bridle.engine.setup import open_session
from bridle.mock.server import MockServer
from bridle.tui.app import BridleApp

ROOT = Path(__file__).resolve().parents[2]
BUGGY = ROOT / "examples" / "buggy-project"


def buggy_project(tmp: Path) -> Path:
    repo = tmp / "buggy"
    shutil.copytree(BUGGY, repo)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    return repo


def before_the_session(
    cwd: Path,
    look: Callable[[Any], None],
    *,
    app_class: type[BridleApp] = BridleApp,
    **kwargs: Any,
) -> BridleApp:
    """An app whose session is still opening while `look(app)` sees its first
    screen; then its opener fails and the app ends (64), as when a session cannot
    open. Returns the ended app."""
    gate = threading.Event()

    def opener() -> tuple[Any, int]:
        gate.wait(30)
        raise RuntimeError("this test ends before the session opens")

    options = SessionOptions(model="mock/anthropic", headless=False)
    app = app_class(None, cwd=cwd, env=dict(os.environ), options=options, opener=opener, **kwargs)

    async def drive() -> None:
        async with app.run_test() as pilot:
            await pilot.pause()
            try:
                look(app)
            finally:
                gate.set()
            assert app.opening is not None
            await asyncio.to_thread(app.opening.join, 10)
            await pilot.pause()

    asyncio.run(drive())
    return app


def scenario_file(tmp: Path, turns: list[dict[str, Any]]) -> Path:
    path = tmp / "scenario.json"
    path.write_text(json.dumps({"name": "t", "prompt": "p", "final": "done", "turns": turns}))
    return path


@contextmanager
def app_over(
    cwd: Path,
    scenario: Path,
    options: SessionOptions | None = None,
    env: dict[str, str] | None = None,
    first_prompt: str | None = None,
) -> Iterator[tuple[BridleApp, MockServer]]:
    """An app over a new session against a mock server; the session is closed after."""
    with MockServer(scenario, workdir=cwd, keep_bodies=True) as srv:
        full = {**os.environ, **(env or {}), "BRIDLE_MOCK_BASE_URL": srv.base_url}
        opts = options or SessionOptions(model="mock/anthropic", headless=False)
        session = open_session(opts, cwd, full)
        app = BridleApp(session, cwd=cwd, env=full, first_prompt=first_prompt, options=opts)
        try:
            yield app, srv
        finally:
            app.runner.stop()
            app.runner.join(10)
            app.session.close()  # /resume may have switched sessions


async def wait_for(pilot: Any, check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    """Let the app run until `check()` is truthy (the timeout only stops a hung test)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"the app never showed {what}")
        await pilot.pause(0.05)


def user_texts(srv: MockServer) -> list[str]:
    """The text of every user message in the last request the mock received."""
    body = srv.requests[-1]["body"]
    texts = []
    for message in body["messages"]:
        if message["role"] != "user":
            continue
        content = message["content"]
        if isinstance(content, str):
            texts.append(content)
            continue
        for block in content:
            if block.get("type") == "text":
                texts.append(block["text"])
            elif block.get("type") == "tool_result":
                inner = block.get("content")
                if isinstance(inner, list):
                    texts.extend(b.get("text", "") for b in inner)
                else:
                    texts.append(str(inner))
    return texts
