"""Claude Code's extension files change a real headless run: a skill is listed
in the system prompt and loaded with the Skill tool, a `/command args` prompt is
expanded (arguments and a `!` command allowed by its own `allowed-tools`), a
refused `!` command stops the run before any model call, an output style joins
the system prompt, and a bad skill file is named on stderr while the run goes on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bridle.mock.server import MockServer


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def project(tmp: Path) -> Path:
    repo = tmp / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    write(repo / "calc.py", "def add(a, b):\n    return a - b\n")
    write(
        repo / ".claude/skills/greeting/SKILL.md",
        "---\nname: greeting\ndescription: Greets the user in their language\n---\n"
        "Say hello to $ARGUMENTS in the skill at ${CLAUDE_SKILL_DIR}.\n",
    )
    write(repo / ".claude/skills/broken/SKILL.md", "---\nname: Broken Name\n---\nx")
    write(
        repo / ".claude/commands/review.md",
        "---\ndescription: Review a file\nallowed-tools: Bash(git status:*)\n---\n"
        "Review $0 for $1. Status:\n!`git status --short`\n",
    )
    write(repo / ".claude/commands/wipe.md", "Wipe: !`rm -rf build`\n")
    write(repo / ".claude/output-styles/brief.md", "---\nname: Brief\n---\nAnswer in one line.")
    write(repo / ".claude/settings.json", json.dumps({"outputStyle": "brief"}))
    return repo


def run(
    repo: Path, home: Path, srv: MockServer, prompt: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("BRIDLE_MOCK_SCENARIO", None)
    env.update(BRIDLE_HOME=str(home / "bridle"), HOME=str(home), BRIDLE_MOCK_BASE_URL=srv.base_url)
    return subprocess.run(
        [sys.executable, "-m", "bridle", "-p", prompt, "--model", "mock/anthropic",
         "--output-format", "json", *extra],
        cwd=repo, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def scenario(tmp: Path) -> Path:
    path = tmp / "scenario.json"
    turns: list[dict[str, Any]] = [
        {"op": "call", "tool": "Skill", "input": json.dumps({"skill": "greeting", "args": "Ana"})},
        {"op": "final", "text": "done"},
    ]
    path.write_text(json.dumps({"name": "ext", "turns": turns}))
    return path


def user_text(message: dict[str, Any]) -> str:
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") for b in content if b.get("type") == "text")


def test_skill_command_and_style_shape_the_requests(tmp_path: Path) -> None:
    repo = project(tmp_path)
    with MockServer(scenario(tmp_path), workdir=repo, keep_bodies=True) as srv:
        # As in Claude Code, loading a skill needs approval: headless, an allow rule.
        proc = run(repo, tmp_path, srv, "/review calc.py bugs", "--allowedTools", "Skill")
        bodies = [r["body"] for r in srv.requests if "body" in r]
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["result"] == "done"
    # The bad skill is named with its field; the run went on.
    assert "broken/SKILL.md: name: 'Broken Name' must be" in proc.stderr

    first, second = bodies
    system = (
        "".join(b["text"] for b in first["system"])
        if isinstance(first["system"], list)
        else first["system"]
    )
    assert "- greeting: Greets the user in their language" in system
    assert "broken" not in system
    assert "# Output style: Brief\nAnswer in one line." in system
    assert "Skill" in [t["name"] for t in first["tools"]]
    # The command was expanded: arguments, and the `!` command its allowed-tools permit.
    prompt = user_text(first["messages"][0])
    assert prompt.startswith("Review calc.py for bugs. Status:\n")
    assert "?? .claude/" in prompt or "?? calc.py" in prompt
    # The Skill tool returned the skill's body, expanded, with its folder.
    results = [
        b for m in second["messages"] if isinstance(m["content"], list) for b in m["content"]
        if b.get("type") == "tool_result"
    ]  # fmt: skip
    text = json.dumps(results)
    skill_dir = repo / ".claude/skills/greeting"
    assert f"Say hello to Ana in the skill at {skill_dir}." in text
    assert f"Base directory for this skill: {skill_dir}" in text


def test_a_refused_bang_command_stops_before_the_model(tmp_path: Path) -> None:
    repo = project(tmp_path)
    with MockServer(scenario(tmp_path), workdir=repo) as srv:
        proc = run(repo, tmp_path, srv, "/wipe")
        asked = [r for r in srv.requests if r.get("status") == 200]
    assert proc.returncode == 64, proc.stderr
    assert "/wipe: `rm -rf build` was not run" in proc.stderr
    assert "allowed-tools: Bash(rm:*)" in proc.stderr
    assert asked == []
    assert (repo / "calc.py").exists()


def test_an_unknown_command_is_a_usage_error_with_a_suggestion(tmp_path: Path) -> None:
    repo = project(tmp_path)
    with MockServer(scenario(tmp_path), workdir=repo) as srv:
        proc = run(repo, tmp_path, srv, "/reveiw calc.py")
    assert proc.returncode == 64
    assert "/reveiw is not a command; did you mean /review?" in proc.stderr


def test_a_loaded_skills_allowed_tools_need_no_approval(tmp_path: Path) -> None:
    repo = project(tmp_path)
    write(
        repo / ".claude/skills/counter/SKILL.md",
        "---\nname: counter\ndescription: Marks files\nallowed-tools: Bash(touch:*)\n---\n"
        "Run touch to mark the file.\n",
    )
    path = tmp_path / "skill-then-ls.json"
    turns = [
        {"op": "bash", "command": "touch before.txt"},  # asks before the skill: denied
        {"op": "call", "tool": "Skill", "input": json.dumps({"skill": "counter"})},
        {"op": "bash", "command": "touch after.txt"},  # the skill's allowed-tools allow it
        {"op": "final", "text": "done"},
    ]
    path.write_text(json.dumps({"name": "s", "turns": turns}))
    with MockServer(path, workdir=repo) as srv:
        proc = run(repo, tmp_path, srv, "go", "--allowedTools", "Skill")
    assert proc.returncode == 0, proc.stderr
    denials = json.loads(proc.stdout)["permission_denials"]
    assert [d["tool_name"] for d in denials] == ["Bash"]  # only the first touch
    assert not (repo / "before.txt").exists() and (repo / "after.txt").exists()


def test_a_context_fork_skill_runs_as_a_subagent(tmp_path: Path) -> None:
    repo = project(tmp_path)
    write(
        repo / ".claude/skills/survey/SKILL.md",
        "---\nname: survey\ndescription: Surveys the code\ncontext: fork\nagent: Explore\n---\n"
        "[forked] Read calc.py and report what add does.\n",
    )
    path = tmp_path / "fork.json"
    doc = {
        "name": "f",
        "turns": [
            {"op": "call", "tool": "Skill", "input": json.dumps({"skill": "survey"})},
            {"op": "final", "text": "parent done"},
        ],
        "agents": {
            "[forked]": {
                "turns": [
                    {"op": "read", "path": "calc.py"},
                    {"op": "final", "text": "add subtracts"},
                ]
            }
        },
    }
    path.write_text(json.dumps(doc))
    with MockServer(path, workdir=repo, keep_bodies=True) as srv:
        proc = run(repo, tmp_path, srv, "go", "--allowedTools", "Skill")
        parent = [r["body"] for r in srv.requests if "body" in r and not r.get("agent")]
    assert proc.returncode == 0, proc.stderr
    results = json.dumps(parent[-1]["messages"])
    assert "add subtracts" in results and "agent session" in results
    assert "<skill name=" not in results  # the body went to the subagent, not the parent
