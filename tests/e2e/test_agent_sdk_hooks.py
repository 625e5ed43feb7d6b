"""The Claude Agent SDK's hook callbacks, with bridle as the SDK's CLI.

The SDK names its Python hook functions in `initialize` (`hooks: {EVENT:
[{matcher, hookCallbackIds}]}`); bridle fires them where Claude Code fires the
event by sending `hook_callback` control requests and reads each answer as the
hook's JSON output. The recorded-protocol driver of test_agent_sdk.py plays the
SDK's side for a PreToolUse callback that denies the Edit and one that rewrites
its input; the last tests run the real `claude_agent_sdk` with `HookMatcher`s.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from test_agent_sdk import (
    NEW,
    OLD,
    SCENARIO,
    Bridle,
    allow,
    fixture_lines,
    is_permission,
    make_repo,
    response_to,
    suite_passes,
    tool_result,
    tool_uses,
)

HOOKS = {
    "PreToolUse": [
        {"matcher": "Edit", "hookCallbackIds": ["hook_0"]},
        {"matcher": "Glob|Read", "hookCallbackIds": ["hook_1"], "timeout": 30},
    ]
}


def is_callback(x: dict[str, Any]) -> bool:
    return x.get("type") == "control_request" and x["request"]["subtype"] == "hook_callback"


def answer(request: dict[str, Any], output: dict[str, Any]) -> dict[str, Any]:
    """What the SDK writes back for a hook callback's return value."""
    return {
        "type": "control_response",
        "response": {"subtype": "success", "request_id": request["request_id"], "response": output},
    }


def run_with_hooks(bridle: Bridle, on_edit: dict[str, Any]) -> list[dict[str, Any]]:
    """initialize with HOOKS, the prompt, then answer every request: the Edit's
    callback with `on_edit`, the others' with {} (no opinion), permissions allow.
    Returns the hook_callback requests in order."""
    init, user = fixture_lines("sdk-to-cli.ndjson")[:2]
    bridle.send({**init, "request": {"subtype": "initialize", "hooks": HOOKS}})
    reply = bridle.until(response_to(init["request_id"]))["response"]
    assert reply["subtype"] == "success", reply
    assert reply["response"]["hook_on_failure_supported"] is True
    bridle.send({**user, "message": {"role": "user", "content": "fix the failing test"}})
    callbacks: list[dict[str, Any]] = []
    while (line := bridle.next()) is not None and line["type"] != "result":
        if is_callback(line):
            callbacks.append(line)
            edit = line["request"]["callback_id"] == "hook_0"
            bridle.send(answer(line, on_edit if edit else {}))
        elif is_permission(line):
            bridle.send(allow(line))
    return callbacks


def test_a_pre_tool_use_callback_denies_the_edit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    bridle = Bridle(repo)
    deny = {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": "stats.py is frozen until the release",
        },
        "systemMessage": "the SDK hook held the Edit",
    }
    callbacks = run_with_hooks(bridle, deny)
    code, err = bridle.finish()
    assert code == 0, err
    # Glob, Read and Edit matched; the Bash runs did not.
    uses = {b["id"]: b for b in tool_uses(bridle.seen)}
    fired = [(c["request"]["callback_id"], uses[c["request"]["tool_use_id"]]["name"])
             for c in callbacks]  # fmt: skip
    assert fired == [("hook_1", "Glob"), ("hook_1", "Read"), ("hook_0", "Edit")]
    edit = callbacks[-1]["request"]
    hook_input = edit["input"]
    assert set(edit) == {"subtype", "callback_id", "input", "tool_use_id"}
    assert hook_input["hook_event_name"] == "PreToolUse"
    assert hook_input["tool_name"] == "Edit" and hook_input["tool_use_id"] == edit["tool_use_id"]
    assert hook_input["tool_input"]["old_string"] == OLD
    assert hook_input["cwd"] == str(repo) and hook_input["session_id"]
    assert Path(hook_input["transcript_path"]).is_file()
    told = tool_result(bridle.seen, edit["tool_use_id"])
    assert told["is_error"] is True
    assert "stats.py is frozen until the release" in told["content"]
    assert OLD in (repo / "stats.py").read_text()
    # systemMessage: shown to the user, as a stream-json system line.
    shown = [x for x in bridle.seen if x.get("subtype") == "hook_response"]
    assert [(x["hook_name"], x["outcome"], x["output"]) for x in shown] == [
        ("PreToolUse:Edit", "success", "the SDK hook held the Edit")
    ]


def test_a_pre_tool_use_callback_rewrites_the_input(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    bridle = Bridle(repo)
    changed = NEW + "  # rewritten by the SDK hook"
    rewrite = {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "allow",
            "updatedInput": {
                "file_path": str(repo / "stats.py"),
                "old_string": OLD,
                "new_string": changed,
            },
        }
    }
    run_with_hooks(bridle, rewrite)
    code, err = bridle.finish()
    assert code == 0, err
    assert bridle.seen[-1]["subtype"] == "success"
    assert changed in (repo / "stats.py").read_text()
    # The hook's allow answered the Edit's permission: only the Bash runs asked.
    asked = [x["request"]["tool_name"] for x in bridle.seen if is_permission(x)]
    assert asked == ["Bash", "Bash"]
    assert suite_passes(repo)


