"""Permission modes map onto each CLI's own flags: plan is read-only, bypass only
under bypass, and the final answer is read from the CLI's headless output."""

from __future__ import annotations

import json

import pytest

from bridle.engine.agents_external import cli_argv, final_answer

BYPASS = {
    "claude": "--dangerously-skip-permissions",
    "codex": "--dangerously-bypass-approvals-and-sandbox",
    "gemini": "--yolo",
    "copilot": "--allow-all-tools",
}


@pytest.mark.parametrize(
    ("tool", "mode", "expected"),
    [
        ("claude", "plan", ["-p", "P", "--output-format", "json", "--permission-mode", "plan"]),
        ("claude", "acceptEdits", ["-p", "P", "--output-format", "json", "--permission-mode", "acceptEdits"]),
        ("codex", "plan", ["exec", "--skip-git-repo-check", "--sandbox", "read-only", "P"]),
        ("codex", "default", ["exec", "--skip-git-repo-check", "--sandbox", "workspace-write", "P"]),
        ("gemini", "plan", ["-p", "P", "--approval-mode", "plan"]),
        ("gemini", "acceptEdits", ["-p", "P", "--approval-mode", "auto_edit"]),
        ("copilot", "plan", ["-p", "P", "--deny-tool", "write", "--deny-tool", "shell"]),
        ("copilot", "default", ["-p", "P"]),
    ],
)  # fmt: skip
def test_modes_map_onto_each_clis_flags(tool: str, mode: str, expected: list[str]) -> None:
    assert cli_argv(tool, "P", mode, [], None) == expected


@pytest.mark.parametrize("tool", sorted(BYPASS))
def test_bypass_flags_only_in_bypass_mode(tool: str) -> None:
    for mode in ("default", "acceptEdits", "plan", "dontAsk"):
        assert BYPASS[tool] not in cli_argv(tool, "P", mode, [], None)
    assert BYPASS[tool] in cli_argv(tool, "P", "bypassPermissions", [], None)


def test_settings_args_and_model_are_passed() -> None:
    argv = cli_argv("claude", "P", "default", ["--max-turns", "5"], "sonnet")
    assert argv[-4:] == ["--model", "sonnet", "--max-turns", "5"]


def test_the_final_answer_comes_from_claudes_json_result() -> None:
    out = "noise\n" + json.dumps({"type": "result", "result": "fixed it"}) + "\n"
    assert final_answer("claude", out) == "fixed it"
    assert final_answer("codex", "  the answer \n") == "the answer"
