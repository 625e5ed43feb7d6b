"""The recall picker over the fixture sessions, at a fixed clock: run it with
`python tests/history/snapshot_apps/recall_app.py` to see what the snapshots show."""

from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

from bridle.history.index import SessionIndex
from bridle.history.roots import all_roots
from bridle.store.migrations import apply_all
from bridle.tui.recall import RecallApp

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sessions"
NOW = 1762400000.0  # 2025-11-06, a day after the newest fixture session


def build_app(home: Path | None = None) -> RecallApp:
    if home is None:
        home = Path(tempfile.mkdtemp(prefix="bridle-recall-"))
        atexit.register(shutil.rmtree, home, True)
    for tool in ("claude", "codex", "gemini", "copilot"):
        shutil.copytree(FIXTURES / tool / "basic" / "input", home, dirs_exist_ok=True)
    db = sqlite3.connect(home / "bridle.db", isolation_level=None)
    apply_all(db)
    SessionIndex(db).refresh(all_roots({"HOME": str(home), "BRIDLE_HOME": str(home / ".bridle")}))
    return RecallApp(db, home="/home/ada", clock=lambda: NOW, accounts=["", "work"])


app = build_app()

if __name__ == "__main__":
    os.environ.setdefault("TERM", "xterm-256color")
    print(app.run())
