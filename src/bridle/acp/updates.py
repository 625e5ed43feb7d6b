"""Engine values as Agent Client Protocol session updates, and prompts as engine input.

Pure translation between bridle's engine (`engine.events`, `core.messages`) and
the `acp.schema` models: a tool call's title, kind (read, edit, execute,
search, fetch, think, other), the files it touches (`locations`) and, for
edits, the diff the editor shows (`oldText`/`newText` from the call's own
arguments); a tool result as content; a TodoWrite list as a `plan`; a finished
turn as a `stopReason`; the session's slash commands as the
`available_commands_update` an editor's `/` menu shows; a stored conversation replayed as the updates a client
would have seen (`history_updates`, for `session/load`); and a prompt's
content blocks (text, images, embedded resources, resource links) as a
`UserTurn`. Nothing here sends, blocks or touches the engine; `acp.agent` does.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from acp import schema as s
from acp.helpers import (
    plan_entry,
    start_tool_call,
    text_block,
    tool_content,
    tool_diff_content,
    update_agent_message_text,
    update_agent_thought_text,
    update_available_commands,
    update_plan,
    update_tool_call,
    update_user_message,
)

from bridle.core.messages import (
    ImagePart,
    Message,
    TextPart,
    ThinkingPart,
    ToolResultPart,
    ToolUsePart,
)
from bridle.engine import events as ev

KINDS: dict[str, s.ToolKind] = {
    "Read": "read",
    "Edit": "edit",
    "MultiEdit": "edit",
    "Write": "edit",
    "ApplyPatch": "edit",
    "Bash": "execute",
    "Glob": "search",
    "Grep": "search",
    "LS": "search",
    "WebFetch": "fetch",
    "TodoWrite": "think",
    "Agent": "think",
    "Task": "think",
}
PLAN_STATUSES = ("pending", "in_progress", "completed")
MAX_RESULT_CHARS = 20_000  # of a result shown in the editor (the model saw it whole)


def tool_kind(name: str) -> s.ToolKind:
    return KINDS.get(name, "other")


def _abs(path: Any, cwd: Path) -> str | None:
    if not isinstance(path, str) or not path:
        return None
    p = Path(path).expanduser()
    return str(p if p.is_absolute() else cwd / p)


def tool_title(call: ToolUsePart, cwd: Path) -> str:
    """What the editor shows as the call's headline."""
    args = call.input or {}
    path = args.get("file_path") or args.get("path")
    shown = path if isinstance(path, str) else ""
    if shown.startswith(f"{cwd}/"):  # shorter, as the project tree shows it
        shown = shown[len(str(cwd)) + 1 :]
    if call.name == "Bash":
        return str(args.get("description") or args.get("command") or "Bash")
    if call.name in ("Read", "Edit", "MultiEdit", "Write", "LS") and shown:
        return f"{call.name} {shown}"
    if call.name == "Grep":
        return f"Grep {args.get('pattern', '')!s}" + (f" in {shown}" if shown else "")
    if call.name == "Glob":
        return f"Find {args.get('pattern', '')!s}"
    if call.name == "WebFetch":
        return f"Fetch {args.get('url', '')!s}"
    if call.name == "TodoWrite":
        return "Update the plan"
    if call.name == "Skill":
        return f"Skill {args.get('skill', '')!s}"
    return call.name


def tool_locations(call: ToolUsePart, cwd: Path) -> list[s.ToolCallLocation]:
    args = call.input or {}
    path = _abs(args.get("file_path") or args.get("path"), cwd)
    if path is None:
        return []
    line = args.get("offset") if call.name == "Read" else None
    return [s.ToolCallLocation(path=path, line=line if isinstance(line, int) else None)]


def tool_diffs(call: ToolUsePart, cwd: Path) -> list[s.FileEditToolCallContent]:
    """The edit a call asks for, as the diffs an editor renders."""
    args = call.input or {}
    path = _abs(args.get("file_path"), cwd)
    if path is None:
        return []
    if call.name == "Edit":
        old, new = args.get("old_string"), args.get("new_string")
        if isinstance(old, str) and isinstance(new, str):
            return [tool_diff_content(path, new, old or None)]
    if call.name == "Write" and isinstance(args.get("content"), str):
        return [tool_diff_content(path, args["content"], None)]
    if call.name == "MultiEdit" and isinstance(args.get("edits"), list):
        return [
            tool_diff_content(path, e["new_string"], e["old_string"] or None)
            for e in args["edits"]
            if isinstance(e, dict)
            and isinstance(e.get("old_string"), str)
            and isinstance(e.get("new_string"), str)
        ]
    return []


def tool_call_start(call: ToolUsePart, cwd: Path) -> s.ToolCallStart:
    return start_tool_call(
        call.id,
        tool_title(call, cwd),
        kind=tool_kind(call.name),
        status="pending",
        content=tool_diffs(call, cwd) or None,
        locations=tool_locations(call, cwd) or None,
        raw_input=call.input,
    )


def result_text(result: ToolResultPart) -> str:
    text = "\n".join(p.text for p in result.content if isinstance(p, TextPart))
    if len(text) > MAX_RESULT_CHARS:
        text = text[:MAX_RESULT_CHARS] + f"\n… [{len(text) - MAX_RESULT_CHARS} more characters]"
    return text


