"""Query the history index: full-text search with BM25 and snippets, lists, lookups.

`fts_query` turns what a user typed into safe FTS5 syntax: bare words and
`"quoted phrases"` match as phrases, `word*` is a prefix, `OR` and a leading `-`
(NOT) pass through, and nothing the user types can be an FTS5 syntax error.
`search` ranks chunks with `bm25()` (user text weighs most), keeps each
session's best chunk, and cuts a `snippet()` around the match with the given
markers. Filters (tool, account, project, time range, role, starred) apply in
the same query. This module imports only the standard library: it sits on the
path of `bridle sessions search`, whose whole run must stay within tens of
milliseconds.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field

ROLES = ("user", "assistant", "tool")
WEIGHTS = (2.0, 1.0, 0.6)  # bm25 column weights: user, assistant, tool
SNIPPET_TOKENS = 14


@dataclass(slots=True)
class Filters:
    tool: str | None = None
    account: str | None = None
    project: str | None = None  # substring of the cwd
    since: float | None = None
    until: float | None = None
    role: str | None = None
    starred: bool = False


@dataclass(slots=True)
class SessionRow:
    key: int
    tool: str
    id: str
    title: str | None
    cwd: str | None
    branch: str | None
    model: str | None
    created: float | None
    updated: float | None
    entries: int
    head: list[list[str]] = field(default_factory=list)
    tail: list[list[str]] = field(default_factory=list)
    starred: bool = False
    accounts: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "tool": self.tool,
            "id": self.id,
            "title": self.title,
            "cwd": self.cwd,
            "branch": self.branch,
            "model": self.model,
            "created": self.created,
            "updated": self.updated,
            "messages": self.entries,
            "starred": self.starred,
            "accounts": self.accounts,
        }


@dataclass(slots=True)
class Hit:
    session: SessionRow
    snippet: str
    score: float


_TOKEN_RE = re.compile(r'-?"[^"]*"\*?|\S+')
_WORD_RE = re.compile(r"\w", re.UNICODE)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_when(text: str | None, now: float) -> float | None:
    """`3d`, `12h`, `2w` (that long ago) or an ISO date/time → epoch seconds.
    Raises ValueError with a fix-it message for anything else."""
    if not text:
        return None
    value = text.strip()
    unit = _UNITS.get(value[-1:].lower())
    if unit and value[:-1].replace(".", "", 1).isdigit():
        return now - float(value[:-1]) * unit
    from bridle.history.records import parse_time

    ts = parse_time(value if "T" in value or " " in value else value + "T00:00:00")
    if ts is None:
        raise ValueError(f"cannot read time {text!r}: use 3d, 12h, 2w or a date like 2025-11-03.")
    return ts


def fts_query(text: str) -> str:
    """User query → FTS5 MATCH expression; empty when nothing searchable is left."""
    terms: list[str] = []
    pending_not = False
    for raw in _TOKEN_RE.findall(text):
        if raw == "OR":
            if terms and terms[-1] != "OR":
                terms.append("OR")
            continue
        negate = raw.startswith("-") and len(raw) > 1
        if negate:
            raw = raw[1:]
        prefix = raw.endswith("*")
        body = raw.rstrip("*").strip('"')
        if not _WORD_RE.search(body):
            continue
        term = '"' + body.replace('"', '""') + '"' + ("*" if prefix else "")
        if negate:
            pending_not = True
            terms.append("NOT " + term)
        else:
            terms.append(term)
    while terms and terms[-1] == "OR":
        terms.pop()
    while terms and (terms[0] == "OR" or terms[0].startswith("NOT ")):
        terms.pop(0)  # FTS5's NOT is binary: a query cannot start with it
    if pending_not:
        # `a NOT b c` must read as `(a c) NOT b`: put negations last.
        positive = [t for t in terms if not t.startswith("NOT ")]
        negative = [t for t in terms if t.startswith("NOT ")]
        if not positive:
            return ""
        return "(" + " ".join(positive) + ") " + " ".join(negative)
    return " ".join(terms)


def _where(f: Filters, args: list[object]) -> str:
    clauses = []
    if f.tool:
        clauses.append("s.tool = ?")
        args.append(f.tool)
    if f.project:
        clauses.append("instr(s.cwd, ?) > 0")
        args.append(f.project)
    if f.since is not None:
        clauses.append("s.updated >= ?")
        args.append(f.since)
    if f.until is not None:
        clauses.append("s.updated < ?")
        args.append(f.until)
    if f.starred:
        clauses.append(
            "EXISTS (SELECT 1 FROM history_stars t WHERE t.tool = s.tool AND t.sid = s.sid)"
        )
    if f.account is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM history_files hf JOIN history_access a ON a.file = hf.id"
            " WHERE hf.session = s.id AND a.account = ?)"
        )
        args.append(f.account)
    return (" AND " + " AND ".join(clauses)) if clauses else ""


_COLUMNS = "s.id, s.tool, s.sid, s.title, s.cwd, s.branch, s.model, s.created, s.updated, s.entries, s.head, s.tail"


def _row(r: tuple[object, ...]) -> SessionRow:
    return SessionRow(
        key=int(r[0]),  # type: ignore[call-overload]
        tool=str(r[1]),
        id=str(r[2]),
        title=r[3],  # type: ignore[arg-type]
        cwd=r[4],  # type: ignore[arg-type]
        branch=r[5],  # type: ignore[arg-type]
        model=r[6],  # type: ignore[arg-type]
        created=r[7],  # type: ignore[arg-type]
        updated=r[8],  # type: ignore[arg-type]
        entries=int(r[9]),  # type: ignore[call-overload]
        head=json.loads(str(r[10])),
        tail=json.loads(str(r[11])),
    )


def _decorate(db: sqlite3.Connection, rows: list[SessionRow]) -> None:
    """Fill in stars and the accounts that can see each session."""
    if not rows:
        return
    by_key = {r.key: r for r in rows}
    marks = ",".join("?" * len(rows))
    for key, account in db.execute(
        f"SELECT DISTINCT f.session, a.account FROM history_files f JOIN history_access a ON a.file = f.id"
        f" WHERE f.session IN ({marks}) ORDER BY a.account",
        list(by_key),
    ):
        by_key[key].accounts.append(account)
    for key in db.execute(
        f"SELECT s.id FROM history_sessions s JOIN history_stars t ON t.tool = s.tool AND t.sid = s.sid"
        f" WHERE s.id IN ({marks})",
        list(by_key),
    ):
        by_key[key[0]].starred = True


def list_sessions(
    db: sqlite3.Connection, filters: Filters | None = None, *, limit: int = 50, sort: str = "time"
) -> list[SessionRow]:
    args: list[object] = []
    where = _where(filters or Filters(), args)
    order = {
        "time": "s.updated DESC",
        "project": "s.cwd, s.updated DESC",
        "tool": "s.tool, s.updated DESC",
    }.get(sort, "s.updated DESC")
    rows = [
        _row(r)
        for r in db.execute(
            f"SELECT {_COLUMNS} FROM history_sessions s WHERE 1{where} ORDER BY {order} LIMIT ?",
            [*args, limit],
        )
    ]
    _decorate(db, rows)
    return rows


def search(
    db: sqlite3.Connection,
    query: str,
    filters: Filters | None = None,
    *,
    limit: int = 20,
    marks: tuple[str, str] = ("\x02", "\x03"),
) -> list[Hit]:
    """Sessions matching `query`, best first, each with a snippet of its best chunk."""
    filters = filters or Filters()
    match = fts_query(query)
    if not match:
        return []
    if filters.role in ROLES:
        match = "{" + str(filters.role) + "} : (" + match + ")"
    args: list[object] = [match]
    where = _where(filters, args)
    ranking = f"bm25(history_fts, {WEIGHTS[0]}, {WEIGHTS[1]}, {WEIGHTS[2]})"
    if where:
        sql = (
            f"SELECT c.session, {ranking} AS score, c.id FROM history_fts"
            " JOIN history_chunks c ON c.id = history_fts.rowid JOIN history_sessions s ON s.id = c.session"
            f" WHERE history_fts MATCH ?{where} ORDER BY score LIMIT ?"
        )
    else:
        # Rank in the FTS table alone and look up only the winners' sessions:
        # joining every match first costs more than the ranking itself.
        sql = (
            "SELECT (SELECT session FROM history_chunks WHERE id = m.rowid), m.score, m.rowid FROM"
            f" (SELECT rowid, {ranking} AS score FROM history_fts WHERE history_fts MATCH ?"
            " ORDER BY score LIMIT ?) m"
        )
    best: dict[int, tuple[float, int]] = {}
    for session, score, chunk in db.execute(sql, [*args, limit * 8]):
        if session not in best:
            best[session] = (score, chunk)
            if len(best) >= limit:
                break
    if not best:
        return []
    keys = ",".join("?" * len(best))
    sessions = {
        r.key: r
        for r in map(
            _row,
            db.execute(
                f"SELECT {_COLUMNS} FROM history_sessions s WHERE s.id IN ({keys})", list(best)
            ),
        )
    }
    _decorate(db, list(sessions.values()))
    texts = {
        row[0]: row[1:]
        for row in db.execute(
            f"SELECT id, user, assistant, tool FROM history_chunks WHERE id IN ({keys})",
            [chunk for _, chunk in best.values()],
        )
    }
    pattern = highlight_pattern(query)
    hits = []
    for key, (score, chunk) in best.items():
        snip = cut_snippet(texts.get(chunk, ()), pattern, marks)
        if snip is None:  # the tokenizer matched what the pattern cannot see (diacritics)
            row = db.execute(
                f"SELECT snippet(history_fts, -1, ?, ?, '…', {SNIPPET_TOKENS}) FROM history_fts"
                " WHERE history_fts MATCH ? AND rowid = ?",
                (marks[0], marks[1], match, chunk),
            ).fetchone()
            snip = " ".join(str(row[0] if row else "").split())
        hits.append(Hit(sessions[key], snip, score))
    return hits


def highlight_pattern(query: str) -> re.Pattern[str] | None:
    """A regex finding the query's words and phrases in raw text, as the FTS5
    tokenizer would match them (case-insensitive, on word boundaries)."""
    alternatives = []
    for raw in _TOKEN_RE.findall(query):
        if raw == "OR" or raw.startswith("-"):
            continue
        prefix = raw.endswith("*")
        words = re.findall(r"\w+", raw.rstrip("*").strip('"'))
        if not words:
            continue
        body = r"\W+".join(re.escape(w) for w in words)
        alternatives.append(r"\b" + body + (r"\w*" if prefix else r"\b"))
    if not alternatives:
        return None
    return re.compile("|".join(alternatives), re.IGNORECASE)


def cut_snippet(
    columns: tuple[str, ...],
    pattern: re.Pattern[str] | None,
    marks: tuple[str, str],
    width: int = 160,
) -> str | None:
    """About `width` characters around the first match, the user's text first,
    with every match in the window wrapped in `marks`."""
    if pattern is None:
        return None
    for text in columns:
        found = pattern.search(text)
        if found is None:
            continue
        start = max(0, found.start() - width // 3)
        end = min(len(text), start + width)
        if start > 0:
            space = text.find(" ", start, found.start())
            start = space + 1 if space >= 0 else start
        window = text[start:end]
        marked = pattern.sub(lambda m: marks[0] + m.group(0) + marks[1], window)
        return (
            ("…" if start > 0 else "") + " ".join(marked.split()) + ("…" if end < len(text) else "")
        )
    return None


def find_session(db: sqlite3.Connection, ref: str) -> list[SessionRow]:
    """Sessions named by `ref`: an id, a unique id prefix, or `tool:id`."""
    tool, _, sid = ref.partition(":") if ":" in ref else ("", "", ref)
    args: list[object] = [sid, sid + "%"]
    where = "(s.sid = ? OR s.sid LIKE ?)"
    if tool:
        where += " AND s.tool = ?"
        args.append(tool)
    rows = [
        _row(r)
        for r in db.execute(
            f"SELECT {_COLUMNS} FROM history_sessions s WHERE {where} LIMIT 20", args
        )
    ]
    exact = [r for r in rows if r.id == sid]
    rows = exact or rows
    _decorate(db, rows)
    return rows


def session_files(db: sqlite3.Connection, key: int) -> list[tuple[str, str, dict[str, str]]]:
    """(tool, path, {account: config dir}) of each file of a session, oldest first."""
    out = []
    for fid, tool, path in db.execute(
        "SELECT id, tool, path FROM history_files WHERE session = ? ORDER BY id", (key,)
    ):
        access = dict(
            db.execute(
                "SELECT account, config_dir FROM history_access WHERE file = ?", (fid,)
            ).fetchall()
        )
        out.append((tool, path, access))
    return out


def set_star(db: sqlite3.Connection, tool: str, sid: str, on: bool, now: float) -> None:
    if on:
        db.execute(
            "INSERT INTO history_stars (tool, sid, starred_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (tool, sid, now),
        )
    else:
        db.execute("DELETE FROM history_stars WHERE tool = ? AND sid = ?", (tool, sid))
