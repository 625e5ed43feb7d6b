"""Hooks and commands meeting the rest of a run (`python -m bridle -p` against the
mock model): InstructionsLoaded fires for each instruction file loaded at start
and for a path-scoped rule a Read brings in later; a skill run as `/name`
turns on its frontmatter hooks as the Skill tool does; a command's `@file`
mentions attach the files (Read's output) unless a deny rule covers them; a
skill the model loads runs its `!` commands under the rules and its
`allowed-tools` (a refused one fails the load)."""

from __future__ import annotations

import json
from pathlib import Path

from test_hooks_run import bodies, hooks, project, run, scenario, settings, text_of, tool_results

from bridle.mock.server import MockServer


def test_instructions_loaded_fires_for_each_file_at_start_and_later(tmp_path: Path) -> None:
    repo = project(tmp_path)
    (repo / "CLAUDE.md").write_text("Use tabs.\n@docs/style.md\n")
    (repo / "docs").mkdir()
    (repo / "docs" / "style.md").write_text("Short lines.\n")
    rules = repo / ".claude" / "rules"
    rules.mkdir(parents=True)
    (rules / "py.md").write_text('---\npaths:\n  - "src/**/*.py"\n---\nType every function.\n')
    (repo / "src").mkdir()
    (repo / "src" / "app.py").write_text("print('hi')\n")
    log = tmp_path / "loaded.jsonl"
    settings(repo, hooks("InstructionsLoaded", f"{{ cat; echo; }} >> '{log}'"))
    scen = scenario(
        tmp_path,
        {"op": "read", "path": "src/app.py"},
        {"op": "final", "text": "ok"},
    )
    with MockServer(scen, workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv)
        sent = bodies(srv)
    assert proc.returncode == 0, proc.stderr
    got = [json.loads(x) for x in log.read_text().splitlines() if x.strip()]
    assert [(p["hook_event_name"], Path(p["file_path"]).name, p["memory_type"],
             p["load_reason"]) for p in got] == [
        ("InstructionsLoaded", "CLAUDE.md", "Project", "session_start"),
        ("InstructionsLoaded", "style.md", "Project", "include"),
        ("InstructionsLoaded", "py.md", "Project", "path_glob_match"),
    ]  # fmt: skip
    assert got[1]["parent_file_path"] == str(repo / "CLAUDE.md")
    assert got[2]["globs"] == ["src/**/*.py"]
    assert got[2]["trigger_file_path"] == str(repo / "src" / "app.py")
    assert all(p["session_id"] and p["cwd"] == str(repo) for p in got)
    assert "permission_mode" not in got[0]
    # The rule also reached the model with the Read's result.
    assert "Type every function." in tool_results(sent[1])


CAREFUL = (
    "---\nname: careful\ndescription: Be careful with files\nhooks:\n  PreToolUse:\n"
    "    - matcher: Bash\n      hooks:\n        - type: command\n"
    '          command: "cat >/dev/null; echo careful skill says no >&2; exit 2"\n---\n'
    "Never delete anything. $ARGUMENTS\n"
)


def test_a_skill_run_as_a_command_turns_on_its_hooks(tmp_path: Path) -> None:
    repo = project(tmp_path)
    skill = repo / ".claude" / "skills" / "careful" / "SKILL.md"
    skill.parent.mkdir(parents=True)
    skill.write_text(CAREFUL)
    scen = scenario(
        tmp_path,
        {"op": "bash", "command": "echo after"},
        {"op": "final", "text": "ok"},
    )
    with MockServer(scen, workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv, "--allowedTools", "Bash", prompt="/careful build/")
        sent = bodies(srv)
    assert proc.returncode == 0, proc.stderr
    assert "Never delete anything. build/" in text_of(sent[0]["messages"][0])
    result = json.loads(tool_results(sent[1]))[0]
    assert result["is_error"] is True
    assert "careful skill says no" in json.dumps(result["content"])
    assert "after" not in json.dumps(result["content"])


def test_a_commands_file_mentions_are_attached_unless_denied(tmp_path: Path) -> None:
    repo = project(tmp_path)
    commands = repo / ".claude" / "commands"
    commands.mkdir(parents=True)
    (commands / "review.md").write_text(
        "Review @src/app.py against @secret.txt, then mail @someone about $ARGUMENTS.\n"
    )
    (repo / "src").mkdir()
    (repo / "src" / "app.py").write_text("def add(a, b):\n    return a - b\n")
    (repo / "secret.txt").write_text("hunter2\n")
    settings(repo, {"permissions": {"deny": ["Read(./secret.txt)"]}})
    scen = scenario(tmp_path, {"op": "edit", "path": "src/app.py", "old": "a - b", "new": "a + b"},
                    {"op": "final", "text": "ok"})  # fmt: skip
    with MockServer(scen, workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv, "--allowedTools", "Edit", prompt="/review add")
        sent = bodies(srv)
    assert proc.returncode == 0, proc.stderr
    prompt = text_of(sent[0]["messages"][0])
    assert "mail @someone about add." in prompt
    read_call = json.dumps({"file_path": str(repo / "src" / "app.py")})
    assert f"Called the Read tool with the following input: {read_call}" in prompt
    assert "Result of calling the Read tool:\n     1\tdef add(a, b):\n     2\t    return a - b" in (
        prompt
    )
    assert "hunter2" not in json.dumps(sent)
    assert "(@secret.txt is not attached: reading " in prompt
    assert "secret.txt is denied by rule Read(./secret.txt))" in prompt
    # An attached file counts as read: the Edit needs no Read first.
    assert (repo / "src" / "app.py").read_text() == "def add(a, b):\n    return a + b\n"


def test_a_skill_loaded_with_the_skill_tool_runs_its_bang_commands(tmp_path: Path) -> None:
    repo = project(tmp_path)
    for name, body, tools in [
        ("status", "Branch state: !`echo on-branch-$((6 * 7))`\nThen report.", "Bash(echo:*)"),
        ("wipe", "Before: !`rm -rf build`\nNow clean up.", "Read"),
    ]:
        skill = repo / ".claude" / "skills" / name / "SKILL.md"
        skill.parent.mkdir(parents=True)
        skill.write_text(
            f"---\nname: {name}\ndescription: {name}\nallowed-tools: {tools}\n---\n{body}\n"
        )
    scen = scenario(
        tmp_path,
        {"op": "call", "tool": "Skill", "input": json.dumps({"skill": "status"})},
        {"op": "call", "tool": "Skill", "input": json.dumps({"skill": "wipe"})},
        {"op": "final", "text": "ok"},
    )
    with MockServer(scen, workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv, "--allowedTools", "Skill")
        sent = bodies(srv)
    assert proc.returncode == 0, proc.stderr
    status, wipe = json.loads(tool_results(sent[2]))
    text = "".join(b["text"] for b in status["content"])
    assert "\n\nBranch state: on-branch-42\nThen report.\n</skill>" in text
    assert wipe["is_error"] is True
    told = json.dumps(wipe["content"])
    assert "The skill wipe was not loaded: `rm -rf build` was not run" in told
    assert (repo / "build" / "keep.txt").is_file()
