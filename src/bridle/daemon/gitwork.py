"""Git for tasks: one cached clone per repository, one worktree and branch per task.

`<data>/repos/<key>.git` is a bare clone (made once, aside and then renamed so a
worker killed mid-clone leaves nothing half-made; fetched before each task;
guarded by a file lock because workers are separate processes) whose origin
branches live under `refs/remotes/origin/`. A task's worktree is
`<data>/worktrees/<task id>` on its own branch. `checkpoint` commits everything
the phase left (an empty commit when it changed nothing, so every phase has a
named snapshot); `reset_to` puts a worktree back at a checkpoint when a task is
resumed, so a half-run phase leaves nothing behind; `push` sends the branch to
origin. With workers on several machines each checkpoint is also pushed to a
hidden ref on origin (`refs/bridle/tasks/<id>`, dropped when the task ends), which
`ensure_commit` fetches when another machine resumes the task; lock files a
killed worker left in the cache are cleared before the next use. Commands run with a fixed identity and no prompts; failures raise
`GitError` with git's own message.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
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
            # Made aside and renamed when complete: a worker killed mid-clone leaves
            # no half-configured cache behind for the next one.
            part = cache.with_name(cache.name + ".part")
            shutil.rmtree(part, ignore_errors=True)
            git("clone", "--bare", "--quiet", "--", repo_url, str(part))
            git("config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*", cwd=part)
            # No background gc: ref packing would take locks outside this file lock.
            git("config", "gc.auto", "0", cwd=part)
            part.rename(cache)
        _clear_stale_locks(cache, tree, branch)
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


def _clear_stale_locks(cache: Path, tree: Path, branch: str) -> None:
    """Lock files a killed worker left: the cache's fetch locks (fetches only run
    under the file lock this caller holds) and this task's own branch and worktree
    locks (the task's lease says nobody else works on them)."""
    stale = [cache / name for name in ("packed-refs.lock", "config.lock", "shallow.lock")]
    stale += list((cache / "refs" / "remotes").rglob("*.lock"))
    stale.append(cache / "refs" / "heads" / f"{branch}.lock")
    link = tree / ".git"
    if link.is_file():
        gitdir = Path(link.read_text().split("gitdir:", 1)[-1].strip())
        stale += [gitdir / "index.lock", gitdir / "HEAD.lock"]
    for path in stale:
        path.unlink(missing_ok=True)


def shared_ref(task_id: str) -> str:
    return f"refs/bridle/tasks/{task_id}"


def share_checkpoint(tree: Path, task_id: str, commit: str) -> None:
    """Put a checkpoint on origin under a hidden ref, so a worker on another machine
    (the PostgreSQL scale-out) can resume from it."""
    git("push", "--quiet", "--force", "origin", f"{commit}:{shared_ref(task_id)}", cwd=tree)


def drop_shared(tree: Path, task_id: str) -> None:
    git("push", "--quiet", "origin", f":{shared_ref(task_id)}", cwd=tree, check=False)


def ensure_commit(data_dir: Path, repo_url: str, task_id: str, commit: str) -> None:
    """Fetch the task's shared checkpoint when `commit` was made on another machine."""
    cache = cache_path(data_dir, repo_url)
    probe = ["git", "cat-file", "-e", f"{commit}^{{commit}}"]
    if subprocess.run(probe, cwd=cache, capture_output=True).returncode == 0:
        return
    with _locked(cache.with_suffix(".lock")):
        ref = shared_ref(task_id)
        git("fetch", "--quiet", "origin", f"+{ref}:{ref}", cwd=cache)


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
