"""A Claude Code `statusLine` command in place of the HUD.

Settings `{"statusLine": {"type": "command", "command": "~/.claude/statusline.sh",
"padding": 0}}` (bridle's layers or Claude Code's `.claude/settings.json`)
replace the HUD line with the first line the command prints, ANSI colours kept,
as Claude Code does: the command gets the session as JSON on stdin
(`status_input`: `hook_event_name` "Status", `session_id`, `transcript_path`,
`cwd`, `model.id`/`display_name`, `workspace.current_dir`/`project_dir`,
`version`, `output_style.name`, `cost` with durations and lines added/removed,
`exceeds_200k_tokens`, and `context_window` with the token counts and used and
remaining percentages), so users' existing status-line scripts work unchanged.
It runs when the conversation changes, at most every 300 ms (`StatusLine`
throttles, one run at a time, never on a clock, so the idle app stays idle);
a failing, silent or slow (over 5 s) command leaves the line blank.
`disableAllHooks: true` turns it off, as in Claude Code.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from rich.text import Text

MIN_INTERVAL = 0.3
TIMEOUT = 5.0


def status_command(settings: Any) -> tuple[str, int] | None:
    """The configured command and its padding, or None."""
    get = getattr(settings, "get", None)
    if get is None or get("disableAllHooks") is True:
        return None
    spec = get("statusLine")
    if not isinstance(spec, dict) or spec.get("type", "command") != "command":
        return None
    command = spec.get("command")
    if not isinstance(command, str) or not command.strip():
        return None
    padding = spec.get("padding", 0)
    return command, padding if isinstance(padding, int) and padding >= 0 else 0


def status_input(
    *,
    session_id: str,
    transcript_path: str,
    cwd: Path,
    project_dir: Path,
    model: str,
    style: str,
    hud: Any,
    started: float,
    api_ms: int,
    now: float,
) -> dict[str, Any]:
    """The JSON Claude Code feeds a status-line command, from the app's state."""
    from bridle import __version__

    window = hud.context_window or 0
    used = hud.context_used
    percent = round(100 * used / window, 1) if window else 0
    display = model.split("/", 1)[1] if "/" in model else model
    return {
        "hook_event_name": "Status",
        "session_id": session_id,
        "transcript_path": transcript_path,
        "cwd": str(cwd),
        "model": {"id": model, "display_name": display},
        "workspace": {"current_dir": str(cwd), "project_dir": str(project_dir)},
        "version": __version__,
        "output_style": {"name": style},
        "cost": {
            "total_cost_usd": round(hud.cost_usd, 6),
            "total_duration_ms": int((now - started) * 1000),
            "total_api_duration_ms": api_ms,
            "total_lines_added": hud.lines_added,
            "total_lines_removed": hud.lines_removed,
        },
        "exceeds_200k_tokens": used > 200_000,
        "context_window": {
            "total_input_tokens": hud.tokens_in,
            "total_output_tokens": hud.tokens_out,
            "context_window_size": window,
            "current_usage": {"input_tokens": used, "output_tokens": 0},
            "used_percentage": percent,
            "remaining_percentage": round(100 - percent, 1) if window else 100,
        },
    }


async def run_status(
    command: str, payload: dict[str, Any], cwd: Path, env: Mapping[str, str]
) -> Text:
    """The command's first line of output (blank when it fails or says nothing)."""
    try:
        process = await asyncio.create_subprocess_shell(
            command,
            cwd=cwd,
            env=dict(env),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:
        return Text("")
    try:
        out, _ = await asyncio.wait_for(process.communicate(json.dumps(payload).encode()), TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        return Text("")
    if process.returncode != 0:
        return Text("")
    lines = out.decode("utf-8", "replace").splitlines()
    return Text.from_ansi(lines[0]) if lines else Text("")


class StatusLine:
    """Runs the command when asked, at most every 300 ms and one run at a time;
    `show` gets each result."""

    def __init__(
        self,
        command: str,
        run: Callable[[], Awaitable[Text]],
        show: Callable[[Text], None],
    ) -> None:
        self.command = command
        self._run = run
        self._show = show
        self._wanted = False
        self._busy = False
        self._last = 0.0
        self._task: asyncio.Task[None] | None = None
        self.runs = 0

    def changed(self) -> None:
        """The conversation changed: run again (now, or once the last run is done)."""
        self._wanted = True
        if not self._busy:
            self._busy = True
            self._task = asyncio.get_running_loop().create_task(self._loop())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _loop(self) -> None:
        try:
            while self._wanted:
                self._wanted = False
                wait = self._last + MIN_INTERVAL - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                self._last = time.monotonic()
                self.runs += 1
                self._show(await self._run())
        finally:
            self._busy = False
