"""The sandbox in real headless runs (`python -m bridle -p` against the mock
model): with `--sandbox workspace-write` the buggy project's test command runs
without an ask (autoAllowBashIfSandboxed) and the bug gets fixed, where the same
run without the sandbox is refused; a blocked write reaches the model with what
was blocked, and `dangerouslyDisableSandbox` asks (so a headless run refuses
it); a sandbox that cannot start says so once and falls back to permission
prompts, or with `failIfUnavailable` stops with the fix."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bridle.mock.server import MockServer
from bridle.policy.sandbox import probe

WHY = probe("linux", shutil.which("bwrap")) if sys.platform.startswith("linux") else "not Linux"
needs_bwrap = pytest.mark.skipif(WHY is not None, reason=f"no sandbox here: {WHY}")
REPO = Path(__file__).resolve().parents[2]


def run(cwd: Path, home: Path, srv: MockServer, *extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("BRIDLE_MOCK_SCENARIO", None)
    env.update(BRIDLE_HOME=str(home / "bridle"), HOME=str(home), BRIDLE_MOCK_BASE_URL=srv.base_url)
    return subprocess.run(
        [sys.executable, "-m", "bridle", "-p", "go", "--model", "mock/anthropic",
         "--output-format", "json", *extra],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def tool_results(srv: MockServer) -> list[str]:
    """Every tool result the model was sent, in order, as text."""
    last = srv.requests[-1]["body"]
    out = []
    for message in last["messages"]:
        content = message["content"]
        for block in content if isinstance(content, list) else []:
            if block.get("type") == "tool_result":
                inner = block["content"]
                out.append(
                    inner
                    if isinstance(inner, str)
                    else "".join(b.get("text", "") for b in inner if b.get("type") == "text")
                )
    return out


def buggy(tmp: Path) -> Path:
    proj = tmp / "buggy"
    shutil.copytree(REPO / "examples" / "buggy-project", proj)
    subprocess.run(["git", "init", "-q", str(proj)], check=True)
    return proj


@needs_bwrap
def test_sandboxed_tests_run_without_asking_and_the_bug_is_fixed(tmp_path: Path) -> None:
    proj = buggy(tmp_path)
    scenario = REPO / "examples" / "buggy-project" / "scenario.json"
    with MockServer(scenario, workdir=proj, keep_bodies=True) as srv:
        proc = run(proj, tmp_path, srv, "--sandbox", "workspace-write", "--permission-mode",
                   "acceptEdits")  # fmt: skip
        results = tool_results(srv)
    assert proc.returncode == 0, proc.stderr
    assert "return sum(values) / len(values)\n" in (proj / "stats.py").read_text()
    runs = [r for r in results if "Ran 3 tests" in r]
    assert len(runs) == 2 and "FAILED" in runs[0] and runs[1].rstrip().endswith("OK"), results
    assert not (proj / ".claude").exists() and not (proj / ".mcp.json").exists()

    # The same run without the sandbox: nobody can approve `python -m unittest`.
    proj2 = buggy(tmp_path / "again")
    with MockServer(scenario, workdir=proj2, keep_bodies=True) as srv:
        run(proj2, tmp_path, srv, "--permission-mode", "acceptEdits")
        refused = tool_results(srv)
    assert any("a headless run has nobody to ask" in r for r in refused), refused
    assert not any("Ran 3 tests" in r for r in refused)


def scenario(tmp: Path, calls: list[dict[str, Any]]) -> Path:
    path = tmp / "scenario.json"
    turns: list[dict[str, Any]] = [
        {"op": "call", "tool": "Bash", "input": json.dumps(c)} for c in calls
    ]
    path.write_text(json.dumps({"name": "sbx", "turns": [*turns, {"op": "final", "text": "ok"}]}))
    return path


@needs_bwrap
def test_a_blocked_write_is_named_and_leaving_the_sandbox_asks(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    outside = tmp_path / "outside.txt"
    calls = [
        {"command": f"echo pwned > {outside}"},
        {"command": "ls", "dangerouslyDisableSandbox": True},
    ]
    settings = {"sandbox": {"enabled": True}}
    (proj / ".bridle").mkdir()
    (proj / ".bridle" / "settings.json").write_text(json.dumps(settings))
    with MockServer(scenario(tmp_path, calls), workdir=proj, keep_bodies=True) as srv:
        proc = run(proj, tmp_path, srv)
        blocked, unsandboxed = tool_results(srv)
    assert proc.returncode == 0, proc.stderr
    # Sandboxed, the write outside the project runs without an ask (headless would
    # refuse an ask), but /tmp inside is a private dir: the host file never appears.
    assert "Permission to use Bash was denied" not in blocked
    assert not outside.exists()
    assert "running outside the sandbox needs approval" in unsandboxed
    assert "nobody to ask" in unsandboxed
    # A write the sandbox refuses outright is explained.
    calls = [{"command": "echo x > /etc/bridle-sandbox-test"}]
    with MockServer(scenario(tmp_path, calls), workdir=proj, keep_bodies=True) as srv:
        run(proj, tmp_path, srv)
        (refused,) = tool_results(srv)
    assert "Read-only file system" in refused
    assert "[sandbox: a write outside the writable paths" in refused
    assert "dangerouslyDisableSandbox: true" in refused


def test_no_sandbox_says_so_once_or_stops_with_the_fix(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    missing = tmp_path / "no-bwrap"
    calls = [{"command": "touch made.txt"}]
    conf = {"sandbox": {"enabled": True, "bwrapPath": str(missing)}}
    with MockServer(scenario(tmp_path, calls), workdir=proj, keep_bodies=True) as srv:
        proc = run(proj, tmp_path, srv, "--settings", json.dumps(conf))
        (result,) = tool_results(srv)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("sandbox: not available") == 1
    assert "shell commands ask for permission instead" in proc.stderr
    # Fallen back to permission prompts: headless, nobody can approve the command.
    assert "nobody to ask" in result and not (proj / "made.txt").exists()

    conf["sandbox"]["failIfUnavailable"] = True
    with MockServer(scenario(tmp_path, calls), workdir=proj, keep_bodies=True) as srv:
        proc = run(proj, tmp_path, srv, "--settings", json.dumps(conf))
        assert srv.requests == []
    assert proc.returncode != 0
    assert "the sandbox cannot start" in proc.stderr
    assert "sandbox.failIfUnavailable to false" in proc.stderr


def test_sandbox_flag_is_checked(tmp_path: Path) -> None:
    env = dict(os.environ, BRIDLE_HOME=str(tmp_path / "b"), HOME=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-m", "bridle", "-p", "hi", "--sandbox", "full"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "'full' is not one of 'read-only', 'workspace-write', 'off'" in proc.stderr


@needs_bwrap
def test_read_only_flag_keeps_the_project_unchanged(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "keep.txt").write_text("original\n")
    calls = [{"command": "cat keep.txt && echo changed > keep.txt"}]
    with MockServer(scenario(tmp_path, calls), workdir=proj, keep_bodies=True) as srv:
        proc = run(proj, tmp_path, srv, "--sandbox", "read-only")
        (result,) = tool_results(srv)
    assert proc.returncode == 0, proc.stderr
    assert result.startswith("original\n") and "Read-only file system" in result
    assert (proj / "keep.txt").read_text() == "original\n"


def doctor(tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, BRIDLE_HOME=str(tmp / "b"), HOME=str(tmp))
    env["BRIDLE_MOCK_SCENARIO"] = str(REPO / "examples" / "buggy-project" / "scenario.json")
    return subprocess.run(
        [sys.executable, "-m", "bridle", "--doctor", "--model", "mock/anthropic", *extra],
        cwd=tmp, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_doctor_reports_the_sandbox(tmp_path: Path) -> None:
    missing = json.dumps({"sandbox": {"enabled": True, "bwrapPath": str(tmp_path / "nope")}})
    warn = doctor(tmp_path, "--settings", missing)
    assert f"warn  sandbox: {tmp_path / 'nope'} could not start" in warn.stdout
    assert "(shell commands ask for permission instead)" in warn.stdout
    hard = json.loads(missing)
    hard["sandbox"]["failIfUnavailable"] = True
    fail = doctor(tmp_path, "--settings", json.dumps(hard))
    assert fail.returncode == 1
    assert "FAIL  sandbox:" in fail.stdout and "sandbox.failIfUnavailable to false" in fail.stdout
    assert "sandbox" not in doctor(tmp_path).stdout  # off: not mentioned
    if WHY is None:
        ok = doctor(tmp_path, "--sandbox", "read-only")
        assert f"ok   sandbox: read-only with {shutil.which('bwrap')}" in ok.stdout
