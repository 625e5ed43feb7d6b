"""Query the history index: full-text search with BM25 and snippets, lists, lookups.

`split_query` turns what a user typed into safe FTS5 syntax: bare words and
`"quoted phrases"` match as phrases, `word*` is a prefix, `OR` passes through,
and nothing the user types can be an FTS5 syntax error. A leading `-` excludes
a word from the whole session: a session holding it in any chunk is left out
(one `NOT IN` subquery over the excluded words' chunks, not a per-chunk `NOT`).
`search` ranks chunks with `bm25()` (user text weighs most), keeps each
session's best chunk, and cuts a snippet around the first match, marking every
match in it (finding the words the way the unicode61 tokenizer split them, which
is faster than FTS5's `snippet()` over a large chunk; that remains the fallback).
A query matching more than RECENT_CAP chunks is ranked among its newest
RECENT_CAP (chunk ids follow the files' mtimes), so a search for a word every
session holds stays as fast as a rare one. Filters (tool, account, project,
time range, role, starred) apply in the same query. This module imports only sqlite3, no dataclasses, typing, re or json: it
sits on the path of `bridle sessions search`, whose whole run must stay within
tens of milliseconds.
"""

from __future__ import annotations

import sqlite3

ROLES = ("user", "assistant", "tool")
WEIGHTS = (2.0, 1.0, 0.6)  # bm25 column weights: user, assistant, tool
SNIPPET_TOKENS = 14
RECENT_CAP = 2000  # a query matching more chunks ranks only the newest this many
PEEK = 8192  # characters of a chunk searched for the snippet before the whole of it

# Plain classes rather than dataclasses: importing `dataclasses` (and with it
# `inspect`) costs more than a whole search of a rare word.


class Filters:
    __slots__ = ("account", "project", "role", "since", "starred", "tool", "until")

    def __init__(
        self,
        tool: str | None = None,
        account: str | None = None,
        project: str | None = None,  # substring of the cwd
        since: float | None = None,
        until: float | None = None,
        role: str | None = None,
        starred: bool = False,
    ):
        self.tool, self.account, self.project = tool, account, project
        self.since, self.until, self.role, self.starred = since, until, role, starred

    def __repr__(self) -> str:
        return "Filters(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")"


class SessionRow:
    """One indexed session as lists show it; `head`/`tail` are its first and last messages."""

    __slots__ = (
        "_head", "_tail", "accounts", "branch", "created", "cwd", "entries", "id",
        "key", "model", "starred", "title", "tool", "updated",
    )  # fmt: skip

    def __init__(self, row: tuple) -> None:
        (self.key, self.tool, self.id, self.title, self.cwd, self.branch, self.model,
         self.created, self.updated, self.entries, self._head, self._tail) = row  # fmt: skip
        self.starred = False
        self.accounts: list[str] = []

    @property
    def head(self) -> list[list[str]]:
        import json

        return list(json.loads(self._head))

    @property
    def tail(self) -> list[list[str]]:
        import json

        return list(json.loads(self._tail))

    def __repr__(self) -> str:
        return f"SessionRow({self.tool}:{self.id} {self.title!r})"

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


class Hit:
    __slots__ = ("score", "session", "snippet")

    def __init__(self, session: SessionRow, snippet: str, score: float):
        self.session, self.snippet, self.score = session, snippet, score


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


def _is_word(c: str) -> bool:
    # As FTS5's unicode61 tokenizer sees it: `_` and `.` separate tokens.
    return c.isalnum()


def _tokens(text: str) -> list[str]:
    """Whitespace-separated tokens, a `"quoted phrase"` (optionally `-"…"` or `"…"*`) being one."""
    out = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        quote = i + 1 if text[i] == "-" and i + 1 < n and text[i + 1] == '"' else i
        if text[quote] == '"':
            close = text.find('"', quote + 1)
            if close >= 0:
                end = close + 1
                if end < n and text[end] == "*":
                    end += 1
                out.append(text[i:end])
                i = end
                continue
        end = i
        while end < n and not text[end].isspace():
            end += 1
        out.append(text[i:end])
        i = end
    return out


def _words(body: str) -> list[str]:
    words, cur = [], []
    for c in body:
        if _is_word(c):
            cur.append(c)
        elif cur:
            words.append("".join(cur))
            cur = []
    if cur:
        words.append("".join(cur))
    return words


