"""Find the external CLIs' session files, and remember the last session of each launch.

Each CLI stores sessions in its own shape: Claude Code `projects/<slug>/<id>.jsonl`
(lines carry `cwd`), Codex `sessions/Y/M/D/rollout-<ts>-<uuid>.jsonl` (first line is
`session_meta` with `cwd`), Gemini `tmp/<slug>/chats/session-*.json[l]` (with a
`.project_root` beside it), Copilot `session-state/<uuid>/` (`workspace.yaml` holds
`cwd`). This module finds the newest session written since a launch began, and the
working directory of a session by id, reading as little as it can. The record of
last sessions lives in `$BRIDLE_HOME/last-sessions.json`, keyed `<account>:<tool>`.
Full parsing and indexing of sessions is `history/`'s job, not this module's.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bridle.accounts.files import atomic_write_json, config_lock, read_json_object
from bridle.accounts.specs import CliSpec


@dataclass(frozen=True)
class SessionRef:
    """One session file of an external CLI: its id, where it is, and the directory it ran in
    (`None` when the file does not say)."""

    tool: str
    id: str
    path: str
    cwd: str | None


def _files(root: Path, patterns: tuple[str, ...]) -> list[Path]:
    out: list[Path] = []
    if not root.is_dir():
        return out
    for pattern in patterns:
        out.extend(p for p in root.glob(pattern) if p.is_file())
    return out


def _candidates(spec: CliSpec, tool_dir: Path) -> list[Path]:
    if spec.name == "claude":
        return [p for p in _files(tool_dir / "projects", ("*/*.jsonl",))]
    if spec.name == "codex":
        return _files(tool_dir / "sessions", ("*/*/*/rollout-*.jsonl", "*/*/*/rollout-*.jsonl.zst"))
    if spec.name == "gemini":
        return _files(tool_dir / "tmp", ("*/chats/session-*.json", "*/chats/session-*.jsonl"))
    return _files(tool_dir / "session-state", ("*/events.jsonl",))


def _first_json_lines(path: Path, limit: int = 50) -> list[dict[str, Any]]:
    if path.suffix == ".zst":
        return []
    out: list[dict[str, Any]] = []
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            text = f.read(1 << 20)
    except OSError:
        return out
    stripped = text.lstrip()
    if stripped.startswith("{") and path.suffix == ".json":
        try:
            value = json.loads(text)
            return [value] if isinstance(value, dict) else []
        except json.JSONDecodeError:
            return []
    for line in text.splitlines()[:limit]:
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            out.append(value)
    return out


def describe_file(spec: CliSpec, path: Path) -> SessionRef:
    """The id and (when recorded) cwd of the session stored at `path`."""
    cwd: str | None = None
    if spec.name == "claude":
        sid = path.stem
        cwd = next(
            (r["cwd"] for r in _first_json_lines(path) if isinstance(r.get("cwd"), str)), None
        )
    elif spec.name == "codex":
        stem = path.name.split(".")[0]
        sid = stem[-36:]
        for rec in _first_json_lines(path, 3):
            payload = rec.get("payload") if isinstance(rec.get("payload"), dict) else rec
            if isinstance(payload, dict) and isinstance(payload.get("cwd"), str):
                cwd = payload["cwd"]
                sid = str(payload.get("id") or sid)
                break
    elif spec.name == "gemini":
        sid = path.stem
        for rec in _first_json_lines(path, 5):
            if isinstance(rec.get("sessionId"), str):
                sid = rec["sessionId"]
                break
        root_file = path.parent.parent / ".project_root"
        if root_file.is_file():
            cwd = root_file.read_text(encoding="utf-8").strip() or None
    else:
        sid = path.parent.name
        cwd = _yaml_scalar(path.parent / "workspace.yaml", "cwd")
    return SessionRef(spec.name, sid, str(path), cwd)


def _yaml_scalar(path: Path, key: str) -> str | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith(f"{key}:"):
            value = line.split(":", 1)[1].strip().strip("'\"")
            return value or None
    return None


def latest_session(spec: CliSpec, tool_dir: Path, since: float) -> SessionRef | None:
    """The session file modified last, if it was modified at or after `since`."""
    newest: tuple[float, Path] | None = None
    for path in _candidates(spec, tool_dir):
        try:
            mtime = path.stat().st_mtime
        except OSError:
            continue
        if mtime >= since and (newest is None or mtime > newest[0]):
            newest = (mtime, path)
    return describe_file(spec, newest[1]) if newest else None


def find_session(spec: CliSpec, tool_dir: Path, session_id: str) -> SessionRef | None:
    for path in _candidates(spec, tool_dir):
        name = path.name if spec.name != "copilot" else path.parent.name
        if session_id in name:
            ref = describe_file(spec, path)
            if ref.id == session_id or spec.name != "gemini":
                return ref
    if spec.name == "gemini":  # ids in gemini file names are shortened
        for path in _candidates(spec, tool_dir):
            ref = describe_file(spec, path)
            if ref.id == session_id:
                return ref
    return None


_STUB_MAX_BYTES = 256 * 1024


def _gemini_messages(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every message in a Gemini session file's records, in `$set` lists or alone."""
    found: list[dict[str, Any]] = []
    for record in records:
        listed = record.get("$set", {}).get("messages") if "$set" in record else None
        if isinstance(listed, list):
            found += [m for m in listed if isinstance(m, dict)]
        elif "sessionId" not in record and "$set" not in record:
            found.append(record)
    return found


