"""Exit codes and JSON outputs for every event bridle fires, with real sh scripts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridle.hooks.events import (
    BLOCKING_EVENTS,
    EVENTS,
    EXIT2_IGNORED_EVENTS,
    FEEDBACK_EVENTS,
    OUTPUT_IGNORED_EVENTS,
    STDOUT_CONTEXT_EVENTS,
)

from .helpers import command_hooks, ctx, runner_for, sample_payload, script


@pytest.mark.parametrize("event", EVENTS)
def test_exit_2_blocks_only_where_claude_code_blocks(tmp_path: Path, event: str) -> None:
    hook = script(tmp_path, "h.sh", "cat >/dev/null; echo 'not allowed' >&2; exit 2\n")
    runner = runner_for(tmp_path, command_hooks(event, str(hook)))
    out = runner.run(event, sample_payload(event, ctx(tmp_path)))
    assert out.ran == 1
    assert out.blocked is (event in BLOCKING_EVENTS)
    if event in BLOCKING_EVENTS:
        assert out.block_reason == "not allowed"
    if event in FEEDBACK_EVENTS:
        assert out.feedback == ("not allowed",)
    if event == "PreToolUse":
        assert out.permission_decision == "deny"
        assert out.permission_decision_reason == "not allowed"
    if event in BLOCKING_EVENTS | FEEDBACK_EVENTS | EXIT2_IGNORED_EVENTS:
        assert not out.errors
    else:  # "shows stderr to user only"
        assert [e.reason for e in out.errors] == [
            "Failed with non-blocking status code: not allowed"
        ]


@pytest.mark.parametrize("event", EVENTS)
def test_exit_0_json_system_message_and_stdin(tmp_path: Path, event: str) -> None:
    seen = tmp_path / "stdin.json"
    hook = script(
        tmp_path,
        "h.sh",
        f'cat > {seen}\necho \'{{"systemMessage": "from {event}"}}\'\n',
    )
    runner = runner_for(tmp_path, command_hooks(event, str(hook)))
    payload = sample_payload(event, ctx(tmp_path))
    out = runner.run(event, payload)
    got = json.loads(seen.read_text())
    assert got == payload
    assert got["hook_event_name"] == event and got["session_id"] == "sess-1"
    expected = () if event in OUTPUT_IGNORED_EVENTS else (f"from {event}",)
    assert out.system_messages == expected
    assert not out.blocked and not out.errors


@pytest.mark.parametrize("event", EVENTS)
def test_other_exit_codes_are_non_blocking_errors(tmp_path: Path, event: str) -> None:
    hook = script(tmp_path, "h.sh", "echo 'boom happened' >&2; echo second >&2; exit 1\n")
    runner = runner_for(tmp_path, command_hooks(event, str(hook)))
    out = runner.run(event, sample_payload(event, ctx(tmp_path)))
    assert not out.blocked
    assert len(out.errors) == 1
    assert out.errors[0].reason == "Failed with non-blocking status code: boom happened"
    assert str(hook) in out.errors[0].hook


@pytest.mark.parametrize("event", sorted(STDOUT_CONTEXT_EVENTS & set(EVENTS)))
def test_plain_stdout_becomes_context(tmp_path: Path, event: str) -> None:
    hook = script(tmp_path, "h.sh", "echo 'Current branch: main'\n")
    runner = runner_for(tmp_path, command_hooks(event, str(hook)))
    out = runner.run(event, sample_payload(event, ctx(tmp_path)))
    assert out.additional_context == ("Current branch: main",)


def test_plain_stdout_is_not_context_on_other_events(tmp_path: Path) -> None:
    hook = script(tmp_path, "h.sh", "echo 'chatter'\n")
    runner = runner_for(tmp_path, command_hooks("PostToolUse", str(hook)))
    out = runner.run("PostToolUse", sample_payload("PostToolUse", ctx(tmp_path)))
    assert out.additional_context == () and not out.errors


def _json_hook(tmp_path: Path, name: str, obj: object, code: int = 0) -> str:
    data = tmp_path / f"{name}.json"
    data.write_text(json.dumps(obj))
    return str(script(tmp_path, name, f"cat >/dev/null; cat {data}; exit {code}\n"))


def test_pre_tool_use_precedence_deny_over_ask_over_allow(tmp_path: Path) -> None:
    def decision(d: str) -> dict:
        return {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": d,
                "permissionDecisionReason": f"because {d}",
            }
        }

    allow = _json_hook(tmp_path, "allow.sh", decision("allow"))
    ask = _json_hook(tmp_path, "ask.sh", decision("ask"))
    deny = _json_hook(tmp_path, "deny.sh", decision("deny"))
    payload = sample_payload("PreToolUse", ctx(tmp_path))
    out = runner_for(tmp_path, command_hooks("PreToolUse", allow, ask)).run("PreToolUse", payload)
    assert (out.permission_decision, out.permission_decision_reason) == ("ask", "because ask")
    assert not out.blocked
    out = runner_for(tmp_path, command_hooks("PreToolUse", allow, deny, ask)).run(
        "PreToolUse", payload
    )
    assert out.permission_decision == "deny" and out.blocked
    assert out.block_reason == "because deny"


def test_pre_tool_use_updated_input_and_context(tmp_path: Path) -> None:
    hook = _json_hook(
        tmp_path,
        "rw.sh",
        {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "allow",
                "updatedInput": {"command": "echo safer"},
                "additionalContext": "production box",
            }
        },
    )
    out = runner_for(tmp_path, command_hooks("PreToolUse", hook)).run(
        "PreToolUse", sample_payload("PreToolUse", ctx(tmp_path))
    )
    assert out.permission_decision == "allow"
    assert out.updated_input == {"command": "echo safer"}
    assert out.additional_context == ("production box",)


def test_deprecated_approve_and_block_map_to_allow_and_deny(tmp_path: Path) -> None:
    approve = _json_hook(tmp_path, "a.sh", {"decision": "approve"})
    block = _json_hook(tmp_path, "b.sh", {"decision": "block", "reason": "old style"})
    payload = sample_payload("PreToolUse", ctx(tmp_path))
    out = runner_for(tmp_path, command_hooks("PreToolUse", approve)).run("PreToolUse", payload)
    assert out.permission_decision == "allow" and not out.blocked
    out = runner_for(tmp_path, command_hooks("PreToolUse", block)).run("PreToolUse", payload)
    assert out.permission_decision == "deny" and out.block_reason == "old style"


def test_exit_2_beats_a_json_allow(tmp_path: Path) -> None:
    hook = script(
        tmp_path,
        "h.sh",
        'echo \'{"hookSpecificOutput": {"hookEventName": "PreToolUse", '
        '"permissionDecision": "allow"}}\'; echo stop >&2; exit 2\n',
    )
    out = runner_for(tmp_path, command_hooks("PreToolUse", str(hook))).run(
        "PreToolUse", sample_payload("PreToolUse", ctx(tmp_path))
    )
    assert out.permission_decision == "deny" and out.blocked


def test_post_tool_use_updated_output_and_block(tmp_path: Path) -> None:
    hook = _json_hook(
        tmp_path,
        "p.sh",
        {
            "decision": "block",
            "reason": "lint failed",
            "hookSpecificOutput": {
                "hookEventName": "PostToolUse",
                "updatedToolOutput": {"stdout": "[redacted]"},
            },
        },
    )
    out = runner_for(tmp_path, command_hooks("PostToolUse", hook)).run(
        "PostToolUse", sample_payload("PostToolUse", ctx(tmp_path))
    )
    assert out.updated_tool_output == {"stdout": "[redacted]"}
    assert out.blocked and out.block_reason == "lint failed"


def test_session_start_initial_message_title_and_context(tmp_path: Path) -> None:
    hook = _json_hook(
        tmp_path,
        "s.sh",
        {
            "hookSpecificOutput": {
                "hookEventName": "SessionStart",
                "additionalContext": "branch main",
                "initialUserMessage": "run the tests",
                "sessionTitle": "tests",
            }
        },
    )
    out = runner_for(tmp_path, command_hooks("SessionStart", hook, matcher="startup")).run(
        "SessionStart", sample_payload("SessionStart", ctx(tmp_path))
    )
    assert out.additional_context == ("branch main",)
    assert out.initial_user_message == "run the tests" and out.session_title == "tests"


def test_session_start_matcher_on_source(tmp_path: Path) -> None:
    hook = script(tmp_path, "h.sh", "echo context\n")
    runner = runner_for(tmp_path, command_hooks("SessionStart", str(hook), matcher="resume"))
    assert runner.run("SessionStart", sample_payload("SessionStart", ctx(tmp_path))).ran == 0


def test_permission_request_decision_and_exit_2_ignored(tmp_path: Path) -> None:
    hook = _json_hook(
        tmp_path,
        "pr.sh",
        {
            "hookSpecificOutput": {
                "hookEventName": "PermissionRequest",
                "decision": {"behavior": "allow", "updatedInput": {"command": "npm run lint"}},
            }
        },
    )
    payload = sample_payload("PermissionRequest", ctx(tmp_path))
    out = runner_for(tmp_path, command_hooks("PermissionRequest", hook)).run(
        "PermissionRequest", payload
    )
    assert out.permission_request is not None
    assert out.permission_request.behavior == "allow"
    assert out.permission_request.updated_input == {"command": "npm run lint"}
    two = script(tmp_path, "two.sh", "echo no >&2; exit 2\n")
    out = runner_for(tmp_path, command_hooks("PermissionRequest", str(two))).run(
        "PermissionRequest", payload
    )
    assert out.permission_request is None and not out.blocked


def test_permission_denied_retry(tmp_path: Path) -> None:
    hook = _json_hook(
        tmp_path,
        "r.sh",
        {"hookSpecificOutput": {"hookEventName": "PermissionDenied", "retry": True}},
    )
    out = runner_for(tmp_path, command_hooks("PermissionDenied", hook)).run(
        "PermissionDenied", sample_payload("PermissionDenied", ctx(tmp_path))
    )
    assert out.retry


def test_stop_block_and_continue_false(tmp_path: Path) -> None:
    block = _json_hook(tmp_path, "b.sh", {"decision": "block", "reason": "tests still fail"})
    halt = _json_hook(tmp_path, "h.sh", {"continue": False, "stopReason": "build broke"})
    out = runner_for(tmp_path, command_hooks("Stop", block, halt)).run(
        "Stop", sample_payload("Stop", ctx(tmp_path))
    )
    assert out.blocked and out.block_reason == "tests still fail"
    assert out.continue_ is False and out.stop_reason == "build broke"


@pytest.mark.parametrize(
    ("stdout", "why"),
    [
        ("{not json}", "not valid JSON"),
        ('{"continue": "no"}', "'continue' must be true or false"),
        ('{"hookSpecificOutput": {"hookEventName": "Stop"}}', "the event is PreToolUse"),
        ('{"hookSpecificOutput": {"permissionDecision": "maybe"}}', "permissionDecision must be"),
    ],
)
def test_garbage_and_schema_errors_do_not_block(tmp_path: Path, stdout: str, why: str) -> None:
    data = tmp_path / "out.txt"
    data.write_text(stdout)
    hook = script(tmp_path, "g.sh", f"cat {data}\n")
    out = runner_for(tmp_path, command_hooks("PreToolUse", str(hook))).run(
        "PreToolUse", sample_payload("PreToolUse", ctx(tmp_path))
    )
    assert not out.blocked and out.permission_decision is None
    assert len(out.errors) == 1 and why in out.errors[0].reason


def test_json_lines_that_set_nothing_are_plain_text(tmp_path: Path) -> None:
    hook = script(tmp_path, "l.sh", "echo '{\"a\": 1}'; echo '{\"b\": 2}'\n")
    out = runner_for(tmp_path, command_hooks("UserPromptSubmit", str(hook))).run(
        "UserPromptSubmit", sample_payload("UserPromptSubmit", ctx(tmp_path))
    )
    assert not out.errors and out.additional_context == ('{"a": 1}\n{"b": 2}',)
