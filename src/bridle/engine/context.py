"""The system prompt: a short base prompt, the environment, instructions and memory.

`load_context` gathers what a session starts with from instruction files
(Claude Code's CLAUDE.md cascade with rules and imports, Codex's AGENTS.md and
GEMINI.md: see `extensions.instructions`) and the project's auto memory
(`extensions.memory`), and lets the model write its memory folder without
asking; `build_system_prompt` puts the base prompt, the environment block (cwd,
platform, date, git state) and those sections together. This module reads files
and runs `git`; it does not decide what the model may do beyond that folder.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridle.config.paths import bridle_home, user_home
from bridle.extensions.instructions import Instructions, managed_path

INSTRUCTIONS_PREAMBLE = (
    "The files below hold the instructions of the user, their organisation and this project. "
    "Follow them: they override the defaults above. Later files are more specific and win "
    "when two disagree."
)

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
    """The git repository around the working directory, for the system prompt's environment."""

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


@dataclass
class SessionContext:
    """What a session's system prompt and dispatcher get from instruction files
    and auto memory (`extensions.instructions`, `extensions.memory`)."""

    instructions: Instructions
    memory: Any = None  # extensions.memory.Memory, None when auto memory is off

    @property
    def problems(self) -> list[str]:
        return self.instructions.problems

    def sections(self) -> list[str]:
        from bridle.extensions.memory import memory_prompt

        out = []
        text = self.instructions.render()
        if text:
            out.append(f"# Project instructions\n{INSTRUCTIONS_PREAMBLE}\n\n{text}")
        if self.memory is not None:
            out.append(memory_prompt(self.memory))
        return out


def load_context(
    cwd: Path,
    env: Mapping[str, str],
    repo_root: Path | None,
    settings: Any = None,
    *,
    policy: Any = None,
    managed: Path | None = None,
) -> SessionContext:
    """Instruction files (the cascade in `extensions.instructions`) and the
    project's memory. With `policy`, the memory folder becomes readable and
    writable without asking (deny and ask rules, and plan mode, still hold)."""
    from bridle.extensions import memory as mem

    excludes = settings.get("claudeMdExcludes") if settings is not None else None
    instructions = Instructions(
        cwd, user_home(env), bridle_home(env), repo_root,
        managed=managed if managed is not None else managed_path(env),
        excludes=[str(x) for x in excludes] if isinstance(excludes, list) else (),
    )  # fmt: skip
    instructions.load()
    found = SessionContext(instructions)
    if mem.enabled(env, settings):
        folder = mem.memory_dir(repo_root or cwd, env, settings)
        found.memory = mem.load_memory(folder)
        if policy is not None:
            policy.allow.extend(memory_rules(folder))
    return found


def memory_rules(folder: Path) -> list[Any]:
    """Allow rules for reading and editing inside `folder`, built from its real
    path with every character literal (a folder name may hold `*` or `[`)."""
    from bridle.policy.rules import PathPattern, PermissionRule

    real = os.path.realpath(folder).lstrip("/")
    pattern = PathPattern("abs", real + "/**", re.compile(re.escape(real) + "(?:/.*)?"))
    return [
        PermissionRule(f"{tool}(//{real}/**)", tool, f"//{real}/**", "path", path=pattern)
        for tool in ("Read", "Edit")
    ]


def load_instructions(cwd: Path, env: Mapping[str, str], repo_root: Path | None) -> str:
    """The instruction files a session in `cwd` starts with, as the prompt shows them."""
    return load_context(cwd, env, repo_root).instructions.render()


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
    context: SessionContext | None = None,
) -> str:
    """`system_prompt` replaces the base prompt (not the environment block, the
    instruction files or memory); `append` entries are added last, in order."""
    git = git if git is not None else git_info(cwd)
    context = context if context is not None else load_context(cwd, env, git.root)
    parts = [system_prompt if system_prompt is not None else BASE_PROMPT]
    parts.append(environment_block(cwd, git, now))
    parts.extend(context.sections())
    parts.extend(a for a in (append or []) if a)
    return "\n\n".join(parts)
