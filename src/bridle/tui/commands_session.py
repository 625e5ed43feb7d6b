"""The app's `/commands` that act on the session: steer, account, rename, export, fork, diff, init.

`/steer TEXT` (or Ctrl+S on the prompt box) sends guidance into the running turn
through the engine's `Steer` op: the model reads it at its next step (after the
tool calls it is running, or before the turn would end); when no turn runs the
text is sent as a prompt. `/account NAME` goes on under another account (the
engine's `SetAccount` op binds the model again with its keys); alone it lists
the accounts. `/rename TITLE` retitles the session, `/export [PATH]` writes it
as markdown (or JSONL for a `.jsonl` path) and `/share [PATH]` does the same
and puts the markdown on the clipboard (OSC 52). Both refuse to replace a file.
`/fork` continues in a new session holding a copy of this one (`store.fork`,
as `--fork-session`); the original stays as it was. `/diff` shows what the
session changed: `git diff` of the files its tool calls wrote (new files in
full). `/init` asks the model to write a CLAUDE.md for the project, as Claude
Code's `/init` does. Store reads and writes use a connection of their own on a
worker thread, so the engine's connection never crosses threads.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bridle.engine import events as ev

if TYPE_CHECKING:
    from bridle.tui.app import BridleApp

SESSION_COMMANDS = {
    "steer": "guide the running turn: /steer TEXT (or Ctrl+S on the prompt)",
    "account": "go on under another account: /account NAME; alone, list them",
    "rename": "retitle this session: /rename TITLE",
    "export": "write this session to a file: /export [PATH.md|PATH.jsonl]",
    "share": "markdown export to a file and the clipboard: /share [PATH.md]",
    "fork": "continue in a new session holding a copy of this one",
    "diff": "what this session changed: git diff of the files it wrote",
    "init": "ask the model to write a CLAUDE.md for this project",
}
DIFF_MAX = 60_000  # characters of /diff shown
INIT_PROMPT = """Please analyze this codebase and create a CLAUDE.md file, which will be given \
to future instances of coding agents that work in this repository.

What to add:
1. Commands that will be commonly used, such as how to build, lint, and run tests. Include \
the necessary commands to develop in this codebase, such as how to run a single test.
2. High-level code architecture and structure so that future instances can be productive \
more quickly. Focus on the "big picture" architecture that requires reading multiple files \
to understand.

Usage notes:
- If there's already a CLAUDE.md, suggest improvements to it.
- Do not repeat yourself, do not include obvious instructions or generic development \
practices, and do not list every component or file that can be easily discovered.
- If there are Cursor rules (.cursor/rules/ or .cursorrules), Copilot rules \
(.github/copilot-instructions.md), AGENTS.md or a README.md, include their important parts.
- Prefix the file with the following text:

