"""Instruction files: Claude Code's CLAUDE.md cascade, Codex's AGENTS.md, GEMINI.md.

`Instructions.load()` reads, in the order the model should weigh them (later is
more specific): the managed file (`/etc/claude-code/CLAUDE.md` on Linux, or
`$BRIDLE_MANAGED_CLAUDE_MD`), `~/.claude/CLAUDE.md` and `~/.claude/rules/`,
`$BRIDLE_HOME/AGENTS.md`, then every directory from the top of the tree down to
the cwd (as Claude Code walks up from the cwd): `CLAUDE.md`, `.claude/CLAUDE.md`,
`.claude/rules/**/*.md`, `CLAUDE.local.md`, and, from the repository root down,
Codex's `AGENTS.override.md` or else `AGENTS.md` (one per directory, 32 KiB in
all, as `project_doc_max_bytes`), `.bridle/AGENTS.md` and `GEMINI.md`. Each
CLAUDE/GEMINI file's `@path` imports (relative to the importing file, `~/` and
absolute paths too, not inside code spans or blocks) follow it, up to four hops.
A rule whose frontmatter has `paths:` waits until a file tool touches a matching
file, as do the CLAUDE.md files of directories below the cwd: `touched` returns
what a path newly brings in and `attach` appends it to the tool results the
dispatcher hands over. Every file is read once (by real path) and recorded as an
`InstructionFile` carrying Claude Code's InstructionsLoaded fields, so the hooks
wiring can fire the event. `claudeMdExcludes` skips files (never the managed one).
A file that cannot be read or parsed is named in `problems`; nothing raises.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridle.extensions.globs import PathGlobs, any_match, paths_field

MAX_IMPORT_HOPS = 4
AGENTS_MAX_BYTES = 32 * 1024  # Codex's project_doc_max_bytes default, shared by the chain
TOTAL_CAP = 200_000  # characters of instructions in the system prompt, a last resort
MANAGED_ENV = "BRIDLE_MANAGED_CLAUDE_MD"
_MANAGED = {
    "darwin": "/Library/Application Support/ClaudeCode/CLAUDE.md",
    "win32": r"C:\Program Files\ClaudeCode\CLAUDE.md",
}
_LABELS = {
    "Managed": "managed instructions, set by the administrator for everyone on this machine",
    "User": "the user's private instructions for all projects",
    "Project": "project instructions, checked into the codebase",
    "Local": "the user's private instructions for this project, not checked in",
}
_IMPORT = re.compile(r"(?:^|(?<=\s))@((?:[^\s\\]|\\ )+)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")
_PATCH_FILE = re.compile(r"^\*\*\* (?:Add|Update) File: (.+?)\s*$", re.M)
FILE_TOOLS = ("Read", "Write", "Edit", "MultiEdit", "NotebookEdit", "NotebookRead")


def managed_path(env: Mapping[str, str]) -> Path:
    """Claude Code's managed CLAUDE.md for this platform (`$BRIDLE_MANAGED_CLAUDE_MD` wins)."""
    explicit = env.get(MANAGED_ENV)
    if explicit:
        return Path(explicit).expanduser()
    return Path(_MANAGED.get(sys.platform, "/etc/claude-code/CLAUDE.md"))


@dataclass(slots=True)
class InstructionFile:
    """One loaded file, with Claude Code's InstructionsLoaded hook fields."""

    file_path: str
    memory_type: str  # Managed | User | Project | Local
    load_reason: str  # session_start | nested_traversal | path_glob_match | include
    text: str
    kind: str = ""  # how the heading introduces it, when not by memory_type
    globs: tuple[str, ...] | None = None
    trigger_file_path: str | None = None
    parent_file_path: str | None = None

    def heading(self) -> str:
        what = self.kind or _LABELS[self.memory_type]
        if self.globs:
            what += " for files matching " + ", ".join(self.globs)
        if self.parent_file_path:
            what += f", imported by {_shown(self.parent_file_path)}"
        return f"Contents of {_shown(self.file_path)} ({what}):"

    def hook_fields(self) -> dict[str, Any]:
        """Keyword arguments for `hooks.events.instructions_loaded`."""
        return {
            "file_path": self.file_path,
            "memory_type": self.memory_type,
            "load_reason": self.load_reason,
            "globs": list(self.globs) if self.globs is not None else None,
            "trigger_file_path": self.trigger_file_path,
            "parent_file_path": self.parent_file_path,
        }


