"""Search: safe query syntax, ranking, snippets and filters over the fixture sessions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bridle.history.search import (
    Filters,
    cut_snippet,
    fts_query,
    highlight_pattern,
    parse_when,
    search,
)

from .helpers import FIXTURES, index, install


@pytest.mark.parametrize(
    ("typed", "match"),
    [
        ("gateway", '"gateway"'),
        ("payment gateway", '"payment" "gateway"'),
        ('"connection refused"', '"connection refused"'),
        ("tok*", '"tok"*'),
        ("redis OR postgres", '"redis" OR "postgres"'),
        ("deploy -staging", '("deploy") NOT "staging"'),
        ("-staging", ""),
        ("parser_test.py", '"parser_test.py"'),
        ('say "hi', '"say" "hi"'),
        ("AND ( ) NEAR", '"AND" "NEAR"'),
        ('weird"quote', '"weird""quote"'),
        ("*** ---", ""),
        ("OR", ""),
    ],
)
def test_user_text_becomes_safe_fts5(typed: str, match: str) -> None:
    assert fts_query(typed) == match
    if match:  # FTS5 accepts every query we build
        db = sqlite3.connect(":memory:")
        db.execute("CREATE VIRTUAL TABLE t USING fts5(x)")
        db.execute("SELECT * FROM t WHERE t MATCH ?", (match,)).fetchall()


@pytest.fixture
def ix(tmp_path: Path):  # type: ignore[no-untyped-def]
    for tool in ("claude", "codex", "gemini", "copilot"):
        install(FIXTURES / tool / "basic", tmp_path)
    ix, _ = index(tmp_path)
    return ix


def ids(hits: list) -> list[str]:  # type: ignore[type-arg]
    return [h.session.id[:8] for h in hits]


def test_search_finds_prompts_answers_commands_and_tool_output(ix) -> None:  # type: ignore[no-untyped-def]
    assert ids(search(ix.db, "Homebrew")) == ["c0ffee00"]  # user prompt and answer
    assert ids(search(ix.db, '"brew info"')) == ["c0ffee00"]  # a command that ran
    assert ids(search(ix.db, "AssertionError")) == ["7f3c2a10"]  # the error a tool printed
    assert ids(search(ix.db, "ratelimit.py")) == ["019a2d7a"]  # a file touched
    assert ids(search(ix.db, "environment_context")) == []  # injected preambles are not indexed


def test_ranking_prefers_the_user_text(ix) -> None:  # type: ignore[no-untyped-def]
    # "parser" is in the Claude session's prompt and the Codex session's tool output only.
    assert ids(search(ix.db, "README")) == ["c0ffee00"]
    hits = search(ix.db, "parser OR handle_request")
    assert ids(hits)[0] == "7f3c2a10"


def test_snippet_marks_the_match(ix) -> None:  # type: ignore[no-untyped-def]
    [hit] = search(ix.db, "shlex", marks=("[", "]"))
    assert "[shlex]" in hit.snippet
    [hit] = search(ix.db, '"payment gateway"', marks=("<", ">"))
    assert hit.snippet == "Checkout 502 from <payment gateway>"


def test_prefix_and_phrase(ix) -> None:  # type: ignore[no-untyped-def]
    assert ids(search(ix.db, "tokeniz*")) == ["7f3c2a10"]
    assert ids(search(ix.db, '"gateway timeout"')) == ["3f1c9b2e"]
    assert ids(search(ix.db, '"timeout gateway"')) == []


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(tool="gemini"), ["3f1c9b2e"]),
        (Filters(tool="claude"), []),
        (Filters(project="/src/shop"), ["3f1c9b2e"]),
        (Filters(role="user"), ["3f1c9b2e"]),
        (Filters(role="tool"), ["3f1c9b2e"]),  # checkout.py was read
        (Filters(role="assistant"), []),
        (Filters(since=1762257000.0), ["3f1c9b2e"]),
        (Filters(until=1762257000.0), []),
        (Filters(account=""), ["3f1c9b2e"]),
        (Filters(account="work"), []),
        (Filters(starred=True), []),
    ],
)
def test_filters(ix, filters: Filters, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    assert ids(search(ix.db, "checkout", filters)) == expected


def test_highlight_pattern_follows_the_tokenizer() -> None:
    pattern = highlight_pattern('Gate* "payment  gateway" -nope')
    assert cut_snippet(("The PAYMENT gateway said gateways",), pattern, ("<", ">")) == (
        "The <PAYMENT gateway> said <gateways>"
    )
    # `_` and `.` separate tokens, so a word inside a file name matches too.
    assert cut_snippet(("ran tests/parser_test.py",), highlight_pattern("test"), ("<", ">")) == (
        "ran tests/parser_<test>.py"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3d", 1_000_000.0 - 3 * 86400),
        ("12h", 1_000_000.0 - 43200),
        ("2w", 1_000_000.0 - 14 * 86400),
    ],
)
def test_relative_times(text: str, expected: float) -> None:
    assert parse_when(text, 1_000_000.0) == expected


def test_dates_and_bad_times() -> None:
    assert parse_when("2025-11-03T00:00:00+00:00", 0.0) == 1762128000.0
    with pytest.raises(ValueError, match="use 3d, 12h, 2w or a date"):
        parse_when("last tuesday", 0.0)


@pytest.mark.parametrize(
    ("delta", "shown"),
    [
        (5, "just now"),
        (90, "1m ago"),
        (3 * 3600 + 5, "3h ago"),
        (2 * 86400, "2d ago"),
        (15 * 86400, "2w ago"),
    ],
)
def test_relative_times_read_as_ago(delta: float, shown: str) -> None:
    from bridle.history.render import ago

    assert ago(1_700_000_000.0 - delta, 1_700_000_000.0) == shown


def test_old_sessions_show_their_date() -> None:
    import time

    from bridle.history.render import ago

    ts = 1_700_000_000.0
    assert ago(ts, ts + 90 * 86400) == time.strftime("%Y-%m-%d", time.localtime(ts))


def test_a_very_common_word_is_ranked_among_the_newest_chunks(tmp_path: Path) -> None:
    import json
    import os

    base = tmp_path / ".claude" / "projects" / "-p"
    base.mkdir(parents=True)
    for n, (count, mtime) in enumerate([(9, 1_000.0), (1, 2_000.0), (2, 3_000.0)]):
        sid = f"00000000-0000-4000-8000-00000000000{n}"
        lines = [
            {
                "type": "user",
                "sessionId": sid,
                "cwd": "/p",
                "message": {"role": "user", "content": "look at this"},
            },
            {
                "type": "user",
                "sessionId": sid,
                "cwd": "/p",
                "message": {"role": "user", "content": "widget " * count},
            },
        ]
        path = base / f"{sid}.jsonl"
        path.write_text("".join(json.dumps(rec) + "\n" for rec in lines))
        os.utime(path, (mtime, mtime))
    ix, _ = index(tmp_path)
    # Every match ranked: the session saying "widget" nine times wins.
    assert [h.session.id[-1] for h in search(ix.db, "widget")] == ["0", "2", "1"]
    # Capped at the two newest matching chunks, the oldest session drops out.
    assert [h.session.id[-1] for h in search(ix.db, "widget", recent_cap=2)] == ["2", "1"]


def test_snippet_finds_a_match_deep_in_a_large_chunk() -> None:
    text = "filler " * 3000 + "the Quokka escaped"
    assert (
        cut_snippet((text,), highlight_pattern("quokka"), ("<", ">"), width=30)
        == "…the <Quokka> escaped"
    )
    # A match near the end of the peeked head still gets its whole window.
    near = "x " * 4090 + "quokka " + "tail " * 100
    snippet = cut_snippet((near,), highlight_pattern("quokka"), ("<", ">"), width=60)
    assert snippet is not None and "<quokka> tail tail" in snippet and snippet.endswith("…")