def _split(text: str) -> tuple[list[str], list[str]]:
    """The query's FTS5 terms (with `OR`s between them) and its excluded terms."""
    terms: list[str] = []
    excluded: list[str] = []
    for raw in _tokens(text):
        if raw == "OR":
            if terms and terms[-1] != "OR":
                terms.append("OR")
            continue
        negate = raw.startswith("-") and len(raw) > 1
        if negate:
            raw = raw[1:]
        prefix = raw.endswith("*")
        body = raw.rstrip("*").strip('"')
        if not any(_is_word(c) for c in body):
            continue
        term = '"' + body.replace('"', '""') + '"' + ("*" if prefix else "")
        (excluded if negate else terms).append(term)
    while terms and terms[-1] == "OR":
        terms.pop()
    while terms and terms[0] == "OR":
        terms.pop(0)
    return terms, excluded


def split_query(text: str) -> tuple[str, str]:
    """User query → (MATCH expression a session must hold, MATCH expression of the
    excluded words: a session holding any of them anywhere is left out). Either
    may be empty."""
    terms, excluded = _split(text)
    return " ".join(terms), " OR ".join(excluded)


def fts_query(text: str) -> str:
    """User query → one FTS5 MATCH expression (exclusions as a trailing `NOT`, which
    FTS5 applies per chunk); empty when nothing searchable is left. `search`
    excludes per session instead, through `split_query`."""
    terms, excluded = _split(text)
    if not terms:
        return ""
    if excluded:
        # `a NOT b c` must read as `(a c) NOT b`: negations go last.
        return "(" + " ".join(terms) + ") " + " ".join("NOT " + t for t in excluded)
    return " ".join(terms)


