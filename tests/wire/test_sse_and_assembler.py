"""The SSE parser against the WHATWG rules (line endings, comments, optional
space, multi-line data, unterminated tails, any chunking), and the assembler's
folding rules (block order, argument parsing, last-wins usage, errors)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridle.core.errors import StreamError
from bridle.core.messages import StopReason, TextPart, ThinkingPart, ToolUsePart, Usage
from bridle.core.stream import (
    MessageStart,
    StopUpdate,
    StreamErrorEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    UsageUpdate,
)
from bridle.wire._assembler import Assembler, assemble
from bridle.wire._sse import SSEParser, iter_sse


@pytest.mark.parametrize(
    ("raw", "events"),
    [
        (b"data: a\n\n", [(None, "a")]),
        (b"data:a\r\n\r\n", [(None, "a")]),
        (b"data:  two spaces\r\r", [(None, " two spaces")]),
        (b"event: ping\ndata: {}\n\n", [("ping", "{}")]),
        (b": comment\n\ndata: x\n\n", [(None, "x")]),
        (b"data: 1\ndata: 2\ndata\n\n", [(None, "1\n2\n")]),
        (b'data: {"a":1}   \n\n', [(None, '{"a":1}   ')]),
        (b"event: e\n\ndata: after\n\n", [(None, "after")]),  # event reset by a blank line
        (b"id: 7\nretry: 10\nfoo: bar\ndata: y\n\n", [(None, "y")]),
        (b"\xef\xbb\xbfdata: bom\n\n", [(None, "bom")]),
        (b"data: done\n\ndata: never dispatched\n", [(None, "done")]),
        (b"data: caf\xc3\xa9 \xe2\x82\xac\r\n\r\n", [(None, "café €")]),
        (b"event: x\n\n\n\n", []),
    ],
)
def test_sse_rules(raw: bytes, events: list[tuple[str | None, str]]) -> None:
    assert list(iter_sse([raw])) == events
    assert list(iter_sse([raw[i : i + 1] for i in range(len(raw))])) == events


def test_cr_at_end_of_chunk_waits_for_a_possible_lf() -> None:
    p = SSEParser()
    assert p.feed(b"data: a\r") == []
    assert p.feed(b"\n\r") == []
    assert p.feed(b"\ndata: b\r") == [(None, "a")]
    assert p.close() == []  # "data: b" ended by the lone \r, but no blank line followed


def test_multibyte_character_split_across_chunks() -> None:
    raw = "data: 日本語\n\n".encode()
    for cut in range(1, len(raw)):
        assert list(iter_sse([raw[:cut], raw[cut:]])) == [(None, "日本語")]


line_end = st.sampled_from(["\n", "\r\n", "\r"])
field_text = st.text(
    st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]), max_size=20
)


@given(
    events=st.lists(
        st.tuples(
            st.one_of(st.none(), field_text.filter(bool)),
            st.lists(field_text, min_size=1, max_size=3),
        ),
        max_size=6,
    ),
    ends=st.data(),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=10),
)
def test_any_serialisation_and_chunking_round_trips(events, ends, cuts) -> None:  # type: ignore[no-untyped-def]
    out = []
    for name, lines in events:
        # One line-end style per event: a lone \r followed by a \n line end
        # would read as a single \r\n, which is the spec, not a parser bug.
        end = ends.draw(line_end)
        if name is not None:
            out.append(f"event: {name}{end}")
        out += [f"data: {line}{end}" for line in lines]
        out.append(end)
    raw = "".join(out).encode()
    bounds = sorted({0, len(raw), *(c for c in cuts if c < len(raw))})
    chunks = [raw[a:b] for a, b in itertools.pairwise(bounds)]
    expected = [(name, "\n".join(lines)) for name, lines in events]
    assert list(iter_sse(chunks)) == expected


# ---------------------------------------------------------------------------
# Assembler


def test_blocks_keep_first_seen_order_and_join_pieces() -> None:
    resp = assemble(
        [
            MessageStart("id1", "m"),
            ThinkingDelta(0, "Hmm"),
            ToolCallStart(2, "c1", "Read"),
            TextDelta(1, "Hel"),
            ThinkingDelta(0, ", ok", signature="sig"),
            TextDelta(1, "lo"),
            ToolCallDelta(2, '{"file_path"'),
            ToolCallDelta(2, ': "a"}'),
            ToolCallEnd(2),
            StopUpdate("tool_use", "tool_use"),
        ],
        wire="anthropic-messages",
    )
    assert resp.parts == [
        ThinkingPart("Hmm, ok", signature="sig", wire="anthropic-messages"),
        ToolUsePart("c1", "Read", {"file_path": "a"}),
        TextPart("Hello"),
    ]
    assert (resp.id, resp.model, resp.stop_reason, resp.raw_stop_reason) == (
        "id1",
        "m",
        StopReason.TOOL_USE,
        "tool_use",
    )


def test_tool_arguments_empty_invalid_and_non_object() -> None:
    resp = assemble(
        [
            ToolCallStart(0, "a", "NoArgs"),
            ToolCallStart(1, "b", "Cut"),
            ToolCallDelta(1, '{"content": "unfinished'),
            ToolCallStart(2, "c", "List"),
            ToolCallDelta(2, "[1, 2]"),
            ToolCallStart(3, "d", "Blank"),
            ToolCallDelta(3, "  "),
        ]
    )
    assert resp.parts == [
        ToolUsePart("a", "NoArgs", {}),
        ToolUsePart("b", "Cut", None, raw_arguments='{"content": "unfinished'),
        ToolUsePart("c", "List", None, raw_arguments="[1, 2]"),
        ToolUsePart("d", "Blank", {}),
    ]


def test_a_later_tool_start_fills_a_missing_id_only() -> None:
    resp = assemble(
        [ToolCallStart(0, "", "Read"), ToolCallStart(0, "call_9", "Other"), ToolCallDelta(0, "{}")]
    )
    assert resp.parts == [ToolUsePart("call_9", "Read", {})]


def test_usage_is_last_wins_per_field() -> None:
    resp = assemble(
        [
            UsageUpdate(input_tokens=10, output_tokens=1, cache_read_tokens=5),
            UsageUpdate(output_tokens=7),
            UsageUpdate(cache_write_tokens=3, reasoning_tokens=2),
        ]
    )
    assert resp.usage == Usage(10, 7, 5, 3, 2)
    assert resp.stop_reason is None


def test_redacted_thinking_part() -> None:
    resp = assemble(
        [ThinkingDelta(0, redacted_data="blob", item_id="rs_1")], wire="openai-responses"
    )
    assert resp.parts == [
        ThinkingPart("", redacted=True, data="blob", item_id="rs_1", wire="openai-responses")
    ]


def test_in_stream_error_raises_but_keeps_content_before_it() -> None:
    asm = Assembler("openai-chat", "openrouter").feed_all(
        [
            TextDelta(0, "partial"),
            StreamErrorEvent(400, None, "Token limit reached"),
            StreamErrorEvent(None, "x", "later"),
        ]
    )
    assert asm.partial().text == "partial"
    with pytest.raises(StreamError) as info:
        asm.result()
    assert (info.value.status, info.value.error_type, info.value.message) == (
        400,
        None,
        "Token limit reached",
    )
    assert str(info.value) == (
        "openrouter: HTTP 400: Token limit reached (the provider rejected the request: "
        "change what the message names, or pick another --model)"
    )
