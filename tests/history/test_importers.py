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

from bridle.history.search import list_sessions, search

from .helpers import FIXTURES, index, install, snapshot

CASES = sorted(p for p in FIXTURES.glob("*/*") if (p / "expected.json").is_file())


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}-{p.name}")
def test_importer_reads_fixture(case: Path, tmp_path: Path) -> None:
    install(case, tmp_path)
    ix, _ = index(tmp_path)
    assert snapshot(ix) == json.loads((case / "expected.json").read_text())


def test_every_tool_has_a_fixture() -> None:
    assert {p.parent.name for p in CASES} >= {"claude", "codex", "gemini", "copilot"}


SID = "5e55e55e-0000-4000-8000-000000000001"
PROMPT = {"type": "user", "sessionId": SID, "cwd": "/p", "timestamp": "2025-11-01T10:00:00Z",
          "message": {"role": "user", "content": "the first real prompt"}}  # fmt: skip
PREAMBLE = {**PROMPT, "message": {"role": "user", "content": "<command-name>/clear</command-name>"}}
CUSTOM = {"type": "custom-title", "customTitle": "custom", "sessionId": SID}
AI = {"type": "ai-title", "aiTitle": "generated", "sessionId": SID}
AI2 = {"type": "ai-title", "aiTitle": "generated again", "sessionId": SID}
SUMMARY = {"type": "summary", "summary": "summary", "leafUuid": "x"}


@pytest.mark.parametrize(
    ("records", "title"),
    [
        ([PREAMBLE, PROMPT], "the first real prompt"),
        ([PROMPT, SUMMARY], "summary"),
        ([SUMMARY, PROMPT], "summary"),
        ([PROMPT, AI, SUMMARY], "generated"),
        ([SUMMARY, PROMPT, AI], "generated"),
        ([PROMPT, AI, AI2], "generated again"),
        ([CUSTOM, PROMPT, AI, SUMMARY], "custom"),
        ([PROMPT, SUMMARY, AI, CUSTOM, AI2], "custom"),
    ],
)
@pytest.mark.parametrize("split", [False, True], ids=["whole", "appended"])
def test_claude_title_order(tmp_path: Path, records: list[dict[str, object]], title: str,
                            split: bool) -> None:  # fmt: skip
    """custom-title, then ai-title, then summary, then the first real prompt,
    whatever order the records come in and however the file grows."""
    path = tmp_path / ".claude" / "projects" / "-p" / f"{SID}.jsonl"
    path.parent.mkdir(parents=True)
    lines = [json.dumps(r) + "\n" for r in records]
    cut = len(lines) // 2 if split else len(lines)
    path.write_text("".join(lines[:cut]))
    ix, env = index(tmp_path)
    if split:
        with open(path, "a") as f:
            f.write("".join(lines[cut:]))
        from bridle.history.roots import all_roots

        ix.refresh(all_roots(env))
    assert [(s.id, s.title) for s in list_sessions(ix.db)] == [(SID, title)]


def test_claude_old_sidechain_files_and_summary_only_files_join_or_stay_out(
    tmp_path: Path,
) -> None:
    """An older `agent-*.jsonl` beside the sessions joins its parent (not as its
    title or preview); a file of summaries only, like one of snapshots only, is no session."""
    project = tmp_path / ".claude" / "projects" / "-p"
    project.mkdir(parents=True)
    (project / f"{SID}.jsonl").write_text(json.dumps(PROMPT) + "\n")
    side = {
        **PROMPT,
        "isSidechain": True,
        "message": {"role": "user", "content": "subagent wombat task"},
    }
    (project / "agent-1a2b3c4d.jsonl").write_text(json.dumps(side) + "\n")
    (project / "0b0b0b0b-0000-4000-8000-000000000002.jsonl").write_text(json.dumps(SUMMARY) + "\n")
    ix, _ = index(tmp_path)
    [s] = list_sessions(ix.db)
    assert (s.id, s.title, s.entries, s.head) == (
        SID,
        "the first real prompt",
        2,
        [["user", "the first real prompt"]],
    )
    assert [h.session.id for h in search(ix.db, "wombat")] == [SID]
