"""The `Agent` tool (Claude Code's name; `Task` rules and hook matchers match it).

It hands a task to a subagent: a built-in type (`general-purpose`, `Explore`,
`Plan`), an agent definition, or another coding CLI under an account (`claude`,
`codex@work`, ...). This module only declares the tool (schema, description
listing the types) and forwards each call to the runner the engine gives it
(`engine.agents`), which opens the child session, runs it and returns its final
answer; tools sit below the engine, so the tool never opens sessions itself.
Several Agent calls in one response run at the same time (the tool is
concurrency-safe; the runner bounds how many run at once).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from bridle.tools.base import Tool, ToolContext, ToolOutput

Runner = Callable[[dict[str, Any], ToolContext], ToolOutput]

_BASE = (
    "Launch a subagent to handle a task on its own: it gets a fresh conversation, "
    "works with its own tools and returns one final answer (only that answer comes "
    "back to you, so ask for what you need in it). Write a complete, self-contained "
    "prompt. Several Agent calls in one response run at the same time. With "
    "run_in_background the call returns an agent id at once and the result arrives "
    'later in the conversation. isolation "worktree" runs the agent in its own git '
    "worktree and reports the branch it left.\n\nAgent types (subagent_type):\n"
)


class AgentTool(Tool):
    name: ClassVar[str] = "Agent"
    description: ClassVar[str] = _BASE
    input_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "description": {
                "type": "string",
                "description": "A short (3-5 word) description of the task",
            },
            "prompt": {"type": "string", "description": "The task for the agent to perform"},
            "subagent_type": {
                "type": "string",
                "description": "The type of agent (default general-purpose)",
            },
            "model": {
                "type": "string",
                "description": "Model for this agent: sonnet, opus, haiku, inherit or any model",
            },
            "run_in_background": {
                "type": "boolean",
                "description": "Return an agent id at once; the result arrives when done",
            },
            "isolation": {
                "type": "string",
                "enum": ["worktree"],
                "description": "Run the agent in its own git worktree",
            },
        },
        "required": ["description", "prompt"],
        "additionalProperties": False,
    }
    read_only: ClassVar[bool] = False
    concurrency_safe: ClassVar[bool] = True

    def __init__(self, runner: Runner, types: Sequence[tuple[str, str]]) -> None:
        self._runner = runner
        listed = "\n".join(f"- {name}: {what}" for name, what in types)
        # An instance attribute: each session lists its own definitions.
        self.description = _BASE + listed  # type: ignore[misc]

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        return self._runner(args, ctx)