def _excluding(column: str, exclude: str, args: list[object]) -> str:
    """SQL keeping only rows whose `column` (a chunk id) belongs to no session
    holding an excluded word: one subquery, evaluated once."""
    if not exclude:
        return ""
    args.append(exclude)
    return (
        f" AND {column} NOT IN (SELECT id FROM history_chunks WHERE session IN"
        " (SELECT session FROM history_chunks WHERE id IN"
        " (SELECT rowid FROM history_fts WHERE history_fts MATCH ?)))"
    )


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
    filters = filters or Filters()
    where = _where(filters, args)
    if filters.role in ROLES:
        # Sessions holding text of that role: `--role tool` lists those that ran tools.
        where += (
            " AND EXISTS (SELECT 1 FROM history_chunks c"
            f" WHERE c.session = s.id AND c.file != 0 AND c.{filters.role} != '')"
        )
    order = {
        "time": "s.updated DESC",
        "project": "s.cwd, s.updated DESC",
        "tool": "s.tool, s.updated DESC",
    }.get(sort, "s.updated DESC")
    rows = [
        SessionRow(r)
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
    recent_cap: int = RECENT_CAP,
) -> list[Hit]:
    """Sessions matching `query`, best first, each with a snippet of its best chunk."""
    filters = filters or Filters()
    match, exclude = split_query(query)
    if not match:
        return []
    if filters.role in ROLES:
        match = "{" + str(filters.role) + "} : (" + match + ")"
        if exclude:
            exclude = "{" + str(filters.role) + "} : (" + exclude + ")"
    args: list[object] = [match]
    where = _where(filters, args)
    ranking = f"bm25(history_fts, {WEIGHTS[0]}, {WEIGHTS[1]}, {WEIGHTS[2]})"
    if where:
        where += _excluding("c.id", exclude, args)
        sql = (
            f"SELECT c.session, {ranking} AS score, c.id FROM history_fts"
            " JOIN history_chunks c ON c.id = history_fts.rowid JOIN history_sessions s ON s.id = c.session"
            f" WHERE history_fts MATCH ?{where} ORDER BY score LIMIT ?"
        )
    else:
        # A word in thousands of chunks ("error", "test") costs a bm25 score per
        # chunk; rank only the newest RECENT_CAP of them (chunk ids grow with the
        # files' mtimes), found by walking the match list backwards.
        cap = db.execute(
            "SELECT rowid FROM history_fts WHERE history_fts MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
            (match, recent_cap - 1),
        ).fetchone()
        if cap is not None:
            match_where = " AND rowid >= ?"
            args.append(cap[0])
        else:
            match_where = ""
        match_where += _excluding("rowid", exclude, args)
        # Rank in the FTS table alone and look up only the winners' sessions:
        # joining every match first costs more than the ranking itself.
        sql = (
            "SELECT (SELECT session FROM history_chunks WHERE id = m.rowid), m.score, m.rowid FROM"
            f" (SELECT rowid, {ranking} AS score FROM history_fts WHERE history_fts MATCH ?{match_where}"
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
            SessionRow,
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
    terms = highlight_pattern(query)
    hits = []
    for key, (score, chunk) in best.items():
        snip = cut_snippet(texts.get(chunk, ()), terms, marks)
        if snip is None:  # the tokenizer matched what the pattern cannot see (diacritics)
            row = db.execute(
                f"SELECT snippet(history_fts, -1, ?, ?, '…', {SNIPPET_TOKENS}) FROM history_fts"
                " WHERE history_fts MATCH ? AND rowid = ?",
                (marks[0], marks[1], match, chunk),
            ).fetchone()
            snip = " ".join(str(row[0] if row else "").split())
        hits.append(Hit(sessions[key], snip, score))
    return hits


Term = tuple[list[str], bool]  # a phrase's words (lower case), and whether the last is a prefix


def highlight_pattern(query: str) -> list[Term] | None:
    """The query's words and phrases, to find them in raw text the way the FTS5
    tokenizer matched them: case-insensitive, on word boundaries."""
    terms: list[Term] = []
    for raw in _tokens(query):
        if raw == "OR" or raw.startswith("-"):
            continue
        words = _words(raw.rstrip("*").strip('"').lower())
        if words:
            terms.append((words, raw.endswith("*")))
    return terms or None


def _match_at(lower: str, at: int, term: Term) -> int:
    """End of `term` matched at `at` in `lower`, or -1."""
    words, prefix = term
    i = at
    for n, word in enumerate(words):
        if n:
            j = i
            while j < len(lower) and not _is_word(lower[j]):
                j += 1
            if j == i:
                return -1
            i = j
        if not lower.startswith(word, i):
            return -1
        i += len(word)
    if prefix:
        while i < len(lower) and _is_word(lower[i]):
            i += 1
    elif i < len(lower) and _is_word(lower[i]):
        return -1
    return i


def _find(lower: str, terms: list[Term], start: int, stop: int) -> list[tuple[int, int]]:
    spans = []
    for term in terms:
        first = term[0][0]
        at = lower.find(first, start, stop)
        while at >= 0:
            if at == 0 or not _is_word(lower[at - 1]):
                end = _match_at(lower, at, term)
                if end >= 0:
                    spans.append((at, end))
            at = lower.find(first, at + 1, stop)
    return sorted(spans)


def _first_match(lower: str, terms: list[Term]) -> int | None:
    first = None
    for term in terms:
        at = lower.find(term[0][0])
        while at >= 0:
            if (at == 0 or not _is_word(lower[at - 1])) and _match_at(lower, at, term) >= 0:
                first = at if first is None else min(first, at)
                break
            at = lower.find(term[0][0], at + 1)
    return first


def cut_snippet(
    columns: tuple[str, ...], terms: list[Term] | None, marks: tuple[str, str], width: int = 160
) -> str | None:
    """About `width` characters around the first match, the user's text first,
    with every match in the window wrapped in `marks`."""
    if not terms:
        return None
    for text in columns:
        # Lower-casing a 200 KB chunk costs more than the query: look at its head
        # first, and at the whole text only when the match (or its window) is not there.
        lower = text[:PEEK].lower()
        first = _first_match(lower, terms) if len(lower) == min(len(text), PEEK) else None
        if len(text) > PEEK and (first is None or first + width > len(lower)):
            lower = text.lower()
            first = _first_match(lower, terms) if len(lower) == len(text) else None
        if first is None:
            continue
        start = max(0, first - width // 3)
        end = min(len(text), start + width)
        if start > 0:
            space = text.find(" ", start, first)
            start = space + 1 if space >= 0 else start
        out, pos = [], start
        for s, e in _find(lower, terms, start, end):
            if s < pos:
                continue
            e = min(e, end)
            out += [text[pos:s], marks[0], text[s:e], marks[1]]
            pos = e
        out.append(text[pos:end])
        marked = " ".join("".join(out).split())
        return ("…" if start > 0 else "") + marked + ("…" if end < len(text) else "")
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
        SessionRow(r)
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
