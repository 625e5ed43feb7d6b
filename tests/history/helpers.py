"""Shared helpers for the history tests: lay out fixture homes and index them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from bridle.history.index import SessionIndex, read_entries
from bridle.history.roots import all_roots
from bridle.history.search import list_sessions, session_files
from bridle.store.db import open_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sessions"


def install(case: Path, home: Path) -> None:
    """Copy a fixture's `input/` tree (dot dirs of a HOME) into `home`."""
    shutil.copytree(case / "input", home, dirs_exist_ok=True)


def index(home: Path) -> tuple[SessionIndex, dict[str, str]]:
    env = {"HOME": str(home), "BRIDLE_HOME": os.environ["BRIDLE_HOME"]}
    db = open_db(Path(os.environ["BRIDLE_HOME"]) / "bridle.db")
    ix = SessionIndex(db)
    ix.refresh(all_roots(env))
    return ix, env


def snapshot(ix: SessionIndex) -> list[dict[str, object]]:
    """Every indexed session with its full conversation, as the tests compare it."""
    out = []
    for s in list_sessions(ix.db, limit=1000, sort="tool"):
        doc = s.to_json()
        entries = []
        for tool, path, _ in session_files(ix.db, s.key):
            entries.extend(read_entries(tool, Path(path)))
        doc["entries"] = [[e.role, e.text] for e in sorted(entries, key=lambda e: e.ts or 0.0)]
        out.append(doc)
    return sorted(out, key=lambda d: (str(d["tool"]), str(d["id"])))
