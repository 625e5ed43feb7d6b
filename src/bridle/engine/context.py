"""The system prompt: a short base prompt, the environment, and instruction files.

Instruction files (`CLAUDE.md`, `AGENTS.md`, `GEMINI.md`, and `.bridle/AGENTS.md`)
are cascaded from the repository root down to the cwd, after the user-level ones
in `~/.claude/CLAUDE.md` and `$BRIDLE_HOME/AGENTS.md`, with `@path` imports
expanded (relative to the importing file, depth-limited, cycles ignored) and the
total held under a size cap so a huge file cannot crowd out the conversation.
This module reads files and runs `git`; it does not decide what the model may do.
"""

from __future__ import annotations

import datetime as _dt
import platform
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bridle.config.paths import bridle_home, user_home

INSTRUCTION_NAMES = ("CLAUDE.md", "AGENTS.md", "GEMINI.md", ".bridle/AGENTS.md")
INSTRUCTIONS_CAP = 40_000  # characters across all instruction files
_IMPORT_RE = re.compile(r"(?m)(?<![\w`])@((?:~|\.{1,2})?/?[\w./-]+\.\w+)")
_MAX_IMPORT_DEPTH = 5

BASE_PROMPT = """\
You are bridle, a coding agent working in the user's repository through tools.
- Be concise; do the work instead of describing it. Read before you edit.
- Prefer Edit/MultiEdit for changes to existing files; Write only for new files.
- Use Glob/Grep/Read to explore; use Bash for builds, tests and git.
- After changing code, run the relevant tests and fix what fails.
- Never invent file contents; never claim success you did not verify.
- When done, reply with a short summary of what changed."""


@dataclass(slots=True)
class GitInfo:
    root: Path | None
    branch: str | None
    status: str


def git_info(cwd: Path) -> GitInfo:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel", "--abbrev-ref", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return GitInfo(None, None, "")
    if out.returncode != 0:
        # A fresh repo has no HEAD yet; the toplevel line still came first.
        lines = out.stdout.splitlines()
        if lines and Path(lines[0]).is_dir():
            return GitInfo(Path(lines[0]), None, _git_status(cwd))
        return GitInfo(None, None, "")
    lines = out.stdout.splitlines()
    root = Path(lines[0]) if lines else None
    branch = lines[1] if len(lines) > 1 and lines[1] != "HEAD" else None
    return GitInfo(root, branch, _git_status(cwd))


def _git_status(cwd: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "status", "--short", "--untracked-files=normal"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    lines = out.stdout.splitlines()
    if len(lines) > 40:
        lines = [*lines[:40], f"... ({len(lines) - 40} more)"]
    return "\n".join(lines)


def _expand_imports(text: str, base: Path, seen: set[Path], depth: int, home: Path) -> str:
    if depth >= _MAX_IMPORT_DEPTH:
        return text

    def repl(m: re.Match[str]) -> str:
        raw = m.group(1)
        target = (home / raw[2:]) if raw.startswith("~/") else (base / raw)
        try:
            target = target.resolve()
        except OSError:
            return m.group(0)
        if target in seen or not target.is_file():
            return m.group(0)
        seen.add(target)
        try:
            body = target.read_text(errors="replace")
        except OSError:
            return m.group(0)
        inner = _expand_imports(body, target.parent, seen, depth + 1, home)
        return f"\n<!-- imported from {raw} -->\n{inner}\n"

    return _IMPORT_RE.sub(repl, text)


def instruction_files(cwd: Path, env: Mapping[str, str], repo_root: Path | None) -> list[Path]:
    """User-level files first, then root → cwd, so nearer files come later and win."""
    home = user_home(env)
    found = [p for p in (home / ".claude" / "CLAUDE.md", bridle_home(env) / "AGENTS.md")]
    top = repo_root if repo_root and cwd.is_relative_to(repo_root) else cwd
    chain = [top]
    if cwd != top:
        for part in cwd.relative_to(top).parts:
            chain.append(chain[-1] / part)
    for d in chain:
        found.extend(d / name for name in INSTRUCTION_NAMES)
    seen: set[Path] = set()
    out = []
    for p in found:
        try:
            rp = p.resolve()
        except OSError:
            continue
        if rp in seen or not rp.is_file():
            continue
        seen.add(rp)
        out.append(p)
    return out


def load_instructions(cwd: Path, env: Mapping[str, str], repo_root: Path | None) -> str:
    home = user_home(env)
    chunks: list[str] = []
    total = 0
    seen: set[Path] = set()
    for path in instruction_files(cwd, env, repo_root):
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        seen.add(path.resolve())
        text = _expand_imports(text, path.parent, seen, 0, home).strip()
        if not text:
            continue
        room = INSTRUCTIONS_CAP - total
        if room <= 0:
            chunks.append(f"(further instructions in {path} skipped: size cap reached)")
            break
        if len(text) > room:
            text = text[:room] + f"\n... (truncated: {path} exceeds the instruction size cap)"
        total += len(text)
        chunks.append(f"Contents of {path}:\n{text}")
    return "\n\n".join(chunks)


def environment_block(cwd: Path, git: GitInfo, now: _dt.datetime) -> str:
    lines = [
        f"Working directory: {cwd}",
        f"Platform: {platform.system().lower()} {platform.release()}",
        f"Today's date: {now.date().isoformat()}",
    ]
    if git.root is not None:
        lines.append(f"Git repository: yes (root {git.root}, branch {git.branch or '(none)'})")
        if git.status:
            lines.append("git status --short:\n" + git.status)
    else:
        lines.append("Git repository: no")
    return "<env>\n" + "\n".join(lines) + "\n</env>"


def build_system_prompt(
    cwd: Path,
    env: Mapping[str, str],
    *,
    now: _dt.datetime,
    git: GitInfo | None = None,
    system_prompt: str | None = None,
    append: list[str] | None = None,
) -> str:
    """`system_prompt` replaces the base prompt (not the environment block or the
    instruction files); `append` entries are added last, in order."""
    git = git if git is not None else git_info(cwd)
    parts = [system_prompt if system_prompt is not None else BASE_PROMPT]
    parts.append(environment_block(cwd, git, now))
    instructions = load_instructions(cwd, env, git.root)
    if instructions:
        parts.append("# Project instructions\n" + instructions)
    parts.extend(a for a in (append or []) if a)
    return "\n\n".join(parts)
