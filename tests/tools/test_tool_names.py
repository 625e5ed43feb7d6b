"""The list of built-in tools lives in one constant (`tools.names`), and every
place that groups tools by name agrees with the tool classes themselves."""

from __future__ import annotations

from bridle.policy import rules
from bridle.tools.names import (
    BUILTIN_TOOL_NAMES,
    EDIT_TOOL_NAMES,
    FILE_PATH_TOOLS,
    READ_TOOL_NAMES,
)
from bridle.tools.registry import builtin_tools


def test_the_registry_offers_exactly_the_named_tools_in_order() -> None:
    assert tuple(t.name for t in builtin_tools()) == BUILTIN_TOOL_NAMES
    assert len(set(BUILTIN_TOOL_NAMES)) == len(BUILTIN_TOOL_NAMES)


def test_groups_match_what_each_tool_declares() -> None:
    tools = {t.name: t for t in builtin_tools()}
    for name in FILE_PATH_TOOLS:
        assert "file_path" in tools[name].input_schema["required"], name
    assert all(not tools[n].read_only for n in EDIT_TOOL_NAMES)
    assert all(tools[n].read_only for n in READ_TOOL_NAMES)
    # Every built-in that touches files is in exactly one group.
    file_tools = {n for n, t in tools.items() if "file_path" in t.input_schema["properties"]}
    assert file_tools <= set(EDIT_TOOL_NAMES) | set(READ_TOOL_NAMES)
    assert not set(EDIT_TOOL_NAMES) & set(READ_TOOL_NAMES)


def test_policy_groups_are_built_from_the_constant() -> None:
    assert set(EDIT_TOOL_NAMES) <= rules.EDIT_TOOLS
    assert set(READ_TOOL_NAMES) <= rules.READ_TOOLS
    # Claude Code's notebook tools are matched too, though bridle has none yet.
    assert rules.EDIT_TOOLS - set(EDIT_TOOL_NAMES) == {"NotebookEdit"}
    assert rules.READ_TOOLS - set(READ_TOOL_NAMES) == {"NotebookRead"}
