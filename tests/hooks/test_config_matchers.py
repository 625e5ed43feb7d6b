"""Hook settings parsing (strict, but a bad hook is a warning) and matchers/`if` as
Claude Code's hooks reference describes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridle.hooks.config import (
    FrontmatterHooks,
    PluginHooks,
    load_hooks,
    parse_cli_hook,
)
from bridle.hooks.matchers import compile_matcher, if_matches

# (matcher, event, value, expected)
MATCHER_CASES = [
    ("", "PreToolUse", "Bash", True),
    ("*", "PreToolUse", "Anything", True),
    (None, "PreToolUse", "Write", True),
    ("Bash", "PreToolUse", "Bash", True),
    ("Bash", "PreToolUse", "BashOutput", False),
    ("Edit|Write", "PreToolUse", "Write", True),
    ("Edit|Write", "PreToolUse", "MultiEdit", False),
    ("Edit, Write", "PreToolUse", "Edit", True),
    ("code-reviewer", "SubagentStart", "code-reviewer", True),
    ("mcp__memory", "PreToolUse", "mcp__memory__create", False),
    ("mcp__memory__.*", "PreToolUse", "mcp__memory__create_entities", True),
    ("mcp__.*__write.*", "PreToolUse", "mcp__fs__write_file", True),
    ("Edit.*", "PreToolUse", "NotebookEdit", True),  # unanchored, like RegExp.test
    ("^Edit$", "PreToolUse", "NotebookEdit", False),
    ("^Notebook", "PreToolUse", "NotebookRead", True),
    ("^my-plugin:reviewer$", "SubagentStart", "my-plugin:reviewer", True),
    ("startup", "SessionStart", "resume", False),
    ("rate_limit|overloaded", "StopFailure", "overloaded", True),
    # StopFailure/FileChanged: a hyphen keeps the matcher on the regex path.
    ("server-error", "StopFailure", "server_error", False),
]


@pytest.mark.parametrize(("text", "event", "value", "expected"), MATCHER_CASES)
def test_matchers(text: str | None, event: str, value: str, expected: bool) -> None:
    assert compile_matcher(text, event).matches(value) is expected


def test_bad_regex_matcher_raises_with_reason() -> None:
    with pytest.raises(ValueError, match="not a valid regular expression"):
        compile_matcher("Bash(", "PreToolUse")


# (rule, tool, input, expected) -- the hooks reference's Bash `if` table and file rules.
IF_CASES = [
    ("Bash(git *)", "Bash", {"command": "FOO=bar git push"}, True),
    ("Bash(git *)", "Bash", {"command": "npm test && git push"}, True),
    ("Bash(rm *)", "Bash", {"command": "echo $(rm -rf /)"}, True),
    ("Bash(rm *)", "Bash", {"command": "echo $(date)"}, False),
    ("Bash(git *)", "Bash", {"command": "npm test"}, False),
    ("Bash(rm *)", "Bash", {"command": "echo 'unterminated"}, True),  # unparseable: runs
    ("Bash(git *)", "Write", {"file_path": "/x", "content": ""}, False),
    (
        "Edit(*.ts)",
        "Edit",
        {"file_path": "{root}/src/a.ts", "old_string": "", "new_string": ""},
        True,
    ),
    ("Edit(*.ts)", "Write", {"file_path": "{root}/src/a.py", "content": ""}, False),
    ("mcp__memory", "mcp__memory__create", {}, True),
    ("Read", "Read", {"file_path": "{root}/a"}, True),
]


@pytest.mark.parametrize(("rule", "tool", "tool_input", "expected"), IF_CASES)
def test_if_rules(tmp_path: Path, rule: str, tool: str, tool_input: dict, expected: bool) -> None:
    filled = {
        k: v.replace("{root}", str(tmp_path)) if isinstance(v, str) else v
        for k, v in tool_input.items()
    }
    assert if_matches(rule, tool, filled, cwd=str(tmp_path)) is expected


def _settings(hooks: dict) -> dict:
    return {"hooks": hooks}


def test_layers_merge_and_bad_hooks_are_warnings_naming_file_and_key() -> None:
    user = _settings({"Stop": [{"hooks": [{"type": "command", "command": "echo user"}]}]})
    project = _settings(
        {
            "PreToolUse": [
                {
                    "matcher": "Bash",
                    "hooks": [
                        {"type": "command", "command": "echo ok", "timeout": 5},
                        {"type": "command"},  # missing command
                        {"type": "shell", "command": "x"},  # unknown type
                        {"type": "command", "command": "x", "timeout": "soon"},
                    ],
                }
            ],
            "PreToolUze": [{"hooks": [{"type": "command", "command": "x"}]}],
        }
    )
    cfg = load_hooks([("/home/u/.claude/settings.json", user), (".claude/settings.json", project)])
    assert [(e.event, e.handler.command) for e in cfg.entries] == [
        ("Stop", "echo user"),
        ("PreToolUse", "echo ok"),
    ]
    assert cfg.entries[1].handler.timeout == 5.0
    text = "\n".join(cfg.warnings)
    assert (
        ".claude/settings.json: hooks.PreToolUse[0].hooks[1]: a command hook needs 'command'"
        in text
    )
    assert "hooks.PreToolUse[0].hooks[2]: unknown hook type 'shell'" in text
    assert "hooks.PreToolUse[0].hooks[3]: 'timeout' must be a positive number" in text
    assert "hooks.PreToolUze: unknown hook event 'PreToolUze'" in text
    assert len(cfg.warnings) == 4


@pytest.mark.parametrize(
    ("hook", "event", "message"),
    [
        ({"type": "http"}, "PreToolUse", "needs 'url'"),
        ({"type": "prompt"}, "Stop", "needs 'prompt'"),
        ({"type": "mcp_tool", "server": "s"}, "PostToolUse", "needs 'server' and 'tool'"),
        ({"type": "prompt", "prompt": "p"}, "SessionStart", "does not run prompt hooks"),
        ({"type": "command", "command": "x", "if": "Bash(git *)"}, "Stop", "only applies to tool"),
        ({"type": "command", "command": "x", "if": "Bash("}, "PreToolUse", "'if': invalid"),
        ({"type": "command", "command": "x", "args": "a b"}, "PreToolUse", "list of strings"),
        ({"type": "command", "command": "x", "bogus": 1}, "PreToolUse", "unknown field(s) 'bogus'"),
        ({"type": "command", "command": "x", "async": "yes"}, "PreToolUse", "true or false"),
    ],
)
def test_strict_validation(hook: dict, event: str, message: str) -> None:
    cfg = load_hooks([("s.json", _settings({event: [{"hooks": [hook]}]}))])
    assert not cfg.entries
    assert len(cfg.warnings) == 1 and message in cfg.warnings[0], cfg.warnings


def test_bad_matcher_regex_is_a_warning() -> None:
    cfg = load_hooks(
        [
            (
                "s.json",
                _settings(
                    {
                        "PreToolUse": [
                            {"matcher": "(", "hooks": [{"type": "command", "command": "x"}]}
                        ]
                    }
                ),
            )
        ]
    )
    assert not cfg.entries and "hooks.PreToolUse[0].matcher" in cfg.warnings[0]


def test_disable_all_hooks_follows_precedence_and_spares_managed() -> None:
    hook = _settings({"Stop": [{"hooks": [{"type": "command", "command": "echo"}]}]})
    on = load_hooks(
        [("user", {**hook, "disableAllHooks": True}), ("project", {"disableAllHooks": False})]
    )
    assert not on.disabled and len(on.entries) == 1
    off = load_hooks([("user", hook), ("local", {"disableAllHooks": True})])
    assert off.disabled and not off.entries
    managed = load_hooks([("managed", hook, True), ("user", {**hook, "disableAllHooks": True})])
    assert len(managed.entries) == 1 and managed.entries[0].handler.source.kind == "managed"


def test_plugin_hooks_json_and_frontmatter_and_cli(tmp_path: Path) -> None:
    root = tmp_path / "plug"
    (root / "hooks").mkdir(parents=True)
    (root / "hooks" / "hooks.json").write_text(
        json.dumps(
            {
                "description": "fmt",
                "hooks": {
                    "PostToolUse": [
                        {
                            "matcher": "Write|Edit",
                            "hooks": [{"type": "command", "command": "${CLAUDE_PLUGIN_ROOT}/f.sh"}],
                        }
                    ]
                },
            }
        )
    )
    broken = tmp_path / "broken"
    (broken / "hooks").mkdir(parents=True)
    (broken / "hooks" / "hooks.json").write_text("{not json")
    cfg = load_hooks(
        [],
        plugins=[PluginHooks("fmt", str(root)), PluginHooks("broken", str(broken))],
        frontmatter=[
            FrontmatterHooks(
                "agent",
                "rev",
                "/a/rev.md",
                {"Stop": [{"hooks": [{"type": "command", "command": "check"}]}]},
            )
        ],
        cli_hooks=["Stop:notify-send done", "PreToolUse[Bash]:echo pre", "nonsense"],
    )
    events = [(e.event, e.handler.source.kind, e.handler.command) for e in cfg.entries]
    assert events == [
        ("PostToolUse", "plugin", "${CLAUDE_PLUGIN_ROOT}/f.sh"),
        ("SubagentStop", "agent", "check"),  # an agent's Stop becomes SubagentStop
        ("Stop", "cli", "notify-send done"),
        ("PreToolUse", "cli", "echo pre"),
    ]
    plugin_handler = cfg.entries[0].handler
    assert plugin_handler.source.plugin_root == str(root)
    assert plugin_handler.source.plugin_data and "fmt" in plugin_handler.source.plugin_data
    assert cfg.entries[3].matcher.matches("Bash") and not cfg.entries[3].matcher.matches("Read")
    assert any("broken" in w and "cannot be read as JSON" in w for w in cfg.warnings)
    assert any("--hook 'nonsense'" in w for w in cfg.warnings)


def test_cli_hook_unknown_event_warns() -> None:
    entries, warnings = parse_cli_hook("Stopp:echo")
    assert not entries and "unknown hook event 'Stopp'" in warnings[0]


def test_identity_dedupes_settings_copies_but_not_plugin_copies() -> None:
    hook = {"Stop": [{"hooks": [{"type": "command", "command": "echo same"}]}]}
    cfg = load_hooks([("a.json", _settings(hook)), ("b.json", _settings(hook))])
    a, b = (e.handler for e in cfg.entries)
    assert a.identity() == b.identity()
    fm = load_hooks([], frontmatter=[FrontmatterHooks("skill", "s", "/s/SKILL.md", hook)])
    assert fm.entries[0].handler.identity() != a.identity()
