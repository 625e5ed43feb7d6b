"""Approving a project's `.mcp.json` servers once, as Claude Code asks in its app.

A project's `.mcp.json` can name servers the user never chose; headless runs
skip them until settings approve them (`enabledMcpjsonServers`,
`enableAllProjectMcpServers`). Before the app opens a session it asks once about
the project servers that are neither approved nor declined, and records the
answer where Claude Code does: `enabledMcpjsonServers` (yes) or
`disabledMcpjsonServers` (no) in the project's `.claude/settings.local.json`,
edited in place so its comments and other keys stay. The session then opens
with the servers the user approved.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


def pending_servers(cwd: Path, env: Mapping[str, str]) -> tuple[Path, list[str]]:
    """(the project root, the `.mcp.json` servers neither approved nor declined)."""
    from bridle.config.settings import find_project_root, load_settings

    root = find_project_root(cwd)
    if not (root / ".mcp.json").is_file():
        return root, []
    from bridle.mcp.config import load_servers
    from bridle.mcp.status import approved

    settings = load_settings(cwd, env)
    declined = settings.get("disabledMcpjsonServers") or []
    found = load_servers(root, env=env)
    names = [
        name
        for name, cfg in found.servers.items()
        if cfg.scope == "project" and not approved(name, settings) and name not in declined
    ]
    return root, names


def record_choice(root: Path, names: list[str], approve: bool) -> Path:
    """Add `names` to `enabledMcpjsonServers` (or `disabledMcpjsonServers`) in
    `<root>/.claude/settings.local.json`, keeping the file's text elsewhere."""
    import json

    from bridle.config.jsonc import parse_jsonc
    from bridle.config.jsonc_edit import update_jsonc
    from bridle.store.atomic import atomic_write_text

    path = root / ".claude" / "settings.local.json"
    key = "enabledMcpjsonServers" if approve else "disabledMcpjsonServers"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    data: Any = parse_jsonc(text, str(path)) if text.strip() else {}
    old = data.get(key) if isinstance(data, dict) else None
    merged = [*(old if isinstance(old, list) else []), *names]
    merged = list(dict.fromkeys(merged))
    if text.strip():
        text = update_jsonc(text, {(key,): merged}, str(path))
    else:
        text = json.dumps({key: merged}, indent=2) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)
    return path


def ask_before_open(app: Any) -> None:
    """On the app's opener thread, before the session opens: ask about the pending
    servers on the app's screen, wait for the answer and record it."""
    import threading

    root, names = pending_servers(app.cwd, app.env)
    if not names:
        return
    answered = threading.Event()
    choice: list[bool] = []

    def done(yes: bool | None) -> None:
        choice.append(bool(yes))
        answered.set()

    app.call_from_thread(app.push_screen, ApproveMcpScreen(names), done)
    while not answered.wait(0.2):
        if getattr(app, "quitting", False) or not app.is_running:
            return  # the app is ending: nothing is recorded
    record_choice(root, names, choice[0])


class ApproveMcpScreen(ModalScreen[bool]):
    """ "Use the MCP servers in .mcp.json?" with y / n."""

    BINDINGS = [
        Binding("y", "answer(True)", "use them"),
        Binding("n", "answer(False)", "not now"),
        Binding("escape", "answer(False)", "not now", show=False),
    ]
    DEFAULT_CSS = """
    ApproveMcpScreen { align: center middle; }
    ApproveMcpScreen > Vertical {
        width: 76; height: auto; border: round $accent; padding: 1 2; background: $surface;
    }
    """

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self.names = names

    def compose(self) -> ComposeResult:
        listed = ", ".join(self.names)
        with Vertical():
            yield Static(f"This project's .mcp.json names MCP servers: {listed}")
            yield Static("They run commands on this machine. Use them in this project?")
            yield Static("[b]y[/b] use them (saved in .claude/settings.local.json) · [b]n[/b] no")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
