"""The first screen's project, branch and dirty marker, without waiting for git.

`git_head` reads the repository's folder and branch from `.git/HEAD` (no process).
`GitProbe` starts `git status` when the app is launched, before Textual is even
imported, so git runs on another core while Python loads; the first frame asks it
for the dirty marker (`*`), and if git has not finished by then (a huge repository)
the marker waits for the session's own `git_info`, as it did before. Either way
the HUD's project and branch come from the same place the session's do later, so
the line does not change under the user once the session opens.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

# The command `engine.context.git_info` runs for the dirty marker.
STATUS = ("git", "status", "--short", "--untracked-files=normal")


def git_head(cwd: Path) -> tuple[str, str] | None:
    """The repository's folder name and branch, read from `.git/HEAD` without
    running git (the first screen shows them; `git status` comes later)."""
    for folder in (cwd, *cwd.parents):
        try:
            head = (folder / ".git" / "HEAD").read_text(errors="replace").strip()
        except OSError:
            if (folder / ".git").exists():
                return None  # a worktree's .git file: git tells, later
            continue
        ref = head.removeprefix("ref: refs/heads/")
        return folder.name, ref if ref != head else ""
    return None


class GitProbe:
    """`git status` in `cwd`, started now and asked once (`dirty`)."""

    def __init__(self, cwd: Path) -> None:
        try:
            self.process: subprocess.Popen[bytes] | None = subprocess.Popen(
                STATUS,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:  # no git, or cwd gone: the session's git_info tells
            self.process = None

    def dirty(self) -> bool | None:
        """Whether the work tree has changes; None when git failed (not a
        repository) or has not finished, in which case it is stopped."""
        process, self.process = self.process, None
        if process is None:
            return None
        try:
            if process.poll() is None:
                process.kill()
                process.wait()
                return None
            out = process.stdout.read() if process.stdout is not None else b""
            return bool(out.strip()) if process.returncode == 0 else None
        finally:
            if process.stdout is not None:
                process.stdout.close()
