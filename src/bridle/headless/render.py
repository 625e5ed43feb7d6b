"""Headless renderers: engine events to text, json, stream-json or nothing.

The json and stream-json shapes follow Claude Code's `claude -p` output (a
`system/init` line, `assistant`/`user` lines with content blocks, and a final
`result`), so programs written for Claude Code read bridle's output unchanged.
Like Claude Code, each content block of an assistant response is its own line
sharing the message id, and each tool result is its own `user` line. Renderers
only format; they write to the stream they are given and never decide anything.
"""

from __future__ import annotations

import datetime as _dt
import json
import uuid
from typing import IO, Any

from bridle import __version__
from bridle.core.messages import (
    ImagePart,
    TextPart,
    ThinkingPart,
    ToolResultPart,
    ToolUsePart,
    Usage,
)
from bridle.engine import events as ev


def usage_dict(u: Usage) -> dict[str, Any]:
    return {
        "input_tokens": u.input_tokens,
        "cache_creation_input_tokens": u.cache_write_tokens,
        "cache_read_input_tokens": u.cache_read_tokens,
        "output_tokens": u.output_tokens,
    }


def content_block(part: Any) -> dict[str, Any] | None:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ThinkingPart):
        if part.redacted:
            return {"type": "redacted_thinking", "data": part.data or ""}
        return {"type": "thinking", "thinking": part.text, "signature": part.signature or ""}
    if isinstance(part, ToolUsePart):
        return {"type": "tool_use", "id": part.id, "name": part.name, "input": part.input or {}}
    if isinstance(part, ToolResultPart):
        images = [p for p in part.content if isinstance(p, ImagePart)]
        content: Any = part.text
        if images:
            content = [content_block(p) for p in part.content]
        return {
            "tool_use_id": part.tool_use_id,
            "type": "tool_result",
            "content": content,
            "is_error": part.is_error,
        }
    if isinstance(part, ImagePart):
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": part.media_type, "data": part.data},
        }
    return None


def result_dict(r: ev.TurnResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "result",
        "subtype": r.subtype,
        "is_error": r.is_error,
        "duration_ms": r.duration_ms,
        "duration_api_ms": r.duration_api_ms,
        "num_turns": r.num_turns,
        "result": r.result,
        "stop_reason": r.stop_reason,
        "session_id": r.session_id,
        "total_cost_usd": round(r.cost_usd, 8),
        "usage": usage_dict(r.usage),
        "permission_denials": r.permission_denials,
        "uuid": str(uuid.uuid4()),
    }
    if r.structured_output is not None:  # --json-schema: the validated answer
        out["structured_output"] = r.structured_output
    if r.errors:
        out["errors"] = r.errors
        if r.error_kind:
            # What went wrong, for a wrapper to act on: "quota" and "rate_limit"
            # (switch account), "context_window", "auth", "network", "interrupted", ...
            out["error_kind"] = r.error_kind
    return out


def hook_line(event: ev.HookMessage, session_id: str) -> dict[str, Any]:
    """A hook's message as Claude Code's stream-json `system/hook_response` line
    (`outcome` "error" when the hook failed); bridle adds `system_message`, the
    text Claude Code shows only in its app."""
    return {
        "type": "system",
        "subtype": "hook_response",
        "hook_id": f"hook_{uuid.uuid4().hex[:12]}",
        "hook_name": event.hook_name or event.event,
        "hook_event": event.event,
        "output": event.text,
        "outcome": "error" if event.level == "error" else "success",
        "system_message": event.text if event.level != "error" else None,
        "session_id": session_id,
        "uuid": str(uuid.uuid4()),
    }


def compact_line(event: ev.Compacted, session_id: str) -> dict[str, Any]:
    """A compaction as Claude Code's stream-json `system/compact_boundary` line;
    bridle adds the tokens after and the step that was enough."""
    return {
        "type": "system",
        "subtype": "compact_boundary",
        "session_id": session_id,
        "uuid": str(uuid.uuid4()),
        "compact_metadata": {
            "trigger": "manual" if event.trigger == "manual" else "auto",
            "pre_tokens": event.pre_tokens,
            "post_tokens": event.post_tokens,
            "step": event.step,
        },
    }


class Renderer:
    """Base: subclasses override the hooks they care about."""

    def __init__(self, out: IO[str], err: IO[str], *, verbose: bool = False, quiet: bool = False):
        self.out = out
        self.err = err
        self.verbose = verbose
        self.quiet = quiet

    def handle(self, event: ev.Event) -> None:
        if isinstance(event, ev.Retrying) and not self.quiet:
            self.err.write(f"bridle: {event.error}; retrying in {event.delay:.1f}s\n")
        elif isinstance(event, ev.Notice) and not self.quiet and event.code not in ("continue",):
            self.err.write(f"bridle: {event.text}\n")
        elif isinstance(event, ev.PermissionDenied) and self.verbose:
            self.err.write(f"bridle: denied {event.call.name}: {event.reason}\n")
        elif isinstance(event, ev.HookMessage) and not self.quiet and self.hooks_on_stderr:
            self.err.write(f"bridle: hook: {event.text}\n")
        elif isinstance(event, ev.Compacted) and not self.quiet and self.hooks_on_stderr:
            how = "cleared old tool outputs" if event.step == "clear" else "summarised it"
            self.err.write(
                f"bridle: the conversation neared the context window; {how} "
                f"({event.pre_tokens:,} -> {event.post_tokens:,} tokens)\n"
            )

    # stream-json readers get hook messages as `system` lines instead.
    hooks_on_stderr = True

    def close(self) -> None:
        self.out.flush()


