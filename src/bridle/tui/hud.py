"""The app's HUD line: model · account · project and branch · mode · context · tokens · cost · timers · queue.

`HudState` holds what the line shows (the app updates it from engine events)
and `render_hud(state, width, now)` lays it out as one line of rich `Text`:
when the parts do not fit in `width` cells, the least useful ones are dropped
first (idle clock, account, tokens, cost, branch, ...) and the model, the turn
timer and the queue stay. The context bar turns yellow at 70% and red at 90%.
This module is pure: no Textual, no clock of its own (`now` is passed in), so
the layout is tested without an app.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

SEPARATOR = " · "
BAR_CELLS = 8
# Higher stays longer: the first parts dropped when the line is too narrow are
# the ones with the lowest number.
KEEP = {
    "idle": 0,
    "account": 1,
    "tokens": 2,
    "cost": 3,
    "project": 4,
    "context": 5,
    "mode": 6,
    "queue": 8,
    "timer": 8,
    "model": 9,
}


@dataclass
class HudState:
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


def hud_parts(state: HudState, now: float) -> list[tuple[str, Text]]:
    """Every part the state has, in display order, each under its name in `KEEP`."""
    parts: list[tuple[str, Text]] = [("model", Text(state.model or "?", style="bold"))]
    if state.account:
        parts.append(("account", Text(f"@{state.account}", style="cyan")))
    if state.project:
        project = Text(state.project)
        if state.branch:
            project.append(f" ({state.branch}{'*' if state.dirty else ''})", style="magenta")
        parts.append(("project", project))
    if state.mode != "default":
        parts.append(("mode", Text(f"⏵⏵ {state.mode}", style="bold yellow")))
    parts.append(("context", context_part(state.context_used, state.context_window)))
    parts.append(
        ("tokens", Text(f"↑{tokens_text(state.tokens_in)} ↓{tokens_text(state.tokens_out)}"))
    )
    parts.append(
        ("cost", Text(f"${state.cost_usd:.4f}" if state.cost_usd < 1 else f"${state.cost_usd:.2f}"))
    )
    if state.turn_started is not None:
        parts.append(("timer", Text(f"⟳ {clock_text(now - state.turn_started)}", style="bold")))
    elif state.notice:
        parts.append(("timer", Text(state.notice, style="bold red")))
    elif state.idle_since is not None:
        parts.append(("idle", Text(f"⏱ {clock_text(now - state.idle_since)}", style="dim")))
    if state.queued:
        parts.append(("queue", Text(f"▶ {state.queued} queued", style="bold cyan")))
    return parts


def render_hud(state: HudState, width: int, now: float) -> Text:
    """The HUD as one line of at most `width` cells."""
    parts = hud_parts(state, now)

    def size(items: list[tuple[str, Text]]) -> int:
        return sum(t.cell_len for _, t in items) + len(SEPARATOR) * max(0, len(items) - 1)

    while len(parts) > 1 and size(parts) > width:
        weakest = min(range(len(parts)), key=lambda i: (KEEP[parts[i][0]], -i))
        del parts[weakest]
    line = Text(no_wrap=True, overflow="ellipsis")
    for i, (_, text) in enumerate(parts):
        if i:
            line.append(SEPARATOR, style="dim")
        line.append_text(text)
    line.truncate(width, overflow="ellipsis")
    return line
