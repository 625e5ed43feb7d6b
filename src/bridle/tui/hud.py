"""The app's HUD line: model, account, project, mode, context, tokens, cost, timers, queue.

`HudState` holds what the line shows (the app updates it from engine events)
and `render_hud(state, width, now)` lays it out as one line of rich `Text`:
when the parts do not fit in `width` cells, the least useful ones are dropped
first (the counts of instruction files, MCP servers and hooks, the idle clock,
account, tokens, cost; then the branch and the model's provider, the project,
...) and the model, the turn timer and the queue stay. The context bar turns
yellow at 70% and red at 90%. This module is pure: no Textual, no clock of its
own (`now` is passed in), so the layout is tested without an app.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

SEPARATOR = " · "
BAR_CELLS = 8
# What goes, in order, while the line is too wide: the least useful parts are
# dropped first, the project loses its branch and the model its provider before
# they go; the model, the turn timer and the queue stay longest.
SHRINK = (
    ("counts", "drop"),
    ("idle", "drop"),
    ("account", "drop"),
    ("tokens", "drop"),
    ("cost", "drop"),
    ("project", "shorten"),
    ("model", "shorten"),
    ("project", "drop"),
    ("context", "drop"),
    ("mode", "drop"),
    ("timer", "drop"),
    ("queue", "drop"),
)


@dataclass
class HudState:
    """What the HUD line shows, kept current by the app from engine events."""

    model: str = ""
    account: str = ""
    project: str = ""
    branch: str = ""
    dirty: bool = False
    mode: str = "default"
    context_used: int = 0  # tokens the last request filled
    context_window: int = 200_000
    tokens_in: int = 0  # the session's totals
    tokens_out: int = 0
    cost_usd: float = 0.0
    turn_started: float | None = None  # monotonic time a running turn started
    idle_since: float | None = None  # monotonic time the last turn ended
    queued: int = 0
    notice: str = ""  # a short message that replaces the idle clock (Ctrl+C again, ...)
    instruction_files: int = 0  # CLAUDE.md/AGENTS.md/rules files loaded
    mcp_servers: int = 0
    hooks: int = 0
    lines_added: int = 0  # by the session's file edits (a status-line command reads them)
    lines_removed: int = 0


def tokens_text(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 1000:
        return f"{n / 1000:.1f}k"
    return str(n)


def clock_text(seconds: float) -> str:
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def context_part(used: int, window: int) -> Text:
    share = min(1.0, used / window) if window > 0 else 0.0
    filled = round(share * BAR_CELLS)
    style = "red" if share >= 0.9 else "yellow" if share >= 0.7 else "green"
    bar = Text("▰" * filled, style=style)
    bar.append("▱" * (BAR_CELLS - filled), style="dim")
    bar.append(f" {round(share * 100)}%", style=style)
    return bar


def hud_parts(state: HudState, now: float) -> list[tuple[str, list[Text]]]:
    """Every part the state has, in display order: its name and its forms,
    longest first (a part that cannot be shortened has one)."""
    model = Text(state.model or "?", style="bold")
    parts: list[tuple[str, list[Text]]] = [("model", [model])]
    if "/" in state.model:
        parts[0][1].append(Text(state.model.split("/", 1)[1], style="bold"))
    if state.account:
        parts.append(("account", [Text(f"@{state.account}", style="cyan")]))
    if state.project:
        dirty = "*" if state.dirty else ""
        full = Text(state.project)
        if state.branch:
            full.append(f" ({state.branch}{dirty})", style="magenta")
        parts.append(("project", [full, Text(state.project + dirty)]))
    if state.mode != "default":
        parts.append(("mode", [Text(f"⏵⏵ {state.mode}", style="bold yellow")]))
    parts.append(("context", [context_part(state.context_used, state.context_window)]))
    tokens = f"↑{tokens_text(state.tokens_in)} ↓{tokens_text(state.tokens_out)}"
    parts.append(("tokens", [Text(tokens)]))
    cost = f"${state.cost_usd:.4f}" if state.cost_usd < 1 else f"${state.cost_usd:.2f}"
    parts.append(("cost", [Text(cost)]))
    if state.turn_started is not None:
        timer = Text(f"⟳ {clock_text(now - state.turn_started)}", style="bold")
        parts.append(("timer", [timer]))
    elif state.notice:
        parts.append(("timer", [Text(state.notice, style="bold red")]))
    elif state.idle_since is not None:
        idle = Text(f"⏱ {clock_text(now - state.idle_since)}", style="dim")
        parts.append(("idle", [idle]))
    counts = [
        f"{n} {what}"
        for n, what in (
            (state.instruction_files, "md"),
            (state.mcp_servers, "mcp"),
            (state.hooks, "hooks" if state.hooks > 1 else "hook"),
        )
        if n
    ]
    if counts:
        parts.append(("counts", [Text(" ".join(counts), style="dim")]))
    if state.queued:
        parts.append(("queue", [Text(f"▶ {state.queued} queued", style="bold cyan")]))
    return parts


def render_hud(state: HudState, width: int, now: float) -> Text:
    """The HUD as one line of at most `width` cells."""
    parts = dict(hud_parts(state, now))

    def size() -> int:
        cells = sum(forms[0].cell_len for forms in parts.values())
        return cells + len(SEPARATOR) * max(0, len(parts) - 1)

    for name, how in SHRINK:
        if size() <= width:
            break
        forms = parts.get(name)
        if forms is None:
            continue
        if how == "drop":
            del parts[name]
        elif len(forms) > 1:
            forms.pop(0)
    line = Text(no_wrap=True, overflow="ellipsis")
    for i, forms in enumerate(parts.values()):
        if i:
            line.append(SEPARATOR, style="dim")
        line.append_text(forms[0])
    line.truncate(width, overflow="ellipsis")
    return line
