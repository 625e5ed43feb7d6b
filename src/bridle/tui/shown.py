"""How the app shows what the engine's thread hands it: one function per event stream.

`show_event(app, item, diff)` takes an engine event (or a `tui.runner`
message) and updates `tui.app.BridleApp`'s transcript and HUD: streamed text
into the current answer (`tui.answer.Answer`, imported with the first one, so
Markdown is not loaded before the first screen), a tool call's line and its
result, a permission ask (the modal), notices, compactions, the end of a turn
(which starts the next queued prompt). A subagent's progress goes under its
Agent call's line (`subagent_step`). Kept out of `tui.app` so each stays short.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bridle.engine import events as ev
from bridle.tui.runner import GitState, TurnFailed
from bridle.tui.todos import todo_items
from bridle.tui.transcript import ToolLine
from bridle.tui.views import call_title

if TYPE_CHECKING:
    from bridle.tui.app import BridleApp

# Events after which a statusLine command runs again (the conversation changed).
CHANGES = (ev.AssistantMessage, ev.ToolFinished, ev.TurnResult, ev.Notice, ev.Compacted)


async def show_event(app: BridleApp, item: Any, diff: list[str]) -> None:
    """Show one engine event (or runner message) in `app`: the transcript, the HUD."""
    if isinstance(item, ev.TextChunk):
        if app.answer is None:
            from bridle.tui.answer import Answer

            app.answer = Answer()
            await app.mount_in_transcript(app.answer)
        await app.answer.add(item.text)
        return  # the HUD has not changed: a fast stream costs no HUD repaints
    elif isinstance(item, ev.AssistantMessage):
        await app.end_answer()
        usage = item.response.usage
        app.hud.tokens_in += usage.total_input_tokens
        app.hud.tokens_out += usage.output_tokens
        app.hud.context_used = usage.total_input_tokens + usage.output_tokens
        app.hud.cost_usd += item.cost_usd
    elif isinstance(item, ev.Retrying):
        if app.answer is not None:
            await app.answer.reset()
        await app.note(f"retrying (attempt {item.attempt}): {item.error}")
    elif isinstance(item, ev.ToolStarted):
        await app.end_answer()
        line = ToolLine(item.call, call_title(item.call, app.cwd), diff)
        app.tool_lines[item.call.id] = line
        await app.mount_in_transcript(line)
        if item.call.id in app.denied:
            line.deny(app.denied.pop(item.call.id))
    elif isinstance(item, ev.ToolFinished):
        done = app.tool_lines.get(item.call.id)
        todos = todo_items(item.call, item.result)
        if todos is not None:
            app.todo_panel.set_todos(todos)
        if done is not None:
            done.finish(item.result)
            if done.diff and not item.result.is_error:
                app.hud.lines_added += done.added
                app.hud.lines_removed += done.removed
    elif isinstance(item, ev.PermissionRequest):
        from bridle.tui.permission import ask

        await app.end_answer()
        ask(app, item, diff)
    elif isinstance(item, ev.PermissionDenied):
        app.denied[item.call.id] = item.reason
        await app.note(f"✗ {call_title(item.call, app.cwd)}: {item.reason}", error=True)
    elif isinstance(item, ev.Notice):
        if item.code in ("permission_mode", "account_switch", "set_model"):
            # "permission mode set to X", "...; continuing under account X", "model set to X"
            field = {"permission_mode": "mode", "account_switch": "account"}
            setattr(app.hud, field.get(item.code, "model"), item.text.rsplit(" ", 1)[-1])
            window = getattr(app.session.engine.binding, "context_window", None)
            if item.code != "permission_mode" and window:
                app.hud.context_window = window
        elif item.code == "subagent" and subagent_step(app, item.text):
            app.refresh_hud()
            return
        elif item.code == "clear":
            app.hud.context_used = 0
            app.todo_panel.set_todos([])
            app.runner.checkpoints.drop()
        if item.code in ("error", "compact", "clear"):
            app.hud.notice = ""
        await app.note(item.text, error=item.code == "error")
    elif isinstance(item, ev.Compacted):
        app.runner.checkpoints.drop()  # the messages are renumbered
        app.hud.notice = ""
        app.hud.context_used = item.post_tokens
        how = "old tool outputs cleared" if item.step == "clear" else "summarised"
        await app.note(
            f"context compacted ({how}): {item.pre_tokens:,} → {item.post_tokens:,} tokens"
        )
    elif isinstance(item, ev.BackgroundAgents):
        from bridle.tui.views_cmds import tasks_text

        await app.note(tasks_text(item.agents))
    elif isinstance(item, ev.HookMessage):
        await app.note(f"hook {item.hook_name or item.event}: {item.text}", item.level == "error")
    elif isinstance(item, ev.TurnResult):
        app.api_ms += item.duration_api_ms
        await app.end_turn(item)
    elif isinstance(item, TurnFailed):
        await app.note(item.message, error=True)
        await app.end_turn(None)
    elif isinstance(item, GitState):
        app.hud.branch, app.hud.dirty = item.branch or app.hud.branch, item.dirty
    if app.status is not None and isinstance(item, CHANGES):
        app.status.changed()
    app.refresh_hud()


def subagent_step(app: BridleApp, text: str) -> bool:
    """A subagent's "DESCRIPTION agent: Tool" progress goes under its Agent
    call's line (the newest running one with that description)."""
    description, _, tool = text.rpartition(" agent: ")
    for line in reversed(list(app.tool_lines.values())):
        args = line.call.input if isinstance(line.call.input, dict) else {}
        agent = line.call.name in ("Agent", "Task") and line.result is None
        if agent and args.get("description") == description:
            line.step(tool)
            return True
    return False
