"""Ctrl+G: the prompt edited in the user's editor.

`edit_text(app, text, env, cwd)` writes the prompt to a temporary `.md` file,
runs `$VISUAL`, else `$EDITOR`, else `vi` on it (the value is split as a shell
would, so `code --wait` works) with the app suspended so the editor owns the
terminal, and returns the file's text without its final newline, or None when
the editor failed (the prompt stays as it was). Where the app cannot suspend
(a test's headless driver) the editor runs as it is. Non-UTF-8 bytes the
editor writes survive as surrogate escapes. The temporary file is removed.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def editor_command(env: Mapping[str, str]) -> list[str]:
    value = env.get("VISUAL") or env.get("EDITOR") or "vi"
    return shlex.split(value) or ["vi"]


def edit_text(app: Any, text: str, env: Mapping[str, str], cwd: Path) -> str | None:
    from textual.app import SuspendNotSupported

    fd, name = tempfile.mkstemp(prefix="bridle-prompt-", suffix=".md")
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
        command = [*editor_command(env), str(path)]
        try:
            with app.suspend():
                done = subprocess.run(command, cwd=cwd, env=dict(env))
        except SuspendNotSupported:
            done = subprocess.run(command, cwd=cwd, env=dict(env))
        if done.returncode != 0:
            return None
        edited = path.read_text(encoding="utf-8", errors="surrogateescape")
        return edited[:-1] if edited.endswith("\n") else edited
    finally:
        path.unlink(missing_ok=True)
