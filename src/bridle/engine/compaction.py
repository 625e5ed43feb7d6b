"""Compaction: keeping a long session inside the model's context window.

Before a request that would cross the threshold (`Window`), the loop compacts,
cheapest step first. Step 1 (`clear_tool_outputs`) replaces old tool outputs,
keeping the newest ~40k tokens of them, by a one-line stub naming the file the
full output was saved to. Step 2, when that is not enough, asks the model for a
structured hand-off summary (`summary_request`: goal, the user's instructions
and constraints, decisions, files read and changed, open errors, next steps;
guided by `/compact <focus>` or a "Compact Instructions" section of the
instructions) and `rebuild`s the conversation as that summary, the user's
newest prompts verbatim, what must survive (skills loaded, the todo list,
anchored facts) and, when asked to, the newest whole tool exchanges that fit. Either way
the result is valid for every provider: every tool call keeps its result and
every result its call, roles alternate, no message is empty. A compaction that
frees too little, or one right after another, raises `CompactionFailed`
rather than looping. Token counts are estimates (4 characters per token, an
image ~1,600); this module does no I/O except through the `save` callable.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bridle.core.errors import ContextWindowExceeded
from bridle.core.messages import (
    ImagePart,
    Message,
    ModelRequest,
    Part,
    TextPart,
    ThinkingPart,
    ToolResultPart,
    ToolSpec,
    ToolUsePart,
)
from bridle.store.conversation import repair_history

CHARS_PER_TOKEN = 4
IMAGE_TOKENS = 1600
KEEP_TOOL_TOKENS = 40_000
STUB_PREFIX = "[tool output cleared to save context"
# A compaction must bring the request under this share of the threshold.
TARGET_SHARE = 0.9
SUMMARY_HEADER = (
    "This session is being continued from an earlier conversation that was compacted "
    "to fit the context window. The summary below covers everything before this point."
)

SUMMARY_PROMPT = """\
Your context window is nearly full, so this conversation will be replaced by a summary \
you write now. Do not call any tool. Write a hand-off summary another engineer could \
continue from without the conversation, with these sections:

1. Goal: what the user asked for, in their words where it matters.
2. Instructions and constraints: every instruction, preference and constraint the user \
gave, verbatim when short.
3. Decisions: what was decided and why.
4. Files: each file read, created or changed, with what changed.
5. Errors: errors still open, with the exact messages.
6. State and next steps: what was being done when this summary was requested, and what \
to do next.

