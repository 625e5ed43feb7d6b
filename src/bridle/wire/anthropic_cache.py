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

The plan is a value of positions computed from a `ModelRequest`; the conversation
itself carries no cache flags. `anthropic_messages.build_request` asks for a plan
when the endpoint's profile has `prompt_caching` and writes the marks there.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridle.core.messages import Message, ModelRequest, TextPart, ToolResultPart

MAX_BREAKPOINTS = 4


@dataclass(frozen=True, slots=True)
class CachePlan:
    """Where one request's `cache_control` breakpoints go (see the module docstring)."""

    tools: bool = False
    system: bool = False
    # (message index, part index) of each text or tool-result part to mark.
    parts: frozenset[tuple[int, int]] = frozenset()

    @property
    def count(self) -> int:
        """How many breakpoints the plan places (the API rejects more than four)."""
        return self.tools + self.system + len(self.parts)


NO_CACHE = CachePlan()


def plan_breakpoints(request: ModelRequest) -> CachePlan:
    tools = bool(request.tools)
    system = bool(request.system)
    messages = request.messages
    targets: list[int] = []
    if messages:
        targets.append(len(messages) - 1)
    users = [i for i, m in enumerate(messages) if m.role == "user"]
    if len(users) >= 2 and users[-2] not in targets:
        targets.append(users[-2])
    parts = set()
    for index in targets[: MAX_BREAKPOINTS - tools - system]:
        at = _last_markable(messages[index])
        if at is not None:
            parts.add((index, at))
    return CachePlan(tools, system, frozenset(parts))


def _last_markable(message: Message) -> int | None:
    # Only text and tool results carry a mark; a trailing tool_use or image moves
    # the breakpoint to the last part that can hold one, which still covers most
    # of the message. Empty text is never sent, so it cannot hold one either.
    for i in range(len(message.parts) - 1, -1, -1):
        part = message.parts[i]
        if isinstance(part, ToolResultPart) or (isinstance(part, TextPart) and part.text):
            return i
    return None
