"""Shared checks for the store tests: what "valid for every provider" means,
written independently of `store.conversation.repair_history`."""

from __future__ import annotations

from bridle.core.messages import Message, ToolResultPart


def assert_provider_valid(messages: list[Message]) -> None:
    """Roles alternate starting with the user; no empty message; every tool call
    is answered exactly once, in order, at the start of the next user message;
    no tool result appears anywhere else."""
    for i, m in enumerate(messages):
        where = f"message {i} ({m.role})"
        assert m.parts, f"{where} is empty"
        if i == 0:
            assert m.role == "user", "history must start with a user message"
        else:
            assert m.role != messages[i - 1].role, f"{where} repeats the previous role"
        if m.role == "assistant":
            assert not m.tool_results, f"{where} holds tool results"
            if m.tool_uses:
                assert i + 1 < len(messages), f"{where} has tool calls with no answer"
            continue
        asked = [p.id for p in messages[i - 1].tool_uses] if i else []
        answered = [p.tool_use_id for p in m.tool_results]
        assert answered == asked, f"{where} answers {answered}, but the calls were {asked}"
        head = m.parts[: len(answered)]
        assert all(isinstance(p, ToolResultPart) for p in head), f"{where}: results not first"
