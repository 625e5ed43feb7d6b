"""altergo's launcher: `bridle launch` with no account, on a terminal.

One row per account and coding CLI (the account's providers, the default
account's first, then `native`, your real setup, for each CLI found on PATH),
with the CLI's login state and when it was last launched under that account.
Keys: ↑/↓ or j/k move, Enter launches the row, `y` toggles yolo (skip the
tool's permission prompts), `p` toggles the tmux portal (it starts from the
`tmuxPortal` setting), `q` or Esc leaves without launching. The app returns the
`LaunchChoice`; `cli.launch` runs it exactly as `bridle launch ACCOUNT TOOL`
would. Reading the rows touches only account files; nothing is written here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Static

if TYPE_CHECKING:
    from bridle.accounts.runner import Accounts

KEYS = "↑/↓ move · Enter launch · y yolo · p portal · q quit"


@dataclass(frozen=True)
class LaunchRow:
    """One row of the launcher: an account and CLI, its login state, and when it was last used."""

    account: str
    tool: str
    login: str
    last_used: str | None
    default: bool = False


@dataclass(frozen=True)
class LaunchChoice:
    """The row and toggles the user launched with; `cli.launch` runs it."""

    account: str
    tool: str
    yolo: bool
    portal: bool


def launcher_rows(ctx: Accounts, env: Mapping[str, str]) -> list[LaunchRow]:
    """The launcher's rows for an accounts context."""
    from bridle.accounts.manage import login_state
    from bridle.accounts.specs import TOOLS, find_binary
    from bridle.accounts.store import NATIVE

    store = ctx.store
    default = store.default()
    rows: list[LaunchRow] = []
    for name in sorted(store.names(), key=lambda n: (n != default, n)):
        account = store.load(name)
        paths = ctx.paths(name)
        tools = sorted(account.providers, key=lambda t: t != account.default_provider)
        for tool in tools:
            login = login_state(paths, TOOLS[tool])
            rows.append(LaunchRow(name, tool, login, account.last_used.get(tool), name == default))
    for tool, spec in TOOLS.items():
        if find_binary(spec, env) is not None:
            rows.append(LaunchRow(NATIVE, tool, "your setup", None, default == NATIVE))
    return rows


def _ago(stamp: str | None, now: datetime) -> str:
    if not stamp:
        return "never"
    try:
        then = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if then.tzinfo is not None:
        now = now.astimezone(then.tzinfo) if now.tzinfo else now.astimezone()
        then = then.astimezone(now.tzinfo)
    seconds = (now.replace(tzinfo=None) - then.replace(tzinfo=None)).total_seconds()
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return "just now"


class LauncherApp(App[LaunchChoice | None]):
    CSS = """
    Screen { layout: vertical; }
    #title { height: 1; padding: 0 1; background: $boost; }
    #rows { height: 1fr; padding: 1 1 0 1; }
    #keys { height: 1; padding: 0 1; background: $boost; }
    """
    BINDINGS = [
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("enter", "launch", "Launch", priority=True, show=False),
        Binding("y", "yolo", "Yolo", show=False),
        Binding("p", "portal", "Portal", show=False),
        Binding("q,escape", "leave", "Quit", show=False),
    ]

    def __init__(
        self,
        rows: list[LaunchRow],
        *,
        portal: bool,
        yolo: bool = False,
        now: datetime | None = None,
    ) -> None:
        super().__init__()
        self.rows = rows
        self.cursor = 0
        self.yolo = yolo
        self.portal = portal
        self.now = now or datetime.now()

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        yield Static(id="rows")
        yield Static(KEYS, id="keys")

    def on_mount(self) -> None:
        self.refresh_view()

    def action_move(self, step: int) -> None:
        if self.rows:
            self.cursor = max(0, min(len(self.rows) - 1, self.cursor + step))
        self.refresh_view()

    def action_yolo(self) -> None:
        self.yolo = not self.yolo
        self.refresh_view()

    def action_portal(self) -> None:
        self.portal = not self.portal
        self.refresh_view()

    def action_launch(self) -> None:
        if self.rows:
            row = self.rows[self.cursor]
            self.exit(LaunchChoice(row.account, row.tool, self.yolo, self.portal))

    def action_leave(self) -> None:
        self.exit(None)

    def refresh_view(self) -> None:
        title = Text("bridle launch", style="bold")
        for name, on in (("yolo", self.yolo), ("portal", self.portal)):
            title.append(f"   {name}: ")
            title.append("on" if on else "off", style="bold green" if on else "dim")
        self.query_one("#title", Static).update(title)
        self.query_one("#rows", Static).update(self._table())

    def _table(self) -> Text:
        out = Text(no_wrap=True, overflow="ellipsis")
        if not self.rows:
            out.append(
                "No accounts and no coding CLI on PATH. Add an account with "
                "`bridle accounts add NAME`, or install claude, codex, gemini or copilot.",
                style="dim",
            )
            return out
        room = max(1, self.query_one("#rows", Static).content_region.height or self.size.height - 4)
        first = max(0, min(self.cursor - room // 2, len(self.rows) - room))
        width = max(len(r.account) for r in self.rows) + 2
        for i in range(first, min(len(self.rows), first + room)):
            row = self.rows[i]
            here = i == self.cursor
            line = Text("▶ " if here else "  ", style="bold" if here else "")
            mark = "*" if row.default else " "
            line.append(f"{row.account}{mark}".ljust(width), style="bold" if here else "")
            line.append(row.tool.ljust(9), style="cyan")
            ok = row.login in ("logged in", "token", "your setup")
            line.append(row.login.ljust(15), style="green" if ok else "yellow")
            line.append(_ago(row.last_used, self.now), style="dim")
            out.append(line)
            out.append("\n")
        return out
