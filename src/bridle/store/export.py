"""Export one of bridle's sessions as markdown (to read) or JSONL (to process).

Markdown shows the title, a metadata table, then every turn: prompts, replies,
reasoning, each tool call's input and each result fenced (with a fence longer
than any backtick run inside, so content never breaks out), long outputs cut
to their head and tail with the number of characters left out. JSONL writes the
session record as line 1 (`"kind": "session"`, `seq` 0) and then one stored
event per line, unchanged, so nothing is lost. `compaction_mark` is the line
that shows where a compaction happened and how to fork from before it. `export_to_file` writes either
atomically and never replaces an existing file unless asked, keeping the old
one as `<name>.bak`. Rendering reads the store; it never writes to it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bridle.core import jsontext
from bridle.core.errors import UserError
from bridle.core.messages import (
    ImagePart,
    Part,
    TextPart,
    ThinkingPart,
    ToolResultPart,
    ToolUsePart,
)
from bridle.store.atomic import atomic_write, atomic_write_text
from bridle.store.conversation import ASSISTANT, SYSTEM, TOOL_RESULT, USER, Event, decode_message
from bridle.store.sessions import SessionRecord, SessionStore

FORMATS = {".md": "markdown", ".markdown": "markdown", ".jsonl": "jsonl"}

# Tool inputs and outputs longer than this keep their head and tail only.
MAX_BLOCK_CHARS = 2000


def to_jsonl(record: SessionRecord, events: Iterable[Event]) -> str:
    lines = [_json_line({"kind": "session", "seq": 0, "session": record.to_dict()})]
    lines += [
        _json_line({"session_id": e.session_id, "seq": e.seq, "ts": e.ts, "kind": e.kind,
                    "payload": e.payload})
        for e in events
    ]  # fmt: skip
    return "".join(lines)


def to_markdown(
    record: SessionRecord, events: Iterable[Event], *, max_block_chars: int = MAX_BLOCK_CHARS
) -> str:
    out = [f"# {record.title or 'Untitled session'}", "", *_metadata(record), ""]
    for ev in events:
        when = ev.ts.replace("T", " ").rstrip("Z")[:19]
        if ev.kind == USER:
            out += [f"## User · {when}", ""]
            out += _parts(decode_message(ev.payload).parts, max_block_chars)
        elif ev.kind == ASSISTANT:
            out += [f"## Assistant · {when}", ""]
            out += _parts(decode_message(ev.payload["message"]).parts, max_block_chars)
        elif ev.kind == TOOL_RESULT:
            out += _parts(decode_message(ev.payload).parts, max_block_chars)
        elif ev.kind == SYSTEM:
            out += [_system_line(ev.payload, when), ""]
            mark = compaction_mark(record.id, ev.seq, ev.payload)
            out += [f"> {mark}", ""] if mark else []
    return "\n".join(out).rstrip("\n") + "\n"


def render(store: SessionStore, session_id: str, fmt: str) -> str:
    """`fmt` is "markdown" or "jsonl"."""
    record = store.get(session_id)
    events = store.events(record.id)
    if fmt == "markdown":
        return to_markdown(record, events)
    if fmt == "jsonl":
        return to_jsonl(record, events)
    raise UserError(f"unknown export format {fmt!r}: use markdown or jsonl")


def export_to_file(
    store: SessionStore,
    session_id: str,
    path: Path,
    fmt: str | None = None,
    *,
    overwrite: bool = False,
) -> Path:
    """Write the export atomically; the format follows the suffix unless given.
    Returns the path written. An existing file is replaced only with `overwrite`,
    and then kept as `<name>.bak`."""
    path = Path(path)
    if fmt is None:
        fmt = FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise UserError(
                f"cannot tell the export format from {path.name!r}: "
                f"name the file .md or .jsonl, or give the format explicitly"
            )
    text = render(store, session_id, fmt)
    if path.exists() and not overwrite:
        raise UserError(f"{path} already exists: choose another path, or allow overwriting it")
    real = Path(os.path.realpath(path))
    if real.is_file():
        # The old export is kept beside the file it was (through any symlink).
        old = real.stat()
        atomic_write(
            real.with_name(real.name + ".bak"), real.read_bytes(), mode=old.st_mode & 0o7777
        )
    atomic_write_text(path, text)
    return path


def _json_line(obj: dict[str, Any]) -> str:
    return jsontext.dumps(obj) + "\n"


def model_label(provider: str, model: str) -> str:
    """`provider/model`, once: a session records the model as it was asked for,
    which usually names its provider already (`mock/claude`)."""
    if not provider or model == provider or model.startswith(provider + "/"):
        return model
    return f"{provider}/{model}"


def _metadata(r: SessionRecord) -> list[str]:
    rows = [
        ("Session", f"`{r.id}`"),
        ("Model", model_label(r.provider, r.model)),
        ("Directory", f"`{r.cwd}`"),
        ("Branch", f"`{r.git_branch}`" if r.git_branch else None),
        ("Account", r.account),
        ("Forked from", f"`{r.parent_id}`" if r.parent_id else None),
        ("Created", r.created_at),
        ("Updated", r.updated_at),
        ("Status", r.status),
        ("Turns", str(r.turns)),
        (
            "Tokens",
            f"{r.input_tokens:,} in · {r.output_tokens:,} out · "
            f"{r.cache_read_tokens:,} cache read · {r.cache_write_tokens:,} cache write",
        ),
        ("Cost", f"${r.cost_usd:.4f}"),
    ]
    return ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows if v)]


def _parts(parts: list[Part], limit: int) -> list[str]:
    out: list[str] = []
    for p in parts:
        if isinstance(p, TextPart):
            out += [p.text, ""]
        elif isinstance(p, ThinkingPart):
            text = p.text if p.text else "(redacted)"
            out += ["<details><summary>Thinking</summary>", "", text, "", "</details>", ""]
        elif isinstance(p, ImagePart):
            out += [f"*[image: {p.media_type}, {len(p.data) * 3 // 4:,} bytes]*", ""]
        elif isinstance(p, ToolUsePart):
            if p.input is not None:
                args = jsontext.dumps(p.input, indent=2)
            else:
                args = p.raw_arguments or ""
            out += [f"**Tool call** `{p.name}` · `{p.id}`", ""]
            out += _fenced(_truncate(args, limit), "json" if p.input is not None else "")
        elif isinstance(p, ToolResultPart):
            label = "**Tool error**" if p.is_error else "**Tool result**"
            out += [f"{label} · `{p.tool_use_id}`", ""]
            images = [c for c in p.content if isinstance(c, ImagePart)]
            out += _fenced(_truncate(p.text, limit), "")
            out += [f"*[image: {i.media_type}]*" for i in images] + ([""] if images else [])
    return out


def _fenced(text: str, lang: str) -> list[str]:
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{lang}", text.removesuffix("\n"), fence, ""]


def _truncate(text: str, limit: int) -> str:
    """Head and tail of `text`, cut at line ends where there are any."""
    if len(text) <= limit:
        return text
    head = text[: limit * 3 // 4]
    head = head[: head.rfind("\n")] if "\n" in head else head
    tail = text[len(text) - limit // 4 :]
    tail = tail[tail.find("\n") + 1 :] if "\n" in tail[:-1] else tail
    middle = text[len(head) : len(text) - len(tail)]
    lines = middle.strip("\n").count("\n") + 1
    return f"{head}\n… [{lines:,} lines, {len(middle):,} characters omitted] …\n{tail}"


def compaction_mark(session_id: str, seq: int, payload: dict[str, Any]) -> str | None:
    """One line marking where a `compaction` or `cleared` event (number `seq`)
    changed the conversation, with the command that forks from just before it;
    None for other system events."""
    kind = payload.get("type")
    if kind not in ("compaction", "cleared"):
        return None
    trigger = payload.get("trigger", "auto")
    if kind == "cleared":
        what = f"old tool outputs cleared ({trigger}, {len(payload.get('stubs') or {})} stubbed)"
    elif payload.get("step") == "clear":
        what = f"conversation {'rewound' if trigger == 'rewind' else 'cleared'} ({trigger})"
    else:
        what = f"compaction ({trigger}, {payload.get('step', 'summary')})"
    pre, post = payload.get("pre_tokens"), payload.get("post_tokens")
    tokens = (
        f": {pre:,} → {post:,} tokens" if isinstance(pre, int) and isinstance(post, int) else ""
    )
    fork = f"bridle -r {session_id} --fork-session --resume-session-at {seq - 1}"
    return f"── #{seq} {what}{tokens} · to fork from before it: {fork}"


def _system_line(payload: dict[str, Any], when: str) -> str:
    kind = payload.get("type", "event")
    detail = {k: v for k, v in payload.items() if k not in ("type", "messages")}
    if kind == "compaction":
        detail["messages"] = len(payload.get("messages", []))
    elif kind == "cleared":
        detail["stubs"] = len(payload.get("stubs", {}))
    shown = ", ".join(f"{k}: {jsontext.dumps(v, compact=False)}" for k, v in detail.items())
    return f"> *{when} · {kind}*" + (f" — {shown}" if shown else "")
