"""Text forms of history results: relative times, highlighted snippets, result lines.

On a terminal a match is shown in bold yellow with plain ANSI codes (importing
rich would cost more than the whole search); elsewhere it is wrapped in «», so
piped output stays greppable; `NO_COLOR` turns colour off. Times read as
"3h ago", "2d ago" or a date past a month. Nothing here touches the index.
"""

from __future__ import annotations

import time

TYPE_CHECKING = False  # `typing` itself costs 5 ms on the search path
if TYPE_CHECKING:
    from bridle.history.search import Hit, SessionRow

OPEN, CLOSE = "\x02", "\x03"
_ANSI_ON, _ANSI_OFF = "\x1b[1;33m", "\x1b[0m"
_DIM, _RESET = "\x1b[2m", "\x1b[0m"


def ago(ts: float | None, now: float) -> str:
    if ts is None:
        return "?"
    delta = max(0.0, now - ts)
    if delta < 60:
        return "just now"
    if delta >= 31 * 86400:
        return time.strftime("%Y-%m-%d", time.localtime(ts))
    for size, unit in ((86400 * 7, "w"), (86400, "d"), (3600, "h"), (60, "m")):
        if delta >= size:
            return f"{int(delta // size)}{unit} ago"
    return "just now"


def mark(snippet: str, color: bool) -> str:
    if color:
        return snippet.replace(OPEN, _ANSI_ON).replace(CLOSE, _ANSI_OFF)
    return snippet.replace(OPEN, "«").replace(CLOSE, "»")


def short_home(path: str | None, home: str) -> str:
    if not path:
        return "-"
    return "~" + path[len(home) :] if home and path.startswith(home + "/") else path


def session_line(s: SessionRow, now: float, home: str, color: bool) -> str:
    star = "*" if s.starred else " "
    title = s.title or "(untitled)"
    who = ",".join(a or "default" for a in s.accounts) or "-"
    dim, reset = (_DIM, _RESET) if color else ("", "")
    return (
        f"{star} {s.tool:<7} {s.id[:8]}  {ago(s.updated, now):>9}  {title[:60]:<60}  "
        f"{dim}{short_home(s.cwd, home)}  [{who}]{reset}"
    )


def hit_lines(h: Hit, now: float, home: str, color: bool) -> list[str]:
    return [session_line(h.session, now, home, color), "      " + mark(h.snippet, color)]


def hit_json(h: Hit) -> dict[str, object]:
    out = h.session.to_json()
    out["snippet"] = mark(h.snippet, False)
    out["score"] = round(h.score, 4)
    return out


def format_hits(hits: list[Hit], *, as_json: bool, now: float, home: str, color: bool) -> str:
    """What `bridle sessions search` prints: JSON lines, or two lines per hit."""
    if as_json:
        import json

        return "".join(json.dumps(hit_json(h)) + "\n" for h in hits)
    return "".join(line + "\n" for h in hits for line in hit_lines(h, now, home, color))
