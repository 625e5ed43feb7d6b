"""File-tree snapshots for the accounts tests: proof that nothing was lost."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def snapshot(root: Path) -> dict[str, str]:
    """relative path -> sha256 (files) or 'link:<target>' (symlinks), not following links."""
    out: dict[str, str] = {}
    for parent, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(parent) / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = "link:" + os.readlink(path)
            elif path.is_file():
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def contents(root: Path) -> set[bytes]:
    """Every regular file's bytes under `root` (links not followed)."""
    found = set()
    for parent, _dirs, files in os.walk(root):
        for name in files:
            path = Path(parent) / name
            if not path.is_symlink():
                found.add(path.read_bytes())
    return found
