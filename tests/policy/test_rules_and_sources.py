"""Rule parsing and matching, the flag splitter, settings validation and
building a policy from layered settings and flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridle.core.errors import ConfigError
from bridle.policy.engine import PermissionPolicy, normalize_mode
from bridle.policy.rules import parse_rule
from bridle.policy.sources import (
    PermissionConfig,
    build_policy,
    config_from_flags,
    config_from_settings,
    merge_configs,
    split_rule_list,
)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["Bash(git commit:*),Read"], ["Bash(git commit:*)", "Read"]),
        (["Bash(npm run test)"], ["Bash(npm run test)"]),
        (["Read Edit", "Bash(ls -la, pwd)"], ["Read", "Edit", "Bash(ls -la, pwd)"]),
        (["  Read ,, Grep  "], ["Read", "Grep"]),
        (["mcp__github__*,WebFetch(domain:a.com)"], ["mcp__github__*", "WebFetch(domain:a.com)"]),
        ([], []),
    ],
)
def test_split_rule_list(values: list[str], expected: list[str]) -> None:
    assert split_rule_list(values) == expected


def test_split_rule_list_rejects_unbalanced() -> None:
    with pytest.raises(ConfigError, match="unbalanced"):
        split_rule_list(["Bash(git status"])


@pytest.mark.parametrize(
    ("text", "tool", "kind"),
    [
        ("Read", "Read", "tool"),
        ("Bash(*)", "Bash", "tool"),
        ("Bash(npm run test:*)", "Bash", "bash"),
        ("Edit(src/**)", "Edit", "path"),
        ("WebFetch(domain:example.com)", "WebFetch", "domain"),
        ("mcp__srv", "mcp__srv", "mcp"),
        ("mcp__srv__tool", "mcp__srv__tool", "mcp"),
        ("Task(explorer)", "Task", "field"),
    ],
)
def test_parse_rule(text: str, tool: str, kind: str) -> None:
    rule = parse_rule(text)
    assert (rule.text, rule.tool, rule.kind) == (text, tool, kind)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("Bash()", "empty parentheses"),
        ("Bash(ls", "must end with ')'"),
        ("Bash ls)", "unbalanced"),
        ("Bash(npm:*:x)", ":* is only allowed at the end"),
        ("Bash(:*)", "nothing before :*"),
        ("Edit(../x)", "'..' is not allowed"),
        ("WebFetch(example.com)", "domain:HOST"),
        ("WebSearch(x)", "no specifier"),
        ("mcp__srv(x)", "no specifier"),
        ("TodoWrite(x)", "does not take a specifier"),
        ("not a tool", "not a tool name"),
    ],
)
def test_invalid_rules_name_the_rule(text: str, why: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_rule(text, source="--allowedTools")
    assert why in str(err.value)
    assert repr(text) in str(err.value)
    assert str(err.value).startswith("--allowedTools: ")


@pytest.mark.parametrize(
    ("spec", "command", "matches"),
    [
        ("npm run test:*", "npm run test", True),
        ("npm run test:*", "npm run test -- -k x", True),
        ("npm run test:*", "npm run testing", False),
        ("git *", "git", True),
        ("git *", "git log -p", True),
        ("git *", "gitk", False),
        ("git* ", "gitk", True),
        ("ls", "ls", True),
        ("ls", "ls -la", False),
        ("docker * --rm", "docker run x --rm", True),
        ("docker * --rm", "docker run x", False),
    ],
)
def test_bash_specifiers(spec: str, command: str, matches: bool) -> None:
    assert parse_rule(f"Bash({spec})").matches_command([command]) is matches


@pytest.mark.parametrize(
    ("spec", "path", "matches"),
    [
        ("src/**", "/p/src/a/b.py", True),
        ("src/**", "/p/lib/src/a.py", False),
        ("./.env*", "/p/.env.local", True),
        ("./.env*", "/p/sub/.env", False),
        (".env", "/p/sub/deep/.env", True),
        ("*.key", "/elsewhere/x.key", True),
        ("**/secrets/**", "/p/a/secrets/k", True),
        ("/docs/*.md", "/root/docs/a.md", True),
        ("/docs/*.md", "/p/docs/a.md", False),
        ("//etc/**", "/etc/passwd", True),
        ("~/.ssh/**", "/home/u/.ssh/id_rsa", True),
        ("~/.ssh/**", "/p/.ssh/id_rsa", False),
        ("src/[ab].py", "/p/src/a.py", True),
        ("src/[!ab].py", "/p/src/a.py", False),
        ("src/?.py", "/p/src/ab.py", False),
        ("build", "/p/build/out/x.o", True),
    ],
)
def test_path_specifiers(spec: str, path: str, matches: bool) -> None:
    rule = parse_rule(f"Read({spec})")
    assert rule.matches_path(path, cwd="/p", root="/root", home="/home/u") is matches


def test_tool_families() -> None:
    edit, read = parse_rule("Edit(src/**)"), parse_rule("Read")
    assert [edit.applies_to(t) for t in ("Edit", "Write", "MultiEdit", "ApplyPatch", "Read")] == [
        True,
        True,
        True,
        True,
        False,
    ]
    assert [read.applies_to(t) for t in ("Read", "Glob", "Grep", "LS", "Edit")] == [
        True,
        True,
        True,
        True,
        False,
    ]
    assert parse_rule("Grep").applies_to("Read") is False


def test_modes_and_aliases() -> None:
    assert [normalize_mode(m) for m in ("auto", "bypass", "manual", "plan")] == [
        "acceptEdits",
        "bypassPermissions",
        "default",
        "plan",
    ]
    with pytest.raises(ConfigError, match="unknown permission mode 'yolo'"):
        normalize_mode("yolo")


def test_config_from_settings() -> None:
    settings = {
        "permissions": {
            "allow": ["Bash(npm test)", "Read"],
            "ask": ["Bash(git push:*)"],
            "deny": ["Read(.env)"],
            "defaultMode": "acceptEdits",
            "additionalDirectories": ["../shared"],
        }
    }
    assert config_from_settings(settings, path="s.json") == PermissionConfig(
        "acceptEdits",
        ["Bash(npm test)", "Read"],
        ["Bash(git push:*)"],
        ["Read(.env)"],
        ["../shared"],
    )
    assert config_from_settings({}) == PermissionConfig()


@pytest.mark.parametrize(
    ("permissions", "message"),
    [
        ("nope", "s.json: permissions: must be an object"),
        ({"allow": "Read"}, "s.json: permissions.allow: must be a list"),
        ({"deny": [3]}, "s.json: permissions.deny: item 0 must be a string"),
        ({"allow": ["Read", "Bash("]}, "s.json: permissions.allow[1]: "),
        ({"defaultMode": "yolo"}, "s.json: permissions.defaultMode: "),
    ],
)
def test_bad_settings_name_file_and_key(permissions: object, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        config_from_settings({"permissions": permissions}, path="s.json")
    assert str(err.value).startswith(message)


def test_flags() -> None:
    config = config_from_flags(
        allowed_tools=["Bash(git commit:*),Read"],
        allow_tool=["Edit"],
        disallowed_tools=["Bash(git push:*) WebFetch"],
        deny_tool=["mcp__x"],
        permission_mode="bypass",
        add_dirs=["/data"],
    )
    assert config == PermissionConfig(
        "bypassPermissions",
        ["Bash(git commit:*)", "Read", "Edit"],
        [],
        ["Bash(git push:*)", "WebFetch", "mcp__x"],
        ["/data"],
    )
    assert config_from_flags(dry_run=True).mode == "plan"
    with pytest.raises(ConfigError, match="--dry-run"):
        config_from_flags(dry_run=True, permission_mode="acceptEdits")
    with pytest.raises(ConfigError, match="--disallowedTools"):
        config_from_flags(disallowed_tools=["Bash()"])


def test_layered_policy(tmp_path: Path) -> None:
    root, shared, home = tmp_path / "p", tmp_path / "shared", tmp_path / "home"
    for d in (root, shared, home):
        d.mkdir()
    user = config_from_settings(
        {"permissions": {"deny": ["Bash(git push:*)"], "defaultMode": "plan"}}
    )
    project = config_from_settings(
        {"permissions": {"allow": ["Bash(git:*)"], "additionalDirectories": ["../shared"]}}
    )
    flags = config_from_flags(permission_mode="acceptEdits")
    policy = build_policy(
        merge_configs(user, project, flags), project_root=root, home=home, headless=True
    )
    assert isinstance(policy, PermissionPolicy)
    assert policy.mode == "acceptEdits"
    assert policy.roots == [str(root.resolve()), str(shared.resolve())]
    cwd = str(root)
    assert policy.evaluate("Bash", {"command": "git push"}, cwd=cwd).behavior == "deny"
    assert policy.evaluate("Bash", {"command": "git commit -m x"}, cwd=cwd).behavior == "allow"
    write = {"file_path": str(shared / "a.txt"), "content": "x"}
    assert policy.evaluate("Write", write, cwd=cwd).behavior == "allow"
    outside = {"file_path": str(tmp_path / "a.txt"), "content": "x"}
    assert policy.evaluate("Write", outside, cwd=cwd).behavior == "deny"  # headless: ask -> deny


def test_plan_mode_hides_editors(tmp_path: Path) -> None:
    policy = PermissionPolicy("plan", allow=["mcp__docs"], project_root=tmp_path, home=tmp_path)
    names = [
        "Read",
        "Bash",
        "Edit",
        "Write",
        "MultiEdit",
        "ApplyPatch",
        "mcp__docs__q",
        "mcp__gh__x",
    ]
    assert policy.visible_tools(names) == ["Read", "Bash", "mcp__docs__q"]
    assert (
        PermissionPolicy("default", project_root=tmp_path, home=tmp_path).visible_tools(names)
        == names
    )