def _is_context_only(message: dict[str, Any]) -> bool:
    content = message.get("content")
    if message.get("type") != "user" or not isinstance(content, list) or not content:
        return False
    first = content[0]
    return isinstance(first, dict) and str(first.get("text", "")).startswith("<session_context>")


def _gemini_kind(path: Path, session_id: str) -> str:
    """`stub` (only the session context), `conversation`, or `other` (unknown)."""
    try:
        if path.stat().st_size > _STUB_MAX_BYTES:
            return "other"
    except OSError:
        return "other"
    records = _first_json_lines(path, limit=1000)
    if not any(r.get("sessionId") == session_id and "projectHash" in r for r in records):
        return "other"
    messages = _gemini_messages(records)
    return "stub" if all(_is_context_only(m) for m in messages) else "conversation"


def gemini_resume_stubs(chats_dir: Path, session_id: str) -> list[Path]:
    """Files Gemini CLI opened for `session_id` that hold no conversation.

    Gemini CLI (0.61) opens `session-<minute>-<id8>.jsonl` when it starts. Resuming a
    session in a later minute than it began leaves that file holding only the
    session context, while the conversation goes on in the original file. On its
    next start in the project, Gemini's session cleanup deletes such an empty file
    *and every file with the same short id*, the resumed conversation included. The
    stubs are found here so the launcher can move them aside: `.jsonl` files of
    that id whose only message is the session context, and only while another file
    of that id holds the conversation.
    """
    short = session_id[:8]
    files = sorted(chats_dir.glob(f"session-*-{short}.jsonl")) if len(short) == 8 else []
    kinds = {p: _gemini_kind(p, session_id) for p in files}
    if "conversation" not in kinds.values():
        return []
    return [p for p, kind in kinds.items() if kind == "stub"]


# --- the record of last sessions ------------------------------------------------


def record_last_session(record_file: Path, account: str, ref: SessionRef, ended_at: str) -> None:
    with config_lock(record_file):
        data = read_json_object(record_file, "last-sessions file")
        entry = {"account": account, **asdict(ref), "ended_at": ended_at}
        data[f"{account}:{ref.tool}"] = entry
        data["last"] = entry
        atomic_write_json(record_file, data)


def last_session(record_file: Path, account: str, tool: str) -> dict[str, Any] | None:
    value = read_json_object(record_file, "last-sessions file").get(f"{account}:{tool}")
    return value if isinstance(value, dict) else None


def last_used_by_account(record_file: Path) -> dict[str, dict[str, Any]]:
    data = read_json_object(record_file, "last-sessions file")
    return {k: v for k, v in data.items() if k != "last" and isinstance(v, dict)}


def rename_account(record_file: Path, old: str, new: str) -> None:
    if not record_file.exists():
        return
    with config_lock(record_file):
        data = read_json_object(record_file, "last-sessions file")
        out: dict[str, Any] = {}
        for key, value in data.items():
            if isinstance(value, dict) and value.get("account") == old:
                value = {**value, "account": new}
            if key.startswith(f"{old}:"):
                key = f"{new}:{key.split(':', 1)[1]}"
            out[key] = value
        atomic_write_json(record_file, out)


def cwd_exists(cwd: str | None) -> bool:
    return bool(cwd) and os.path.isdir(cwd)  # type: ignore[arg-type]