def test_a_callback_error_or_a_bad_answer_does_not_stop_the_run(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    bridle = Bridle(repo)
    init, user = fixture_lines("sdk-to-cli.ndjson")[:2]
    hooks = {"PreToolUse": [{"matcher": "Glob", "hookCallbackIds": ["hook_0"]}],
             "NoSuchEvent": [{"hookCallbackIds": ["hook_9"]}]}  # fmt: skip
    bridle.send({**init, "request": {"subtype": "initialize", "hooks": hooks}})
    assert bridle.until(response_to(init["request_id"]))["response"]["subtype"] == "success"
    bridle.send({**user, "message": {"role": "user", "content": "fix the failing test"}})
    while (line := bridle.next()) is not None and line["type"] != "result":
        if is_callback(line):
            bridle.send({"type": "control_response", "response": {
                "subtype": "error", "request_id": line["request_id"],
                "error": "No hook callback found for ID: hook_0"}})  # fmt: skip
        elif is_permission(line):
            bridle.send(allow(line))
    code, err = bridle.finish()
    assert code == 0, err
    assert bridle.seen[-1]["subtype"] == "success" and suite_passes(repo)
    assert "unknown hook event 'NoSuchEvent'" in err
    failed = [x for x in bridle.seen if x.get("subtype") == "hook_response"]
    assert [(x["hook_name"], x["outcome"]) for x in failed] == [("PreToolUse:Glob", "error")]
    assert "the SDK callback failed: No hook callback found for ID: hook_0" in failed[0]["output"]


def real_sdk_options(sdk: Any, repo: Path, hooks: dict[str, Any], **kw: Any) -> Any:
    return sdk.ClaudeAgentOptions(
        cli_path=str(Path(sys.executable).parent / "bridle"),
        cwd=str(repo),
        model="mock/anthropic",
        hooks=hooks,
        env={
            "BRIDLE_MOCK_SCENARIO": str(SCENARIO),
            "BRIDLE_HOME": os.environ["BRIDLE_HOME"],
            "HOME": os.environ["HOME"],
        },
        **kw,
    )


def test_real_agent_sdk_hook_denies(tmp_path: Path) -> None:
    sdk = pytest.importorskip("claude_agent_sdk")
    import anyio

    repo = make_repo(tmp_path)
    seen: list[tuple[str, str | None]] = []

    async def guard(hook_input: Any, tool_use_id: str | None, context: Any) -> Any:
        seen.append((hook_input["tool_name"], tool_use_id))
        return {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": "no edits today",
            }
        }

    async def allow_all(name: str, args: dict[str, Any], context: Any) -> Any:
        return sdk.PermissionResultAllow(updated_input=args)

    hooks = {"PreToolUse": [sdk.HookMatcher(matcher="Edit", hooks=[guard], on_failure="block")]}
    options = real_sdk_options(sdk, repo, hooks, can_use_tool=allow_all)

    async def collect() -> list[Any]:
        async with sdk.ClaudeSDKClient(options=options) as client:
            await client.query("fix the failing test")
            return [m async for m in client.receive_response()]

    messages = anyio.run(collect)
    final = messages[-1]
    assert isinstance(final, sdk.ResultMessage) and final.subtype == "success"
    assert [name for name, _ in seen] == ["Edit"] and seen[0][1]
    results = [
        b for m in messages if isinstance(m, sdk.UserMessage) and isinstance(m.content, list)
        for b in m.content if isinstance(b, sdk.ToolResultBlock) and b.tool_use_id == seen[0][1]
    ]  # fmt: skip
    assert results and results[0].is_error and "no edits today" in str(results[0].content)
    assert OLD in (repo / "stats.py").read_text()


def test_real_agent_sdk_hook_rewrites_input(tmp_path: Path) -> None:
    sdk = pytest.importorskip("claude_agent_sdk")
    import anyio

    repo = make_repo(tmp_path)
    changed = NEW + "  # via HookMatcher"

    async def rewrite(hook_input: Any, tool_use_id: str | None, context: Any) -> Any:
        new = {**hook_input["tool_input"], "new_string": changed}
        return {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "allow",
                "updatedInput": new,
            }
        }

    async def allow_all(name: str, args: dict[str, Any], context: Any) -> Any:
        asked.append(name)
        return sdk.PermissionResultAllow(updated_input=args)

    asked: list[str] = []
    hooks = {"PreToolUse": [sdk.HookMatcher(matcher="Edit|MultiEdit", hooks=[rewrite])]}
    options = real_sdk_options(sdk, repo, hooks, can_use_tool=allow_all)

    async def collect() -> list[Any]:
        return [m async for m in sdk.query(prompt=_prompts(), options=options)]

    final = anyio.run(collect)[-1]
    assert isinstance(final, sdk.ResultMessage) and final.subtype == "success"
    assert changed in (repo / "stats.py").read_text()
    assert asked == ["Bash", "Bash"]
    assert suite_passes(repo)


async def _prompts() -> Any:
    yield {
        "type": "user",
        "message": {"role": "user", "content": "fix the failing test"},
        "parent_tool_use_id": None,
        "session_id": "default",
    }
