"""Git worktrees for subagents run with `isolation: "worktree"`.

`AgentWorktree.create` adds a worktree of the project's repository on a new
branch `bridle/agent-<id>` under `$BRIDLE_HOME/worktrees/`; the subagent runs in
it. `finish` commits what the agent left (so the branch holds it) and says which
branch and folder to look at, or removes the worktree and its branch when the
agent changed nothing. Errors a model can act on (no git repository) are
`ToolError`s. Nothing here runs the agent.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bridle.core.errors import ToolError


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, errors="replace", timeout=60
    )


@dataclass
class AgentWorktree:
    """The git worktree and branch one subagent runs in, and the commit it started from."""

    repo: Path
    path: Path
    branch: str
    base: str
    done: bool = False

    @classmethod
    def create(cls, cwd: Path, env: Mapping[str, str], description: str) -> AgentWorktree:
        from bridle.config.paths import bridle_home

        top = _git(cwd, "rev-parse", "--show-toplevel")
        if top.returncode != 0:
            raise ToolError(
                f'isolation "worktree" needs a git repository and {cwd} is not in one; '
                "run the agent without isolation, or `git init` first"
            )
        repo = Path(top.stdout.strip())
        head = _git(repo, "rev-parse", "HEAD")
        if head.returncode != 0:
            raise ToolError('isolation "worktree" needs a commit to branch from; commit first')
        slug = re.sub(r"[^a-z0-9]+", "-", description.lower()).strip("-")[:30] or "task"
        name = f"{slug}-{uuid.uuid4().hex[:6]}"
        path = bridle_home(env) / "worktrees" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        branch = f"bridle/agent-{name}"
        added = _git(repo, "worktree", "add", "-b", branch, str(path), "HEAD")
        if added.returncode != 0:
            raise ToolError(f"could not add a git worktree: {added.stderr.strip()}")
        return cls(repo, path, branch, head.stdout.strip())

    def finish(self) -> str:
        """Commit the agent's changes on its branch; what to tell the model."""
        self.done = True
        if _git(self.path, "status", "--porcelain").stdout.strip():
            _git(self.path, "add", "-A")
            _git(
                self.path, "-c", "user.name=bridle", "-c", "user.email=bridle@localhost",
                "commit", "-q", "-m", f"bridle agent: work in {self.branch}",
            )  # fmt: skip
        ahead = _git(self.path, "rev-list", "--count", f"{self.base}..HEAD").stdout.strip()
        if ahead in ("", "0"):
            self._remove()
            return "The agent's worktree had no changes and was removed."
        return (
            f"The agent worked in a git worktree: branch {self.branch} ({ahead} commit(s) "
            f"ahead of where it started), folder {self.path}. Merge it with "
            f"`git merge {self.branch}` or look at it with `git diff HEAD...{self.branch}`."
        )

    def finish_quietly(self) -> None:
        """On an error before `finish`: keep what the agent did on its branch."""
        if not self.done:
            self.finish()

    def _remove(self) -> None:
        _git(self.repo, "worktree", "remove", "--force", str(self.path))
        _git(self.repo, "branch", "-D", self.branch)
