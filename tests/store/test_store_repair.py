"""repair_history: table of crash shapes, plus properties over random histories."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from store_checks import assert_provider_valid

from bridle.core.messages import Message, Part, TextPart, ToolResultPart, ToolUsePart
from bridle.store.conversation import INTERRUPTED_TEXT, repair_history


def u(*parts: Part | str) -> Message:
    return Message("user", [TextPart(p) if isinstance(p, str) else p for p in parts])


def a(*parts: Part | str) -> Message:
    return Message("assistant", [TextPart(p) if isinstance(p, str) else p for p in parts])


def call(i: str) -> ToolUsePart:
    return ToolUsePart(i, "Bash", {"command": f"echo {i}"})


def res(i: str, text: str = "ok") -> ToolResultPart:
    return ToolResultPart(i, [TextPart(text)])


def cut(i: str) -> ToolResultPart:
    return ToolResultPart(i, [TextPart(INTERRUPTED_TEXT)], is_error=True)


CASES = {
    "complete": ([u("hi"), a(call("1")), u(res("1")), a("done")], None),
    "killed mid tool call": (
        [u("hi"), a("let me", call("1"), call("2"))],
        [u("hi"), a("let me", call("1"), call("2")), u(cut("1"), cut("2"))],
    ),
    "one of two results saved": (
        [u("hi"), a(call("1"), call("2")), u(res("2"))],
        [u("hi"), a(call("1"), call("2")), u(cut("1"), res("2"))],
    ),
    "results in separate events merge in call order": (
        [u("hi"), a(call("1"), call("2")), u(res("2")), u(res("1"))],
        [u("hi"), a(call("1"), call("2")), u(res("1"), res("2"))],
    ),
    "new prompt after interruption": (
        [u("hi"), a(call("1")), u("continue")],
        [u("hi"), a(call("1")), u(cut("1"), "continue")],
    ),
    "steer text before results goes after them": (
        [u("hi"), a(call("1")), u("also this"), u(res("1"))],
        [u("hi"), a(call("1")), u(res("1"), "also this")],
    ),
    "trailing empty assistant dropped": ([u("hi"), a()], [u("hi")]),
    "empty assistant between turns dropped": (
        [u("hi"), a(), u("again"), a("yes")],
        [u("hi", "again"), a("yes")],
    ),
    "orphan result dropped": (
        [u("hi"), a("no calls"), u(res("9"), "next")],
        [u("hi"), a("no calls"), u("next")],
    ),
    "result for an older call dropped": (
        [u("hi"), a(call("1")), u(res("1")), a(call("2")), u(res("1"), res("2"))],
        [u("hi"), a(call("1")), u(res("1")), a(call("2")), u(res("2"))],
    ),
    "duplicate result keeps the first": (
        [u("hi"), a(call("1")), u(res("1", "first")), u(res("1", "second"))],
        [u("hi"), a(call("1")), u(res("1", "first"))],
    ),
    "continued output merges assistants": (
        [u("hi"), a("part one"), a("part two", call("1"))],
        [u("hi"), a("part one", "part two", call("1")), u(cut("1"))],
    ),
    "assistant after unanswered call gets results between": (
        [u("hi"), a(call("1")), a("more")],
        [u("hi"), a(call("1")), u(cut("1")), a("more")],
    ),
    "consecutive prompts merge": ([u("a"), u("b"), a("c")], [u("a", "b"), a("c")]),
    "empty user message dropped": ([u("hi"), Message("user", []), a("x")], [u("hi"), a("x")]),
    "nothing": ([], []),
}


@pytest.mark.parametrize("history,expected", CASES.values(), ids=CASES.keys())
def test_repair_table(history: list[Message], expected: list[Message] | None) -> None:
    before = [Message(m.role, list(m.parts)) for m in history]
    repaired = repair_history(history)
    assert repaired == (history if expected is None else expected)
    assert history == before, "the input must not be modified"
    assert_provider_valid(repaired)


ids = st.sampled_from(["t1", "t2", "t3", "t4"])
user_parts = st.one_of(
    st.builds(TextPart, st.text(min_size=1, max_size=5)),
    st.builds(lambda i: ToolResultPart(i, [TextPart("r")]), ids),
)
assistant_parts = st.one_of(
    st.builds(TextPart, st.text(min_size=1, max_size=5)),
    st.builds(lambda i: ToolUsePart(i, "Read", {}), ids),
)
messages = st.one_of(
    st.builds(lambda ps: Message("user", ps), st.lists(user_parts, max_size=3)),
    st.builds(
        lambda ps: Message("assistant", ps),
        st.lists(assistant_parts, max_size=3, unique_by=lambda p: getattr(p, "id", id(p))),
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(messages, max_size=12))
def test_repair_properties(history: list[Message]) -> None:
    history = [Message("user", [TextPart("start")]), *history]
    repaired = repair_history(history)
    assert_provider_valid(repaired)
    assert repair_history(repaired) == repaired
    texts = [p for m in history for p in m.parts if isinstance(p, TextPart)]
    kept = [p for m in repaired for p in m.parts if isinstance(p, TextPart)]
    assert [p for p in kept if p.text != INTERRUPTED_TEXT] == texts
