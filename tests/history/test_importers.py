"""Each importer reads its tool's real on-disk format into the same sessions.

Table-driven: every `tests/fixtures/sessions/<tool>/<case>/` holds an `input/`
tree (the dot dirs of a HOME) and `expected.json`, the whole list of sessions
with their conversation as `bridle sessions show --json` would report it. The
fixtures carry what the formats throw at a reader: malformed lines, unknown
record types, a half-written last line, injected preambles, re-appended and
rewound Gemini messages, subagent transcripts and snapshot-only files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .helpers import FIXTURES, index, install, snapshot

CASES = sorted(p for p in FIXTURES.glob("*/*") if (p / "expected.json").is_file())


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}-{p.name}")
def test_importer_reads_fixture(case: Path, tmp_path: Path) -> None:
    install(case, tmp_path)
    ix, _ = index(tmp_path)
    assert snapshot(ix) == json.loads((case / "expected.json").read_text())


def test_every_tool_has_a_fixture() -> None:
    assert {p.parent.name for p in CASES} >= {"claude", "codex", "gemini", "copilot"}