```
# CLAUDE.md

This file provides guidance to coding agents when working with code in this repository.
```"""


async def run_session_command(app: BridleApp, name: str, argument: str) -> None:
    if name == "steer":
        await steer(app, argument)
    elif name == "account":
        await switch_account(app, argument)
    elif name == "rename":
        await rename(app, argument)
    elif name in ("export", "share"):
        await export(app, argument, share=name == "share")
    elif name == "fork":
        await fork(app)
    elif name == "diff":
        await show_diff(app)
    elif name == "init":
        await app.submit(INIT_PROMPT)


async def steer(app: BridleApp, text: str) -> None:
    text = text.strip()
    if not text:
        await app.note("/steer TEXT: guidance for the running turn (Ctrl+S sends the box)", True)
        return
    if not app.running:
        await app.note("no turn is running: sent as a prompt")
        await app.submit(text)
        return
    app.runner.session.engine.send(ev.Steer(text))  # safe from this thread (a locked list)
    await app.note(f"↳ steer: {text} (the model reads it at its next step)")


async def switch_account(app: BridleApp, name: str) -> None:
    from bridle.accounts.store import AccountStore

    name = name.strip()
    if not name:
        names = AccountStore.from_env(app.env).names()
        if not names:
            await app.note("no accounts yet: bridle accounts add NAME, then /account NAME")
            return
        current = app.hud.account
        listed = "\n".join(f"{'*' if n == current else '-'} {n}" for n in names)
        await app.note(f"accounts (/account NAME switches):\n{listed}")
        return
    app.runner.control(ev.SetAccount(name))  # the engine says when the name is not one


def _own_store(app: BridleApp) -> Any:
    from bridle.config.paths import database_path
    from bridle.store.db import open_db
    from bridle.store.sessions import SessionStore

    return SessionStore(open_db(database_path(app.env)))


async def rename(app: BridleApp, title: str) -> None:
    title = " ".join(title.split())
    sid = app.session.record.id

    def work() -> str | None:
        store = _own_store(app)
        try:
            if not title:
                return str(store.get(sid).title or "")
            store.update(sid, title=title)
            return None
        finally:
            store.conn.close()

    current = await asyncio.to_thread(work)
    if title:
        await app.note(f"session {sid[:8]} renamed: {title}")
    else:
        await app.note(f"title: {current or '(untitled)'} · /rename TITLE changes it")


def _export_path(app: BridleApp, argument: str) -> Path:
    sid = app.session.record.id
    path = Path(argument).expanduser() if argument else Path(f"bridle-session-{sid[:8]}.md")
    return path if path.is_absolute() else app.cwd / path


async def export(app: BridleApp, argument: str, share: bool) -> None:
    from bridle.core.errors import BridleError
    from bridle.store.export import export_to_file, render

    path = _export_path(app, argument.strip())
    if share and path.suffix.lower() != ".md":
        await app.note("/share writes markdown: name a .md file (or use /export)", True)
        return
    sid = app.session.record.id

    def work() -> tuple[Path, str]:
        store = _own_store(app)
        try:
            written = export_to_file(store, sid, path)
            return written, render(store, sid, "markdown") if share else ""
        finally:
            store.conn.close()

    try:
        written, text = await asyncio.to_thread(work)
    except (BridleError, OSError) as e:
        await app.note(f"not exported: {e}", error=True)
        return
    if share:
        app.copy_to_clipboard(text)
        await app.note(f"shared: {written} (and the markdown is on the clipboard)")
    else:
        await app.note(f"exported to {written}")


async def fork(app: BridleApp) -> None:
    from bridle.tui.resume import switch_session

    if app.running:
        await app.note("wait for the turn to end (or Esc), then /fork", error=True)
        return
    await switch_session(app, app.session.record.id, fork=True)


def touched_files(messages: list[Any], cwd: Path) -> list[Path]:
    """The files the session's tool calls wrote (Edit, Write, MultiEdit, ApplyPatch...)."""
    from bridle.core.messages import ToolUsePart
    from bridle.tui.rewind import changed_paths

    seen: dict[Path, None] = {}
    for message in messages:
        for part in message.parts:
            if isinstance(part, ToolUsePart):
                seen.update(dict.fromkeys(changed_paths(part, cwd)))
    return list(seen)


def session_diff(files: list[Path], cwd: Path) -> str:
    """`git diff HEAD` of `files` (each new, untracked file in full); '' when unchanged."""

    def git(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=cwd,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=30,
        )

    if git("rev-parse", "--git-dir").returncode != 0:
        raise ValueError("not a git repository: /diff needs git to compare")
    head = "HEAD" if git("rev-parse", "--verify", "-q", "HEAD").returncode == 0 else None
    tracked = git("ls-files", "--", *map(str, files)).stdout.decode("utf-8", "replace")
    known = {(cwd / line).resolve() for line in tracked.splitlines()}
    out = []
    if known:
        base = [head] if head else ["--cached"]
        diff = git("diff", "--no-color", *base, "--", *map(str, sorted(known)))
        out.append(diff.stdout.decode("utf-8", "replace"))
    for path in files:
        if path.resolve() not in known and path.exists():
            new = git("diff", "--no-color", "--no-index", "--", "/dev/null", str(path))
            out.append(new.stdout.decode("utf-8", "replace"))
    return "".join(out).strip()


async def show_diff(app: BridleApp) -> None:
    files = touched_files(app.session.engine.messages, app.cwd)
    if not files:
        await app.note("this session has not changed any file")
        return
    try:
        text = await asyncio.to_thread(session_diff, files, app.cwd)
    except (ValueError, OSError, subprocess.SubprocessError) as e:
        listed = "\n".join(f"- {p}" for p in files)
        await app.note(f"{e}; the files this session wrote:\n{listed}", error=True)
        return
    if not text:
        await app.note(f"the {len(files)} file(s) this session wrote are unchanged now")
        return
    if len(text) > DIFF_MAX:
        text = text[:DIFF_MAX] + "\n…(cut: git diff shows the rest)"
    from bridle.tui.links import DiffNote

    await app.mount_in_transcript(DiffNote(text, app.cwd, app.env))
