"""Claude Code hooks change real headless runs (`python -m bridle -p` against the
mock model): a PreToolUse hook denies `rm` (exit 2 and JSON) and the model reads
why, rewrites a command with `updatedInput`, PostToolUse and SessionStart
context reach the next request, a Stop hook keeps the turn going twice, a
UserPromptSubmit hook blocks the prompt before any model call, `systemMessage`
reaches stderr and stream-json, `disableAllHooks` turns everything off, a hook
past its timeout does not hang the run, SessionStart's CLAUDE_ENV_FILE exports
reach Bash, the transcript is Claude Code's JSONL, and the vendored
env-protection plugin denies `.env` reads from settings and from --plugin-dir."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bridle.mock.server import MockServer

FIXTURE = Path(__file__).parent.parent / "fixtures" / "hooks" / "env-protection"


def project(tmp: Path) -> Path:
    repo = tmp / "repo"
    (repo / "build").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "build" / "keep.txt").write_text("keep me\n")
    return repo


def script(tmp: Path, name: str, body: str) -> Path:
    path = tmp / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def settings(repo: Path, data: dict[str, Any]) -> None:
    (repo / ".claude").mkdir(exist_ok=True)
    (repo / ".claude" / "settings.json").write_text(json.dumps(data))


def hooks(event: str, command: str, matcher: str | None = None, **extra: Any) -> dict[str, Any]:
    group: dict[str, Any] = {"hooks": [{"type": "command", "command": command, **extra}]}
    if matcher is not None:
        group["matcher"] = matcher
    return {"hooks": {event: [group]}}


def scenario(tmp: Path, *turns: dict[str, Any]) -> Path:
    path = tmp / "scenario.json"
    path.write_text(json.dumps({"name": "hooks", "turns": list(turns)}))
    return path


def run(
    repo: Path, tmp: Path, srv: MockServer, *extra: str, prompt: str = "go", fmt: str = "json"
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("BRIDLE_MOCK_SCENARIO", None)
    env.update(BRIDLE_HOME=str(tmp / "bridle"), HOME=str(tmp), BRIDLE_MOCK_BASE_URL=srv.base_url)
    return subprocess.run(
        [sys.executable, "-m", "bridle", "-p", prompt, "--model", "mock/anthropic",
         "--output-format", fmt, *extra],
        cwd=repo, env=env, capture_output=True, text=True, timeout=90,
    )  # fmt: skip


def bodies(srv: MockServer) -> list[dict[str, Any]]:
    return [r["body"] for r in srv.requests if "body" in r]


def text_of(message: dict[str, Any]) -> str:
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") for b in content if b.get("type") == "text")


def tool_results(body: dict[str, Any]) -> str:
    return json.dumps(
        [
            b
            for m in body["messages"]
            if isinstance(m["content"], list)
            for b in m["content"]
            if b.get("type") == "tool_result"
        ]
    )


EXIT2 = 'case "$(cat)" in *\'"rm \'*) echo "rm is not allowed here" >&2; exit 2;; esac\n'
AS_JSON = (
    'case "$(cat)" in *\'"rm \'*) printf \'%s\' \'{"hookSpecificOutput": {"hookEventName": '
    '"PreToolUse", "permissionDecision": "deny", "permissionDecisionReason": '
    '"rm is not allowed here"}}\';; esac\n'
)


@pytest.mark.parametrize("body", [EXIT2, AS_JSON], ids=["exit2", "json"])
def test_pre_tool_use_denies_rm_and_the_model_reads_why(tmp_path: Path, body: str) -> None:
    repo = project(tmp_path)
    guard = script(tmp_path, "guard.sh", body)
    scen = scenario(
        tmp_path, {"op": "bash", "command": "rm -rf build"}, {"op": "final", "text": "ok"}
    )
    with MockServer(scen, workdir=repo, keep_bodies=True) as srv:
        # Allowed by the rules: the hook alone refuses it.
        proc = run(
            repo, tmp_path, srv, "--hook", f"PreToolUse[Bash]:{guard}", "--allowedTools", "Bash"
        )
        sent = bodies(srv)
    assert proc.returncode == 0, proc.stderr
    assert (repo / "build" / "keep.txt").exists()
    seen = tool_results(sent[1])
    assert "PreToolUse:Bash hook denied it: rm is not allowed here" in seen
    assert json.loads(proc.stdout)["permission_denials"][0]["tool_name"] == "Bash"


def test_updated_input_rewrites_the_command(tmp_path: Path) -> None:
    repo = project(tmp_path)
    rewrite = script(
        tmp_path,
        "rewrite.sh",
        'cat >/dev/null\nprintf \'%s\' \'{"hookSpecificOutput": {"hookEventName": "PreToolUse", '
        '"permissionDecision": "allow", "updatedInput": {"command": "echo rewritten-by-hook"}}}\'\n',
    )
    settings(repo, hooks("PreToolUse", str(rewrite), "Bash"))
    scen = scenario(
        tmp_path, {"op": "bash", "command": "echo original"}, {"op": "final", "text": "ok"}
    )
    with MockServer(scen, workdir=repo, keep_bodies=True) as srv:
        # No allow rule: the hook's allow lets the rewritten call run headless.
        proc = run(repo, tmp_path, srv)
        sent = bodies(srv)
    assert proc.returncode == 0, proc.stderr
    seen = tool_results(sent[1])
    assert "rewritten-by-hook" in seen and "original" not in seen


def test_a_deny_rule_still_holds_over_a_hooks_allow(tmp_path: Path) -> None:
    repo = project(tmp_path)
    allow = script(
        tmp_path,
        "allow.sh",
        'cat >/dev/null\nprintf \'%s\' \'{"hookSpecificOutput": {"hookEventName": "PreToolUse", '
        '"permissionDecision": "allow"}}\'\n',
    )
    settings(repo, {**hooks("PreToolUse", str(allow)), "permissions": {"deny": ["Bash(rm:*)"]}})
    scen = scenario(
        tmp_path, {"op": "bash", "command": "rm -rf build"}, {"op": "final", "text": "ok"}
    )
    with MockServer(scen, workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv)
        sent = bodies(srv)
    assert proc.returncode == 0, proc.stderr
    assert (repo / "build" / "keep.txt").exists()
    assert "denied by rule Bash(rm:*)" in tool_results(sent[1])


def test_post_tool_use_context_and_feedback_reach_the_next_request(tmp_path: Path) -> None:
    repo = project(tmp_path)
    post = script(
        tmp_path,
        "post.sh",
        'cat >/dev/null\nprintf \'%s\' \'{"decision": "block", "reason": "run the tests next", '
        '"hookSpecificOutput": {"hookEventName": "PostToolUse", '
        '"additionalContext": "the build folder is generated"}}\'\n',
    )
    settings(repo, hooks("PostToolUse", str(post), "Bash"))
    scen = scenario(tmp_path, {"op": "bash", "command": "ls build"}, {"op": "final", "text": "ok"})
    with MockServer(scen, workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv, "--allowedTools", "Bash")
        sent = bodies(srv)
    assert proc.returncode == 0, proc.stderr
    seen = tool_results(sent[1])
    assert "keep.txt" in seen
    assert "PostToolUse:Bash hook additional context: the build folder is generated" in seen
    assert "PostToolUse:Bash hook feedback: run the tests next" in seen


def test_updated_tool_output_replaces_what_the_model_sees(tmp_path: Path) -> None:
    repo = project(tmp_path)
    post = script(
        tmp_path,
        "post.sh",
        'cat >/dev/null\nprintf \'%s\' \'{"hookSpecificOutput": {"hookEventName": "PostToolUse", '
        '"updatedToolOutput": "[output redacted by a hook]"}}\'\n',
    )
    settings(repo, hooks("PostToolUse", str(post), "Bash"))
    scen = scenario(tmp_path, {"op": "bash", "command": "ls build"}, {"op": "final", "text": "ok"})
    with MockServer(scen, workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv, "--allowedTools", "Bash")
        sent = bodies(srv)
    assert proc.returncode == 0, proc.stderr
    seen = tool_results(sent[1])
    assert "[output redacted by a hook]" in seen and "keep.txt" not in seen


def test_a_stop_hook_blocks_twice_then_lets_the_turn_end(tmp_path: Path) -> None:
    repo = project(tmp_path)
    count = tmp_path / "stops"
    stop = script(
        tmp_path,
        "stop.sh",
        f"cat >/dev/null\nn=$(cat {count} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {count}\n"
        'if [ "$n" -le 2 ]; then echo "not done yet ($n)" >&2; exit 2; fi\n',
    )
    settings(repo, hooks("Stop", str(stop)))
    # The mock answers by the number of tool calls so far: "done" each time.
    scen = scenario(tmp_path, {"op": "final", "text": "done"})
    with MockServer(scen, workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv)
        sent = bodies(srv)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["result"] == "done" and result["num_turns"] == 3
    assert count.read_text().strip() == "3"
    assert len(sent) == 3
    last = sent[2]["messages"]
    assert [m["role"] for m in last] == ["user", "assistant", "user", "assistant", "user"]
    assert "Stop hook feedback:\nnot done yet (1)" in text_of(last[2])
    assert "Stop hook feedback:\nnot done yet (2)" in text_of(last[4])


def test_a_stop_hook_that_always_blocks_is_cut_off_after_eight(tmp_path: Path) -> None:
    repo = project(tmp_path)
    settings(repo, hooks("Stop", "cat >/dev/null; echo keep going >&2; exit 2"))
    with MockServer(scenario(tmp_path, {"op": "final", "text": "done"}), workdir=repo) as srv:
        proc = run(repo, tmp_path, srv)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["num_turns"] == 9  # the answer, then eight continuations


def test_session_start_context_joins_the_first_request(tmp_path: Path) -> None:
    repo = project(tmp_path)
    start = script(
        tmp_path,
        "start.sh",
        'cat >/dev/null\nprintf \'%s\' \'{"hookSpecificOutput": {"hookEventName": "SessionStart", '
        '"additionalContext": "sprint goal: ship hooks"}}\'\n',
    )
    settings(repo, hooks("SessionStart", str(start), "startup"))
    scen = scenario(tmp_path, {"op": "final", "text": "ok"})
    with MockServer(scen, workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv, prompt="what is the goal?")
        sent = bodies(srv)
    assert proc.returncode == 0, proc.stderr
    first = json.dumps(sent[0]["messages"][0])
    assert "SessionStart hook additional context: sprint goal: ship hooks" in first
    assert "what is the goal?" in first


def test_user_prompt_submit_blocks_before_any_model_call(tmp_path: Path) -> None:
    repo = project(tmp_path)
    gate = script(tmp_path, "gate.sh", 'cat >/dev/null\necho "no secrets in prompts" >&2\nexit 2\n')
    settings(repo, hooks("UserPromptSubmit", str(gate)))
    with MockServer(scenario(tmp_path, {"op": "final", "text": "ok"}), workdir=repo) as srv:
        proc = run(repo, tmp_path, srv, prompt="my password is hunter2")
        asked = [r for r in srv.requests if r.get("status") == 200]
    assert proc.returncode == 1
    assert asked == []
    out = json.loads(proc.stdout)
    assert out["is_error"] and out["error_kind"] == "hook_blocked"
    assert "a UserPromptSubmit hook blocked the prompt: no secrets in prompts" in out["errors"][0]


def test_system_message_goes_to_stderr_and_to_stream_json(tmp_path: Path) -> None:
    repo = project(tmp_path)
    say = script(
        tmp_path, "say.sh", 'cat >/dev/null\necho \'{"systemMessage": "lint is clean"}\'\n'
    )
    settings(repo, hooks("Stop", str(say)))
    scen = scenario(tmp_path, {"op": "final", "text": "ok"}, {"op": "final", "text": "ok"})
    with MockServer(scen, workdir=repo) as srv:
        text = run(repo, tmp_path, srv, fmt="text")
        stream = run(repo, tmp_path, srv, fmt="stream-json")
    assert text.returncode == 0, text.stderr
    assert "bridle: hook: lint is clean" in text.stderr
    assert stream.returncode == 0, stream.stderr
    lines = [json.loads(line) for line in stream.stdout.splitlines()]
    hook = [x for x in lines if x.get("subtype") == "hook_response"]
    assert len(hook) == 1
    assert hook[0]["type"] == "system" and hook[0]["hook_event"] == "Stop"
    assert hook[0]["output"] == "lint is clean" and hook[0]["outcome"] == "success"
    assert lines[-1]["type"] == "result"
    assert "lint is clean" not in stream.stderr


def test_disable_all_hooks_turns_every_hook_off(tmp_path: Path) -> None:
    repo = project(tmp_path)
    marker = tmp_path / "ran"
    touch = script(tmp_path, "touch.sh", f"cat >/dev/null\ntouch {marker}\n")
    settings(repo, {**hooks("Stop", str(touch)), "disableAllHooks": True})
    with MockServer(scenario(tmp_path, {"op": "final", "text": "ok"}), workdir=repo) as srv:
        proc = run(repo, tmp_path, srv, "--hook", f"Stop:{touch}")
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists()
    assert "disableAllHooks" not in proc.stderr  # a known key, not "unknown"


def test_a_hook_past_its_timeout_does_not_hang_the_run(tmp_path: Path) -> None:
    repo = project(tmp_path)
    settings(repo, hooks("PreToolUse", "sleep 60", "Bash", timeout=1))
    scen = scenario(tmp_path, {"op": "bash", "command": "echo hi"}, {"op": "final", "text": "ok"})
    with MockServer(scen, workdir=repo) as srv:
        started = time.monotonic()
        proc = run(repo, tmp_path, srv, "--allowedTools", "Bash")
        took = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert took < 30
    assert "PreToolUse:Bash hook error: command hook 'sleep 60'" in proc.stderr
    assert "timed out after 1s" in proc.stderr


def test_session_start_env_file_reaches_bash_and_the_transcript_is_claude_jsonl(
    tmp_path: Path,
) -> None:
    repo = project(tmp_path)
    copy = tmp_path / "transcript-copy.jsonl"
    start = script(
        tmp_path,
        "start.sh",
        'cat >/dev/null\necho "export GREETING=from-hook" >> "$CLAUDE_ENV_FILE"\n',
    )
    grab = script(
        tmp_path,
        "grab.sh",
        f'tp=$(python3 -c "import json,sys; print(json.load(sys.stdin)[\'transcript_path\'])")\ncp "$tp" {copy}\n',
    )
    settings(
        repo,
        {
            "hooks": {
                **hooks("SessionStart", str(start))["hooks"],
                **hooks("PreToolUse", str(grab))["hooks"],
            }
        },
    )
    scen = scenario(
        tmp_path, {"op": "bash", "command": "echo $GREETING"}, {"op": "final", "text": "ok"}
    )
    with MockServer(scen, workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv, "--allowedTools", "Bash", prompt="say hi")
        sent = bodies(srv)
    assert proc.returncode == 0, proc.stderr
    assert "from-hook" in tool_results(sent[1])
    entries = [json.loads(line) for line in copy.read_text().splitlines()]
    assert [e["type"] for e in entries] == ["user", "assistant"]
    assert entries[0]["message"] == {"role": "user", "content": "say hi"}
    assert entries[1]["parentUuid"] == entries[0]["uuid"]
    assert entries[1]["message"]["content"][0]["name"] == "Bash"


@pytest.mark.parametrize("how", ["settings", "plugin-dir"])
def test_the_env_protection_plugin_denies_env_reads(tmp_path: Path, how: str) -> None:
    repo = project(tmp_path)
    (repo / ".env").write_text("API_KEY=sk-secret\n")
    extra: list[str] = []
    if how == "settings":
        data = json.loads((FIXTURE / "hooks" / "hooks.json").read_text())
        text = json.dumps(data).replace("${CLAUDE_PLUGIN_ROOT}", str(FIXTURE))
        settings(repo, json.loads(text))
    else:
        extra = ["--plugin-dir", str(FIXTURE)]
    scen = scenario(tmp_path, {"op": "read", "path": ".env"}, {"op": "final", "text": "ok"})
    with MockServer(scen, workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv, *extra, "--allowedTools", "Read")
        sent = bodies(srv)
    assert proc.returncode == 0, proc.stderr
    seen = tool_results(sent[1])
    assert "Reading .env files is not allowed" in seen
    assert "sk-secret" not in seen


def test_a_malformed_hook_flag_is_a_usage_error(tmp_path: Path) -> None:
    repo = project(tmp_path)
    with MockServer(scenario(tmp_path, {"op": "final", "text": "ok"}), workdir=repo) as srv:
        proc = run(repo, tmp_path, srv, "--hook", "echo hi")
    assert proc.returncode == 64
    assert "write EVENT:COMMAND" in proc.stderr


def test_permission_request_hook_answers_a_headless_ask_and_notification_fires(
    tmp_path: Path,
) -> None:
    repo = project(tmp_path)
    notes = tmp_path / "notes"
    approve = script(
        tmp_path,
        "approve.sh",
        'case "$(cat)" in *\'"echo \'*) printf \'%s\' \'{"hookSpecificOutput": {"hookEventName": '
        '"PermissionRequest", "decision": {"behavior": "allow"}}}\';; esac\n',
    )
    note = script(tmp_path, "note.sh", f"cat >> {notes}\necho >> {notes}\n")
    settings(
        repo,
        {
            "hooks": {
                **hooks("PermissionRequest", str(approve), "Bash")["hooks"],
                **hooks("Notification", str(note), "permission_prompt")["hooks"],
            }
        },
    )
    scen = scenario(
        tmp_path,
        {"op": "bash", "command": "echo approved-by-hook"},
        {"op": "bash", "command": "touch made-by-model"},
        {"op": "final", "text": "ok"},
    )
    with MockServer(scen, workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv)  # no allow rule: Bash asks, and nobody can answer
        sent = bodies(srv)
    assert proc.returncode == 0, proc.stderr
    assert "approved-by-hook" in tool_results(sent[1])
    assert not (repo / "made-by-model").exists()
    assert "a headless run has nobody to ask" in tool_results(sent[2])
    payloads = [json.loads(line) for line in notes.read_text().splitlines() if line.strip()]
    assert [p["notification_type"] for p in payloads] == ["permission_prompt"]
    assert payloads[0]["message"] == "bridle needs your permission to use Bash"


def test_a_skills_hooks_apply_once_the_skill_is_loaded(tmp_path: Path) -> None:
    repo = project(tmp_path)
    skill = repo / ".claude" / "skills" / "careful" / "SKILL.md"
    skill.parent.mkdir(parents=True)
    skill.write_text(
        "---\nname: careful\ndescription: Be careful with files\nhooks:\n  PreToolUse:\n"
        "    - matcher: Bash\n      hooks:\n        - type: command\n"
        '          command: "cat >/dev/null; echo careful skill says no >&2; exit 2"\n---\n'
        "Never delete anything.\n"
    )
    scen = scenario(
        tmp_path,
        {"op": "bash", "command": "echo before"},
        {"op": "call", "tool": "Skill", "input": json.dumps({"skill": "careful"})},
        {"op": "bash", "command": "echo after"},
        {"op": "final", "text": "ok"},
    )
    with MockServer(scen, workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv, "--allowedTools", "Bash,Skill")
        sent = bodies(srv)
    assert proc.returncode == 0, proc.stderr
    results = [json.dumps(r["content"]) for r in json.loads(tool_results(sent[3]))]
    assert "before" in results[0] and "careful" not in results[0]
    assert "careful skill says no" in results[2] and "after" not in results[2]


def test_a_run_without_hooks_imports_and_writes_nothing_for_them(tmp_path: Path) -> None:
    repo = project(tmp_path)
    with MockServer(scenario(tmp_path, {"op": "final", "text": "ok"}), workdir=repo) as srv:
        proc = run(repo, tmp_path, srv)
        env = dict(os.environ, BRIDLE_HOME=str(tmp_path / "b2"), HOME=str(tmp_path))
        env["BRIDLE_MOCK_BASE_URL"] = srv.base_url
        timed = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "bridle", "-p", "go",
             "--model", "mock/anthropic"],
            cwd=repo, env=env, capture_output=True, text=True, timeout=90,
        )  # fmt: skip
    assert proc.returncode == 0 and timed.returncode == 0, timed.stderr[-2000:]
    assert not (tmp_path / "bridle" / "transcripts").exists()
    imported = [ln.rsplit("|", 1)[-1].strip() for ln in timed.stderr.splitlines() if "|" in ln]
    assert "bridle.engine.hooks_setup" in imported  # the check itself is cheap
    assert not [m for m in imported if m.startswith("bridle.hooks")]


def test_session_end_runs_on_close_within_its_budget(tmp_path: Path) -> None:
    repo = project(tmp_path)
    seen = tmp_path / "end.json"
    settings(
        repo,
        {
            "hooks": {
                "SessionEnd": [
                    {"hooks": [{"type": "command", "command": f"cat > {seen}"}]},
                    {"hooks": [{"type": "command", "command": "sleep 60", "timeout": 120}]},
                ]
            }
        },
    )
    with MockServer(scenario(tmp_path, {"op": "final", "text": "ok"}), workdir=repo) as srv:
        started = time.monotonic()
        proc = run(repo, tmp_path, srv)
        took = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert took < 30
    payload = json.loads(seen.read_text())
    assert payload["hook_event_name"] == "SessionEnd" and payload["reason"] == "other"
    assert payload["session_id"] == json.loads(proc.stdout)["session_id"]


def test_stop_failure_fires_when_a_model_error_ends_the_turn(tmp_path: Path) -> None:
    repo = project(tmp_path)
    seen = tmp_path / "failure.json"
    stopped = tmp_path / "stop-ran"
    settings(
        repo,
        {
            "hooks": {
                **hooks("StopFailure", f"cat > {seen}")["hooks"],
                **hooks("Stop", f"touch {stopped}")["hooks"],
            }
        },
    )
    (repo / ".bridle").mkdir()
    (repo / ".bridle" / "settings.json").write_text(
        json.dumps({"providers": {"mock": {"max_retries": 0}}})
    )
    turn = {"op": "final", "text": "ok", "fault": {"kind": "500", "times": 9}}
    with MockServer(scenario(tmp_path, turn), workdir=repo) as srv:
        proc = run(repo, tmp_path, srv)
    assert proc.returncode != 0
    payload = json.loads(seen.read_text())
    assert payload["hook_event_name"] == "StopFailure"
    assert payload["error"] == "server_error" and payload["error_details"]
    assert not stopped.exists()


def test_cwd_changed_fires_when_the_shell_moves(tmp_path: Path) -> None:
    repo = project(tmp_path)
    (repo / "sub").mkdir()
    seen = tmp_path / "cwd.jsonl"
    hook = script(tmp_path, "cwd.sh", f"cat >> {seen}\necho >> {seen}\n")
    settings(repo, hooks("CwdChanged", str(hook)))
    turns = [
        {"op": "bash", "command": "cd sub && pwd"},
        {"op": "bash", "command": "ls"},  # stays in sub: no second event
        {"op": "final", "text": "done"},
    ]
    with MockServer(scenario(tmp_path, *turns), workdir=repo) as srv:
        proc = run(repo, tmp_path, srv, "--dangerously-skip-permissions")
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in seen.read_text().splitlines() if line.strip()]
    assert [(e["hook_event_name"], e["old_cwd"], e["new_cwd"]) for e in events] == [
        ("CwdChanged", str(repo), str(repo / "sub"))
    ]
