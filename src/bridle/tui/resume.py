"""`/resume [ID]`: switch the app to another of the project's bridle sessions.

Alone, `/resume` opens `SessionPicker` over the project's sessions (newest
first, read through a connection of its own, so the engine's is never shared
across threads): title, model, when it was last used; Enter picks, Esc closes.
`switch_session(app, ref)` opens the chosen session (an id or unique prefix)
with the app's run options before anything changes, so an unknown id or a
session in use is a plain notice and the current session stays; then it stops
the engine's thread, closes the old session (saved), and shows the new one as
the app shows a resumed session at launch (its last messages, its prompts in
the history, its todo list). It waits for a running turn to end.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from bridle.tui.app import BridleApp

LISTED = 50


def project_sessions(app: BridleApp) -> list[Any]:
    from bridle.config.paths import database_path
    from bridle.store.db import open_db
    from bridle.store.sessions import SessionStore

    conn = open_db(database_path(app.env))
    try:
        records = SessionStore(conn).list(cwd=str(app.cwd), limit=LISTED + 1)
    finally:
        conn.close()
    return [r for r in records if r.id != app.session.record.id][:LISTED]


class SessionPicker(ModalScreen[str | None]):
    DEFAULT_CSS = """
    SessionPicker { align: center bottom; }
    SessionPicker > Vertical { height: auto; max-height: 22; width: 100%;
        border: round $accent; background: $surface; }
    SessionPicker OptionList { height: auto; max-height: 18; border: none; }
    """
    BINDINGS = [Binding("escape", "close", "Close", show=False)]

    def __init__(self, records: list[Any]) -> None:
        super().__init__()
        self.records = records

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("resume which session? (Enter picks, Esc closes)"))
            yield OptionList(id="sessions")

    def on_mount(self) -> None:
        sessions = self.query_one(OptionList)
        for r in self.records:
            line = Text(f"{r.id[:8]}  ")
            line.append((r.title or "(untitled)")[:70], "bold")
            line.append(f"  {r.model} · {r.updated_at[:16].replace('T', ' ')}", "dim")
            sessions.add_option(Option(line))
        if self.records:
            sessions.highlighted = 0
        sessions.focus()

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        self.dismiss(self.records[message.option_index].id)

    def action_close(self) -> None:
        self.dismiss(None)


async def resume_command(app: BridleApp, ref: str) -> None:
    if app.running:
        await app.note("wait for the turn to end (or Esc), then /resume", error=True)
        return
    if ref:
        await switch_session(app, ref)
        return
    records = await asyncio.to_thread(project_sessions, app)
    if not records:
        await app.note("no other bridle session in this project (bridle sessions lists all)")
        return

    async def chosen(sid: str | None) -> None:
        if sid is not None:
            await switch_session(app, sid)

    app.push_screen(SessionPicker(records), chosen)


async def switch_session(app: BridleApp, ref: str, fork: bool = False) -> None:
    """Open session `ref` (with `fork`: a new copy of it, `--fork-session`) and
    show it in place of the current one, which is saved and closed."""
    from bridle.core.errors import BridleError
    from bridle.engine.setup import open_session
    from bridle.tui.runner import EngineRunner
    from bridle.tui.todos import last_todos

    options = dataclasses.replace(
        app.options, resume=ref, continue_latest=False, fork=fork, session_id=None
    )
    try:
        new = await asyncio.to_thread(open_session, options, app.cwd, app.env)
    except BridleError as e:
        await app.note(f"cannot {'fork' if fork else 'resume'} {ref}: {e}", error=True)
        return
    old = app.session
    app.runner.stop()
    await asyncio.to_thread(app.runner.join, 15.0)
    await asyncio.to_thread(old.close)
    app.session = new
    app.runner = EngineRunner(new, app.cwd, app._from_engine)
    app.queue.clear()
    app.tool_lines.clear()
    app.answer = None
    hud = app.hud
    hud.model = new.model_name
    hud.mode = new.started_event.permission_mode
    hud.tokens_in = hud.tokens_out = hud.context_used = hud.lines_added = hud.lines_removed = 0
    hud.cost_usd = 0.0
    await app.transcript.remove_children()
    messages = new.engine.messages
    sid = new.started_event.session_id[:8]
    what = f"forked session {sid} from {ref[:8]}" if fork else f"resumed session {sid}"
    await app.note(f"bridle · {what}")
    app.prompt.sent = [m.text for m in messages if m.role == "user" and m.text.strip()]
    await app.show_history(messages)
    app.todo_panel.set_todos(last_todos(messages))
    app.count_extensions()
    app.runner.start()
    app.refresh_hud()
