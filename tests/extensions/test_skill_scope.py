"""Skills that join as the session works: a skill with `paths:` is not listed
until a file it covers is touched, and the skills of `.claude/skills` folders
below the working directory join when a file there is. Unit tests on
`SkillScope`, then a real headless run against the mock model: the reminder
reaches the model in the tool result, and the Skill tool then loads the skill."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bridle.core.messages import TextPart, ToolResultPart, ToolUsePart
from bridle.extensions.commands import Commands
from bridle.extensions.skill_scope import SkillScope
from bridle.extensions.skills import find_skills, listing, skill_sources
from bridle.mock.server import MockServer


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def skill_file(folder: Path, name: str, description: str, extra: str = "") -> Path:
    return write(
        folder / name / "SKILL.md",
        f"---\nname: {name}\ndescription: {description}\n{extra}---\nBODY-{name.upper()}\n",
    )


def project(tmp_path: Path) -> dict[str, Path]:
    root, home = tmp_path / "repo", tmp_path / "home"
    skill_file(root / ".claude/skills", "always", "Always offered")
    skill_file(
        root / ".claude/skills", "react", "React component rules", 'paths: "web/**/*.{tsx,jsx}"\n'
    )
    skill_file(root / ".claude/skills", "sql", "SQL style", "paths:\n  - '*.sql'\n")
    skill_file(
        root / ".claude/skills",
        "quiet",
        "User only",
        "paths: '*.md'\ndisable-model-invocation: true\n",
    )
    skill_file(home / ".claude/skills", "mine", "Personal, for docs", "paths: docs/**\n")
    skill_file(root / "packages/api/.claude/skills", "api-rules", "API package rules")
    skill_file(root / "packages/api/.agents/skills", "api-sql", "API SQL", "paths: '*.sql'\n")
    skill_file(root / "packages/api/.claude/skills", "always", "A nested twin: shadowed")
    write(root / "packages/api/.claude/skills/broken/SKILL.md", "---\nname: Bad Name\n---\nx\n")
    return {"root": root, "home": home, "bridle": tmp_path / "bridle"}


def scope_for(t: dict[str, Path]) -> tuple[SkillScope, Commands, Any]:
    found = find_skills(skill_sources(t["root"], t["root"], t["home"], t["bridle"]))

    class Tool:
        skills = {n: s for n, s in found.skills.items() if s.model_invocable}

    commands = Commands()
    scope = SkillScope(
        found.skills, t["root"], t["root"], tool=Tool(),
        add_command=lambda c: commands.by_name.setdefault(c.name, c),
    )  # fmt: skip
    return scope, commands, Tool


def names(skills: Any) -> list[str]:
    return sorted(s.name for s in skills)


def test_the_listing_leaves_out_path_scoped_skills(tmp_path: Path) -> None:
    t = project(tmp_path)
    found = find_skills(skill_sources(t["root"], t["root"], t["home"], t["bridle"]))
    text = listing(found.skills.values(), 10_000)
    assert "- always: Always offered" in text
    for hidden in ("react", "sql", "mine", "quiet"):
        assert f"- {hidden}:" not in text
    assert found.skills["react"].paths == ("web/**/*.{tsx,jsx}",)  # braces kept whole


def test_a_matching_file_offers_a_path_scoped_skill_once(tmp_path: Path) -> None:
    t = project(tmp_path)
    scope, _, _ = scope_for(t)
    root = t["root"]
    assert scope.touched(root / "README.md") == []  # `quiet` is user-only: never offered
    assert names(scope.touched(root / "web/src/App.tsx")) == ["react"]
    assert scope.touched(root / "web/src/Other.jsx") == []  # offered once
    assert scope.touched(root / "web/src/App.ts") == []
    assert names(scope.touched(root / "db/schema.sql")) == ["sql"]
    # A personal skill's globs start at the project root.
    assert names(scope.touched(root / "docs/guide/intro.md")) == ["mine"]
    # Each was offered once: touching their files again offers nothing.
    again = ("web/src/App.tsx", "db/schema.sql", "docs/guide/intro.md")
    assert [scope.touched(root / f) for f in again] == [[], [], []]


def test_a_nested_skill_folder_joins_when_a_file_below_it_is_touched(tmp_path: Path) -> None:
    t = project(tmp_path)
    scope, commands, tool = scope_for(t)
    root = t["root"]
    assert "api-rules" not in scope.skills
    new = scope.touched(root / "packages/api/src/handlers/user.py")
    assert names(new) == ["api-rules"]  # `api-sql` waits for a .sql file below its folder
    assert scope.skills["api-rules"].scope == "project"
    assert "api-rules" in tool.skills and "api-rules" in commands.by_name
    assert scope.skills["always"].description == "Always offered"  # the first one found wins
    assert any("Bad Name" in p or "broken" in p for p in scope.problems)
    assert names(scope.touched(root / "db/schema.sql")) == ["sql"]  # not below packages/api
    assert names(scope.touched(root / "packages/api/q.sql")) == ["api-sql"]
    assert scope.touched(root / "packages/api/src/other.py") == []  # each folder searched once


def test_the_reminder_joins_the_tool_result_of_a_successful_call(tmp_path: Path) -> None:
    t = project(tmp_path)
    scope, _, _ = scope_for(t)
    ok = ToolUsePart("c1", "Read", {"file_path": "web/App.tsx"})
    failed = ToolUsePart("c2", "Read", {"file_path": "x.sql"})
    results = [
        ToolResultPart("c1", [TextPart("export const App = 1")]),
        ToolResultPart("c2", [TextPart("no such file")], is_error=True),
    ]
    assert names(scope.attach([ok, failed], results)) == ["react"]
    added = results[0].content[-1].text
    assert "<system-reminder>" in added and "- react: React component rules" in added
    assert "Skill tool" in added
    assert len(results[1].content) == 1
    # Without the Skill tool the reminder names the file to read.
    bare = SkillScope(dict(scope.skills), t["root"], t["root"])
    assert str(t["root"] / ".claude/skills/sql/SKILL.md") in bare.reminder([scope.skills["sql"]])


def run(
    tmp_path: Path,
    t: dict[str, Path],
    turns: list[dict[str, Any]],
    tools: tuple[str, str] = ("--allowedTools", "Skill"),
) -> list[dict[str, Any]]:
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"name": "skills", "turns": turns}))
    env = dict(os.environ)
    env.pop("BRIDLE_MOCK_SCENARIO", None)
    subprocess.run(["git", "init", "-q", str(t["root"])], check=True)
    with MockServer(scenario, workdir=t["root"], keep_bodies=True) as srv:
        env.update(
            HOME=str(t["home"]), BRIDLE_HOME=str(t["bridle"]), BRIDLE_MOCK_BASE_URL=srv.base_url
        )
        proc = subprocess.run(
            [sys.executable, "-m", "bridle", "-p", "work", "--model", "mock/anthropic",
             "--output-format", "json", *tools],
            cwd=t["root"], env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        bodies = [r["body"] for r in srv.requests if "body" in r]
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["result"] == "done"
    return bodies


def tool_results(body: dict[str, Any]) -> list[str]:
    return [
        json.dumps(b)
        for m in body["messages"] if isinstance(m["content"], list) for b in m["content"]
        if b.get("type") == "tool_result"
    ]  # fmt: skip


def test_a_headless_run_offers_then_loads_a_skill_as_files_are_touched(tmp_path: Path) -> None:
    t = project(tmp_path)
    write(t["root"] / "web/App.tsx", "export const App = 1\n")
    write(t["root"] / "packages/api/main.py", "print('api')\n")
    turns = [
        {"op": "read", "path": "web/App.tsx"},
        {"op": "read", "path": "packages/api/main.py"},
        {"op": "call", "tool": "Skill", "input": json.dumps({"skill": "api-rules"})},
        {"op": "call", "tool": "Skill", "input": json.dumps({"skill": "react"})},
        {"op": "final", "text": "done"},
    ]
    bodies = run(tmp_path, t, turns)
    system = json.dumps(bodies[0]["system"])
    assert "always: Always offered" in system and "react" not in system
    after_read = tool_results(bodies[1])
    assert "react: React component rules" in after_read[0]
    after_nested = tool_results(bodies[2])
    assert "api-rules: API package rules" in after_nested[1]
    loaded = tool_results(bodies[4])
    assert "BODY-API-RULES" in loaded[2] and "BODY-REACT" in loaded[3]


def test_the_skills_view_says_which_files_offer_a_skill(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from bridle.tui.views_info import skills_text

    t = project(tmp_path)
    found = find_skills(skill_sources(t["root"], t["root"], t["home"], t["bridle"]))
    text = skills_text(SimpleNamespace(skills=found.skills))
    assert "- react: React component rules [offered for web/**/*.{tsx,jsx}]" in text
    assert "- quiet: User only [only you]" in text
    assert "- always: Always offered (project," in text


def test_without_the_skill_tool_offered_the_reminder_names_the_file(tmp_path: Path) -> None:
    """`--tools` without Skill: a path-scoped skill is still offered, as the file to read."""
    t = project(tmp_path)
    write(t["root"] / "web/App.tsx", "export const App = 1\n")
    turns = [{"op": "read", "path": "web/App.tsx"}, {"op": "final", "text": "done"}]
    bodies = run(tmp_path, t, turns, tools=("--tools", "Read"))
    (result,) = tool_results(bodies[1])
    assert "read a skill's file" in result and "Skill tool" not in result
    assert "web/**/*.{tsx,jsx}" not in result and str(t["root"] / ".claude/skills/react") in result
