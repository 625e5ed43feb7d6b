"""Defect 8: a damaged database, a read-only database file and a read-only BRIDLE_HOME.

Each is met by `bridle -p`, `bridle sessions list` and `bridle sessions search`
(the real CLI in a subprocess): exit non-zero, no traceback, and a message that
names the real cause and its fix, never a `mv` of a file that does not exist.
A database found damaged is not written again: later runs refuse it before
writing, until the file is replaced.

chmod does not stop root. Run as root, the read-only cases run bridle in a user
namespace (`unshare -U`: the process keeps uid 0 on disk but loses the
capabilities that bypass permissions, so mode 444/555 holds), else as `nobody`
on a temp tree it owns; only when neither is possible are they skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

NOBODY = 65534
COMMANDS = {
    "list": ["sessions", "list"],
    "search": ["sessions", "search", "fix"],
    "-p": ["-p", "fix the test", "--model", "mock/anthropic"],
}


def _works(argv: list[str], **kw: object) -> bool:
    try:
        return subprocess.run(argv, capture_output=True, timeout=30, **kw).returncode == 0  # type: ignore[call-overload, no-any-return]
    except (OSError, subprocess.SubprocessError):
        return False


def _how_to_drop_root() -> str:
    """'' (not root), 'unshare', 'nobody', or 'skip: reason'."""
    if os.geteuid() != 0:
        return ""
    if shutil.which("unshare") and _works(["unshare", "-U", sys.executable, "-c", "pass"]):
        return "unshare"
    if _works([sys.executable, "-c", "import bridle"], user=NOBODY, group=NOBODY, extra_groups=[]):
        return "nobody"
    return (
        "skip: running as root, where chmod does not stop writes, and neither a user "
        "namespace (unshare -U) nor the nobody user can run this interpreter"
    )


DROP = _how_to_drop_root()


class Home:
    """A BRIDLE_HOME with one bridle session and one Claude Code session indexed."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.home = base / "home"
        self.bridle_home = self.home / ".bridle"
        self.db = self.bridle_home / "bridle.db"
        self.repo = base / "repo"
        self.repo.mkdir(parents=True)
        self.scenario = base / "scenario.json"
        self.scenario.write_text(
            json.dumps(
                {
                    "name": "s",
                    "prompt": "p",
                    "final": "done",
                    "turns": [{"op": "final", "text": "done"}],
                }
            )
        )
        project = self.home / ".claude" / "projects" / "-repo"
        project.mkdir(parents=True)
        line = {
            "type": "user",
            "cwd": str(self.repo),
            "sessionId": "cccccccc-1111-4222-8333-444444444444",
            "message": {"role": "user", "content": [{"type": "text", "text": "fix the parser"}]},
            "uuid": "u1",
            "timestamp": "2025-11-01T08:00:00.000Z",
        }
        (project / "cccccccc-1111-4222-8333-444444444444.jsonl").write_text(json.dumps(line) + "\n")

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CLAUDE_", "CODEX_", "GEMINI_", "COPILOT_", "BRIDLE_MOCK"))
        }
        env.update(
            HOME=str(self.home),
            BRIDLE_HOME=str(self.bridle_home),
            BRIDLE_HISTORY_BACKGROUND="0",
            BRIDLE_MOCK_SCENARIO=str(self.scenario),
            NO_COLOR="1",
            PYTHONDONTWRITEBYTECODE="1",
        )
        return env

    def run(self, name: str, *, drop: bool = False) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "bridle", *COMMANDS[name]]
        kw: dict[str, object] = {}
        if drop and DROP == "unshare":
            argv = ["unshare", "-U", *argv]
        elif drop and DROP == "nobody":
            kw = {"user": NOBODY, "group": NOBODY, "extra_groups": []}
        return subprocess.run(  # type: ignore[call-overload, no-any-return]
            argv,
            cwd=self.repo,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            **kw,
        )

    def build(self) -> None:
        for name in ("-p", "list"):
            out = self.run(name)
            assert out.returncode == 0, out.stderr
        assert self.db.is_file()

    def digest(self) -> str:
        return "".join(
            hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(self.bridle_home.glob("bridle.db*"))
            if p.is_file() and not p.name.endswith(".damaged")
        )


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    yield Home(tmp_path)


