"""The values importers produce, and the text rules they share.

An importer turns the complete lines appended to one session file into a
`Parsed` batch: metadata updates for the session (id, cwd, branch, title
candidates, times) and `Entry` rows (what a user said, what the assistant said,
which commands ran and files were touched, what tools returned). Importers keep
whatever they must remember between batches in a small JSON-able `state` dict
that the indexer stores next to the file's read offset. This module does no I/O;
it also decides which user text is an injected preamble rather than the topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Title sources, weakest first. A stronger source replaces a weaker one; the
# user-given and generated titles also replace an earlier title of the same kind
# (a later rename wins), while the first prompt never replaces itself.
TITLE_PROMPT = 1
TITLE_SUMMARY = 2
TITLE_GENERATED = 3
TITLE_CUSTOM = 4

# Roles of indexed rows. Tool calls and tool results are searched with the tool column.
USER, ASSISTANT, TOOL = "user", "assistant", "tool"

# Tool output is indexed by its head and tail: errors sit at the end, and a
# whole `cat` of a large file would only dilute ranking and slow indexing.
RESULT_HEAD = 2000
RESULT_TAIL = 1000
TEXT_LIMIT = 20000


@dataclass(slots=True)
class Entry:
    """One indexed piece of a session: what the user or the assistant said, or a tool returned."""

    role: str  # USER | ASSISTANT | TOOL
    text: str
    ts: float | None = None


@dataclass(slots=True)
class Parsed:
    """What one batch of lines contributed to a session."""

    session_id: str | None = None
    # A subagent's transcript: indexed under the parent, but not shown as its preview.
    sidechain: bool = False
    cwd: str | None = None
    branch: str | None = None
    title: str | None = None
    title_rank: int = 0
    created: float | None = None
    updated: float | None = None
    model: str | None = None
    entries: list[Entry] = field(default_factory=list)
    # The file was rewritten or rewound: drop what was indexed from it and read it again.
    restart: bool = False
    # Titles this file gives to other sessions: (session id, title), e.g. Codex's session index.
    renames: list[tuple[str, str]] = field(default_factory=list)

    def offer_title(self, text: str | None, rank: int) -> None:
        text = clean(one_line(text or ""))
        if not text:
            return
        if rank > self.title_rank or (rank == self.title_rank and rank >= TITLE_SUMMARY):
            self.title, self.title_rank = text[:200], rank

    def touch(self, ts: float | None) -> None:
        if ts is None:
            return
        if self.created is None or ts < self.created:
            self.created = ts
        if self.updated is None or ts > self.updated:
            self.updated = ts

    def add(self, role: str, text: str, ts: float | None) -> None:
        if text and not text.isspace():
            self.entries.append(Entry(role, clean(text[:TEXT_LIMIT]), ts))
            self.touch(ts)


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD. JSON can spell half an
    emoji (`"\\ud83d"`, text cut mid-character); such a string cannot be stored in
    SQLite nor printed as UTF-8. Encoding first keeps the common case one C call."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def one_line(text: str) -> str:
    return " ".join(text.split())


def clip_result(text: str) -> str:
    if len(text) <= RESULT_HEAD + RESULT_TAIL:
        return text
    return text[:RESULT_HEAD] + "\n…\n" + text[-RESULT_TAIL:]


def parse_time(value: Any) -> float | None:
    """ISO 8601 text (with `Z` or an offset) or epoch seconds/milliseconds → epoch seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) / 1000.0 if value > 1e11 else float(value)
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


_PREAMBLE_TAGS = (
    "environment_context",
    "user_instructions",
    "permissions",
    "system-reminder",
    "command-name",
    "command-message",
    "command-args",
    "local-command-stdout",
    "local-command-stderr",
    "local-command-caveat",
    "session_context",
    "hook_context",
    "user-prompt-submit-hook",
    "ide_opened_file",
    "ide_selection",
    "turn_aborted",
    "INSTRUCTIONS",
)
_PREAMBLE_RE = re.compile(
    r"^\s*<(" + "|".join(re.escape(t) for t in _PREAMBLE_TAGS) + r")[\s>/]", re.IGNORECASE
)
_AGENTS_MD_RE = re.compile(r"^\s*#\s*AGENTS\.md instructions for ", re.IGNORECASE)


def is_preamble(text: str) -> bool:
    """True for text a tool injects into the user turn (environment blocks,
    permission notes, slash-command wrappers, caveats): it is not the topic."""
    stripped = text.lstrip()
    if not stripped:
        return True
    if _PREAMBLE_RE.match(stripped) or _AGENTS_MD_RE.match(stripped):
        return True
    return stripped.startswith(
        ("Caveat: The messages below were generated", "[Request interrupted")
    )


def json_text(value: Any, limit: int = 4000) -> str:
    """Readable text for a tool's arguments: strings as they are, the rest as
    `key: value` lines so a search for a path or a command finds it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value[:limit]
    if isinstance(value, dict):
        parts = []
        for k, v in value.items():
            if isinstance(v, str | int | float | bool):
                parts.append(f"{k}: {v}")
            elif v is not None:
                parts.append(f"{k}: {json_text(v, limit)}")
        return "\n".join(parts)[:limit]
    if isinstance(value, list):
        return "\n".join(json_text(v, limit) for v in value)[:limit]
    return str(value)[:limit]


def content_text(content: Any) -> str:
    """Text of a string or a list of text blocks/parts (Anthropic, OpenAI, Gemini shapes)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        out = []
        for block in content:
            if isinstance(block, str):
                out.append(block)
            elif isinstance(block, dict):
                text = block.get("text")
                if isinstance(text, str):
                    out.append(text)
                elif block.get("type") in ("tool_result",) or "content" in block:
                    out.append(content_text(block.get("content")))
        return "\n".join(t for t in out if t)
    if isinstance(content, dict):
        text = content.get("text")
        return text if isinstance(text, str) else ""
    return ""
