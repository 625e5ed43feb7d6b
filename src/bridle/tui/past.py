"""A resumed session's conversation in the transcript, shown from its end.

`show_history(app, messages)` mounts the last `CHUNK` messages (prompts,
answers as one Rich markdown widget each, tool calls collapsed with their
results) under a line counting the earlier ones, so a session of thousands of
messages opens at once. `show_earlier(app)` mounts the next `CHUNK` older
messages above what is shown when the user scrolls past the top (PageUp or
Ctrl+Home there, `tui.prompt_input`), and moves the view down by what it added
so the line being read stays put; the counting line goes when nothing is left.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bridle.tui.app import BridleApp

CHUNK = 40  # messages shown at a time, when the app opens and per scroll past the top


class Earlier:
    """What a resumed session has not shown yet, and the line that counts it."""

    def __init__(self, messages: list[Any], results: dict[str, Any], note: Any) -> None:
        self.messages = messages
        self.results = results  # tool_use_id -> its ToolResultPart, over the whole session
        self.note = note

    def text(self) -> str:
        return f"… {len(self.messages)} earlier messages (PageUp at the top shows more)"


async def show_history(app: BridleApp, messages: list[Any]) -> None:
    """Before the engine's thread starts: the last messages, and what came before counted."""
    from bridle.core.messages import ToolResultPart

    results = {p.tool_use_id: p for m in messages for p in m.parts if isinstance(p, ToolResultPart)}
    shown = messages[-CHUNK:]
    app.earlier = None
    if len(messages) > len(shown):
        from bridle.tui.transcript import Note

        earlier = Earlier(messages[: -len(shown)], results, Note(""))
        earlier.note.update(earlier.text())
        await app.mount_in_transcript(earlier.note)
        app.earlier = earlier
    widgets = _widgets(app, shown, results)
    if widgets:
        await app.transcript.mount(*widgets)


async def show_earlier(app: BridleApp) -> bool:
    """Mount the next older messages above the shown ones; False when none are left."""
    earlier = app.earlier
    if earlier is None or not earlier.messages:
        return False
    chunk = earlier.messages[-CHUNK:]
    earlier.messages = earlier.messages[: -len(chunk)]
    transcript = app.transcript
    height, y = transcript.virtual_size.height, transcript.scroll_y
    widgets = _widgets(app, chunk, earlier.results)
    if widgets:
        await transcript.mount(*widgets, after=earlier.note)
    if earlier.messages:
        earlier.note.update(earlier.text())
    else:
        await earlier.note.remove()
        app.earlier = None

    def keep_place() -> None:  # the line read before stays where it was
        transcript.scroll_to(y=y + transcript.virtual_size.height - height, animate=False)

    app.call_after_refresh(keep_place)
    return True


def _widgets(app: BridleApp, messages: list[Any], results: dict[str, Any]) -> list[Any]:
    from bridle.core.messages import ToolUsePart
    from bridle.tui.transcript import PastAnswer, Prompt, ToolLine
    from bridle.tui.views import call_title

    widgets: list[Any] = []
    for message in messages:
        if message.role == "user" and message.text.strip():
            widgets.append(Prompt(message.text))
        elif message.role == "assistant":
            if message.text.strip():
                widgets.append(PastAnswer(message.text))
            for call in (p for p in message.parts if isinstance(p, ToolUsePart)):
                line = ToolLine(call, call_title(call, app.cwd), [])
                if call.id in results:
                    line.result = results[call.id]
                widgets.append(line)
    return widgets
