"""Opening the interactive app: `bridle` (or `bridle "prompt"`) on a terminal.

`run_app(options, prompt, cwd, env)` opens the session before the app takes
the screen, so a bad flag, an unknown model or a session in use is a plain
error on the terminal (exit 64), then runs `tui.app.BridleApp` (mouse capture
off with `BRIDLE_NO_MOUSE=1`), and closes the session on every way out:
Ctrl+C twice, `/quit`, SIGTERM or SIGHUP (the app quits as with `/quit`), or an
error. The resume command is printed once the terminal is restored. The CLI
checks for a terminal before calling this; Textual is imported only here.
"""

from __future__ import annotations

import signal
import sys
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
    from bridle.engine.setup import open_session
    from bridle.tui.app import BridleApp

    session = open_session(options, cwd, env)
    app: BridleApp | None = None
    old: dict[signal.Signals, Any] = {}
    try:
        app = BridleApp(
            session,
            cwd=cwd,
            env=env,
            first_prompt=prompt,
            account=",".join(options.accounts),
            context_window=context_window(session, env),
            options=options,
        )
        quit_app = app.action_quit

        def on_signal(signum: int, frame: Any) -> None:
            app.call_later(quit_app)

        for signum in (signal.SIGTERM, signal.SIGHUP):
            old[signum] = signal.signal(signum, on_signal)
        app.run(mouse=env.get("BRIDLE_NO_MOUSE", "") in ("", "0"))
    finally:
        for signum, handler in old.items():
            signal.signal(signum, handler)
        if app is not None:
            app.runner.stop()
            app.runner.join(15.0)
            session = app.session  # /resume may have switched sessions
        session.close()
    sid = session.record.id[:8]
    sys.stderr.write(f"bridle: session {sid} saved; continue it with `bridle -r {sid}`\n")
    return 0
