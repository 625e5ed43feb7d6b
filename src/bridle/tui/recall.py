"""`bridle recall`: a Textual picker over every indexed session, with altergo's keys.

The table lists sessions (star, tool, when, title, project, which accounts can
resume it); ↑/k ↓/j PgUp PgDn move, Enter picks, p/Space/Tab show the first and
last messages, `/` searches the full text through the index (not just titles),
f cycles the tool filter, a the account filter, s the sort (time, project,
tool), g groups by project, b stars, `*` shows starred sessions only, t cycles
the theme, q/Esc quits. The app only reads and stars: it returns the picked
`SessionRow` from `run()` and the caller resumes it after the terminal is
restored, under the account filter in force (`account`) when one is. Data comes from a `sqlite3` connection to the history index; the
clock is passed in so snapshots are stable.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Input, Static

from bridle.history.render import CLOSE, OPEN, ago, short_home
from bridle.history.search import Filters, SessionRow, list_sessions, search, set_star

TOOL_CYCLE = (None, "claude", "codex", "gemini", "copilot", "bridle")
SORTS = ("time", "project", "tool")
THEMES = ("textual-dark", "textual-light", "nord", "gruvbox", "tokyo-night")


class RecallApp(App[SessionRow]):
    CSS = """
    #status { height: 1; padding: 0 1; background: $boost; }
    #search { display: none; }
    #search.shown { display: block; }
    #preview { display: none; height: 40%; border-top: solid $accent; padding: 0 1; overflow-y: auto; }
    #preview.shown { display: block; }
    DataTable { height: 1fr; }
    """

    BINDINGS = [
        Binding("k", "cursor_up", "Up", show=False),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("enter", "pick", "Resume"),
        Binding("p,space", "preview", "Preview"),
        # Tab would move the focus; in the picker it previews, as in altergo.
        Binding("tab", "preview", "Preview", show=False, priority=True),
        Binding("slash", "search", "Search"),
        Binding("f", "cycle_tool", "Tool"),
        Binding("a", "cycle_account", "Account"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("g", "group", "Group"),
        Binding("b", "star", "Star"),
        Binding("asterisk", "starred_only", "Starred"),
        Binding("t", "cycle_theme", "Theme"),
        Binding("q,escape", "quit_or_cancel", "Quit"),
    ]

    def __init__(
        self,
        db: sqlite3.Connection,
        *,
        home: str = "",
        clock: Callable[[], float] = time.time,
        accounts: list[str] | None = None,
        limit: int = 500,
    ):
        super().__init__()
        self.db = db
        self.home = home
        self.clock = clock
        self.limit = limit
        self.tool_index = 0
        self.account_cycle: list[str | None] = [None, *(accounts or [])]
        self.account_index = 0
        self.sort_index = 0
        self.grouped = False
        self.starred_only = False
        self.query_text = ""
        self.rows: list[SessionRow | None] = []  # None marks a group header row
        self.snippets: dict[int, str] = {}
        self.theme_index = 0

    def compose(self) -> ComposeResult:
        yield Static(id="status")
        yield Input(
            placeholder="search every message… (Enter to search, Esc to cancel)", id="search"
        )
        with Vertical():
            yield DataTable(cursor_type="row", zebra_stripes=True, id="table")
            yield Static(id="preview")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("★", "tool", "updated", "title", "project", "accounts")
        self.theme = THEMES[0]
        self.reload()
        table.focus()

    # -- data --------------------------------------------------------------------

    @property
    def filters(self) -> Filters:
        return Filters(
            tool=TOOL_CYCLE[self.tool_index],
            account=self.account_cycle[self.account_index],
            starred=self.starred_only,
        )

    def reload(self) -> None:
        sort = SORTS[self.sort_index]
        if self.query_text:
            hits = search(
                self.db, self.query_text, self.filters, limit=self.limit, marks=(OPEN, CLOSE)
            )
            sessions = [h.session for h in hits]
            self.snippets = {h.session.key: h.snippet for h in hits}
            if sort != "time":
                sessions.sort(
                    key=lambda s: (s.cwd or "", -(s.updated or 0)) if sort == "project" else s.tool
                )
        else:
            sessions = list_sessions(self.db, self.filters, limit=self.limit, sort=sort)
            self.snippets = {}
        if self.grouped:
            sessions.sort(key=lambda s: s.cwd or "")
        self.fill(sessions)

    def fill(self, sessions: list[SessionRow]) -> None:
        table = self.query_one(DataTable)
        table.clear()
        self.rows = []
        now = self.clock()
        group: str | None = "\0"
        for s in sessions:
            if self.grouped and (s.cwd or "") != group:
                group = s.cwd or ""
                self.rows.append(None)
                table.add_row("", "", "", f"[b]{short_home(group, self.home)}[/b]", "", "")
            self.rows.append(s)
            table.add_row(
                "★" if s.starred else "",
                s.tool,
                ago(s.updated, now),
                (s.title or "(untitled)")[:70],
                short_home(s.cwd, self.home),
                ", ".join(a or "default" for a in s.accounts) or "-",
            )
        self.update_status(len(sessions))
        if self.query_one("#preview").has_class("shown"):
            self.show_preview()

    def update_status(self, count: int) -> None:
        parts = [f"{count} sessions", f"tool: {TOOL_CYCLE[self.tool_index] or 'all'}"]
        account = self.account_cycle[self.account_index]
        parts.append(f"account: {'all' if account is None else account or 'default'}")
        parts.append(f"sort: {SORTS[self.sort_index]}")
        if self.grouped:
            parts.append("grouped")
        if self.starred_only:
            parts.append("starred only")
        if self.query_text:
            parts.append(f"search: {self.query_text}")
        self.query_one("#status", Static).update("  ·  ".join(parts))

    @property
    def account(self) -> str | None:
        """The account filter in force (None = all): a picked session resumes under it."""
        return self.account_cycle[self.account_index]

    @property
    def current(self) -> SessionRow | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    # -- actions -----------------------------------------------------------------

    def action_cursor_up(self) -> None:
        self.query_one(DataTable).action_cursor_up()

    def action_cursor_down(self) -> None:
        self.query_one(DataTable).action_cursor_down()

    def action_pick(self) -> None:
        if self.focused is self.query_one("#search"):
            return
        if self.current is not None:
            self.exit(self.current)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_pick()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.query_one("#preview").has_class("shown"):
            self.show_preview()

    def action_preview(self) -> None:
        if self.focused is self.query_one("#search"):
            return
        preview = self.query_one("#preview", Static)
        preview.toggle_class("shown")
        if preview.has_class("shown"):
            self.show_preview()

    def show_preview(self) -> None:
        from rich.markup import escape

        s = self.current
        preview = self.query_one("#preview", Static)
        if s is None:
            preview.update("")
            return
        lines = [
            f"[b]{escape(s.title or '(untitled)')}[/b]  {s.tool}:{s.id}",
            f"{s.cwd or '-'}  {s.branch or ''}",
        ]
        snippet = self.snippets.get(s.key)
        if snippet:
            lines.append(
                "match: " + escape(snippet).replace(OPEN, "[reverse]").replace(CLOSE, "[/reverse]")
            )
        lines.append("")
        head_keys = {(r, t) for r, t in s.head}
        for role, text in s.head:
            lines.append(f"[b]{role}:[/b] {escape(' '.join(text.split())[:300])}")
        tail = [(r, t) for r, t in s.tail if (r, t) not in head_keys]
        if tail:
            lines.append("…")
            for role, text in tail:
                lines.append(f"[b]{role}:[/b] {escape(' '.join(text.split())[:300])}")
        preview.update("\n".join(lines))

    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        box.add_class("shown")
        box.value = self.query_text
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_text = event.value.strip()
        event.input.remove_class("shown")
        self.query_one(DataTable).focus()
        self.reload()

    def action_cycle_tool(self) -> None:
        self.tool_index = (self.tool_index + 1) % len(TOOL_CYCLE)
        self.reload()

    def action_cycle_account(self) -> None:
        self.account_index = (self.account_index + 1) % len(self.account_cycle)
        self.reload()

    def action_cycle_sort(self) -> None:
        self.sort_index = (self.sort_index + 1) % len(SORTS)
        self.reload()

    def action_group(self) -> None:
        self.grouped = not self.grouped
        self.reload()

    def action_star(self) -> None:
        s = self.current
        if s is None:
            return
        set_star(self.db, s.tool, s.id, not s.starred, self.clock())
        row = self.query_one(DataTable).cursor_row
        self.reload()
        self.query_one(DataTable).move_cursor(row=row)

    def action_starred_only(self) -> None:
        self.starred_only = not self.starred_only
        self.reload()

    def action_cycle_theme(self) -> None:
        self.theme_index = (self.theme_index + 1) % len(THEMES)
        self.theme = THEMES[self.theme_index]

    def action_quit_or_cancel(self) -> None:
        box = self.query_one("#search", Input)
        if box.has_class("shown"):
            box.remove_class("shown")
            self.query_one(DataTable).focus()
            return
        self.exit(None)
