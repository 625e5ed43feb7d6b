"""Skills, slash commands, agent definitions and output styles: discovery in
Claude Code's folders, precedence, validation that skips one bad file (never the
run), progressive disclosure and the expansion of a command's body."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bridle.core.errors import ConfigError, UsageError
from bridle.extensions.agents import agent_sources, find_agents, resolve_model
from bridle.extensions.commands import command_sources, find_commands, parse_invocation
from bridle.extensions.expand import ExpansionDenied, expand, split_arguments, substitute
from bridle.extensions.frontmatter import read_document, split_frontmatter
from bridle.extensions.skills import budget_for, find_skills, listing, skill_sources
from bridle.extensions.styles import find_styles, style_sources


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    home, project = tmp_path / "home", tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    return {"home": home, "project": project, "bridle": tmp_path / "bridle-home"}


# ----------------------------------------------------------------- frontmatter
@pytest.mark.parametrize(
    ("text", "head", "body"),
    [
        ("---\nname: x\n---\nbody\n", "name: x\n", "body\n"),
        ("\ufeff---\nname: x\n---\n", "name: x\n", ""),
        ("no frontmatter\n", None, "no frontmatter\n"),
        ("---\nname: x\nnever closed\n", None, "---\nname: x\nnever closed\n"),
    ],
)
def test_split_frontmatter(text: str, head: str | None, body: str) -> None:
    assert split_frontmatter(text) == (head, body)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"---\nname: [unclosed\n---\nx", "frontmatter is not valid YAML at line"),
        (b"---\n- a\n- b\n---\nx", "frontmatter must be a mapping"),
        (b"---\nname: caf\xe9\n---\n", "is not UTF-8 (byte 13)"),
    ],
)
def test_unreadable_frontmatter_is_a_problem_naming_the_file(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "SKILL.md"
    path.write_bytes(content)
    found = read_document(path)
    assert not hasattr(found, "fields")
    assert str(found).startswith(str(path)) and problem in str(found)


# ---------------------------------------------------------------------- skills
def test_skills_are_found_in_claude_code_folders_with_precedence(
    tree: dict[str, Path],
) -> None:
    home, project = tree["home"], tree["project"]
    write(home / ".claude/skills/pdf/SKILL.md", "---\nname: pdf\ndescription: personal pdf\n---\nP")
    write(project / ".claude/skills/pdf/SKILL.md", "---\nname: pdf\ndescription: project\n---\nQ")
    write(
        project / "pkg/api/.claude/skills/api-docs/SKILL.md",
        "---\ndescription: Document the API. Use for OpenAPI work.\n---\nBody",
    )
    write(project / ".agents/skills/lint/SKILL.md", "---\nname: lint\ndescription: Lint\n---\nL")
    write(tree["bridle"] / "skills/notes/SKILL.md", "# Notes\n\nKeep notes tidy.\n\nMore.")
    plugin = write(tree["project"] / "plug/skills/pdf/SKILL.md", "---\ndescription: P\n---\nx")
    sources = skill_sources(
        project / "pkg/api", project, home, tree["bridle"], [("tools", plugin.parents[2])]
    )
    found = find_skills(sources)
    assert sorted(found.skills) == ["api-docs", "lint", "notes", "pdf", "tools:pdf"]
    assert found.skills["pdf"].description == "personal pdf"  # personal beats project
    assert found.skills["pdf"].scope == "user"
    assert found.skills["notes"].description == "Keep notes tidy."  # first paragraph
    assert found.skills["api-docs"].directory == project / "pkg/api/.claude/skills/api-docs"
    assert [n for n in found.notes if "hidden by" in n] == [
        f"skill 'pdf' in {project / '.claude/skills/pdf/SKILL.md'} is hidden by "
        f"{home / '.claude/skills/pdf/SKILL.md'}"
    ]


@pytest.mark.parametrize(
    ("frontmatter", "field", "message"),
    [
        ("name: PDF Tools\ndescription: x", "name", "lowercase letters, digits and single hyphens"),
        ("name: " + "a" * 65 + "\ndescription: x", "name", "at most 64"),
        ("description: " + "d" * 1025, "description", "longer than 1024"),
        ("description: x\ncontext: thread", "context", "the only one is `fork`"),
        ("description: x\nallowed-tools: {Bash: yes}", "allowed-tools", "must be a list"),
        ("description: x\ndisable-model-invocation: maybe", "disable-model-invocation", "true or"),
        ("description: x\nhooks: [a]", "hooks", "mapping of hook events"),
    ],
)
def test_a_bad_field_skips_that_skill_only(
    tree: dict[str, Path], frontmatter: str, field: str, message: str
) -> None:
    skills = tree["project"] / ".claude/skills"
    bad = write(skills / "bad/SKILL.md", f"---\n{frontmatter}\n---\nbody")
    write(skills / "good/SKILL.md", "---\ndescription: fine\n---\nbody")
    found = find_skills(
        skill_sources(tree["project"], tree["project"], tree["home"], tree["bridle"])
    )
    assert list(found.skills) == ["good"]
    [problem] = found.problems
    assert (problem.path, problem.field) == (str(bad), field)
    assert message in problem.message


def test_skill_fields_follow_claude_code(tree: dict[str, Path]) -> None:
    write(
        tree["project"] / ".claude/skills/release/SKILL.md",
        "---\nname: release\ndescription: Cut a release\nallowed-tools: Bash(git tag:*), Read\n"
        "disable-model-invocation: true\nargument-hint: <version>\narguments: [version]\n"
        "context: fork\nmodel: haiku\npaths: ['CHANGELOG.md', 'src/**']\n---\n"
        "Tag $version in ${CLAUDE_SKILL_DIR} for ${CLAUDE_SESSION_ID}.",
    )
    found = find_skills(
        skill_sources(tree["project"], tree["project"], tree["home"], tree["bridle"])
    )
    skill = found.skills["release"]
    assert skill.allowed_tools == ("Bash(git tag:*)", "Read")
    assert (skill.model_invocable, skill.user_invocable, skill.fork) == (False, True, True)
    assert (skill.argument_hint, skill.model, skill.paths) == (
        "<version>",
        "haiku",
        ("CHANGELOG.md", "src/**"),
    )
    rendered = skill.render("1.2.0", session_id="s-1").text
    assert rendered == f"Tag 1.2.0 in {skill.directory} for s-1."
    # Not invocable by the model: it is not listed for it.
    assert listing(found.skills.values(), 10_000) == ""


def test_listing_fits_the_budget(tree: dict[str, Path]) -> None:
    for i in range(60):
        write(
            tree["project"] / f".claude/skills/skill-{i:02}/SKILL.md",
            f"---\ndescription: {'word ' * 80}\nwhen_to_use: when {i}\n---\nbody",
        )
    found = find_skills(
        skill_sources(tree["project"], tree["project"], tree["home"], tree["bridle"])
    )
    budget = budget_for(200_000)
    text = listing(found.skills.values(), budget)
    assert budget == 8000 and len(text) <= budget + 80
    assert "- skill-00: word" in text and "…and " in text and "more (ask the Skill tool" in text
    assert max(len(line) for line in text.splitlines()) < 280  # descriptions shortened
    assert budget_for(8000) == 2000


# -------------------------------------------------------------------- commands
@pytest.mark.parametrize(
    ("body", "arguments", "expected"),
    [
        ("Fix issue $ARGUMENTS now", "123 high", "Fix issue 123 high now"),
        ("$0 then $1, $ARGUMENTS[2]; $3.", '"my widget" React Vue', "my widget then React, Vue; ."),
        ("no placeholder", "a b", "no placeholder\n\nARGUMENTS: a b\n"),
        ("no placeholder", "", "no placeholder"),
        ("$ARGUMENTS", "costs $1 each", "costs $1 each"),  # one pass: argument text stays
        ("$10 and $1", "a b", " and b"),
        ("unbalanced $0", "it's here", "unbalanced it's"),
    ],
)
def test_argument_substitution(body: str, arguments: str, expected: str) -> None:
    assert substitute(body, arguments) == expected


def test_named_arguments_and_session_id() -> None:
    text = substitute(
        "$component from $source to $target ($components) ${CLAUDE_SESSION_ID}",
        "SearchBar React Vue",
        names=["component", "source", "target"],
        session_id="abc",
    )
    assert text == "SearchBar from React to Vue ($components) abc"
    assert split_arguments("a 'b c' \"d\"") == ["a", "b c", "d"]


def test_shell_expansion_runs_through_the_callers_runner() -> None:
    ran: list[str] = []

    def run(command: str) -> str:
        ran.append(command)
        if command.startswith("rm"):
            raise ExpansionDenied(f"{command}: denied by the rule Bash(rm:*)")
        return f"<{command}>\n"

    body = "Status: !`git status --short`\n\n```!\ngit diff HEAD\n```\nReview @src/app.py, then @docs/x.md."
    out = expand(body, "", run_shell=run)
    assert (
        out.text
        == "Status: <git status --short>\n\n<git diff HEAD>\n\nReview @src/app.py, then @docs/x.md."
    )
    assert set(out.commands) == {"git status --short", "git diff HEAD"}
    assert out.mentions == ("src/app.py", "docs/x.md")
    with pytest.raises(ExpansionDenied, match="denied by the rule"):
        expand("!`rm -rf build`", "", run_shell=run)
    # Without a runner nothing is executed.
    assert expand("!`date`", "").text == "!`date`"


@pytest.mark.parametrize(
    ("prompt", "parsed"),
    [
        ("/review", ("review", "")),
        ("/fix-issue 123 high  ", ("fix-issue", "123 high")),
        ("/plug:deploy staging\nmore lines", ("plug:deploy", "staging\nmore lines")),
        ("/etc/hosts is broken", None),
        ("fix /review", None),
        ("/", None),
    ],
)
def test_parse_invocation(prompt: str, parsed: tuple[str, str] | None) -> None:
    assert parse_invocation(prompt) == parsed


def test_commands_skills_and_plugins_resolve(tree: dict[str, Path]) -> None:
    home, project = tree["home"], tree["project"]
    write(
        project / ".claude/commands/review.md", "---\ndescription: Review\n---\nReview $ARGUMENTS"
    )
    write(project / ".claude/commands/frontend/component.md", "Make a component\n\nBody")
    write(home / ".claude/commands/review.md", "personal review")
    write(project / ".claude/skills/deploy/SKILL.md", "---\ndescription: Deploy\n---\nDeploy $0")
    write(project / ".claude/commands/deploy.md", "command deploy")
    plug = tree["project"] / "plugins/acme"
    write(plug / "commands/ship.md", "---\nallowed-tools: Bash(git push:*)\n---\nShip it")
    write(plug / "commands/component.md", "plugin component")
    skills = find_skills(skill_sources(project, project, home, tree["bridle"]))
    found = find_commands(command_sources(project, home, [("acme", plug)]), skills.skills.values())
    assert found.resolve("review").body == "personal review"  # personal first
    assert found.resolve("deploy").scope == "skill"  # a skill beats a command
    assert found.resolve("component").description == "Make a component (project:frontend)"
    assert found.resolve("ship").name == "acme:ship"  # unambiguous bare name
    assert found.resolve("acme:ship").allowed_tools == ("Bash(git push:*)",)
    assert found.resolve("acme:component").body == "plugin component"
    with pytest.raises(UsageError, match=r"/revew is not a command; did you mean /review"):
        found.resolve("revew")
    write(plug.parent / "other/commands/ship.md", "other ship")
    two = find_commands(
        command_sources(project, home, [("acme", plug), ("other", plug.parent / "other")])
    )
    with pytest.raises(UsageError, match=r"/ship is ambiguous: say which one, /acme:ship, /other"):
        two.resolve("ship")


# ---------------------------------------------------------------------- agents
def test_agent_definitions(tree: dict[str, Path]) -> None:
    home, project = tree["home"], tree["project"]
    write(
        project / ".claude/agents/reviewer.md",
        "---\nname: code-reviewer\ndescription: Reviews code\ntools: Read, Grep, Glob\n"
        "model: sonnet\npermissionMode: plan\nmaxTurns: 12\n---\nYou review code.\n",
    )
    write(home / ".claude/agents/reviewer.md", "---\nname: code-reviewer\ndescription: p\n---\nP")
    write(home / ".claude/agents/bad.md", "---\nname: bad\ndescription: x\nmaxTurns: 0\n---\nP")
    write(home / ".claude/agents/empty.md", "---\nname: empty\ndescription: x\n---\n")
    cli = '{"tester": {"description": "Runs tests", "prompt": "Run them", "tools": ["Bash"]}}'
    found = find_agents(agent_sources(project, home), cli)
    assert sorted(found.by_name) == ["code-reviewer", "tester"]
    reviewer = found.by_name["code-reviewer"]
    assert (reviewer.tools, reviewer.model, reviewer.permission_mode, reviewer.max_turns) == (
        ("Read", "Grep", "Glob"),
        "sonnet",
        "plan",
        12,
    )
    assert reviewer.prompt == "You review code." and reviewer.scope == "project"
    assert found.by_name["tester"].tools == ("Bash",) and found.by_name["tester"].scope == "cli"
    assert sorted((p.field or "") for p in found.problems) == ["maxTurns", "prompt"]
    with pytest.raises(UsageError, match="--agents is not valid JSON"):
        find_agents([], "{nope")
    aliases = {"sonnet": "anthropic/claude-sonnet-4-5"}
    assert resolve_model("inherit", "deepseek/deepseek-chat", aliases) == "deepseek/deepseek-chat"
    assert resolve_model("sonnet", "x/y", aliases) == "anthropic/claude-sonnet-4-5"
    assert resolve_model("opus", "x/y", aliases) == "x/y"
    assert resolve_model("openai/gpt-5", "x/y", aliases) == "openai/gpt-5"


# ---------------------------------------------------------------------- styles
def test_output_styles(tree: dict[str, Path]) -> None:
    home, project = tree["home"], tree["project"]
    write(
        project / ".claude/output-styles/teacher.md",
        "---\nname: Teacher\ndescription: Explains\nkeep-coding-instructions: true\n---\nTeach.",
    )
    write(home / ".claude/output-styles/terse.md", "Be terse.")
    styles = find_styles(style_sources(project, home))
    teacher = styles.select("teacher")
    assert teacher is not None and teacher.keep_coding_instructions and teacher.prompt == "Teach."
    terse = styles.select("terse")
    assert terse is not None and not terse.keep_coding_instructions
    assert styles.select("default") is None and styles.select(None) is None
    with pytest.raises(ConfigError, match=r"outputStyle: no output style named 'Pirate'.*Teacher"):
        styles.select("Pirate")


def test_yaml_is_imported_only_for_frontmatter(tree: dict[str, Path]) -> None:
    import subprocess

    code = (
        "import sys; from bridle.extensions import skills, commands, agents, styles;"
        "print('yaml' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