class TextRenderer(Renderer):
    """Prints the final answer; errors go to stderr. `--verbose` narrates tools."""

    def handle(self, event: ev.Event) -> None:
        super().handle(event)
        if isinstance(event, ev.ToolStarted) and self.verbose:
            self.err.write(f"  → {event.call.name} {_brief(event.call.input)}\n")
        elif isinstance(event, ev.TurnResult):
            if event.result:
                self.out.write(event.result.rstrip("\n") + "\n")
            if event.is_error:
                for e in event.errors or [event.subtype]:
                    self.err.write(f"Error: {e}\n")


class JsonRenderer(Renderer):
    def handle(self, event: ev.Event) -> None:
        super().handle(event)
        if isinstance(event, ev.TurnResult):
            self.out.write(json.dumps(result_dict(event), ensure_ascii=False) + "\n")


class StreamJsonRenderer(Renderer):
    """With `partial` (`--include-partial-messages`) the answer also streams as
    `stream_event` lines (`headless.partial`) ahead of its `assistant` lines."""

    hooks_on_stderr = False

    def __init__(self, out: IO[str], err: IO[str], *, partial: bool = False, **kw: Any):
        super().__init__(out, err, **kw)
        self.partial: Any = None
        if partial:
            from bridle.headless.partial import PartialMessages

            self.partial = PartialMessages()

    def _line(self, obj: dict[str, Any]) -> None:
        self.out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        self.out.flush()

    def handle(self, event: ev.Event) -> None:
        super().handle(event)
        if self.partial is not None:
            for stream_event in self.partial.see(event):
                self._line(
                    {
                        "type": "stream_event",
                        "event": stream_event,
                        "session_id": self.session_id,
                        "parent_tool_use_id": None,
                        "uuid": str(uuid.uuid4()),
                    }
                )
        if isinstance(event, ev.SessionStarted):
            self.session_id = event.session_id
            self._line(
                {
                    "type": "system",
                    "subtype": "init",
                    "cwd": event.cwd,
                    "session_id": event.session_id,
                    "tools": event.tools,
                    "mcp_servers": event.mcp_servers,
                    "model": event.model,
                    "permissionMode": event.permission_mode,
                    "slash_commands": [],
                    "apiKeySource": "none",
                    "bridle_version": __version__,
                    "output_style": "default",
                    "uuid": str(uuid.uuid4()),
                }
            )
        elif isinstance(event, ev.AssistantMessage):
            r = event.response
            msg_id = r.id or f"msg_{uuid.uuid4().hex[:24]}"
            for part in r.parts:
                block = content_block(part)
                if block is None:
                    continue
                self._line(
                    {
                        "type": "assistant",
                        "message": {
                            "id": msg_id,
                            "type": "message",
                            "role": "assistant",
                            "model": r.model or "",
                            "content": [block],
                            "stop_reason": None,
                            "stop_sequence": None,
                            "usage": usage_dict(r.usage),
                        },
                        "parent_tool_use_id": None,
                        "session_id": self.session_id,
                        "uuid": str(uuid.uuid4()),
                    }
                )
        elif isinstance(event, ev.ToolFinished):
            self._line(
                {
                    "type": "user",
                    "message": {"role": "user", "content": [content_block(event.result)]},
                    "parent_tool_use_id": None,
                    "session_id": self.session_id,
                    "uuid": str(uuid.uuid4()),
                    "timestamp": _dt.datetime.now(_dt.UTC).isoformat().replace("+00:00", "Z"),
                }
            )
        elif isinstance(event, ev.HookMessage):
            self._line(hook_line(event, self.session_id))
        elif isinstance(event, ev.Compacted):
            self._line(compact_line(event, self.session_id))
        elif isinstance(event, ev.TurnResult):
            self._line(result_dict(event))

    session_id = ""


class NullRenderer(Renderer):
    """For `--output-format diff`: the diff is printed after the run."""

    def handle(self, event: ev.Event) -> None:
        super().handle(event)
        if isinstance(event, ev.TurnResult) and event.is_error:
            for e in event.errors or [event.subtype]:
                self.err.write(f"Error: {e}\n")


def _brief(args: dict[str, Any] | None) -> str:
    if not args:
        return ""
    for key in ("command", "file_path", "pattern", "path", "url"):
        if key in args:
            value = str(args[key]).splitlines()[0] if args[key] else ""
            return value[:100]
    return ""


def make_renderer(
    fmt: str, out: IO[str], err: IO[str], *, partial: bool = False, **kw: Any
) -> Renderer:
    if fmt == "stream-json":
        return StreamJsonRenderer(out, err, partial=partial, **kw)
    cls: type[Renderer] = {
        "text": TextRenderer,
        "json": JsonRenderer,
        "stream-json": StreamJsonRenderer,
        "diff": NullRenderer,
    }[fmt]
    return cls(out, err, **kw)
