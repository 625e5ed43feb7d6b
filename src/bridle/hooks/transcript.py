"""A Claude Code-format JSONL transcript of a bridle session, for hook scripts.

Hooks get `transcript_path` and many scripts `grep` or `jq` it, so the file is
written the way Claude Code writes `~/.claude/projects/<dir>/<session>.jsonl`:
one compact JSON object per line; `user`, `assistant` and `system` entries with
`parentUuid`, `isSidechain`, `userType`, `cwd`, `sessionId`, `version`,
`gitBranch`, `type`, `message`, `uuid` and `timestamp`; messages in the
Anthropic API shape (a user prompt's `content` is a string, tool results are
`tool_result` blocks, and each assistant content block is its own entry sharing
the message id, as Claude Code records a streamed reply). `TranscriptWriter.sync`
appends only the messages it has not written yet, so the engine can call it
before every hook.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bridle.core.jsontext import dumps
from bridle.core.messages import (
    ImagePart,
    Message,
    Part,
    TextPart,
    ThinkingPart,
    ToolResultPart,
    ToolUsePart,
)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{datetime.now(UTC).microsecond // 1000:03d}Z"
    )


def _image(part: ImagePart) -> dict[str, Any]:
    return {
        "type": "image",
        "source": {"type": "base64", "media_type": part.media_type, "data": part.data},
    }


def block(part: Part) -> dict[str, Any] | None:
    """One content block in the Anthropic API shape (None for nothing to record)."""
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ThinkingPart):
        if part.redacted:
            return {"type": "redacted_thinking", "data": part.data or ""}
        return {"type": "thinking", "thinking": part.text, "signature": part.signature or ""}
    if isinstance(part, ImagePart):
        return _image(part)
    if isinstance(part, ToolUsePart):
        return {"type": "tool_use", "id": part.id, "name": part.name, "input": part.input or {}}
    if isinstance(part, ToolResultPart):
        if all(isinstance(p, TextPart) for p in part.content):
            content: Any = part.text
        else:
            content = [
                {"type": "text", "text": p.text} if isinstance(p, TextPart) else _image(p)
                for p in part.content
            ]
        return {
            "tool_use_id": part.tool_use_id,
            "type": "tool_result",
            "content": content,
            "is_error": part.is_error,
        }
    return None


class TranscriptWriter:
    """Appends a session's messages to a Claude Code-format JSONL file."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        session_id: str,
        cwd: str,
        version: str = "bridle",
        git_branch: str = "",
        model: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.session_id = session_id
        self.cwd = cwd
        self.version = version
        self.git_branch = git_branch
        self.model = model
        self.written = 0  # messages already in the file
        self.last_uuid: str | None = None
        self._lock = threading.Lock()

    def _entry(self, kind: str, **fields: Any) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "parentUuid": self.last_uuid,
            "isSidechain": False,
            "userType": "external",
            "cwd": self.cwd,
            "sessionId": self.session_id,
            "version": self.version,
            "gitBranch": self.git_branch,
            "type": kind,
        }
        entry.update(fields)
        entry["uuid"] = str(uuid.uuid4())
        entry["timestamp"] = _now()
        self.last_uuid = entry["uuid"]
        return entry

    def entries_for(self, message: Message) -> list[dict[str, Any]]:
        blocks = [b for b in (block(p) for p in message.parts) if b is not None]
        if message.role == "user":
            if len(blocks) == 1 and blocks[0]["type"] == "text":
                content: Any = blocks[0]["text"]
            else:
                content = blocks
            return [self._entry("user", message={"role": "user", "content": content})]
        msg_id = f"msg_{uuid.uuid4().hex[:24]}"
        stop = "tool_use" if message.tool_uses else "end_turn"
        out = []
        for b in blocks or [{"type": "text", "text": ""}]:
            body = {
                "id": msg_id,
                "type": "message",
                "role": "assistant",
                "model": self.model or "unknown",
                "content": [b],
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": {"input_tokens": 0, "output_tokens": 0},
            }
            out.append(self._entry("assistant", message=body))
        return out

    def sync(self, messages: Sequence[Message]) -> None:
        """Append the messages beyond those already written (a shorter list restarts)."""
        with self._lock:
            if len(messages) < self.written:  # compaction or rewind: start a new chain
                self.written = 0
                self.last_uuid = None
            lines = [dumps(e) for m in messages[self.written :] for e in self.entries_for(m)]
            self._append(lines)
            self.written = len(messages)

    def append_system(self, content: str, *, subtype: str = "informational") -> None:
        """A `system` entry (hook notices, compaction boundaries)."""
        with self._lock:
            entry = self._entry("system", subtype=subtype, content=content, isMeta=False)
            entry["level"] = "info"
            self._append([dumps(entry)])

    def _append(self, lines: list[str]) -> None:
        if not lines:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write("".join(line + "\n" for line in lines))