@dataclass(slots=True)
class _Rule:
    """A `paths:` rule not loaded yet."""

    path: Path
    memory_type: str
    globs: PathGlobs
    body: str


@dataclass
class Instructions:
    """A session's instruction files: the start-up cascade, then the rules and nested files
    that join as file tools touch paths below them."""

    cwd: Path
    home: Path
    bridle_home: Path
    repo_root: Path | None = None
    managed: Path | None = None
    excludes: Sequence[str] = ()
    files: list[InstructionFile] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Called with the files a touched path brought in (the InstructionsLoaded seam).
    on_load: Callable[[list[InstructionFile]], None] | None = None
    _seen: set[str] = field(default_factory=set, repr=False)
    _waiting: list[_Rule] = field(default_factory=list, repr=False)
    _agents_left: int = field(default=AGENTS_MAX_BYTES, repr=False)
    _scanned: set[Path] = field(default_factory=set, repr=False)  # directories below the cwd

    # ------------------------------------------------------------- start up
    def load(self) -> list[InstructionFile]:
        """The session-start cascade; returns (and records) what was loaded."""
        out: list[InstructionFile] = []
        if self.managed is not None:
            out += self._file(self.managed, "Managed", "session_start")
            out += self._rules_dir(self.managed.parent / ".claude" / "rules", "Managed", None)
        claude = self.home / ".claude"
        out += self._file(claude / "CLAUDE.md", "User", "session_start")
        out += self._rules_dir(claude / "rules", "User", None)
        out += self._file(self.bridle_home / "AGENTS.md", "User", "session_start")
        chain = set(map(str, self._codex_chain()))
        for d in self._walk():
            out += self._directory(d, "session_start", None)
            if str(d) in chain:
                out += self._codex(d)
        return out

    def _walk(self) -> list[Path]:
        """The cwd and its ancestors, top first, without the filesystem root."""
        dirs = [d for d in [self.cwd, *self.cwd.parents] if d.parent != d]
        return dirs[::-1] or [self.cwd]

    def _codex_chain(self) -> list[Path]:
        top = self.repo_root
        if top is None or not self.cwd.is_relative_to(top):
            return [self.cwd]
        chain = [top]
        for part in self.cwd.relative_to(top).parts:
            chain.append(chain[-1] / part)
        return chain

    def _directory(self, d: Path, reason: str, trigger: str | None) -> list[InstructionFile]:
        out = self._file(d / "CLAUDE.md", "Project", reason, trigger=trigger)
        out += self._file(d / ".claude" / "CLAUDE.md", "Project", reason, trigger=trigger)
        out += self._rules_dir(d / ".claude" / "rules", "Project", trigger, base=d, reason=reason)
        out += self._file(d / "CLAUDE.local.md", "Local", reason, trigger=trigger)
        return out

    def _codex(self, d: Path) -> list[InstructionFile]:
        out: list[InstructionFile] = []
        for name in ("AGENTS.override.md", "AGENTS.md"):
            found = self._agents(d / name, "Codex instructions")
            if found:
                out += found
                break
        out += self._agents(d / ".bridle" / "AGENTS.md", "bridle project instructions")
        out += self._file(d / "GEMINI.md", "Project", "session_start", kind="Gemini instructions")
        return out

    def _agents(self, path: Path, kind: str) -> list[InstructionFile]:
        """An AGENTS file within the chain's shared byte budget (imports are not
        Codex's format, so none are followed)."""
        if self._agents_left <= 0 or not path.is_file() or self._known(path):
            return []
        data = self._read_bytes(path)
        if data is None or not data.strip():
            return []
        kept = data[: self._agents_left]
        self._agents_left -= len(kept)
        text = kept.decode("utf-8", "replace").strip()
        if len(kept) < len(data):
            text += (
                f"\n... (cut at {AGENTS_MAX_BYTES // 1024} KiB for AGENTS files in all, as Codex's"
                f" project_doc_max_bytes; the rest of {path} was not loaded)"
            )
        self._seen.add(os.path.realpath(path))
        loaded = InstructionFile(str(path), "Project", "session_start", text, kind)
        self.files.append(loaded)
        return [loaded]

    # ----------------------------------------------------------- one file
    def _known(self, path: Path) -> bool:
        return os.path.realpath(path) in self._seen

    def _file(
        self,
        path: Path,
        memory_type: str,
        reason: str,
        *,
        kind: str = "",
        trigger: str | None = None,
        parent: str | None = None,
        hops: int = 0,
        body: str | None = None,
        globs: tuple[str, ...] | None = None,
    ) -> list[InstructionFile]:
        """`path` and its imports, each once; [] when absent, seen or excluded."""
        if self._known(path) or (body is None and not path.is_file()):
            return []
        if memory_type != "Managed" and self.excludes and any_match(self.excludes, str(path)):
            return []
        if body is None:
            data = self._read_bytes(path)
            if data is None:
                return []
            body = data.decode("utf-8", "replace")
        self._seen.add(os.path.realpath(path))
        loaded = InstructionFile(
            str(path), memory_type, reason, body.strip(), kind,
            globs=globs, trigger_file_path=trigger, parent_file_path=parent,
        )  # fmt: skip
        self.files.append(loaded)
        out = [loaded]
        if hops < MAX_IMPORT_HOPS:
            for target in imports(body, path.parent, self.home):
                out += self._file(
                    target, memory_type, "include", kind=kind,
                    trigger=trigger, parent=str(path), hops=hops + 1,
                )  # fmt: skip
        return out

    def _read_bytes(self, path: Path) -> bytes | None:
        try:
            data = path.read_bytes()
        except OSError as e:
            self.problems.append(f"{path}: cannot be read: {e.strerror or e}")
            return None
        if b"\0" in data[:8192]:
            self.problems.append(f"{path}: is not a text file; not loaded")
            return None
        return data

    # -------------------------------------------------------------- rules
    def _rules_dir(
        self,
        folder: Path,
        memory_type: str,
        trigger: str | None,
        *,
        base: Path | None = None,
        reason: str = "session_start",
    ) -> list[InstructionFile]:
        """Rules without `paths:` now; the others wait for a matching file. User
        and managed rules' patterns are taken from the project root."""
        if not folder.is_dir():
            return []
        from bridle.extensions.frontmatter import FieldError, Problem, read_document

        out: list[InstructionFile] = []
        for path in sorted(folder.rglob("*.md")):
            if self._known(path) or any(r.path == path for r in self._waiting):
                continue
            doc = read_document(path)
            if isinstance(doc, Problem):
                self.problems.append(f"skipped {doc}")
                continue
            try:
                globs = paths_field(doc.fields)
            except FieldError as e:
                self.problems.append(f"skipped {path}: paths: {e}")
                continue
            if globs:
                anchor = base or self.repo_root or self.cwd
                self._waiting.append(_Rule(path, memory_type, PathGlobs(anchor, globs), doc.body))
            else:
                out += self._file(
                    path, memory_type, reason, kind=f"{memory_type.lower()} rule",
                    trigger=trigger, body=doc.body,
                )  # fmt: skip
        return out

    # ------------------------------------------------------- touched files
    def touched(self, file: Path) -> list[InstructionFile]:
        """What reading or editing `file` (absolute) newly brings in: CLAUDE.md
        files and rules of directories between the cwd and the file, then the
        waiting rules whose `paths:` match it."""
        out: list[InstructionFile] = []
        trigger = str(file)
        for d in new_folders(self.cwd, file, self._scanned):
            out += self._directory(d, "nested_traversal", trigger)
        for rule in list(self._waiting):
            if rule.globs.matches(file):
                self._waiting.remove(rule)
                out += self._file(
                    rule.path, rule.memory_type, "path_glob_match", trigger=trigger,
                    kind=f"{rule.memory_type.lower()} rule", body=rule.body,
                    globs=rule.globs.patterns,
                )  # fmt: skip
        return out

    def attach(self, calls: Sequence[Any], results: Sequence[Any]) -> list[InstructionFile]:
        """Append what each successful file tool call brought in to its result
        (core.messages ToolUsePart/ToolResultPart), and tell `on_load`."""
        from bridle.core.messages import TextPart

        brought: list[InstructionFile] = []
        for result, files in touched_files(calls, results, self.cwd):
            new = [f for file in files for f in self.touched(file)]
            if new:
                result.content.append(TextPart(reminder(new)))
                brought += new
        if brought and self.on_load is not None:
            self.on_load(brought)
        return brought

    # ------------------------------------------------------------ output
    def render(self, files: Iterable[InstructionFile] | None = None) -> str:
        """The files as the system prompt shows them, under a total size cap."""
        chunks: list[str] = []
        total = 0
        for f in self.files if files is None else files:
            if not f.text:
                continue
            block = f"{f.heading()}\n{f.text}"
            if total + len(block) > TOTAL_CAP:
                chunks.append(f"(not loaded: {f.file_path}; instructions passed {TOTAL_CAP} chars)")
                continue
            total += len(block)
            chunks.append(block)
        return "\n\n".join(chunks)