@pytest.fixture
def ro_home() -> Iterator[Home]:
    """A Home the unprivileged run can reach (and, as nobody, owns)."""
    if DROP.startswith("skip"):
        pytest.skip(DROP[len("skip: ") :])
    base = Path(tempfile.mkdtemp(prefix="bridle-ro-"))
    base.chmod(0o755)
    h = Home(base)
    h.build()
    if DROP == "nobody":
        for root, dirs, files in os.walk(base):
            for name in [*dirs, *files]:
                os.chown(os.path.join(root, name), NOBODY, NOBODY)
        os.chown(base, NOBODY, NOBODY)
    try:
        yield h
    finally:
        for root, dirs, _ in os.walk(base):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o755)
        shutil.rmtree(base, ignore_errors=True)


def damage(db: Path, table: str | None = None) -> None:
    """Garbage over the pages in the middle of the file (header and first page
    intact), or over one table's root page only."""
    data = bytearray(db.read_bytes())
    page = 4096
    if table is None:
        pages = range(2, len(data) // page - 1)
    else:
        conn = sqlite3.connect(db)
        [(root,)] = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,))
        conn.close()
        pages = range(root - 1, root)
    assert len(pages) >= 1
    for n in pages:
        data[n * page : (n + 1) * page] = bytes((i * 37 + n) % 251 for i in range(page))
    db.write_bytes(bytes(data))


def assert_clean_failure(out: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert out.returncode != 0, out.stdout
    assert "Traceback" not in out.stderr, out.stderr
    for needle in needles:
        assert needle in out.stderr, out.stderr


@pytest.mark.parametrize("table", [None, "history_sessions"], ids=["middle", "one-table"])
def test_damaged_database_is_named_and_never_written(home: Home, table: str | None) -> None:
    home.build()
    good = home.db.read_bytes()
    damage(home.db, table)
    before = home.digest()
    for name in ("list", "search", "-p", "list"):
        out = home.run(name)
        assert_clean_failure(out, str(home.db), "is damaged", ".recover")
        # The advice moves the damaged file aside: that file exists.
        assert f"mv '{home.db}'" in out.stderr
        assert home.digest() == before, f"{name} wrote into the damaged database"
    # Once a good database is back at that path, bridle uses it again.
    home.db.write_bytes(good)
    for name in ("list", "search", "-p"):
        out = home.run(name)
        assert out.returncode == 0, out.stderr


def test_a_run_refuses_a_database_known_to_be_damaged(home: Home) -> None:
    """`-p` does not read the history's pages; once bridle knows they are
    damaged, it still must not write a session into that file."""
    home.build()
    damage(home.db, "history_sessions")
    assert home.run("list").returncode != 0  # finds the damage
    before = home.digest()
    out = home.run("-p")
    assert_clean_failure(out, "is damaged")
    assert home.digest() == before


def test_read_only_database_file(ro_home: Home) -> None:
    ro_home.db.chmod(0o444)
    before = ro_home.digest()
    for name in COMMANDS:
        out = ro_home.run(name, drop=True)
        assert_clean_failure(out, str(ro_home.db), "read-only", f"chmod u+w '{ro_home.db}'")
        assert "mv " not in out.stderr and "is damaged" not in out.stderr
    assert ro_home.digest() == before


def test_read_only_bridle_home(ro_home: Home) -> None:
    ro_home.bridle_home.chmod(0o555)
    for name in COMMANDS:
        out = ro_home.run(name, drop=True)
        assert_clean_failure(
            out, str(ro_home.bridle_home), "not writable", f"chmod u+w '{ro_home.bridle_home}'"
        )
        assert "mv " not in out.stderr and "is damaged" not in out.stderr


def test_read_only_empty_bridle_home(ro_home: Home) -> None:
    """No database yet and none can be created: no advice to move a missing file."""
    for p in ro_home.bridle_home.iterdir():
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink()
    ro_home.bridle_home.chmod(0o555)
    for name in COMMANDS:
        out = ro_home.run(name, drop=True)
        assert_clean_failure(out, str(ro_home.bridle_home), "not writable", "BRIDLE_HOME")
        assert "mv " not in out.stderr
    assert list(ro_home.bridle_home.iterdir()) == []
