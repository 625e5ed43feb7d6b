"""Resuming a session, end to end (defects 4, 5 and 17; fixes in ceaee6b).

- `-c` and `-r` continue with the model the session recorded when no `--model`
  is given; `--model` still wins; a recorded model bridle can no longer resolve
  is a usage error (64) that names the model and `--model`.
- While one process writes a session, a second `-r`/`-c` of it is refused with
  exit 64 naming the holder's pid; once the holder is gone (even SIGKILLed) the
  session can be continued.
- `-c` from a subdirectory finds the project's latest session; another project
  does not see it.
- `-r` of an id nobody knows is a usage error (64).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bridle.mock.server import MockServer

ROOT = Path(__file__).resolve().parents[2]
ONE_TURN = ROOT / "bench" / "scenarios" / "one_turn.json"
HELLO = "Hello from the bridle mock."


def bridle(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridle", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        input="",
        timeout=120,
    )


def git_repo(path: Path) -> Path:
    (path / "sub" / "deep").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def local_provider(repo: Path, base_url: str) -> None:
    """A project-level custom provider `local` served by the mock."""
    (repo / ".bridle").mkdir(exist_ok=True)
    (repo / ".bridle" / "settings.json").write_text(
        json.dumps(
            {
                "providers": {
                    "local": {"wire": "anthropic-messages", "base_url": base_url, "api_key": "k"}
                }
            }
        )
    )


def init_line(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert proc.returncode == 0, proc.stderr
    first = json.loads(proc.stdout.splitlines()[0])
    assert (first["type"], first["subtype"]) == ("system", "init")
    return first


STREAM = ["--output-format", "stream-json"]


def test_continue_and_resume_keep_the_recorded_model(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "proj")
    with MockServer(ONE_TURN) as srv:
        local_provider(repo, srv.base_url)
        first = init_line(bridle(["-p", "say hello", "--model", "local/llama", *STREAM], repo))
        sid = first["session_id"]
        assert first["model"] == "local/llama"
        # No --model: the session's own model, not "no model: pass --model".
        cont = init_line(bridle(["-c", "-p", "again", *STREAM], repo))
        assert (cont["session_id"], cont["model"]) == (sid, "local/llama")
        resumed = init_line(bridle(["-r", sid[:8], "-p", "and again", *STREAM], repo))
        assert (resumed["session_id"], resumed["model"]) == (sid, "local/llama")
        # --model says otherwise, and the session remembers the switch.
        switched = init_line(
            bridle(["-c", "-p", "on mock", "--model", "mock/anthropic", *STREAM], repo,
                   {"BRIDLE_MOCK_BASE_URL": srv.base_url})
        )  # fmt: skip
        assert (switched["session_id"], switched["model"]) == (sid, "mock/anthropic")
        after = init_line(
            bridle(
                ["-c", "-p", "still mock", *STREAM], repo, {"BRIDLE_MOCK_BASE_URL": srv.base_url}
            )
        )
        assert after["model"] == "mock/anthropic"
        shown = bridle(["sessions", "export", sid], repo).stdout
        assert "| Model | mock/anthropic |" in shown.splitlines()


def test_an_unresolvable_recorded_model_asks_for_model(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "proj")
    with MockServer(ONE_TURN) as srv:
        local_provider(repo, srv.base_url)
        sid = init_line(bridle(["-p", "say hello", "--model", "local/llama", *STREAM], repo))[
            "session_id"
        ]
    (repo / ".bridle" / "settings.json").write_text("{}")  # the provider is gone
    for args in (["-c"], ["-r", sid]):
        proc = bridle([*args, "-p", "again"], repo)
        assert proc.returncode == 64, proc.stderr
        assert proc.stdout == ""
        assert "the session was using the model 'local/llama'" in proc.stderr
        assert "pass --model provider/model to continue it with another model" in proc.stderr
        assert "Traceback" not in proc.stderr


def test_a_session_in_use_is_refused_until_its_writer_is_gone(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "proj")
    slow = tmp_path / "slow.json"
    slow.write_text(
        json.dumps({"name": "slow", "prompt": "p", "final": HELLO,
                    "turns": [{"op": "final", "text": HELLO, "delay_ms": 60000}]})
    )  # fmt: skip
    with MockServer(slow) as stalled, MockServer(ONE_TURN) as calm:
        writer = subprocess.Popen(
            [sys.executable, "-m", "bridle", "-p", "take your time", "--model", "mock/anthropic",
             *STREAM],
            cwd=repo, env={**os.environ, "BRIDLE_MOCK_BASE_URL": stalled.base_url},
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert writer.stdout is not None
            sid = json.loads(writer.stdout.readline())["session_id"]
            env = {"BRIDLE_MOCK_BASE_URL": calm.base_url}
            for args in (["-r", sid], ["-r", sid[:8]], ["-c"]):
                second = bridle([*args, "-p", "me too", "--model", "mock/anthropic"], repo, env)
                assert second.returncode == 64, second.stderr
                assert second.stdout == ""
                assert f"session {sid} is in use by bridle process {writer.pid};" in second.stderr
                assert "--fork-session" in second.stderr
            assert calm.requests == []  # refused before any request
            # A fork is a new session: allowed while the first is busy.
            fork = bridle(
                ["-r", sid, "--fork-session", "-p", "aside", "--model", "mock/anthropic",
                 "--output-format", "json"], repo, env,
            )  # fmt: skip
            assert fork.returncode == 0, fork.stderr
            assert json.loads(fork.stdout)["session_id"] != sid
        finally:
            writer.send_signal(signal.SIGKILL)
            writer.wait(timeout=30)
            assert writer.stdout is not None and writer.stderr is not None
            writer.stdout.close()
            writer.stderr.close()
        # The kernel released the killed writer's lease: the session goes on.
        after = bridle(["-r", sid, "-p", "now", "--model", "mock/anthropic", "--output-format",
                        "json"], repo, env)  # fmt: skip
        assert after.returncode == 0, after.stderr
        result = json.loads(after.stdout)
        assert (result["session_id"], result["result"]) == (sid, HELLO)


def test_continue_from_a_subdirectory_finds_the_project_session(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "proj")
    other = git_repo(tmp_path / "proj2")  # a name that extends the first one's
    env = {"BRIDLE_MOCK_SCENARIO": str(ONE_TURN)}
    sid = init_line(bridle(["-p", "say hello", "--model", "mock/anthropic", *STREAM], repo, env))[
        "session_id"
    ]
    for where in (repo / "sub", repo / "sub" / "deep"):
        cont = init_line(bridle(["-c", "-p", "again", *STREAM], where, env))
        assert (cont["session_id"], cont["cwd"]) == (sid, str(where))
    elsewhere = bridle(["-c", "-p", "again", "--model", "mock/anthropic"], other / "sub", env)
    assert elsewhere.returncode == 64
    assert elsewhere.stderr == (
        f"bridle: no earlier bridle session in {other} to continue; start one without -c\n"
    )


@pytest.mark.parametrize("ref", ["nosuchid", "0000dead"])
def test_resume_of_an_unknown_id_is_a_usage_error(tmp_path: Path, ref: str) -> None:
    env = {"BRIDLE_MOCK_SCENARIO": str(ONE_TURN)}
    proc = bridle(["-r", ref, "-p", "again", "--model", "mock/anthropic"], tmp_path, env)
    assert proc.returncode == 64, proc.stderr
    assert proc.stdout == ""
    assert ref in proc.stderr and "Traceback" not in proc.stderr