def _shown(path: str) -> str:
    """A path as text a request can carry: undecodable bytes in a name become U+FFFD."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def imports(text: str, base: Path, home: Path) -> list[Path]:
    """The files `@path` mentions in `text` name, outside code spans and blocks."""
    out: list[Path] = []
    for m in _IMPORT.finditer(_prose(text)):
        raw = m.group(1).replace("\\ ", " ").split("#", 1)[0].rstrip(".,;:!?)]}'\"")
        if not raw or raw.startswith("@"):
            continue
        if raw == "~" or raw.startswith("~/"):
            target = home / raw[2:]
        else:
            target = Path(raw) if raw.startswith("/") else base / raw
        target = Path(os.path.normpath(target))
        if target.is_file() and target not in out:
            out.append(target)
    return out


def _prose(text: str) -> str:
    """`text` without fenced code blocks and inline code spans."""
    keep: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        m = _FENCE.match(line)
        if fence is not None:
            closing = m is not None and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence)
            if closing and not line.strip().lstrip(fence[0]):
                fence = None
            continue
        if m:
            fence = m.group(1)
            continue
        keep.append(_SPAN.sub(" ", line))
    return "\n".join(keep)


def new_folders(cwd: Path, file: Path, seen: set[Path]) -> list[Path]:
    """The folders from below `cwd` down to `file`'s, top first, not in `seen`
    (they are added to it): where a touched file may bring instructions or skills."""
    out: list[Path] = []
    if file.parent != cwd and file.parent.is_relative_to(cwd):
        d = cwd
        for part in file.parent.relative_to(cwd).parts:
            d = d / part
            if d not in seen:
                seen.add(d)
                out.append(d)
    return out


def touched_files(
    calls: Sequence[Any], results: Sequence[Any], cwd: Path
) -> list[tuple[Any, list[Path]]]:
    """Each successful file tool call's result with the absolute files it touched."""
    by_id = {r.tool_use_id: r for r in results}
    out: list[tuple[Any, list[Path]]] = []
    for call in calls:
        result = by_id.get(call.id)
        if result is None or result.is_error:
            continue
        files = []
        for raw in touched_paths(call.name, call.input or {}):
            p = Path(raw).expanduser()
            files.append(Path(os.path.normpath(p if p.is_absolute() else cwd / p)))
        if files:
            out.append((result, files))
    return out


def touched_paths(tool: str, args: Mapping[str, Any]) -> list[str]:
    """The files a file tool call read or wrote."""
    if tool in FILE_TOOLS:
        path = args.get("file_path") or args.get("notebook_path")
        return [path] if isinstance(path, str) and path else []
    if tool == "ApplyPatch" and isinstance(args.get("input"), str):
        return _PATCH_FILE.findall(args["input"])
    return []


def reminder(files: Sequence[InstructionFile]) -> str:
    """What a tool result gains when the file it touched brings instructions in."""
    body = "\n\n".join(f"{f.heading()}\n{f.text}" for f in files if f.text)
    return (
        "\n<system-reminder>\nInstructions that apply to the file just used (follow them "
        f"from now on):\n\n{body}\n</system-reminder>"
    )
