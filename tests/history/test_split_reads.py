"""Reading a session file in pieces as it grows, cut anywhere (even mid-line, as
when a tool is still writing), indexes exactly what reading it whole does."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridle.history.index import SessionIndex
from bridle.history.roots import all_roots
from bridle.store.db import open_db

from .helpers import FIXTURES, snapshot

TOOLS = ("claude", "codex", "gemini", "copilot")


def session_file(home: Path, tool: str) -> Path:
    pattern = {
        "claude": "*.jsonl",
        "codex": "rollout-*.jsonl",
        "gemini": "session-*.jsonl",
        "copilot": "events.jsonl",
    }
    return max(home.rglob(pattern[tool]), key=lambda p: (p.stat().st_size, str(p)))


def indexed(home: Path, db_dir: Path, cuts: list[int], tool: str) -> list[dict[str, object]]:
    """Index the file as it grows: first up to each cut in turn, then whole."""
    env = {"HOME": str(home), "BRIDLE_HOME": str(db_dir)}
    ix = SessionIndex(open_db(db_dir / "bridle.db"))
    path = session_file(home, tool)
    data = path.read_bytes()
    for cut in cuts:
        with open(path, "r+b") as f:  # grow in place, as a tool appending would
            f.truncate(0)
            f.write(data[:cut])
        ix.refresh(all_roots(env))
    path.write_bytes(data)
    ix.refresh(all_roots(env))
    result = snapshot(ix)
    # The indexed text itself, column by column, whatever the chunking.
    for doc in result:
        rows = ix.db.execute(
            "SELECT c.user, c.assistant, c.tool FROM history_chunks c"
            " JOIN history_sessions s ON s.id = c.session JOIN history_files f ON f.id = c.file"
            " WHERE s.sid = ? ORDER BY f.path, c.id",
            (doc["id"],),
        ).fetchall()
        doc["indexed"] = ["\n".join(filter(None, column)) for column in zip(*rows, strict=True)]
    ix.db.close()
    return result


@pytest.mark.parametrize("case", ["basic", "real"])
@pytest.mark.parametrize("tool", TOOLS)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fractions=st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=3))
def test_reads_in_pieces_index_what_one_read_does(
    tool: str, case: str, fractions: list[float]
) -> None:
    with tempfile.TemporaryDirectory(dir=os.environ["HOME"]) as tmp:
        whole_home, split_home = Path(tmp) / "a", Path(tmp) / "b"
        for home in (whole_home, split_home):
            shutil.copytree(FIXTURES / tool / case / "input", home)
        size = session_file(split_home, tool).stat().st_size
        expected = indexed(whole_home, Path(tmp) / "db-a", [], tool)
        cuts = sorted(int(size * f) for f in fractions)
        assert indexed(split_home, Path(tmp) / "db-b", cuts, tool) == expected
