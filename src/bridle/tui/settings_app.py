"""`bridle settings`: altergo's settings screens as a small Textual app.

A tab line (Appearance │ Behaviour │ Credentials), the current page's rows
with the cursor, and a key line. Keys, as altergo's: ←/→, h/l and Tab change
page (Shift+Tab goes back), ↑/↓ and j/k move, Space toggles a switch or steps
a choice (the theme is previewed at once), `s` saves what changed and closes,
`q` or Esc closes without writing. A changed row is marked `*`. The rows and
the save are `tui.settings_pages.SettingsForm`'s; this module only shows them.
The app returns the lines describing what was saved (none on cancel), for the
CLI to print once the terminal is back.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from bridle.core.errors import BridleError
from bridle.tui.settings_pages import SettingsForm

KEYS = "←/→ page · ↑/↓ move · Space toggle · s save · q cancel"


class SettingsApp(App[list[str] | None]):
    CSS = """
    Screen { layout: vertical; }
    #tabs { height: 1; padding: 0 1; background: $boost; }
    #notes { height: auto; padding: 1 1 0 1; color: $text-muted; }
    #body { height: 1fr; padding: 1 1 0 1; }
    #status { height: 1; padding: 0 1; color: $warning; }
    #keys { height: 1; padding: 0 1; background: $boost; }
    """
    BINDINGS = [
        Binding("right,l,tab", "page(1)", "Next page", priority=True, show=False),
        Binding("left,h,shift+tab", "page(-1)", "Previous page", priority=True, show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("space", "flip", "Toggle", show=False),
        Binding("s", "save", "Save", show=False),
        Binding("q,escape", "cancel", "Cancel", show=False),
    ]

    def __init__(self, form: SettingsForm) -> None:
        super().__init__()
        from bridle.tui.themes import altergo_themes

        for theme in altergo_themes():
            self.register_theme(theme)
        self.form = form
        self.page = 0
        self.cursor = [0 for _ in form.pages]
        self.status = ""

    def compose(self) -> ComposeResult:
        yield Static(id="tabs")
        yield Static(id="notes")
        yield Static(id="body")
        yield Static(id="status")
        yield Static(KEYS, id="keys")

    def on_mount(self) -> None:
        self._preview_theme()
        self.refresh_view()

    def on_resize(self) -> None:
        self.refresh_view()

    # --- actions ------------------------------------------------------------

    def action_page(self, step: int) -> None:
        self.page = (self.page + step) % len(self.form.pages)
        self.refresh_view()

    def action_move(self, step: int) -> None:
        rows = self.form.pages[self.page].rows
        if rows:
            at = self.cursor[self.page] + step
            self.cursor[self.page] = max(0, min(len(rows) - 1, at))
        self.refresh_view()

    def action_flip(self) -> None:
        rows = self.form.pages[self.page].rows
        if not rows:
            return
        row = rows[self.cursor[self.page]]
        row.toggle()
        if row.key == "theme":
            self._preview_theme()
        self.status = ""
        self.refresh_view()

    def action_save(self) -> None:
        try:
            done = self.form.save()
        except BridleError as e:
            self.status = f"not saved: {e}"
            self.refresh_view()
            return
        self.exit(done or ["nothing changed"])

    def action_cancel(self) -> None:
        self.exit(None)

    # --- drawing ------------------------------------------------------------

    def _preview_theme(self) -> None:
        theme = self.form.pages[0].rows[0].value
        if theme in self.available_themes:
            self.theme = theme

    def refresh_view(self) -> None:
        tabs = Text()
        for i, page in enumerate(self.form.pages):
            if i:
                tabs.append(" │ ", style="dim")
            tabs.append(f" {page.title} ", style="reverse bold" if i == self.page else "")
        self.query_one("#tabs", Static).update(tabs)
        notes = "\n".join(self.form.pages[self.page].notes)
        self.query_one("#notes", Static).update(notes)
        self.query_one("#notes", Static).display = bool(notes)
        self.query_one("#body", Static).update(self._body())
        self.query_one("#status", Static).update(self.status)

    def _body(self) -> Text:
        rows = self.form.pages[self.page].rows
        out = Text(no_wrap=True, overflow="ellipsis")
        # Only the rows that fit, scrolled to keep the cursor in view.
        room = self.query_one("#body", Static).content_region.height or self.size.height - 5
        room = max(1, room)
        cursor = self.cursor[self.page]
        first = max(0, min(cursor - room // 2, len(rows) - room))
        width = max((len(r.label) for r in rows), default=0) + 2
        for i in range(first, min(len(rows), first + room)):
            row = rows[i]
            here = i == cursor
            line = Text("▶ " if here else "  ", style="bold" if here else "")
            line.append(row.label.ljust(width), style="bold" if here else "")
            value = row.shown()
            style = "green" if row.value is True else ("red" if row.value is False else "cyan")
            line.append(f"[{value}]", style=style)
            line.append(" *" if row.changed else "  ", style="yellow")
            if row.hint:
                line.append(f"  {row.hint}", style="dim")
            line.append("\n")
            out.append(line)
        return out
