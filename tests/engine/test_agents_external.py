"""Permission modes map onto each CLI's own flags: plan is read-only, bypass only
under bypass, each runs in its streaming JSON mode, and the final answer is read
from that output."""

from __future__ import annotations

import json

import pytest

from bridle.engine.agents_external import cli_argv, final_answer

STREAM = {
    "claude": ["--output-format", "stream-json", "--verbose"],
    "gemini": ["--output-format", "stream-json"],
    "copilot": ["--output-format", "json"],
}
BYPASS = {
    "claude": "--dangerously-skip-permissions",
    "codex": "--dangerously-bypass-approvals-and-sandbox",
    "gemini": "--yolo",
    "copilot": "--allow-all-tools",
}


@pytest.mark.parametrize(
    ("tool", "mode", "expected"),
    [
        ("claude", "plan", ["-p", "P", *STREAM["claude"], "--permission-mode", "plan"]),
        ("claude", "acceptEdits", ["-p", "P", *STREAM["claude"], "--permission-mode", "acceptEdits"]),
        ("codex", "plan", ["exec", "--skip-git-repo-check", "--json", "--sandbox", "read-only", "P"]),
        ("codex", "default", ["exec", "--skip-git-repo-check", "--json", "--sandbox", "workspace-write", "P"]),
        ("gemini", "plan", ["-p", "P", *STREAM["gemini"], "--approval-mode", "plan"]),
        ("gemini", "acceptEdits", ["-p", "P", *STREAM["gemini"], "--approval-mode", "auto_edit"]),
        ("copilot", "plan", ["-p", "P", *STREAM["copilot"], "--deny-tool", "write", "--deny-tool", "shell"]),
        ("copilot", "default", ["-p", "P", "--output-format", "json"]),
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


def test_the_final_answer_comes_from_the_clis_result_or_last_words() -> None:
    out = "noise\n" + json.dumps({"type": "result", "result": "fixed it"}) + "\n"
    assert final_answer("claude", out) == "fixed it"
    codex = [
        {"type": "item.completed", "item": {"id": "1", "type": "agent_message", "text": "first"}},
        {"type": "item.completed", "item": {"id": "2", "type": "agent_message", "text": "done"}},
    ]
    assert final_answer("codex", "\n".join(json.dumps(d) for d in codex)) == "done"
    assert final_answer("codex", "  the answer \n") == "the answer"  # not its JSON mode
