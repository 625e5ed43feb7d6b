"""`bridle -p` end to end: the real CLI in a subprocess, the mock model over HTTP.

Every wire format fixes the example project; json and stream-json are checked
against real Claude Code output (tests/fixtures/claude-code-headless); resume and
fork are checked through what the mock server sees in the next request.
"""

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

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "buggy-project"
SCENARIO = EXAMPLE / "scenario.json"
CC = ROOT / "tests" / "fixtures" / "claude-code-headless"
WIRES = ["anthropic", "openai-chat", "openai-responses", "gemini"]


def make_repo(tmp: Path) -> Path:
    repo = tmp / "buggy-project"
    repo.mkdir(parents=True)
    for f in ("stats.py", "test_stats.py", "README.md"):
        shutil.copy(EXAMPLE / f, repo / f)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "init"], cwd=repo, check=True)
    return repo


def bridle(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ)
    full.update(
        GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
        GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com",
    )  # fmt: skip
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bridle", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        input=stdin if stdin is not None else "",
        timeout=120,
    )


def suite_passes(repo: Path) -> bool:
    return (
        subprocess.run(
            [sys.executable, "-m", "unittest", "-q"], cwd=repo, capture_output=True
        ).returncode
        == 0
    )


def write_scenario(path: Path, turns: list[dict[str, Any]], final: str = "done") -> Path:
    path.write_text(json.dumps({"name": path.stem, "prompt": "p", "final": final, "turns": turns}))
    return path


