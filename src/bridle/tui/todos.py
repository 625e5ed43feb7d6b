"""The todo list panel (Ctrl+T): what the model's TodoWrite calls say is left to do.

`todo_items(call)` reads the list from a TodoWrite call that succeeded (the
app passes it each finished call; the tool validated the items); `TodoPanel`
shows it between the transcript and the HUD: ☐ pending, ◐ in progress (its
`activeForm` when given, bold), ☑ completed (dim, struck through), with a
`n/m done` head. The panel appears when the model writes a list and Ctrl+T
hides or shows it; an empty list hides it. A resumed session opens with the
list its last successful TodoWrite call set (`last_todos`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:  # the panel is on the first screen; messages come with the session
    from bridle.core.messages import ToolResultPart, ToolUsePart


def todo_items(call: ToolUsePart, result: ToolResultPart) -> list[dict[str, Any]] | None:
    """The list a TodoWrite call set, or None when `call` set none."""
    if call.name != "TodoWrite" or result.is_error or not isinstance(call.input, dict):
        return None
    todos = call.input.get("todos")
    if not isinstance(todos, list):
        return None
    return [t for t in todos if isinstance(t, dict) and str(t.get("content", "")).strip()]


def last_todos(messages: list[Any]) -> list[dict[str, Any]]:
    """The list the conversation's last successful TodoWrite call set ([] if none)."""
    from bridle.core.messages import ToolResultPart, ToolUsePart

    results = {p.tool_use_id: p for m in messages for p in m.parts if isinstance(p, ToolResultPart)}
    for message in reversed(messages):
        for part in reversed(message.parts):
            if isinstance(part, ToolUsePart) and part.id in results:
                todos = todo_items(part, results[part.id])
                if todos is not None:
                    return todos
    return []


def render_todos(todos: list[dict[str, Any]]) -> Text:
    done = sum(1 for t in todos if t.get("status") == "completed")
    out = Text(f"Todos {done}/{len(todos)} done · Ctrl+T hides\n", style="dim")
    for todo in todos:
        status = todo.get("status")
        content = str(todo.get("content", "")).strip()
        if status == "completed":
            out.append(f"☑ {content}\n", style="dim strike")
        elif status == "in_progress":
            active = str(todo.get("activeForm") or content).strip()
            out.append(f"◐ {active}\n", style="bold yellow")
        else:
            out.append(f"☐ {content}\n")
    out.rstrip()
    return out


class TodoPanel(Static):
    DEFAULT_CSS = """
    TodoPanel { height: auto; max-height: 12; padding: 0 1; display: none;
        border-top: solid $primary-muted; }
    TodoPanel.shown { display: block; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(markup=False, **kwargs)
        self.todos: list[dict[str, Any]] = []
        self.hidden_by_user = False

    def set_todos(self, todos: list[dict[str, Any]]) -> None:
        self.todos = todos
        self.update(render_todos(todos) if todos else "")
        self.set_class(bool(todos) and not self.hidden_by_user, "shown")

    def toggle_shown(self) -> bool:
        """Ctrl+T: hide or show; returns whether it is shown now."""
        self.hidden_by_user = not self.hidden_by_user
        self.set_class(bool(self.todos) and not self.hidden_by_user, "shown")
        return self.has_class("shown")