def tool_call_done(call: ToolUsePart, result: ToolResultPart, cwd: Path) -> s.ToolCallProgress:
    """The call's final state: completed (an edit keeps its diff, with the tool's
    report after it) or failed with the error the model was told."""
    text = result_text(result)
    content: list[Any] = [] if result.is_error else list(tool_diffs(call, cwd))
    if text:
        content.append(tool_content(text_block(text)))
    for part in result.content:
        if isinstance(part, ImagePart):
            content.append(tool_content(s.ImageContentBlock(type="image", data=part.data,
                                                            mime_type=part.media_type)))  # fmt: skip
    return update_tool_call(
        call.id,
        status="failed" if result.is_error else "completed",
        content=content,
        raw_output={"is_error": result.is_error, "text": text},
    )


def plan_of(todos: Any) -> s.AgentPlanUpdate | None:
    """A TodoWrite list (`ctx.todos` or the call's `todos`) as the client's plan."""
    if not isinstance(todos, list):
        return None
    entries = [
        plan_entry(str(t["content"]), status=t["status"])
        for t in todos
        if isinstance(t, dict) and t.get("content") and t.get("status") in PLAN_STATUSES
    ]
    return update_plan(entries)


def stop_reason(result: ev.TurnResult, cancelled: bool) -> s.StopReason:
    """The ACP stop reason for a finished engine turn."""
    if cancelled or result.error_kind == "interrupted":
        return "cancelled"
    if result.error_kind == "max_turns":
        return "max_turn_requests"
    raw = (result.stop_reason or "").lower()
    if raw in ("refusal", "content_filter", "safety"):
        return "refusal"
    if raw in ("max_tokens", "length", "max_output_tokens"):
        return "max_tokens"
    return "end_turn"


def usage_of(result: ev.TurnResult) -> s.Usage:
    u = result.usage
    return s.Usage(
        total_tokens=u.input_tokens + u.cache_read_tokens + u.cache_write_tokens + u.output_tokens,
        input_tokens=u.input_tokens,
        output_tokens=u.output_tokens,
        thought_tokens=u.reasoning_tokens or None,
        cached_read_tokens=u.cache_read_tokens or None,
        cached_write_tokens=u.cache_write_tokens or None,
    )


def history_updates(messages: list[Message], cwd: Path) -> Iterator[Any]:
    """A stored conversation as the updates its client saw: user and agent
    message chunks, thoughts, each tool call with its result, and plans."""
    calls: dict[str, ToolUsePart] = {}
    for message in messages:
        for part in message.parts:
            if isinstance(part, TextPart) and part.text:
                if message.role == "user":
                    yield update_user_message(text_block(part.text))
                else:
                    yield update_agent_message_text(part.text)
            elif isinstance(part, ImagePart) and message.role == "user":
                yield update_user_message(
                    s.ImageContentBlock(type="image", data=part.data, mime_type=part.media_type)
                )
            elif isinstance(part, ThinkingPart) and part.text:
                yield update_agent_thought_text(part.text)
            elif isinstance(part, ToolUsePart):
                calls[part.id] = part
                yield tool_call_start(part, cwd)
            elif isinstance(part, ToolResultPart) and part.tool_use_id in calls:
                call = calls.pop(part.tool_use_id)
                yield tool_call_done(call, part, cwd)
                if call.name == "TodoWrite" and not part.is_error:
                    plan = plan_of((call.input or {}).get("todos"))
                    if plan is not None:
                        yield plan


def prompt_turn(blocks: list[Any]) -> ev.UserTurn:
    """A `session/prompt`'s content as one user turn: text as is, images as
    image parts, embedded text resources as context blocks naming their URI,
    links as `@uri` mentions."""
    texts: list[str] = []
    images: list[ImagePart] = []
    for block in blocks:
        if isinstance(block, s.TextContentBlock):
            texts.append(block.text)
        elif isinstance(block, s.ImageContentBlock):
            images.append(ImagePart(block.mime_type, block.data))
        elif isinstance(block, s.EmbeddedResourceContentBlock):
            res = block.resource
            if isinstance(res, s.TextResourceContents):
                texts.append(f'<context ref="{res.uri}">\n{res.text}\n</context>')
            elif (res.mime_type or "").startswith("image/"):
                images.append(ImagePart(res.mime_type or "image/png", res.blob))
            else:
                size = len(base64.b64decode(res.blob, validate=False))
                texts.append(f"[attached {res.uri}: {res.mime_type or 'binary'}, {size} bytes]")
        elif isinstance(block, s.ResourceContentBlock):
            texts.append(f"@{block.uri}")
        elif isinstance(block, s.AudioContentBlock):
            texts.append("[an audio clip was attached; bridle cannot listen to audio]")
    return ev.UserTurn("\n".join(texts), images)


def available_commands(
    commands: list[tuple[str, str, str | None]],
) -> s.AvailableCommandsUpdate:
    """The session's slash commands, as (name without `/`, description, hint
    for its arguments or None), for the editor's `/` menu."""
    return update_available_commands(
        s.AvailableCommand(
            name=name,
            description=description or name,
            input=s.AvailableCommandInput(s.UnstructuredCommandInput(hint=hint)) if hint else None,
        )
        for name, description, hint in commands
    )


def thought(text: str) -> s.AgentThoughtChunk:
    return update_agent_thought_text(text)
