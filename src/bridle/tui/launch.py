"""Opening the interactive app: `bridle` (or `bridle "prompt"`) on a terminal.

`run_app(options, prompt, cwd, env)` runs `tui.app.BridleApp` (mouse capture
off with `BRIDLE_NO_MOUSE=1`), which draws its first screen and then opens the
session on a thread (the engine, the providers and the catalog are imported
there, after the first paint); a bad flag, an unknown model or a session in
use ends the app and is a plain error on the restored terminal (exit 64). The
session is closed on every way out:
Ctrl+C twice, `/quit`, SIGTERM or SIGHUP (the app quits as with `/quit`), or an
error. The resume command is printed once the terminal is restored. The CLI
checks for a terminal before calling this; Textual is imported only here.
"""

from __future__ import annotations

import dataclasses
import signal
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bridle.engine.options import SessionOptions


def context_window(session: Any, env: Mapping[str, str]) -> int:
    """The bound model's context window: settings `context_window`, else the
    catalog's, else 200k tokens."""
    configured = session.settings.get("context_window") if session.settings else None
    if configured:
        return int(configured)
    try:
        from bridle.providers.resolve import resolve_model

        info = resolve_model(session.model_name, session.settings, env, require_key=False).info
    except Exception:  # an unresolvable custom model only loses its bar's scale
        return 200_000
    return info.context_window or 200_000


def run_app(options: SessionOptions, prompt: str | None, cwd: Path, env: Mapping[str, str]) -> int:
    from bridle.tui.gitprobe import GitProbe

    git = GitProbe(cwd)  # runs while the app loads: the first screen shows the dirty marker
    from bridle.tui import css_cache
    from bridle.tui.app import BridleApp
    from bridle.tui.instant import session_id as instant_id

    css_cache.install()

    # A new session's id is chosen now (or was, for the instant screen: `tui.instant`),
    # so the first screen shows the id it keeps.
    new_id = "" if options.resuming or options.session_id else instant_id() or str(uuid.uuid4())

    def opener() -> tuple[Any, int]:
        from bridle.engine.setup import open_session

        opening = dataclasses.replace(options, session_id=new_id) if new_id else options
        session = open_session(opening, cwd, env)
        return session, context_window(session, env)

    app = BridleApp(
        None,
        settings=_settings(options, cwd, env),
        cwd=cwd,
        env=env,
        first_prompt=prompt,
        account=",".join(options.accounts),
        options=options,
        opener=opener,
        session_id=new_id or options.session_id or "",
        git=git,
    )
    old: dict[signal.Signals, Any] = {}
    session: Any = None
    try:
        quit_app = app.action_quit

        def on_signal(signum: int, frame: Any) -> None:
            app.call_later(quit_app)
            if signum == signal.SIGHUP:
                # The terminal is gone: Textual's input thread then spins on a dead
                # pty and its loop may never run the quit, so end from here.
                threading.Thread(target=_hang_up, args=(app,), daemon=True).start()

        for signum in (signal.SIGTERM, signal.SIGHUP):
            old[signum] = signal.signal(signum, on_signal)
        app.run(mouse=env.get("BRIDLE_NO_MOUSE", "") in ("", "0"))
    finally:
        for signum, handler in old.items():
            signal.signal(signum, handler)
        if app.opening is not None:
            app.opening.join()  # a session still opening is closed, not leaked
        if app.session is not None:
            app.runner.stop()
            app.runner.join(15.0)
        session = app.session or (app.opened[0] if app.opened else None)
        if session is not None:
            session.close()  # /resume may have switched sessions: the one it ended on
    if app.open_error is not None:
        raise app.open_error  # a bad flag, an unknown model, a session in use: exit 64
    from bridle.tui.welcome import goodbye_line

    goodbye = goodbye_line(app, time.monotonic() - app.started_at)
    sid = session.record.id[:8]
    sys.stderr.write((f"{goodbye}\n" if goodbye else "") + f"bridle: session {sid} saved; "
                     f"continue it with `bridle -r {sid}`\n")  # fmt: skip
    return 0


def _settings(options: SessionOptions, cwd: Path, env: Mapping[str, str]) -> Any:
    """The merged settings for the first paint (theme, greeting); a broken file is
    left for the session's opening to report, with the file and the key."""
    from bridle.config.settings import load_settings
    from bridle.core.errors import BridleError

    try:
        return load_settings(cwd, env, cli=dict(options.settings))
    except BridleError:
        return None


HANGUP_GRACE_S = 3.0


def _hang_up(app: Any) -> None:
    """After a hang-up, give the app `HANGUP_GRACE_S` to quit by itself; if it has
    not, stop the engine's turn, save and close the session, and exit (129, as a
    shell reports SIGHUP) so no orphan keeps running without a terminal."""
    import os

    time.sleep(HANGUP_GRACE_S)
    try:
        if app.session is not None:
            app.runner.stop()
            app.runner.join(10.0)
        session = app.session or (app.opened[0] if app.opened else None)
        if session is not None:
            session.close()
    finally:
        os._exit(129)
