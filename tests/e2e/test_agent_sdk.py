"""bridle as the CLI of a Claude Agent SDK application.

A small driver speaks the SDK's side of the recorded exchange
(tests/fixtures/claude-agent-sdk-protocol) to a real bridle process running the
example bugfix against the mock model: permissions are asked over the control
protocol, answers (allow with updatedInput, deny with a message) take effect,
and control requests arriving while a permission is pending are answered. The
last test runs the real `claude_agent_sdk.query` with `cli_path` set to bridle.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "buggy-project"
SCENARIO = EXAMPLE / "scenario.json"
FIX = ROOT / "tests" / "fixtures" / "claude-agent-sdk-protocol"
OLD = "return sum(values) / (len(values) + 1)"
NEW = "return sum(values) / len(values)"


def fixture_lines(name: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (FIX / name).read_text().splitlines() if x.strip()]


def sdk_argv() -> list[str]:
    """The flags the SDK passed to Claude Code (`--system-prompt ""` included)."""
    text = (FIX / "argv.txt").read_text().strip()
    return text.removeprefix("ARGV: ").split(" ")


def make_repo(tmp: Path) -> Path:
    repo = tmp / "buggy-project"
    repo.mkdir(parents=True)
    for f in ("stats.py", "test_stats.py", "README.md"):
        shutil.copy(EXAMPLE / f, repo / f)
    return repo


def suite_passes(repo: Path) -> bool:
    proc = subprocess.run([sys.executable, "-m", "unittest", "-q"], cwd=repo, capture_output=True)
    return proc.returncode == 0


class Bridle:
    """A bridle process with the SDK's flags, read line by line."""

    def __init__(self, repo: Path, extra: list[str] | None = None):
        env = dict(os.environ, BRIDLE_MOCK_SCENARIO=str(SCENARIO))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bridle", *sdk_argv(), "--model", "mock/anthropic", *(extra or [])],
            cwd=repo, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.put(json.loads(raw))
        self.lines.put(None)

    def send(self, obj: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(obj) + "\n")
        self.proc.stdin.flush()

    def next(self) -> dict[str, Any] | None:
        line = self.lines.get(timeout=60)
        if line is not None:
            self.seen.append(line)
        return line

    def until(self, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        while True:
            line = self.next()
            assert line is not None, f"bridle ended early: {self.finish()[1]}"
            if wanted(line):
                return line

    def finish(self) -> tuple[int, str]:
        assert self.proc.stdin is not None and self.proc.stderr is not None
        if not self.proc.stdin.closed:
            self.proc.stdin.close()
        while self.next() is not None:
            pass
        code = self.proc.wait(timeout=60)
        return code, self.proc.stderr.read()


def response_to(request_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda x: (
        x.get("type") == "control_response" and x["response"].get("request_id") == request_id
    )


def start(bridle: Bridle, prompt: str = "fix the failing test") -> None:
    """initialize and the user message, as the SDK wrote them in the fixture."""
    init, user = fixture_lines("sdk-to-cli.ndjson")[:2]
    bridle.send(init)
    answer = bridle.until(response_to(init["request_id"]))
    recorded = next(
        x for x in fixture_lines("cli-to-sdk.ndjson") if x["type"] == "control_response"
    )
    assert answer["response"]["subtype"] == "success"
    got = answer["response"]["response"]
    assert {"commands", "output_style"} <= set(got) <= set(recorded["response"]["response"])
    assert got["commands"] == [] and got["output_style"] == "default"
    bridle.send({**user, "message": {"role": "user", "content": prompt}})


def allow(request: dict[str, Any], updated: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the SDK writes for PermissionResultAllow (the fixture's shape)."""
    body = request["request"]
    return {
        "type": "control_response",
        "response": {
            "subtype": "success",
            "request_id": request["request_id"],
            "response": {"behavior": "allow", "updatedInput": updated or body["input"]},
        },
    }


def is_permission(x: dict[str, Any]) -> bool:
    return x.get("type") == "control_request" and x["request"]["subtype"] == "can_use_tool"


def tool_uses(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        block
        for x in lines
        if x["type"] == "assistant"
        for block in x["message"]["content"]
        if block["type"] == "tool_use"
    ]


def tool_result(lines: list[dict[str, Any]], tool_use_id: str) -> dict[str, Any]:
    return next(
        block
        for x in lines
        if x["type"] == "user"
        for block in x["message"]["content"]
        if block.get("tool_use_id") == tool_use_id
    )


def test_replay_asks_every_permission_once_and_fixes_the_bug(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    bridle = Bridle(repo)
    start(bridle)
    asked: list[dict[str, Any]] = []
    while True:
        line = bridle.next()
        assert line is not None, bridle.finish()[1]
        if line["type"] == "result":
            break
        if not is_permission(line):
            continue
        asked.append(line)
        if len(asked) == 1:
            # A control request while the permission is pending is answered at once.
            bridle.send({"type": "control_request", "request_id": "s1",
                         "request": {"subtype": "mcp_status"}})  # fmt: skip
            status = bridle.until(response_to("s1"))
            assert status["response"] == {
                "subtype": "success", "request_id": "s1", "response": {"mcpServers": []},
            }  # fmt: skip
        bridle.send(allow(line))
    code, err = bridle.finish()
    assert code == 0, err
    result = bridle.seen[-1]
    assert (result["type"], result["subtype"], result["num_turns"]) == ("result", "success", 6)
    assert result["permission_denials"] == []
    assert suite_passes(repo)

    # Default mode: the two Bash runs and the Edit ask; Glob and Read do not.
    needing = [b for b in tool_uses(bridle.seen) if b["name"] in ("Bash", "Edit")]
    assert [a["request"]["tool_use_id"] for a in asked] == [b["id"] for b in needing]
    assert [a["request"]["input"] for a in asked] == [b["input"] for b in needing]
    assert len({a["request_id"] for a in asked}) == len(asked)

    recorded = [x for x in fixture_lines("cli-to-sdk.ndjson") if is_permission(x)]
    assert {frozenset(a) for a in asked} == {frozenset(r) for r in recorded}
    always = set.intersection(*(set(r["request"]) for r in recorded))
    known = set.union(*(set(r["request"]) for r in recorded)) | {"decision_reason"}
    for a in asked:
        assert always <= set(a["request"]) <= known
        assert a["request"]["permission_suggestions"] == []


def test_deny_is_told_to_the_model_and_listed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    bridle = Bridle(repo)
    start(bridle)
    edit_id = ""
    while (line := bridle.next()) is not None and line["type"] != "result":
        if not is_permission(line):
            continue
        if line["request"]["tool_name"] == "Edit":
            edit_id = line["request"]["tool_use_id"]
            bridle.send({
                "type": "control_response",
                "response": {"subtype": "success", "request_id": line["request_id"],
                             "response": {"behavior": "deny", "message": "stats.py is frozen"}},
            })  # fmt: skip
        else:
            bridle.send(allow(line))
    code, err = bridle.finish()
    assert code == 0, err
    result = bridle.seen[-1]
    assert result["subtype"] == "success"
    edit = next(b for b in tool_uses(bridle.seen) if b["id"] == edit_id)
    assert result["permission_denials"] == [
        {"tool_name": "Edit", "tool_use_id": edit_id, "tool_input": edit["input"]}
    ]
    told = tool_result(bridle.seen, edit_id)
    assert told["is_error"] is True
    assert told["content"].startswith("Permission to use Edit was denied: stats.py is frozen.")
    assert OLD in (repo / "stats.py").read_text()


def test_updated_input_is_what_runs(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    bridle = Bridle(repo)
    start(bridle)
    changed = NEW + "  # checked by the approver"
    while (line := bridle.next()) is not None and line["type"] != "result":
        if is_permission(line):
            body = line["request"]["input"]
            updated = (
                {**body, "new_string": changed} if line["request"]["tool_name"] == "Edit" else None
            )
            bridle.send(allow(line, updated))
    code, err = bridle.finish()
    assert code == 0, err
    assert changed in (repo / "stats.py").read_text()
    # The model's own call stays in the transcript as it sent it.
    edit = next(b for b in tool_uses(bridle.seen) if b["name"] == "Edit")
    assert edit["input"]["new_string"] == NEW
    assert suite_passes(repo)


def test_mode_and_model_switches_and_unknown_requests(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    bridle = Bridle(repo)
    requests = [
        ("m1", {"subtype": "set_permission_mode", "mode": "acceptEdits"}, "success"),
        ("m2", {"subtype": "set_permission_mode", "mode": "sometimes"}, "error"),
        ("m3", {"subtype": "set_model", "model": "mock/openai-chat"}, "success"),
        ("m4", {"subtype": "set_model", "model": "nosuchprovider/x"}, "error"),
        ("m5", {"subtype": "rewind_files", "user_message_id": "u1"}, "error"),
    ]
    for rid, request, _ in requests:
        bridle.send({"type": "control_request", "request_id": rid, "request": request})
    for rid, _, subtype in requests:
        answer = bridle.until(response_to(rid))["response"]
        assert answer["subtype"] == subtype, answer
        if subtype == "error":
            assert answer["error"]
    start(bridle)
    while (line := bridle.next()) is not None and line["type"] != "result":
        if is_permission(line):
            assert line["request"]["tool_name"] == "Bash"  # acceptEdits: the Edit runs
            bridle.send(allow(line))
    code, err = bridle.finish()
    assert code == 0, err
    assert bridle.seen[-1]["subtype"] == "success"
    assert suite_passes(repo)


def test_interrupt_while_a_permission_is_pending(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    bridle = Bridle(repo)
    start(bridle)
    pending = bridle.until(is_permission)
    bridle.send(
        {"type": "control_request", "request_id": "i1", "request": {"subtype": "interrupt"}}
    )
    assert bridle.until(response_to("i1"))["response"]["subtype"] == "success"
    cancel = bridle.until(lambda x: x["type"] == "control_cancel_request")
    assert cancel == {"type": "control_cancel_request", "request_id": pending["request_id"]}
    result = bridle.until(lambda x: x["type"] == "result")
    assert (result["subtype"], result["errors"]) == (
        "error_during_execution", ["interrupted by the user"],
    )  # fmt: skip
    told = tool_result(bridle.seen, pending["request"]["tool_use_id"])
    assert "denied: the user interrupted" in told["content"]
    code, _ = bridle.finish()
    assert code == 130
    assert not suite_passes(repo)


def test_sdk_flags_bridle_cannot_honour_are_usage_errors(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    cases = [
        ["--session-id=1b0c2c1e"],
        ["--json-schema", "{}"],
        ["--include-partial-messages", "--output-format", "json"],
        ["--mcp-config", str(tmp_path / "no-such-mcp.json")],
        ["--mcp-config", "{not json"],
        ["--permission-prompt-tool", "mcp__perm__ask"],
    ]
    for extra in cases:
        proc = subprocess.run(
            [sys.executable, "-m", "bridle", *sdk_argv(), "--model", "mock/anthropic", *extra],
            cwd=repo, capture_output=True, text=True, input="", timeout=60,
        )  # fmt: skip
        assert proc.returncode == 64, (extra, proc.stderr)
        assert "bridle:" in proc.stderr and proc.stdout == ""


def test_real_agent_sdk_runs_bridle(tmp_path: Path) -> None:
    sdk = pytest.importorskip("claude_agent_sdk")
    import anyio

    repo = make_repo(tmp_path)
    cli = Path(sys.executable).parent / "bridle"
    assert cli.is_file(), "the bridle console script is installed in the venv"
    calls: list[tuple[str, dict[str, Any]]] = []

    async def can_use_tool(name: str, args: dict[str, Any], context: Any) -> Any:
        calls.append((name, args))
        return sdk.PermissionResultAllow(updated_input=args)

    options = sdk.ClaudeAgentOptions(
        cli_path=str(cli),
        cwd=str(repo),
        model="mock/anthropic",
        can_use_tool=can_use_tool,
        env={
            "BRIDLE_MOCK_SCENARIO": str(SCENARIO),
            "BRIDLE_HOME": os.environ["BRIDLE_HOME"],
            "HOME": os.environ["HOME"],
        },
    )

    async def collect() -> list[Any]:
        return [m async for m in sdk.query(prompt="fix the failing test", options=options)]

    messages = anyio.run(collect)
    kinds = [type(m).__name__ for m in messages]
    assert kinds[0] == "SystemMessage" and "AssistantMessage" in kinds
    final = messages[-1]
    assert isinstance(final, sdk.ResultMessage)
    assert (final.subtype, final.is_error, final.num_turns) == ("success", False, 6)
    assert final.result.startswith("Fixed `mean()`")
    assert [name for name, _ in calls] == ["Bash", "Edit", "Bash"]
    assert suite_passes(repo)


# --------------------------------------------------- updatedPermissions
UNITTEST = "python -m unittest -q"


def allow_with(request: dict[str, Any], updates: list[dict[str, Any]]) -> dict[str, Any]:
    """PermissionResultAllow(updated_permissions=[...]) as the SDK writes it."""
    answer = allow(request)
    answer["response"]["response"]["updatedPermissions"] = updates
    return answer


def bash_rule(destination: str, content: str = UNITTEST) -> dict[str, Any]:
    return {
        "type": "addRules",
        "rules": [{"toolName": "Bash", "ruleContent": content}],
        "behavior": "allow",
        "destination": destination,
    }


def run_answering(
    bridle: Bridle, first_bash: Callable[[dict[str, Any]], dict[str, Any]]
) -> list[str]:
    """Run the bugfix; the first Bash ask gets `first_bash`'s answer, every
    other ask a plain allow. Returns the asked tools in order."""
    start(bridle)
    asked: list[str] = []
    while (line := bridle.next()) is not None and line["type"] != "result":
        if is_permission(line):
            name = line["request"]["tool_name"]
            first = name == "Bash" and "Bash" not in asked
            asked.append(name)
            bridle.send(first_bash(line) if first else allow(line))
    return asked


def test_updated_permissions_for_the_session_stop_the_next_ask(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    bridle = Bridle(repo)
    asked = run_answering(bridle, lambda r: allow_with(r, [bash_rule("session")]))
    code, err = bridle.finish()
    assert code == 0, err
    # The scenario runs the tests twice: the second run is covered by the new rule.
    assert asked == ["Bash", "Edit"]
    assert bridle.seen[-1]["subtype"] == "success" and suite_passes(repo)
    assert not (repo / ".claude").exists()
    assert not (Path(os.environ["HOME"]) / ".claude").exists()


@pytest.mark.parametrize(
    ("destination", "where"),
    [
        ("localSettings", ".claude/settings.local.json"),
        ("projectSettings", ".claude/settings.json"),
        ("userSettings", "~/.claude/settings.json"),
    ],
)
def test_updated_permissions_are_saved_where_the_destination_says(
    tmp_path: Path, destination: str, where: str
) -> None:
    repo = make_repo(tmp_path)
    path = Path(os.environ["HOME"]) / where[2:] if where.startswith("~/") else repo / where
    path.parent.mkdir(parents=True, exist_ok=True)
    # Whatever else the file holds stays as it was.
    path.write_text(json.dumps({
        "env": {"KEEP": "1"},
        "permissions": {"allow": ["Read", "Bash(git status)"], "deny": ["Bash(rm:*)"]},
        "model": "sonnet",
    }))  # fmt: skip
    updates = [
        bash_rule(destination, "git status"),
        {**bash_rule(destination), "rules": [{"toolName": "Bash", "ruleContent": UNITTEST},
                                             {"toolName": "Glob"}]},
        {"type": "addRules", "rules": [{"toolName": "WebFetch"}], "behavior": "ask",
         "destination": destination},
    ]  # fmt: skip
    bridle = Bridle(repo)
    asked = run_answering(bridle, lambda r: allow_with(r, updates))
    code, err = bridle.finish()
    assert code == 0, err
    assert err == ""
    assert asked == ["Bash", "Edit"]  # the second test run is allowed by the new rule
    assert json.loads(path.read_text()) == {
        "env": {"KEEP": "1"},
        "permissions": {
            "allow": ["Read", "Bash(git status)", f"Bash({UNITTEST})", "Glob"],
            "deny": ["Bash(rm:*)"],
            "ask": ["WebFetch"],
        },
        "model": "sonnet",
    }


def test_a_saved_rule_holds_in_the_next_run(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    bridle = Bridle(repo)
    asked = run_answering(bridle, lambda r: allow_with(r, [bash_rule("localSettings")]))
    code, err = bridle.finish()
    assert code == 0, err
    assert asked == ["Bash", "Edit"]
    saved = repo / ".claude" / "settings.local.json"
    assert json.loads(saved.read_text()) == {"permissions": {"allow": [f"Bash({UNITTEST})"]}}
    (repo / "stats.py").write_text((EXAMPLE / "stats.py").read_text())
    again = Bridle(repo)
    assert run_answering(again, allow) == ["Edit"]
    code, err = again.finish()
    assert code == 0, err


def test_set_mode_and_a_malformed_update(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    bridle = Bridle(repo)
    bad = [bash_rule("session"), {"type": "addRules", "rules": [], "behavior": "maybe"}]
    # One malformed update: none of the answer's updates apply (as Claude Code
    # does), the allow itself stands, and stderr says why.
    asked = run_answering(bridle, lambda r: allow_with(r, bad))
    code, err = bridle.finish()
    assert code == 0, err
    assert asked == ["Bash", "Edit", "Bash"]
    assert err == (
        "bridle: updatedPermissions[1]: addRules needs a behavior of allow, ask or deny, "
        "not 'maybe'; none of this answer's permission updates apply\n"
    )
    (repo / "stats.py").write_text((EXAMPLE / "stats.py").read_text())
    mode = [{"type": "setMode", "mode": "acceptEdits", "destination": "session"}]
    again = Bridle(repo)
    asked = run_answering(again, lambda r: allow_with(r, mode))
    code, err = again.finish()
    assert code == 0, err
    assert asked == ["Bash", "Bash"]  # acceptEdits: the Edit runs without asking
    assert not (repo / ".claude").exists()


def test_real_agent_sdk_updated_permissions(tmp_path: Path) -> None:
    sdk = pytest.importorskip("claude_agent_sdk")
    import anyio
    from claude_agent_sdk.types import PermissionRuleValue, PermissionUpdate

    repo = make_repo(tmp_path)
    calls: list[str] = []

    async def can_use_tool(name: str, args: dict[str, Any], context: Any) -> Any:
        calls.append(name)
        rule = PermissionRuleValue(tool_name="Bash", rule_content=UNITTEST)
        update = PermissionUpdate(
            type="addRules", rules=[rule], behavior="allow", destination="localSettings"
        )
        return sdk.PermissionResultAllow(
            updated_input=args, updated_permissions=[update] if name == "Bash" else None
        )

    options = sdk.ClaudeAgentOptions(
        cli_path=str(Path(sys.executable).parent / "bridle"),
        cwd=str(repo),
        model="mock/anthropic",
        can_use_tool=can_use_tool,
        env={
            "BRIDLE_MOCK_SCENARIO": str(SCENARIO),
            "BRIDLE_HOME": os.environ["BRIDLE_HOME"],
            "HOME": os.environ["HOME"],
        },
    )

    async def collect() -> list[Any]:
        return [m async for m in sdk.query(prompt="fix the failing test", options=options)]

    final = anyio.run(collect)[-1]
    assert isinstance(final, sdk.ResultMessage) and final.subtype == "success"
    assert calls == ["Bash", "Edit"]
    saved = json.loads((repo / ".claude" / "settings.local.json").read_text())
    assert saved == {"permissions": {"allow": [f"Bash({UNITTEST})"]}}
    assert suite_passes(repo)
