"""The Anthropic cache-breakpoint planner: positions, the limit of four, and the
marks the anthropic-messages wire writes from a plan."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridle.core.messages import (
    ImagePart,
    Message,
    ModelRequest,
    TextPart,
    ThinkingPart,
    ToolResultPart,
    ToolSpec,
    ToolUsePart,
)
from bridle.wire.adapter import adapter_for
from bridle.wire.anthropic_cache import CachePlan, plan_breakpoints
from bridle.wire.endpoint import Endpoint

TOOL = ToolSpec("Read", "read a file", {"type": "object"})
ENDPOINT = Endpoint("anthropic", "anthropic-messages", "https://api.example.com", "m")


def user(text: str) -> Message:
    return Message("user", [TextPart(text)])


def assistant_call(call_id: str) -> Message:
    return Message(
        "assistant",
        [
            ThinkingPart("hm"),
            TextPart("let me look"),
            ToolUsePart(call_id, "Read", {"file_path": "a"}),
        ],
    )


def results(*ids: str) -> Message:
    return Message("user", [ToolResultPart(i, [TextPart(f"out {i}")]) for i in ids])


def flags(plan: CachePlan) -> list[tuple[int, int]]:
    """(message index, part index) of every marked part, in order."""
    return sorted(plan.parts)


AGENT_LOOP = [
    user("fix it"),
    assistant_call("c1"),
    results("c1"),
    assistant_call("c2"),
    results("c2", "c3"),
]

CASES = [
    # name, messages, system, tools -> (cache_tools, cache_system, flagged positions)
    ("agent loop", AGENT_LOOP, "sys", [TOOL], (True, True, [(2, 0), (4, 1)])),
    ("first turn", [user("hi")], "sys", [TOOL], (True, True, [(0, 0)])),
    ("no system no tools", AGENT_LOOP, "", [], (False, False, [(2, 0), (4, 1)])),
    (
        "two user turns",
        [user("a"), Message("assistant", [TextPart("b")]), user("c")],
        "s",
        [],
        (False, True, [(0, 0), (2, 0)]),
    ),
    (
        "prefill last",
        [user("a"), Message("assistant", [TextPart("{")])],
        "s",
        [TOOL],
        (True, True, [(1, 0)]),
    ),
    (
        "trailing image",
        [Message("user", [TextPart("see"), ImagePart("image/png", "AA==")])],
        "",
        [],
        (False, False, [(0, 0)]),
    ),
    (
        "no cacheable part",
        [Message("user", [ImagePart("image/png", "AA==")])],
        "s",
        [TOOL],
        (True, True, []),
    ),
    ("empty conversation", [], "s", [TOOL], (True, True, [])),
]


@pytest.mark.parametrize(
    ("messages", "system", "tools", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_breakpoint_positions(
    messages: list[Message],
    system: str,
    tools: list[ToolSpec],
    expected: tuple[bool, bool, list[tuple[int, int]]],
) -> None:
    planned = plan_breakpoints(ModelRequest("m", messages, system=system, tools=tools))
    assert (planned.tools, planned.system, flags(planned)) == expected
    assert planned.count <= 4


def test_empty_text_cannot_hold_a_mark() -> None:
    """The wire drops empty text blocks, so the mark moves to the part before."""
    planned = plan_breakpoints(ModelRequest("m", [results("c1"), user("")]))
    assert flags(planned) == [(0, 0)]


def test_next_request_reuses_the_previous_last_breakpoint() -> None:
    """The user turn flagged last time is flagged again this time: a cache read."""
    first = plan_breakpoints(ModelRequest("m", AGENT_LOOP[:3], system="s", tools=[TOOL]))
    second = plan_breakpoints(ModelRequest("m", AGENT_LOOP, system="s", tools=[TOOL]))
    assert flags(first)[-1] == (2, 0)
    assert (2, 0) in flags(second)


part = st.one_of(
    st.builds(TextPart, st.text(max_size=3)),
    st.builds(ToolResultPart, st.just("t"), st.just([TextPart("r")]), st.booleans()),
    st.builds(ToolUsePart, st.just("t"), st.just("Read"), st.just({})),
    st.builds(ImagePart, st.just("image/png"), st.just("AA==")),
)
message = st.builds(Message, st.sampled_from(["user", "assistant"]), st.lists(part, max_size=4))


@given(st.lists(message, max_size=12), st.text(max_size=2), st.booleans())
def test_never_more_than_four_breakpoints(
    messages: list[Message], system: str, with_tools: bool
) -> None:
    request = ModelRequest("m", messages, system=system, tools=[TOOL] if with_tools else [])
    planned = plan_breakpoints(request)
    assert planned.count <= 4
    body = adapter_for("anthropic-messages").build_request(request, ENDPOINT).body
    assert json.dumps(body).count('"cache_control"') == planned.count
