"""What a run changed in a git work tree, and committing it.

At the start of a run, `WorkTreeSnapshot.take` records the work tree without
touching it (`git stash create` writes a commit object for tracked changes and
moves nothing; untracked files are listed). Afterwards `diff()` is the difference
between that snapshot and the work tree now, including new untracked files, so
changes made through Bash count too and changes the user had before do not.
`commit()` commits exactly the paths the run changed. Outside a git repository,
or with no git identity to commit as, `take` raises `UsageError` with the fix
before the run starts; a git failure after the run is a plain `BridleError`.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bridle.core.errors import BridleError, UsageError


def _git(cwd: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise BridleError(f"git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


@dataclass
class WorkTreeSnapshot:
    """The git work tree as a run found it, so `diff()` can show what the run changed."""

    cwd: Path
    root: Path
    base: str  # a commit-ish holding the work tree's tracked state at the start
    untracked: set[str] = field(default_factory=set)
    dirty: set[str] = field(default_factory=set)

    @classmethod
    def take(cls, cwd: Path, *, will_commit: bool = False) -> WorkTreeSnapshot | None:
        """None outside a git work tree. With `will_commit`, a missing git identity
        is a usage error now, before the run, rather than a failed commit after it."""
        proc = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=cwd, capture_output=True, text=True
        )
        if proc.returncode != 0:
            return None
        root = Path(proc.stdout.strip())
        if will_commit:
            for ident in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
                who = subprocess.run(["git", "var", ident], cwd=root, capture_output=True)
                if who.returncode != 0:
                    raise UsageError(
                        "--commit needs a git identity to commit as: run "
                        '`git config user.name "Your Name"` and '
                        "`git config user.email you@example.com` (add --global for every "
                        "repository), or set GIT_AUTHOR_NAME/EMAIL and GIT_COMMITTER_NAME/EMAIL"
                    )
        base = _git(root, "stash", "create", check=False).strip()
        if not base:
            head = subprocess.run(
                ["git", "rev-parse", "--verify", "-q", "HEAD"],
                cwd=root,
                capture_output=True,
                text=True,
            )
            # An empty tree for a repository without commits yet.
            base = (
                head.stdout.strip() or _git(root, "hash-object", "-t", "tree", "/dev/null").strip()
            )
        untracked = set(
            _git(root, "ls-files", "--others", "--exclude-standard", "-z").split("\0")
        ) - {""}
        dirty = set(_git(root, "diff", "--name-only", "-z", "HEAD", check=False).split("\0")) - {""}
        return cls(cwd, root, base, untracked, dirty)

    def changed_paths(self) -> list[str]:
        tracked = set(_git(self.root, "diff", "--name-only", "-z", self.base).split("\0")) - {""}
        now_untracked = set(
            _git(self.root, "ls-files", "--others", "--exclude-standard", "-z").split("\0")
        ) - {""}
        changed_untracked = {p for p in now_untracked if p not in self.untracked}
        # Untracked files that existed before and were modified also count.
        return sorted(tracked | changed_untracked)

    def diff(self) -> str:
        out = [_git(self.root, "diff", "--no-color", self.base)]
        now_untracked = set(
            _git(self.root, "ls-files", "--others", "--exclude-standard", "-z").split("\0")
        ) - {""}
        for path in sorted(now_untracked - self.untracked):
            proc = subprocess.run(
                ["git", "diff", "--no-color", "--no-index", "--", "/dev/null", path],
                cwd=self.root,
                capture_output=True,
                text=True,
            )
            out.append(proc.stdout)
        return "".join(out)

    def commit(
        self, message: str, *, include_dirty: bool, exclude: list[Path] | None = None
    ) -> tuple[str | None, list[str]]:
        """Commit the paths the run changed. Returns (commit sha or None, skipped
        paths): paths that were already dirty before the run are skipped unless
        `include_dirty`, since the user's own edits must not be committed silently.
        `exclude` names files bridle itself wrote after the run (--save-cost ...)."""
        own = set()
        for p in exclude or []:
            try:
                own.add(p.resolve().relative_to(self.root.resolve()).as_posix())
            except ValueError:
                continue  # outside the repository
        paths = [p for p in self.changed_paths() if p not in own]
        skipped = [] if include_dirty else sorted(p for p in paths if p in self.dirty)
        paths = [p for p in paths if p not in skipped]
        if include_dirty:
            paths = sorted(set(paths) | self.dirty)
        if not paths:
            return None, skipped
        _git(self.root, "add", "-A", "--", *paths)
        _git(self.root, "commit", "-q", "-m", message, "--", *paths)
        return _git(self.root, "rev-parse", "HEAD").strip(), skipped
