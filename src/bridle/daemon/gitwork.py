"""Git for tasks: one cached clone per repository, one worktree and branch per task.

`<data>/repos/<key>.git` is a bare clone (made once, fetched before each task,
guarded by a file lock because workers are separate processes) whose origin
branches live under `refs/remotes/origin/`. A task's worktree is
`<data>/worktrees/<task id>` on its own branch. `checkpoint` commits everything
the phase left (an empty commit when it changed nothing, so every phase has a
named snapshot); `reset_to` puts a worktree back at a checkpoint when a task is
resumed, so a half-run phase leaves nothing behind; `push` sends the branch to
origin. Commands run with a fixed identity and no prompts; failures raise
`GitError` with git's own message.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

IDENTITY = ("-c", "user.name=bridle", "-c", "user.email=bridle@localhost")


class GitError(Exception):
    pass


def git(*args: str, cwd: Path | None = None, check: bool = True) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}
    proc = subprocess.run(
        ["git", *IDENTITY, *args], cwd=cwd, env=env, capture_output=True, text=True,
        errors="replace", timeout=600,
    )  # fmt: skip
    if check and proc.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {(proc.stderr or proc.stdout).strip()}")
    return proc.stdout.strip()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def cache_path(data_dir: Path, repo_url: str) -> Path:
    name = os.path.basename(repo_url.rstrip("/")).removesuffix(".git") or "repo"
    key = hashlib.sha256(repo_url.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:40]
    return data_dir / "repos" / f"{safe}-{key}.git"


def prepare_worktree(
    data_dir: Path, repo_url: str, task_id: str, branch: str, base: str | None
) -> tuple[Path, str]:
    """The task's worktree on `branch` (created from `base`, default origin's
    HEAD) and the base commit. An existing worktree (a resumed task) is kept."""
    cache = cache_path(data_dir, repo_url)
    tree = data_dir / "worktrees" / task_id
    with _locked(cache.with_suffix(".lock")):
        if not cache.exists():
            git("clone", "--bare", "--quiet", "--", repo_url, str(cache))
            git("config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*", cwd=cache)
        git("fetch", "--quiet", "--prune", "origin", cwd=cache)
        # An existing branch of that name is continued (never rewritten: pushes
        # are fast-forward only); a new one starts at `base`.
        existing = f"refs/remotes/origin/{branch}"
        start = base or git("symbolic-ref", "--short", "HEAD", cwd=cache)
        ref = f"refs/remotes/origin/{start}"
        if git("rev-parse", "--verify", "--quiet", existing, cwd=cache, check=False):
            ref = existing
        if not git("rev-parse", "--verify", "--quiet", ref, cwd=cache, check=False):
            raise GitError(f"base branch {start!r} does not exist in {repo_url}")
        base_commit = git("rev-parse", ref, cwd=cache)
        if not (tree / ".git").exists():
            git("worktree", "prune", cwd=cache)
            tree.parent.mkdir(parents=True, exist_ok=True)
            git("worktree", "add", "--quiet", "-B", branch, str(tree), ref, cwd=cache)
    return tree, base_commit


def checkpoint(tree: Path, message: str) -> str:
    git("add", "-A", cwd=tree)
    git("commit", "--quiet", "--allow-empty", "--no-verify", "-m", message, cwd=tree)
    return git("rev-parse", "HEAD", cwd=tree)


def reset_to(tree: Path, commit: str) -> None:
    git("reset", "--quiet", "--hard", commit, cwd=tree)
    git("clean", "-fdq", cwd=tree)


def diff_stat(tree: Path, base_commit: str) -> str:
    return git("diff", "--stat", base_commit, "HEAD", cwd=tree)


def push(tree: Path, branch: str) -> None:
    git("push", "--quiet", "origin", f"HEAD:refs/heads/{branch}", cwd=tree)


def remove_worktree(data_dir: Path, repo_url: str, task_id: str) -> None:
    cache = cache_path(data_dir, repo_url)
    tree = data_dir / "worktrees" / task_id
    with _locked(cache.with_suffix(".lock")):
        git("worktree", "remove", "--force", str(tree), cwd=cache, check=False)