@pytest.mark.parametrize("wire", WIRES)
def test_every_wire_fixes_the_example(tmp_path: Path, wire: str) -> None:
    repo = make_repo(tmp_path)
    assert not suite_passes(repo)
    proc = bridle(
        ["-p", "fix the failing test", "--model", f"mock/{wire}", "--output-format", "json",
         "--permission-mode", "acceptEdits", "--allowedTools", "Bash(python -m unittest:*)"],
        repo,
        {"BRIDLE_MOCK_SCENARIO": str(SCENARIO)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["subtype"] == "success" and result["num_turns"] == 6
    assert result["result"].startswith("Fixed `mean()`")
    assert result["permission_denials"] == []
    assert suite_passes(repo)


def _shape(obj: Any) -> Any:
    """Keys (recursively) with value types, for comparing JSON shapes."""
    if isinstance(obj, dict):
        return {k: _shape(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_shape(obj[0])] if obj else []
    return type(obj).__name__


CORE_RESULT_KEYS = {
    "type", "subtype", "is_error", "duration_ms", "num_turns", "result", "session_id",
    "total_cost_usd", "usage", "permission_denials",
}  # fmt: skip


def test_json_and_stream_json_match_claude_code_shapes(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    env = {"BRIDLE_MOCK_SCENARIO": str(SCENARIO)}
    proc = bridle(
        ["-p", "fix the failing test", "--model", "mock/anthropic", "--output-format", "stream-json",
         "--verbose", "--dangerously-skip-permissions"],
        repo, env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    ours = [json.loads(line) for line in proc.stdout.splitlines()]
    theirs = [
        json.loads(line) for line in (CC / "bugfix.stream-json.ndjson").read_text().splitlines()
    ]

    assert ours[0]["type"] == "system" and ours[0]["subtype"] == "init"
    for key in ("cwd", "session_id", "tools", "model", "permissionMode", "mcp_servers"):
        assert key in ours[0], key
    assert ours[0]["permissionMode"] == "bypassPermissions"
    assert ours[-1]["type"] == "result"
    assert [o["type"] for o in ours[1:-1]] == [t["type"] for t in theirs[1:-1]] or all(
        o["type"] in ("assistant", "user") for o in ours[1:-1]
    )
    ref_assistant = next(t for t in theirs if t["type"] == "assistant")
    ref_user = next(t for t in theirs if t["type"] == "user")
    for line in ours[1:-1]:
        ref = ref_assistant if line["type"] == "assistant" else ref_user
        assert set(ref) - {"tool_use_result", "timestamp"} <= set(line), line
        assert set(ref["message"]) - {"context_management"} <= set(line["message"])
        for block in line["message"]["content"]:
            assert block["type"] in ("text", "tool_use", "tool_result", "thinking")
            if block["type"] == "tool_use":
                assert set(block) == {"type", "id", "name", "input"}
            if block["type"] == "tool_result":
                assert set(block) == {"tool_use_id", "type", "content", "is_error"}
    # Every tool_use is answered by a user line with its id, in order.
    uses = [
        b["id"]
        for o in ours
        if o["type"] == "assistant"
        for b in o["message"]["content"]
        if b["type"] == "tool_use"
    ]
    results = [
        b["tool_use_id"] for o in ours if o["type"] == "user" for b in o["message"]["content"]
    ]
    assert uses == results and len(uses) == 5

    ref_result = json.loads((CC / "bugfix.json").read_text())
    assert set(ours[-1]) >= CORE_RESULT_KEYS
    for key in CORE_RESULT_KEYS:
        assert type(ours[-1][key]) is type(ref_result[key]) or key == "total_cost_usd", key
    assert {
        "input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
    } <= set(ours[-1]["usage"])
    assert ours[-1]["session_id"] == ours[0]["session_id"]

    # --output-format json prints exactly the result object.
    repo2 = make_repo(tmp_path / "second")
    proc = bridle(["-p", "fix the failing test", "--model", "mock/anthropic", "--output-format", "json",
                   "--dangerously-skip-permissions"], repo2, env)  # fmt: skip
    single = json.loads(proc.stdout)
    assert set(single) >= CORE_RESULT_KEYS and single["type"] == "result"


def test_max_turns_result_matches_claude_code(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    proc = bridle(
        ["-p", "fix", "--model", "mock/anthropic", "--output-format", "json", "--max-turns", "2",
         "--dangerously-skip-permissions"],
        repo, {"BRIDLE_MOCK_SCENARIO": str(SCENARIO)},
    )  # fmt: skip
    assert proc.returncode == 1
    ours = json.loads(proc.stdout)
    ref = json.loads((CC / "max-turns-2.json").read_text())
    assert (ours["subtype"], ours["is_error"]) == (ref["subtype"], ref["is_error"])
    assert ours["errors"] == ref["errors"]
    assert ours["num_turns"] == 2


def test_default_mode_denials_are_reported_like_claude_code(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    proc = bridle(
        ["-p", "fix", "--model", "mock/anthropic", "--output-format", "json"],
        repo, {"BRIDLE_MOCK_SCENARIO": str(SCENARIO)},
    )  # fmt: skip
    ours = json.loads(proc.stdout)
    ref = json.loads((CC / "default-mode-denials.json").read_text())
    assert proc.returncode == 0 and ours["subtype"] == ref["subtype"] == "success"
    denied = [d["tool_name"] for d in ours["permission_denials"]]
    assert denied == ["Bash", "Edit", "Bash"]
    assert set(ours["permission_denials"][0]) == set(ref["permission_denials"][0])
    assert not suite_passes(repo)  # nothing was changed


@pytest.mark.parametrize(
    "args",
    [
        ["-p", "x", "-c", "-r", "abc"],
        ["-p", "x", "--fork-session"],
        ["-p", "x", "--parallel", "2"],
        ["-p", "x", "--bail"],
        ["-p", "x", "--dry-run", "--permission-mode", "acceptEdits"],
        ["-p", "x", "--input-format", "stream-json"],
        ["-p", "x", "--tools", "Read,NoSuchTool", "--model", "mock/anthropic"],
        ["-p", "x", "--input-format", "stream-json", "--output-format", "stream-json"],
        ["-p", "x", "--system-prompt", "a", "--system-file", "README.md"],
        ["-p", "--output-format", "yaml", "x"],
        ["-p", "x", "--max-turns", "0"],
        ["-p", "x", "--allowedTools", "Bash(git push"],
        ["-p", "x", "--deny-tool", "Bash()"],
        ["-p", "x", "--commit", "--dry-run"],
        ["-p", "x", "--prompt-each", "README.md", "-c"],
        ["-p", "no placeholder", "--prompt-each", "README.md"],
        ["-p"],
    ],
)
def test_usage_errors_exit_64_before_any_work(tmp_path: Path, args: list[str]) -> None:
    repo = make_repo(tmp_path)
    home = tmp_path / "bh"
    proc = bridle(args, repo, {"BRIDLE_HOME": str(home), "BRIDLE_MOCK_SCENARIO": str(SCENARIO)})
    assert proc.returncode == 64, (proc.stdout, proc.stderr)
    assert proc.stderr.strip()
    assert not (home / "bridle.db").exists()


def test_flags_take_several_rules_and_never_swallow_the_prompt(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    proc = bridle(
        ["--allowedTools", "Bash(python -m unittest:*),Edit", "--allowedTools", "Read",
         "-p", "fix the failing test", "--model", "mock/anthropic", "--output-format", "json"],
        repo, {"BRIDLE_MOCK_SCENARIO": str(SCENARIO)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["permission_denials"] == []
    assert suite_passes(repo)


@pytest.mark.parametrize(
    "args",
    [
        ["-p", "fix the failing test", "--allowedTools", "Bash(python -m unittest:*)", "Edit",
         "Read"],
        ["-p", "--allowed-tools", "Bash(python -m unittest:*)", "Edit", "Read",
         "fix the failing test"],
    ],
    ids=["prompt-first", "prompt-after-the-values"],
)  # fmt: skip
def test_rule_flags_take_several_values_in_a_row_as_claude_code_does(
    tmp_path: Path, args: list[str]
) -> None:
    repo = make_repo(tmp_path)
    proc = bridle(
        [*args, "--model", "mock/anthropic", "--output-format", "json"],
        repo, {"BRIDLE_MOCK_SCENARIO": str(SCENARIO)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["permission_denials"] == [] and result["result"].startswith("Fixed `mean()`")
    assert suite_passes(repo)


def test_spreading_stops_at_the_first_word_that_is_not_a_value(tmp_path: Path) -> None:
    from bridle.cli.argv import spread

    subcommands = ["mcp", "sessions"]
    assert spread(["-p", "--allowedTools", "Read", "mcp__github", "Edit,Write", "Fix it"],
                  subcommands) == [
        "-p", "--allowedTools", "Read", "--allowedTools", "mcp__github", "--allowedTools",
        "Edit,Write", "Fix it",
    ]  # fmt: skip
    # A capitalised prompt word that names no tool is not a rule; nor is a lone "(".
    assert spread(["--disallowedTools", "Bash", "Refactor", "x"], subcommands) == [
        "--disallowedTools", "Bash", "Refactor", "x",
    ]  # fmt: skip
    assert spread(["--allowedTools", "Read", "Bash(git"], subcommands)[-1] == "Bash(git"
    assert spread(["--add-dir", str(tmp_path), str(tmp_path), "hello"], subcommands) == [
        "--add-dir", str(tmp_path), "--add-dir", str(tmp_path), "hello",
    ]  # fmt: skip
    assert spread(["--mcp-config", "{}", '{"mcpServers": {}}', "go"], subcommands) == [
        "--mcp-config", "{}", "--mcp-config", '{"mcpServers": {}}', "go",
    ]  # fmt: skip
    # A subcommand's flags and whatever follows `--` are left alone.
    assert spread(["mcp", "add", "--add-dir", "/", "/"], subcommands) == [
        "mcp", "add", "--add-dir", "/", "/",
    ]  # fmt: skip
    assert spread(["-p", "--", "--allowedTools", "Read", "Edit"], subcommands) == [
        "-p", "--", "--allowedTools", "Read", "Edit",
    ]  # fmt: skip


def test_rate_limit_exhausted_exits_75(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    scen = write_scenario(
        tmp_path / "limited.json",
        [
            {
                "op": "read",
                "path": "stats.py",
                "fault": {"kind": "429", "times": 50, "retry_after": 0},
            }
        ],
    )
    proc = bridle(
        ["-p", "x", "--model", "mock/anthropic", "--output-format", "json",
         "--settings", json.dumps({"providers": {"mock": {"max_retries": 1}}})],
        repo, {"BRIDLE_MOCK_SCENARIO": str(scen)},
    )  # fmt: skip
    assert proc.returncode == 75, proc.stderr
    result = json.loads(proc.stdout)
    assert result["subtype"] == "error_during_execution" and "429" in result["errors"][0]


def test_continue_and_fork_carry_the_history(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    with MockServer(SCENARIO, workdir=repo) as srv:
        env = {"BRIDLE_MOCK_BASE_URL": srv.base_url}
        first = bridle(["-p", "fix the failing test", "--model", "mock/anthropic", "--max-turns", "2",
                        "--output-format", "json", "--dangerously-skip-permissions"], repo, env)  # fmt: skip
        sid = json.loads(first.stdout)["session_id"]
        assert [r.get("turn") for r in srv.requests] == [0, 1]
        # The mock derives its turn from the conversation: a resumed request that
        # carries the two earlier tool rounds is served turn 2.
        fork = bridle(["-p", "go on", "-r", sid[:8], "--fork-session", "--model", "mock/anthropic",
                       "--max-turns", "1", "--output-format", "json", "--dangerously-skip-permissions"],
                      repo, env)  # fmt: skip
        forked = json.loads(fork.stdout)
        assert forked["session_id"] != sid
        assert srv.requests[-1].get("turn") == 2 and not srv.violations
        cont = bridle(["-p", "go on", "-c", "--model", "mock/anthropic", "--output-format", "json",
                       "--dangerously-skip-permissions"], repo, env)  # fmt: skip
        assert cont.returncode == 0, cont.stderr
        result = json.loads(cont.stdout)
        # -c picks the latest session in this project: the fork.
        assert result["session_id"] == forked["session_id"]
        assert result["subtype"] == "success" and not srv.violations
    assert suite_passes(repo)


def test_diff_output_and_commit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    env = {"BRIDLE_MOCK_SCENARIO": str(SCENARIO)}
    proc = bridle(["-p", "fix", "--model", "mock/anthropic", "--output-format", "diff",
                   "--dangerously-skip-permissions", "--commit", "--save-cost", "cost.json"],
                  repo, env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "-    return sum(values) / (len(values) + 1)" in proc.stdout
    assert "+    return sum(values) / len(values)" in proc.stdout
    log = subprocess.run(
        ["git", "log", "--format=%s", "-1"], cwd=repo, capture_output=True, text=True
    )
    assert log.stdout.strip() == "bridle: fix"
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True
    )
    # cost.json was written after the run and is not part of its changes.
    assert status.stdout.strip() == "?? cost.json"
    assert json.loads((repo / "cost.json").read_text())["num_turns"] == 6


def test_stream_json_input(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    lines = [
        {"type": "control_request", "request_id": "r1", "request": {"subtype": "initialize"}},
        {"type": "user", "message": {"role": "user", "content": "fix the failing test"}},
    ]
    proc = bridle(
        ["--input-format", "stream-json", "--output-format", "stream-json", "--model", "mock/anthropic",
         "--dangerously-skip-permissions"],
        repo, {"BRIDLE_MOCK_SCENARIO": str(SCENARIO)},
        stdin="\n".join(json.dumps(x) for x in lines) + "\n",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert out[0]["subtype"] == "init"
    assert out[1]["type"] == "control_response"
    assert out[1]["response"]["subtype"] == "success"
    assert out[1]["response"]["request_id"] == "r1"
    assert out[1]["response"]["response"]["commands"] == []
    assert out[-1]["type"] == "result" and out[-1]["subtype"] == "success"
    assert suite_passes(repo)


def test_batch_prompt_each(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    items = tmp_path / "items.txt"
    items.write_text("one\ntwo\n\nthree\n")
    scen = write_scenario(tmp_path / "hello.json", [{"op": "final", "text": "hello"}])
    proc = bridle(["-p", "say {{input}}", "--prompt-each", str(items), "--parallel", "2",
                   "--model", "mock/anthropic", "--output-format", "json"],
                  repo, {"BRIDLE_MOCK_SCENARIO": str(scen)})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    results = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(results) == 3 and {r["result"] for r in results} == {"hello"}
    assert len({r["session_id"] for r in results}) == 3


def test_print_config_redacts_and_tools_list(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    (repo / ".bridle").mkdir()
    (repo / ".bridle" / "settings.json").write_text(
        '{ // comment\n "providers": {"deepseek": {"api_key": "sk-secret-value"}},}'
    )
    proc = bridle(["--print-config"], repo)
    assert proc.returncode == 0, proc.stderr
    assert "sk-secret-value" not in proc.stdout and "deepseek" in proc.stdout
    tools = bridle(["--print-tools-list"], repo)
    names = [line.split("\t")[0] for line in tools.stdout.splitlines()]
    assert {"Read", "Write", "Edit", "MultiEdit", "Bash", "Glob", "Grep", "LS", "WebFetch",
            "TodoWrite", "ApplyPatch"} <= set(names)  # fmt: skip
    plan = bridle(["--print-tools-list", "--dry-run"], repo)
    assert "Edit" not in [line.split("\t")[0] for line in plan.stdout.splitlines()]


@pytest.mark.parametrize("wire", WIRES)
@pytest.mark.parametrize("kind", ["cut", "malformed", "500", "529"])
def test_broken_streams_are_sent_again_and_the_run_succeeds(
    tmp_path: Path, wire: str, kind: str
) -> None:
    repo = make_repo(tmp_path)
    scen = write_scenario(
        tmp_path / "faulty.json",
        [
            {"op": "read", "path": "stats.py", "fault": {"kind": kind, "times": 1}},
            {"op": "final", "text": "read it"},
        ],
    )
    proc = bridle(["-p", "read", "--model", f"mock/{wire}", "--output-format", "json"], repo,
                  {"BRIDLE_MOCK_SCENARIO": str(scen)})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["result"] == "read it" and result["num_turns"] == 2
    assert "retrying" in proc.stderr


def test_account_rotation_continues_the_session_on_rate_limit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    for name in ("work", "personal"):
        assert bridle(["accounts", "add", name], repo).returncode == 0
        keys = bridle(
            ["accounts", "keys", "set", name, "BRIDLE_MOCK_API_KEY"], repo, stdin=f"key-{name}\n"
        )
        assert keys.returncode == 0, keys.stderr
    scen = write_scenario(
        tmp_path / "limited.json",
        [
            {"op": "read", "path": "stats.py", "fault": {"kind": "429", "times": 1}},
            {"op": "final", "text": "done"},
        ],
    )
    settings = json.dumps({"providers": {"mock": {"max_retries": 0}}})
    proc = bridle(["-p", "read", "--model", "mock/anthropic", "--account", "work,personal",
                   "--settings", settings, "--output-format", "json"],
                  repo, {"BRIDLE_MOCK_SCENARIO": str(scen)})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "continuing under account personal" in proc.stderr
    result = json.loads(proc.stdout)
    assert result["result"] == "done" and result["num_turns"] == 2
    # The session's record names the account it ended under (`-c` goes on with it).
    from bridle.store.db import open_db
    from bridle.store.sessions import SessionStore

    with open_db(Path(os.environ["BRIDLE_HOME"]) / "bridle.db") as conn:
        assert SessionStore(conn).get(result["session_id"]).account == "personal"
    # Without another account to switch to, the same limit exits 75.
    alone = bridle(["-p", "read", "--model", "mock/anthropic", "--account", "work",
                    "--settings", settings, "--output-format", "json"],
                   repo, {"BRIDLE_MOCK_SCENARIO": str(scen)})  # fmt: skip
    assert alone.returncode == 75


def test_own_sessions_list_export_and_rm(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    env = {"BRIDLE_MOCK_SCENARIO": str(SCENARIO), "BRIDLE_HISTORY_BACKGROUND": "0"}
    run = bridle(["-p", "fix the failing test", "--model", "mock/anthropic", "--output-format", "json",
                  "--dangerously-skip-permissions"], repo, env)  # fmt: skip
    sid = json.loads(run.stdout)["session_id"]
    out = bridle(["sessions", "list", "--tool", "bridle", "--json"], repo, env).stdout
    listed = [json.loads(line) for line in out.splitlines()]
    assert [(s["tool"], s["id"], s["title"]) for s in listed] == [
        ("bridle", sid, "fix the failing test")
    ]
    md = bridle(["sessions", "export", sid[:8], "--format", "md"], repo, env)
    assert md.returncode == 0, md.stderr
    assert "# fix the failing test" in md.stdout and "python -m unittest -q" in md.stdout
    jsonl = bridle(["sessions", "export", sid, "--format", "jsonl"], repo, env).stdout.splitlines()
    kinds = [json.loads(line)["kind"] for line in jsonl]
    assert (
        kinds[0] == "session" and kinds.count("assistant") == 6 and kinds.count("tool_result") == 5
    )
    found = bridle(["sessions", "search", "unittest", "--json"], repo, env)
    assert sid in found.stdout
    assert bridle(["sessions", "rm", sid], repo, env).returncode == 64  # not a TTY: needs --yes
    gone = bridle(["sessions", "rm", sid[:8], "--yes"], repo, env)
    assert gone.returncode == 0, gone.stderr
    assert bridle(["sessions", "show", sid], repo, env).returncode == 64
    assert sid not in bridle(["sessions", "search", "unittest", "--json"], repo, env).stdout
    assert bridle(["-p", "x", "-r", sid, "--model", "mock/anthropic"], repo, env).returncode != 0


def _git_out(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True).stdout


def test_save_files_and_commit_dirty(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    (repo / "notes.txt").write_text("mine\n")
    subprocess.run(["git", "add", "notes.txt"], cwd=repo, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "n"], cwd=repo
    )
    (repo / "notes.txt").write_text("mine\nuser edit\n")  # dirty before the run
    env = {"BRIDLE_MOCK_SCENARIO": str(SCENARIO)}
    args = ["-p", "fix the failing test", "--model", "mock/anthropic", "--quiet",
            "--dangerously-skip-permissions", "--save-transcript", "t.md",
            "--save-cost", "cost.json", "--save-diff", "run.diff"]  # fmt: skip
    proc = bridle([*args, "--commit"], repo, env)
    assert proc.returncode == 0, proc.stderr
    # --quiet: the answer on stdout, nothing on stderr; the saved files stay out of the commit.
    assert proc.stdout.startswith("Fixed `mean()`") and proc.stderr == ""
    assert _git_out(repo, "show", "--name-only", "--format=%s", "HEAD").split() == [
        "bridle:", "fix", "the", "failing", "test", "stats.py",
    ]  # fmt: skip
    assert sorted(_git_out(repo, "status", "--porcelain").splitlines()) == [
        " M notes.txt", "?? cost.json", "?? run.diff", "?? t.md",
    ]  # fmt: skip
    transcript = (repo / "t.md").read_text()
    assert transcript.startswith("# fix the failing test") and "python -m unittest -q" in transcript
    assert "+    return sum(values) / len(values)" in (repo / "run.diff").read_text()
    assert json.loads((repo / "cost.json").read_text())["num_turns"] == 6

    # --commit-dirty also commits what was dirty before the run.
    repo2 = make_repo(tmp_path / "two")
    (repo2 / "README.md").write_text("user edit\n")
    proc = bridle([*args[:5], "--dangerously-skip-permissions", "--commit-dirty"], repo2, env)
    assert proc.returncode == 0, proc.stderr
    assert sorted(_git_out(repo2, "show", "--name-only", "--format=", "HEAD").split()) == [
        "README.md", "stats.py",
    ]  # fmt: skip
    assert _git_out(repo2, "status", "--porcelain") == ""


def test_commit_without_git_identity_is_a_usage_error_before_the_run(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "BRIDLE_MOCK_SCENARIO": str(SCENARIO), "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1",
        "EMAIL": "", "GIT_AUTHOR_NAME": "", "GIT_AUTHOR_EMAIL": "", "GIT_COMMITTER_NAME": "",
        "GIT_COMMITTER_EMAIL": "", "BRIDLE_HOME": str(tmp_path / "bh"),
    }  # fmt: skip
    probe = subprocess.run(
        ["git", "var", "GIT_COMMITTER_IDENT"], cwd=repo, env={**os.environ, **env},
        capture_output=True,
    )  # fmt: skip
    if probe.returncode == 0:
        pytest.skip("git finds an identity on this machine (EMAIL or a resolvable hostname)")
    proc = bridle(["-p", "fix", "--model", "mock/anthropic", "--commit",
                   "--dangerously-skip-permissions"], repo, env)  # fmt: skip
    assert proc.returncode == 64 and "git config user.email" in proc.stderr
    assert _git_out(repo, "status", "--porcelain") == ""  # nothing ran
    assert not (tmp_path / "bh" / "bridle.db").exists()


def test_doctor_checks_the_named_model(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    ok = bridle(["--doctor", "--model", "mock/anthropic"], repo,
                {"BRIDLE_MOCK_SCENARIO": str(SCENARIO)})  # fmt: skip
    assert ok.returncode == 0, ok.stdout
    assert ok.stdout.splitlines()[-1] == f"ok   model mock/anthropic (scenario {SCENARIO})"
    env = {k: "" for k in ("DEEPSEEK_API_KEY", "BRIDLE_MODEL")}
    bad = bridle(["--doctor", "--model", "deepseek/deepseek-chat"], repo, env)
    assert bad.returncode == 1
    assert bad.stdout.splitlines()[-1].startswith("FAIL  model: No API key for deepseek")


def test_claude_settings_rules_hold_in_bypass_and_add_dir_grants_writes(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    scen = write_scenario(
        tmp_path / "out.json",
        [
            {"op": "write", "path": "../other/x.txt", "content": "hi\n"},
            {"op": "bash", "command": "python -c 'print(1)'"},
        ],
    )
    env = {"BRIDLE_MOCK_SCENARIO": str(scen)}
    base = ["-p", "go", "--model", "mock/anthropic", "--output-format", "json"]

    def denied(*extra: str) -> list[str]:
        proc = bridle([*base, *extra], repo, env)
        assert proc.returncode == 0, proc.stderr
        return [d["tool_name"] for d in json.loads(proc.stdout)["permission_denials"]]

    # A write outside the project asks (denied headless) until --add-dir grants the root.
    assert denied("--permission-mode", "acceptEdits") == ["Write", "Bash"]
    assert not (other / "x.txt").exists()
    assert denied("--permission-mode", "acceptEdits", "--add-dir", str(other),
                  "--allow-tool", "Bash(python:*)") == []  # fmt: skip
    assert (other / "x.txt").read_text() == "hi\n"
    (other / "x.txt").unlink()
    # .claude/settings.json deny rules hold even in bypass mode.
    (repo / ".claude").mkdir()
    (repo / ".claude" / "settings.json").write_text(
        json.dumps({"permissions": {"deny": ["Bash(python:*)", f"Write(/{other}/**)"]}})
    )
    assert denied("--permission-mode", "bypass", "--add-dir", str(other)) == ["Write", "Bash"]
    assert not (other / "x.txt").exists()
    # A bad rule there is reported with the file and the key.
    (repo / ".claude" / "settings.json").write_text('{"permissions": {"allow": ["Read", "Bash("]}}')
    bad = bridle(base, repo, env)
    assert bad.returncode == 1
    assert f"{repo / '.claude' / 'settings.json'}: permissions.allow[1]: " in bad.stderr


def test_batch_retry_and_bail(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    items = tmp_path / "items.txt"
    items.write_text("one\ntwo\nthree\n")
    no_retries = ["--settings", json.dumps({"providers": {"mock": {"max_retries": 0}}})]
    flaky = write_scenario(
        tmp_path / "flaky.json",
        [{"op": "final", "text": "hi", "fault": {"kind": "500", "times": 1}}],
    )
    with MockServer(flaky, workdir=repo) as srv:
        env = {"BRIDLE_MOCK_BASE_URL": srv.base_url}
        args = ["-p", "say {{input}}", "--prompt-each", str(items), "--model", "mock/anthropic",
                "--output-format", "json", *no_retries]  # fmt: skip
        # The first request fails once; --retry 1 runs that item again.
        proc = bridle([*args, "--retry", "1"], repo, env)
        assert proc.returncode == 0, proc.stderr
        results = [json.loads(x) for x in proc.stdout.splitlines()]
        assert [r["subtype"] for r in results] == ["success"] * 3
    broken = write_scenario(
        tmp_path / "broken.json",
        [{"op": "final", "text": "hi", "fault": {"kind": "500", "times": 99}}],
    )
    proc = bridle(["-p", "say {{input}}", "--prompt-each", str(items), "--model", "mock/anthropic",
                   "--output-format", "json", "--bail", *no_retries],
                  repo, {"BRIDLE_MOCK_SCENARIO": str(broken)})  # fmt: skip
    assert proc.returncode == 1
    assert [json.loads(x)["subtype"] for x in proc.stdout.splitlines()] == [
        "error_during_execution"
    ]
    assert "--bail: stopped after a failure; 2 items not run" in proc.stderr


def test_dry_run_writes_nothing_even_with_allow_rules(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    proc = bridle(["-p", "fix the failing test", "--model", "mock/anthropic", "--dry-run",
                   "--allowedTools", "Edit,Bash", "--output-format", "json"],
                  repo, {"BRIDLE_MOCK_SCENARIO": str(SCENARIO)})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    # Edit is not offered in plan mode; every Bash call (mutating or not) is refused.
    assert [d["tool_name"] for d in result["permission_denials"]] == ["Bash", "Bash", "Bash"]
    assert _git_out(repo, "status", "--porcelain") == "" and not suite_passes(repo)


def test_default_account_keys_are_used_without_account_flag(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    with MockServer(SCENARIO, workdir=repo) as srv:
        settings = json.dumps(
            {
                "providers": {
                    "lab": {
                        "wire": "openai-chat",
                        "base_url": srv.base_url + "/v1",
                        "api_key_env": "LAB_KEY",
                    }
                }
            }
        )
        args = ["-p", "fix", "--model", "lab/some-model", "--settings", settings, "--output-format", "json",
                "--dangerously-skip-permissions"]  # fmt: skip
        missing = bridle(args, repo)
        assert missing.returncode == 64 and "LAB_KEY" in missing.stderr
        # A custom provider whose key only the (default) account holds.
        assert bridle(["accounts", "add", "work"], repo).returncode == 0
        assert bridle(["accounts", "use", "work"], repo).returncode == 0
        keys = bridle(["accounts", "keys", "set", "work", "LAB_KEY"], repo, stdin="lab-secret\n")
        assert keys.returncode == 0, keys.stderr
        used = bridle(args, repo)
        assert used.returncode == 0, used.stderr
        assert json.loads(used.stdout)["subtype"] == "success"
