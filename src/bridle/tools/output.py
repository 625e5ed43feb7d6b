"""Capping large tool output without losing it.

A tool result longer than the cap (about 30k characters) keeps its head and tail;
the full text is saved to a file under `ctx.output_dir` (else
`$BRIDLE_HOME/tool-output`) and the model is told the path and how to read it
with Read's offset/limit or Grep. Nothing is silently dropped. This module does
not decide which tools are capped: tools call `cap_text` on their own text, and
the engine may call `cap_output` on any result.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from pathlib import Path

from bridle.config.paths import bridle_home
from bridle.core.messages import TextPart
from bridle.tools.base import ToolContext, ToolOutput

MAX_CHARS = 30_000
NOTE_ROOM = 1_000


def output_dir(ctx: ToolContext) -> Path:
    return ctx.output_dir or bridle_home(ctx.env) / "tool-output"


def save_full(text: str, ctx: ToolContext, label: str) -> Path:
    """Write `text` to a new file in the output dir and return its path."""
    d = output_dir(ctx)
    d.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = d / f"{label}-{stamp}-{uuid.uuid4().hex[:8]}.txt"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    return path


def cap_text(
    text: str,
    ctx: ToolContext,
    *,
    label: str = "output",
    limit: int = MAX_CHARS,
    saved: Path | None = None,
) -> str:
    """`text` if it fits, else head + note + tail, with the full text saved.

    `saved` names a file that already holds the full output (Bash spools there),
    so it is not written twice.
    """
    if len(text) <= limit:
        return text
    path = saved or save_full(text, ctx, label)
    # Room for the note and what a tool adds around it (Bash's exit code), so the
    # capped result is never capped (and saved) a second time by the engine.
    budget = limit - min(NOTE_ROOM, limit // 10)
    head_len = budget * 2 // 3
    tail_len = budget - head_len
    head = text[:head_len]
    tail = text[-tail_len:]
    # Cut at line boundaries so the model never sees half a line.
    if "\n" in head:
        head = head[: head.rfind("\n") + 1]
    if "\n" in tail:
        tail = tail[tail.find("\n") + 1 :]
    omitted = text[len(head) : len(text) - len(tail)]
    skipped_lines = omitted.count("\n")
    total_lines = text.count("\n") + 1
    first_skipped = head.count("\n") + 1
    note = (
        f"\n[... {len(omitted)} characters ({skipped_lines} lines) omitted. Full output "
        f"({len(text)} characters, {total_lines} lines) saved to {path} — use Read with "
        f"offset={first_skipped} and limit to see the omitted part, or Grep it.]\n"
    )
    return head + note + tail


def cap_output(out: ToolOutput, ctx: ToolContext, *, label: str = "output") -> ToolOutput:
    """Apply `cap_text` to a result's combined text; images pass through."""
    total = sum(len(p.text) for p in out.content if isinstance(p, TextPart))
    if total <= MAX_CHARS:
        return out
    text = "".join(p.text for p in out.content if isinstance(p, TextPart))
    others = [p for p in out.content if not isinstance(p, TextPart)]
    return replace(out, content=[TextPart(cap_text(text, ctx, label=label)), *others])
