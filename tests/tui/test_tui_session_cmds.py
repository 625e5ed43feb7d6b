"""The app's session commands, driven by Pilot against the mock model: /steer and
Ctrl+S (guidance reaches the running turn, even during its final answer),
/account (list, an unknown name's fix, a switch the next turn uses), /rename,
/export and /share (a file, no overwrite, the clipboard), /fork (a new session
with the conversation, the original kept), /diff (git diff of what the session
wrote), and /init (the model writes CLAUDE.md)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tui_helpers import app_over, buggy_project, scenario_file, user_texts, wait_for

from bridle.config.paths import database_path
from bridle.store.db import open_db
from bridle.store.sessions import SessionStore
from bridle.tui.links import DiffNote
from bridle.tui.transcript import Note

SIZE = (100, 30)


def notes(app: Any) -> str:
    return "\n".join(str(n.render()) for n in app.query(Note))


async def send(pilot: Any, app: Any, text: str) -> None:
    app.prompt.load_text(text)
    app.prompt.send()
    await pilot.pause(0.05)
    app.last_sent = ("", 0.0)  # the same command again is meant, not a double Enter


async def answered(pilot: Any, app: Any, count: int) -> None:
    await wait_for(
        pilot, lambda: len(app.query("Answer")) >= count and not app.running, f"answer {count}"
    )


def prompts_taken(app: Any) -> int:
    """How many user messages the engine holds: a steer sent after the prompt was
    taken reaches the running turn; one sent before goes with the prompt itself."""
    return sum(1 for m in app.session.engine.messages if m.role == "user")


def store() -> SessionStore:
    return SessionStore(open_db(database_path(os.environ)))


def test_steer_reaches_the_running_turn_by_command_and_by_ctrl_s(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "looked", "delay_ms": 900}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.running, "the first turn")
            await wait_for(pilot, lambda: prompts_taken(app) == 1, "the first prompt taken")
            await send(pilot, app, "/steer also check the README")
            assert "↳ steer: also check the README" in notes(app)
            await answered(pilot, app, 1)
            # The steer came while the model wrote its answer: the turn went on with it.
            assert len(srv.requests) == 2
            assert user_texts(srv)[-1] == "also check the README"
            await send(pilot, app, "second look")
            await wait_for(pilot, lambda: app.running, "the second turn")
            await wait_for(pilot, lambda: prompts_taken(app) == 3, "the second prompt taken")
            app.prompt.load_text("use unittest")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: "↳ steer: use unittest" in notes(app), "the key")
            assert app.prompt.text == "" and app.queue == []
            await wait_for(pilot, lambda: len(srv.requests) == 4 and not app.running, "steered")
            assert user_texts(srv)[-1] == "use unittest"
            await send(pilot, app, "/steer")
            assert "/steer TEXT: guidance for the running turn" in notes(app)
            await send(pilot, app, "/steer idle now")  # no turn: it is a prompt
            assert "no turn is running: sent as a prompt" in notes(app)
            await wait_for(pilot, lambda: len(srv.requests) == 5 and not app.running, "prompt")
            assert user_texts(srv)[-1] == "idle now"

    with app_over(repo, scenario, first_prompt="look at stats.py") as (app, srv):
        asyncio.run(drive(app, srv))


def bridle(args: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridle", *args], input=stdin, capture_output=True, text=True
    )


def test_account_lists_refuses_an_unknown_name_and_switches(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    for name in ("work", "personal"):
        assert bridle(["accounts", "add", name]).returncode == 0
        keys = bridle(["accounts", "keys", "set", name, "BRIDLE_MOCK_API_KEY"], f"key-{name}\n")
        assert keys.returncode == 0, keys.stderr
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "ok"}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, app, "/account")
            assert "accounts (/account NAME switches):\n- personal\n- work" in notes(app)
            before = app.session.engine.binding
            await send(pilot, app, "/account nosuch")
            await wait_for(pilot, lambda: "nosuch" in notes(app).split("switches")[-1], "error")
            assert "bridle accounts add" in notes(app) and app.hud.account == ""
            await send(pilot, app, "/account work")
            await wait_for(pilot, lambda: app.hud.account == "work", "the switch")
            assert "continuing under account work" in notes(app)
            assert app.session.engine.binding is not before
            await send(pilot, app, "hi")
            await answered(pilot, app, 1)
            await send(pilot, app, "/account")
            assert "* work" in notes(app)

    with app_over(repo, scenario) as (app, srv):
        asyncio.run(drive(app, srv))
        sid = app.session.record.id
    switches = [e.payload for e in store().events(sid) if e.payload.get("type") == "account_switch"]
    assert [s["account"] for s in switches] == ["work"]


def test_rename_export_share_and_fork(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "the mean divides wrong"}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, app, "why does the test fail?")
            await answered(pilot, app, 1)
            first = app.session.record.id
            await send(pilot, app, "/rename The mean bug")
            await wait_for(pilot, lambda: "renamed: The mean bug" in notes(app), "the rename")
            await send(pilot, app, "/rename")
            await wait_for(pilot, lambda: "title: The mean bug" in notes(app), "the title")
            await send(pilot, app, "/export")
            exported = repo / f"bridle-session-{first[:8]}.md"
            await wait_for(pilot, lambda: f"exported to {exported}" in notes(app), "the export")
            text = exported.read_text()
            assert text.startswith("# The mean bug") and "the mean divides wrong" in text
            await send(pilot, app, "/export")
            await wait_for(pilot, lambda: "already exists" in notes(app), "the refusal")
            await send(pilot, app, "/share notes/share.md")
            await wait_for(pilot, lambda: "shared: " in notes(app), "the share")
            assert (repo / "notes" / "share.md").read_text() == app.clipboard
            await send(pilot, app, "/share out.txt")
            assert "/share writes markdown" in notes(app)

            await send(pilot, app, "/fork")
            await wait_for(pilot, lambda: app.session.record.id != first, "the fork")
            assert f"forked session {app.session.record.id[:8]} from {first[:8]}" in notes(app)
            assert any("the mean divides wrong" in a.text for a in app.query("PastAnswer"))
            await send(pilot, app, "and now?")
            await wait_for(pilot, lambda: not app.running and len(srv.requests) == 2, "answer")
            assert "why does the test fail?" in user_texts(srv)  # the fork has the past
            return None

    with app_over(repo, scenario) as (app, srv):
        asyncio.run(drive(app, srv))
        forked = app.session.record.id
    records = store()
    fork = records.get(forked)
    assert fork.parent_id is not None and fork.title == "The mean bug"
    assert fork.parent_id is not None
    original = records.rebuild_messages(fork.parent_id)
    assert [m.text for m in original if m.role == "user"] == ["why does the test fail?"]


def test_diff_shows_what_the_session_wrote_and_init_writes_claude_md(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "start"],
        cwd=repo,
        check=True,
    )
    source = (repo / "stats.py").read_text()
    old = next(line for line in source.splitlines() if "return" in line)
    scenario = scenario_file(
        tmp_path,
        [
            {"op": "read", "path": "stats.py"},
            {"op": "edit", "path": "stats.py", "old": old, "new": old + "  # checked"},
            {"op": "write", "path": "NOTES.md", "content": "found it\n"},
            {"op": "final", "text": "fixed"},
        ],
    )

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, app, "/diff")
            assert "this session has not changed any file" in notes(app)
            await send(pilot, app, "fix it")
            await answered(pilot, app, 1)
            await send(pilot, app, "/diff")
            shown = await wait_for(pilot, lambda: app.query(DiffNote), "the diff")
            diff = shown[-1].diff
            assert f"-{old}" in diff and f"+{old}  # checked" in diff
            assert "+found it" in diff and "README" not in diff

    with app_over(repo, scenario, env={"BRIDLE_AUTO_APPROVE": "1"}) as (app, srv):
        asyncio.run(drive(app, srv))
    # /init, in a new session: the model is asked for a CLAUDE.md and writes it.
    claude_md = "# CLAUDE.md\n\nrun python -m unittest\n"
    scenario = scenario_file(
        tmp_path,
        [{"op": "write", "path": "CLAUDE.md", "content": claude_md}, {"op": "final"}],
    )

    async def init(app: Any, srv: Any) -> None:
        async with app.run_test(size=SIZE) as pilot:
            await send(pilot, app, "/init")
            await answered(pilot, app, 1)
            assert "create a CLAUDE.md file" in user_texts(srv)[0]

    with app_over(repo, scenario, env={"BRIDLE_AUTO_APPROVE": "1"}) as (app, srv):
        asyncio.run(init(app, srv))
    assert (repo / "CLAUDE.md").read_text() == claude_md
