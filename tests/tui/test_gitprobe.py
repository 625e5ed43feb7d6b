"""The first screen's dirty marker (`tui.gitprobe`): `git status`, started before
the app loads, tells a dirty work tree from a clean one and from no repository;
a git still running when the first frame is drawn is stopped and the marker waits
for the session; and the app shows `*` on its first screen, before the session
opens, so the HUD does not change under the user a moment later."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tui_helpers import before_the_session, buggy_project

from bridle.tui.app import BridleApp
from bridle.tui.gitprobe import GitProbe, git_head


def committed(tmp: Path) -> Path:
    repo = buggy_project(tmp)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(repo)]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "start"], check=True)
    return repo


def finished(probe: GitProbe) -> GitProbe:
    assert probe.process is not None
    probe.process.wait(30)
    return probe


def test_the_probe_tells_dirty_clean_and_no_repository(tmp_path: Path) -> None:
    repo = committed(tmp_path)
    assert finished(GitProbe(repo)).dirty() is False
    (repo / "notes.txt").write_bytes(b"caf\xe9\n")  # untracked, and not UTF-8
    probe = finished(GitProbe(repo))
    assert probe.dirty() is True
    assert probe.dirty() is None  # asked once; the process is gone
    elsewhere = tmp_path / "plain"
    elsewhere.mkdir()
    assert finished(GitProbe(elsewhere)).dirty() is None
    assert GitProbe(tmp_path / "missing").dirty() is None  # no such folder: no process
    assert git_head(repo) == ("buggy", "main")
    assert git_head(elsewhere) is None


def test_a_git_still_running_at_the_first_frame_is_stopped(tmp_path: Path) -> None:
    repo = committed(tmp_path)
    hook = tmp_path / "slow-fsmonitor"
    hook.write_text("#!/bin/sh\nsleep 30\n")
    hook.chmod(0o755)
    subprocess.run(["git", "-C", str(repo), "config", "core.fsmonitor", str(hook)], check=True)
    probe = GitProbe(repo)
    process = probe.process
    assert process is not None
    assert probe.dirty() is None
    assert process.returncode is not None  # killed and reaped, not left behind


def test_the_first_screen_shows_the_dirty_marker_before_the_session_opens(
    tmp_path: Path,
) -> None:
    repo = buggy_project(tmp_path)  # its files are untracked: dirty
    probe = finished(GitProbe(repo))
    shown: list[str] = []

    def look(app: BridleApp) -> None:
        assert app.session is None
        shown.append(app.hud_line.render().plain)  # type: ignore[attr-defined]

    app = before_the_session(repo, look, git=probe)
    assert app.return_value == 64
    assert "buggy (main*)" in shown[0]