Be specific: paths, names, commands, numbers. Leave nothing out that the next step needs."""


class CompactionFailed(ContextWindowExceeded):
    """Compaction could not bring the conversation under the window: the session
    cannot continue in this model without losing what it needs."""

    fix = ""  # the message already says what to do

    def __init__(self, message: str):
        super().__init__(message, status=None, error_type="compaction_failed")


@dataclass(frozen=True, slots=True)
class Window:
    """The model's context window and the request size that triggers compaction."""

    context_window: int
    threshold: int

    @classmethod
    def for_model(
        cls,
        context_window: int,
        max_output_tokens: int,
        *,
        threshold: int | None = None,
        percent: float | None = None,
    ) -> Window:
        """`threshold` (tokens) or `percent` of the window when set, else room for
        the largest output (at most a quarter of the window) plus a margin (5% of
        the window, at least 2,000 tokens, at most an eighth of it)."""
        if threshold is None and percent is not None:
            threshold = int(context_window * percent / 100)
        if threshold is None:
            margin = min(max(2000, context_window // 20), context_window // 8)
            threshold = context_window - min(max_output_tokens, context_window // 4) - margin
        return cls(context_window, max(1000, min(threshold, context_window)))


# ------------------------------------------------------------------ counting
def part_tokens(part: Part) -> int:
    if isinstance(part, TextPart):
        return len(part.text) // CHARS_PER_TOKEN + 1
    if isinstance(part, ThinkingPart):
        return len(part.text or part.data or "") // CHARS_PER_TOKEN + 1
    if isinstance(part, ImagePart):
        return IMAGE_TOKENS
    if isinstance(part, ToolUsePart):
        args = part.raw_arguments if part.input is None else json.dumps(part.input)
        return (len(args or "") + len(part.name)) // CHARS_PER_TOKEN + 10
    return sum(part_tokens(p) for p in part.content) + 10


def message_tokens(message: Message) -> int:
    return sum(part_tokens(p) for p in message.parts) + 4


def request_tokens(
    messages: Iterable[Message], system: str = "", tools: Sequence[ToolSpec] = ()
) -> int:
    """An estimate of a request's input tokens."""
    tool_chars = sum(_spec_chars(t) for t in tools)
    return (
        sum(message_tokens(m) for m in messages)
        + (len(system) + tool_chars) // CHARS_PER_TOKEN
        + 10
    )


_SPEC_CHARS: dict[tuple[str, int], int] = {}


def _spec_chars(spec: ToolSpec) -> int:
    """A tool's size in a request (its schema is encoded once per process)."""
    key = (spec.name, id(spec.input_schema))
    if key not in _SPEC_CHARS:
        _SPEC_CHARS[key] = (
            len(spec.name) + len(spec.description) + len(json.dumps(spec.input_schema))
        )
    return _SPEC_CHARS[key]


# -------------------------------------------------------- step 1: tool outputs
@dataclass
class Cleared:
    """The conversation after step 1, with what clearing freed and where the full outputs went."""

    messages: list[Message]
    freed_tokens: int = 0
    cleared: int = 0
    saved: list[Path] = field(default_factory=list)
    # tool_use_id -> the stub that replaced its output (what the store records).
    stubs: dict[str, str] = field(default_factory=dict)


def clear_tool_outputs(
    messages: Sequence[Message],
    save: Callable[[str, str], Path],
    *,
    keep_tokens: int = KEEP_TOOL_TOKENS,
    min_tokens: int = 100,
) -> Cleared:
    """Old tool outputs (beyond the newest `keep_tokens` of them) replaced by a
    stub naming where `save(tool_use_id, text)` put the full text. Outputs under
    `min_tokens` and earlier stubs are left as they are. The input is not changed."""
    kept = 0
    out: list[Message] = []
    result = Cleared(out)
    for message in reversed(messages):
        parts: list[Part] = []
        for part in message.parts:
            if not isinstance(part, ToolResultPart):
                parts.append(part)
                continue
            tokens = part_tokens(part)
            stale = kept >= keep_tokens
            kept += tokens
            if not stale or tokens < min_tokens or part.text.startswith(STUB_PREFIX):
                parts.append(part)
                continue
            path = save(part.tool_use_id, part.text)
            stub = (
                f"{STUB_PREFIX}: {len(part.text):,} characters; the full output is in "
                f"{path} — Read it if you need it again]"
            )
            parts.append(ToolResultPart(part.tool_use_id, [TextPart(stub)], part.is_error))
            result.stubs[part.tool_use_id] = stub
            result.freed_tokens += tokens - part_tokens(parts[-1])
            result.cleared += 1
            result.saved.append(path)
        out.append(Message(message.role, parts))
    out.reverse()
    return result


# ------------------------------------------------------------ step 2: summary
def summary_request(
    request: ModelRequest, *, focus: str | None = None, instructions: str | None = None
) -> ModelRequest:
    """The request that asks the model for the hand-off summary: the same
    conversation (tools still declared, so its tool calls stay valid) plus the ask."""
    ask = SUMMARY_PROMPT
    if instructions:
        ask += f"\n\nThe project's compact instructions:\n{instructions.strip()}"
    if focus:
        ask += f"\n\nFocus the summary on: {focus.strip()}"
    messages = repair_history([*request.messages, Message("user", [TextPart(ask)])])
    return ModelRequest(
        model=request.model,
        messages=messages,
        system=request.system,
        tools=request.tools,
        max_tokens=min(request.max_tokens or 8192, 8192),
    )


def real_prompts(messages: Sequence[Message]) -> list[int]:
    """Indexes of the user's own prompts (user messages with text and no tool result)."""
    return [
        i
        for i, m in enumerate(messages)
        if m.role == "user" and m.text.strip() and not m.tool_results
    ]


def rebuild(
    messages: Sequence[Message],
    summary: str,
    *,
    budget_tokens: int,
    keep_prompts: int = 3,
    keep: Sequence[str] = (),
) -> list[Message]:
    """The conversation after a summary: one user message holding the summary,
    the newest `keep_prompts` prompts verbatim and the `keep` texts (skills,
    todos, anchors), then the newest whole tool exchanges of the current turn
    that fit in `budget_tokens`."""
    prompts = real_prompts(messages)
    last = prompts[-1] if prompts else -1
    head = [SUMMARY_HEADER, "", summary.strip()]
    recent = [messages[i].text.strip() for i in prompts[-keep_prompts:]]
    if recent:
        head += ["", "The user's most recent messages, verbatim:"]
        head += [f"<user_message>\n{t}\n</user_message>" for t in recent]
    for text in keep:
        if text.strip():
            head += ["", text.strip()]
    tail = list(messages[last + 1 :])
    # Drop whole exchanges (assistant + its results) from the front until it fits.
    while tail and sum(message_tokens(m) for m in tail) > budget_tokens:
        tail = tail[2:] if len(tail) > 1 and tail[1].role == "user" else tail[1:]
    while tail and tail[0].role == "user":  # results whose call was dropped
        tail = tail[1:]
    head_message = Message("user", [TextPart("\n".join(head))])
    return repair_history([head_message, *tail])


def check_freed(before: int, after: int, window: Window, repeated: bool) -> None:
    """`CompactionFailed` when a compaction did not bring the request under the
    threshold, or when the previous request was compacted too (it would loop)."""
    if repeated:
        raise CompactionFailed(
            f"the conversation was compacted just before and is over the context window "
            f"again ({after:,} of {window.context_window:,} tokens): a single step needs "
            "more room than this model has; start a new session or pick a --model with a "
            "larger window"
        )
    if after > window.threshold * TARGET_SHARE:
        raise CompactionFailed(
            f"compaction freed too little ({before:,} -> {after:,} tokens; the threshold "
            f"is {window.threshold:,}): what must be kept does not fit this model's "
            f"window of {window.context_window:,} tokens; start a new session or pick a "
            "--model with a larger window"
        )


def compact_instructions(instructions: str) -> str | None:
    """The "Compact Instructions" section of the instruction files, if any."""
    lines = instructions.splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip().lstrip("#").strip().lower()
        if line.lstrip().startswith("#") and stripped in ("compact instructions", "compaction"):
            level = len(line.lstrip()) - len(line.lstrip().lstrip("#"))
            body: list[str] = []
            for nxt in lines[i + 1 :]:
                n = nxt.lstrip()
                if n.startswith("#") and len(n) - len(n.lstrip("#")) <= level:
                    break
                body.append(nxt)
            text = "\n".join(body).strip()
            return text or None
    return None
