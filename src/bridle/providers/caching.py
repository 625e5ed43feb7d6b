"""Anthropic prompt-caching breakpoints, planned for the best hit rate.

Anthropic caches a request prefix up to each `cache_control` breakpoint, allows
at most four per request, and a later request hits the cache only where one of
its breakpoints covers a prefix written before. The plan, in priority order:

1. the tool list and 2. the system prompt: stable for the whole session;
3. the last message: writes the prefix the *next* request will reuse;
4. the user turn before the latest one: that is exactly where the previous
   request put breakpoint 3, so this one reads it back even when the latest turn
   added more blocks than the cache's ~20-block lookback covers (many parallel
   tool results).

The planner is a pure function: it returns a new request and never mutates the
one passed in. It clears stale flags left on older messages, so the result never
carries more than four breakpoints. Other wires ignore the flags; sending them
is the wire layer's job.
"""

from __future__ import annotations

from dataclasses import replace

from bridle.core.messages import Message, ModelRequest, Part, TextPart, ToolResultPart

MAX_BREAKPOINTS = 4


def plan_cache_breakpoints(request: ModelRequest) -> ModelRequest:
    cache_tools = bool(request.tools)
    cache_system = bool(request.system)
    messages = [_without_flags(m) for m in request.messages]
    budget = MAX_BREAKPOINTS - cache_tools - cache_system

    targets: list[int] = []
    if messages:
        targets.append(len(messages) - 1)
    users = [i for i, m in enumerate(messages) if m.role == "user"]
    if len(users) >= 2 and users[-2] not in targets:
        targets.append(users[-2])
    for index in targets[:budget]:
        messages[index] = _with_last_flag(messages[index])
    return replace(request, messages=messages, cache_tools=cache_tools, cache_system=cache_system)


def count_breakpoints(request: ModelRequest) -> int:
    """How many breakpoints a request carries (the API rejects more than four)."""
    flags = sum(
        1
        for m in request.messages
        for p in m.parts
        if isinstance(p, TextPart | ToolResultPart) and p.cache
    )
    return flags + request.cache_tools + request.cache_system


def _without_flags(message: Message) -> Message:
    if not any(isinstance(p, TextPart | ToolResultPart) and p.cache for p in message.parts):
        return message
    parts: list[Part] = [
        replace(p, cache=False) if isinstance(p, TextPart | ToolResultPart) and p.cache else p
        for p in message.parts
    ]
    return Message(message.role, parts)


def _with_last_flag(message: Message) -> Message:
    # Only text and tool results carry a flag; a trailing tool_use or image moves
    # the breakpoint to the last part that can hold one, which still covers most
    # of the message.
    for i in range(len(message.parts) - 1, -1, -1):
        part = message.parts[i]
        if isinstance(part, TextPart | ToolResultPart):
            parts = list(message.parts)
            parts[i] = replace(part, cache=True)
            return Message(message.role, parts)
    return message
