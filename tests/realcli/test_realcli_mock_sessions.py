"""The real Claude Code, Codex CLI, Gemini CLI and Copilot CLI each fix the buggy
example project against `bridle mock serve`: they find the files, run the tests,
read stats.py, edit the bug, re-run the tests. The fix is checked on disk and by
running the test suite afterwards; the mock's request log shows which tools each
CLI offered and which the scenario's ops were mapped onto."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from realcli.harness import BUGGY_PROJECT, MockProcess, prepare_cli, project_copy, run_cli

pytestmark = pytest.mark.realcli

OLD = "return sum(values) / (len(values) + 1)"
NEW = "return sum(values) / len(values)"

# (cli, wire for copilot, tools the five scripted ops must be mapped onto)
CASES = [
    ("claude", None, ["Bash", "Bash", "Read", "Edit", "Bash"]),
    ("codex", None, ["exec_command"] * 5),
    ("gemini", None, ["glob", "run_shell_command", "read_file", "replace", "run_shell_command"]),
    ("copilot", "openai-chat", ["glob", "bash", "view", "edit", "bash"]),
    ("copilot", "anthropic-messages", ["glob", "bash", "view", "edit", "bash"]),
    ("copilot", "openai-responses", ["glob", "bash", "view", "edit", "bash"]),
]


def _scenario(
    tmp_path: Path, faults: dict[int, dict[str, object]] | None = None
) -> tuple[Path, dict]:
    # Codex runs commands in a login shell whose PATH has python3 but no `python`.
    raw = json.loads((BUGGY_PROJECT / "scenario.json").read_text())
    for turn in raw["turns"]:
        if turn["op"] == "bash":
            turn["command"] = turn["command"].replace("python -m", "python3 -m")
    for index, fault in (faults or {}).items():
        raw["turns"][index]["fault"] = fault
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(raw))
    return path, raw


def _session(
    tmp_path: Path, cli: str, wire: str | None, faults: dict[int, dict[str, object]] | None = None
):
    scenario, raw = _scenario(tmp_path, faults)
    repo = project_copy(tmp_path / "repo")
    original = (repo / "stats.py").read_text()
    with MockProcess(scenario, log=tmp_path / "mock.jsonl") as mock:
        run = prepare_cli(
            cli, port=mock.port, cwd=repo, home=tmp_path / "home", prompt=raw["prompt"], wire=wire
        )
        done = run_cli(run, timeout=900)
        log = mock.requests()
    return repo, original, raw, done, log


def _assert_fixed(repo: Path, original: str) -> None:
    assert (repo / "stats.py").read_text() == original.replace(OLD, NEW)
    tests = subprocess.run(
        ["python3", "-m", "unittest", "-q"], cwd=repo, capture_output=True, text=True
    )
    assert tests.returncode == 0, tests.stderr


@pytest.mark.parametrize(
    ("cli", "wire", "tools"), CASES, ids=[f"{c}-{w or 'default'}" for c, w, _ in CASES]
)
def test_real_cli_fixes_the_bug(
    tmp_path: Path, cli: str, wire: str | None, tools: list[str]
) -> None:
    repo, original, raw, done, log = _session(tmp_path, cli, wire)
    assert done.returncode == 0, f"stdout:\n{done.stdout[-2000:]}\nstderr:\n{done.stderr[-2000:]}"
    assert raw["final"] in done.stdout
    _assert_fixed(repo, original)
    scripted = [e for e in log if "turn" in e]
    assert [e["tool"] for e in scripted if e["op"] != "final"] == tools
    assert [e["turn"] for e in scripted] == [0, 1, 2, 3, 4, 5]
    assert [e.get("violation") for e in log] == [None] * len(log)


@pytest.mark.parametrize(
    ("cli", "faults"),
    [
        (
            "claude",
            {1: {"kind": "529", "times": 1}, 3: {"kind": "429", "times": 1, "retry_after": 0}},
        ),
        (
            "codex",
            {
                1: {"kind": "500", "times": 1},
                2: {"kind": "cut", "times": 1},
                3: {"kind": "malformed", "times": 1},
            },
        ),
    ],
)
def test_real_cli_retries_through_injected_faults(
    tmp_path: Path, cli: str, faults: dict[int, dict[str, object]]
) -> None:
    repo, original, _raw, done, log = _session(tmp_path, cli, None, faults)
    assert done.returncode == 0, f"stdout:\n{done.stdout[-2000:]}\nstderr:\n{done.stderr[-2000:]}"
    _assert_fixed(repo, original)
    failed = sorted((e["turn"], e["fault"]) for e in log if e.get("fault"))
    assert failed == sorted((i, str(f["kind"])) for i, f in faults.items())
    assert max(e["turn"] for e in log if "turn" in e) == 5
