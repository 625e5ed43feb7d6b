"""Defect 2, end to end: a real `bridle -p` run against the mock globs and greps a
project holding a file whose name is not UTF-8 (`caf\\xe9.txt`). The run used to
crash when the store saved the tool result. Now the name is stored losslessly,
the model's Read of the name it was given opens that file, and `-c` resumes the
session from the store and edits the same file."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from bridle.config.paths import database_path
from bridle.store.sessions import SessionStore

RAW = b"caf\xe9.txt"
NAME = RAW.decode("utf-8", "surrogateescape")
FIRST = [
    {"op": "glob", "pattern": "*.txt"},
    {"op": "grep", "pattern": "hello"},
    {"op": "read", "path": NAME},
]


def scenario(path: Path, turns: list[dict[str, Any]], final: str) -> Path:
    body = {"name": path.stem, "prompt": "p", "final": final, "turns": turns}
    path.write_text(json.dumps(body), encoding="ascii")  # the name travels as \udce9
    return path


def bridle(args: list[str], cwd: Path, scen: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BRIDLE_MOCK_SCENARIO": str(scen)}
    return subprocess.run(
        [sys.executable, "-m", "bridle", *args, "--model", "mock/anthropic",
         "--output-format", "json", "--dangerously-skip-permissions"],
        cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
    )  # fmt: skip


def test_a_non_utf8_file_name_survives_the_run_the_store_and_resume(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    with open(os.path.join(os.fsencode(repo), RAW), "wb") as f:
        f.write(b"hello latin\n")
    (repo / "plain.txt").write_text("hello world\n")

    first = bridle(["-p", "look around"], repo, scenario(tmp_path / "one.json", FIRST, "seen"))
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert result["subtype"] == "success" and result["result"] == "seen"

    conn = sqlite3.connect(database_path(os.environ))
    store = SessionStore(conn)
    texts = [
        part.content[0].text
        for message in store.rebuild_messages(result["session_id"])
        for part in message.parts
        if getattr(part, "content", None)
    ]
    conn.close()
    glob_out, grep_out, read_out = texts
    assert sorted(glob_out.splitlines()) == [NAME, "plain.txt"]
    assert NAME in grep_out.splitlines()
    assert "hello latin" in read_out

    edit = {"op": "edit", "path": NAME, "old": "latin", "new": "latin-1"}
    again = bridle(
        ["-p", "now edit it", "-c"], repo, scenario(tmp_path / "two.json", [*FIRST, edit], "ok")
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["session_id"] == result["session_id"]
    with open(os.path.join(os.fsencode(repo), RAW), "rb") as f:
        assert f.read() == b"hello latin-1\n"
