"""TodoWrite: the model's task list for the session.

Each call replaces the whole list (Claude Code semantics). Items are validated
(non-empty content, a known status) and stored in `ctx.todos`, where front ends
render them; the result is a compact checklist so the model sees what it saved.
Having more than one item in progress is allowed but noted. The list lives only
in the session state; persisting it is the store's job.
"""

from __future__ import annotations

from typing import Any

from bridle.core.errors import ToolError
from bridle.tools.base import Tool, ToolContext, ToolOutput

STATUSES = ("pending", "in_progress", "completed")
MARKS = {"pending": "[ ]", "in_progress": "[>]", "completed": "[x]"}


class TodoWrite(Tool):
    name = "TodoWrite"
    description = (
        "Replace the session's todo list. Use it for multi-step work: mark an item "
        "in_progress before starting it and completed as soon as it is done."
    )
    input_schema = {
        "type": "object",
        "properties": {
            "todos": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "content": {"type": "string"},
                        "status": {"type": "string", "enum": list(STATUSES)},
                        "activeForm": {"type": "string"},
                    },
                    "required": ["content", "status"],
                },
            }
        },
        "required": ["todos"],
        "additionalProperties": False,
    }
    read_only = True  # it changes session state only, never the user's files

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        todos: list[dict[str, Any]] = []
        for i, item in enumerate(args["todos"], 1):
            content = str(item.get("content", "")).strip()
            status = item.get("status")
            if not content:
                raise ToolError(f"todo {i} has empty content.")
            if status not in STATUSES:
                raise ToolError(
                    f"todo {i} has status {status!r}; use one of {', '.join(STATUSES)}."
                )
            todo: dict[str, Any] = {"content": content, "status": status}
            if item.get("activeForm"):
                todo["activeForm"] = str(item["activeForm"])
            todos.append(todo)
        ctx.todos = todos
        if not todos:
            return ToolOutput.text("Todo list cleared.")
        counts = {s: sum(t["status"] == s for t in todos) for s in STATUSES}
        head = (
            f"Todos saved: {counts['completed']} completed, {counts['in_progress']} in "
            f"progress, {counts['pending']} pending."
        )
        lines = [head, *(f"{MARKS[t['status']]} {t['content']}" for t in todos)]
        if counts["in_progress"] > 1:
            lines.append("Note: several items are in progress; usually one at a time is clearer.")
        return ToolOutput.text("\n".join(lines))
