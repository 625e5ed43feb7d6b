"""Claude Code's many-valued flags on bridle's command line.

Claude Code lets `--allowedTools`, `--disallowedTools` (and their dashed
spellings), `--add-dir` and `--mcp-config` take several values in a row:
`claude -p "q" --allowedTools Read "Bash(git log:*)" Edit`. A Click option
takes one value, so `spread(args)` rewrites the words that follow such a flag
into repeated uses of it, while each word looks like a value of that flag: a
permission rule naming a known tool (`Read`, `Bash(git:*)`, `mcp__github`,
`Read,Edit`), an existing directory, or an MCP config (an existing file or a
JSON object). The first word that does not, such as a prompt (`"fix the test"`),
ends the run of values and stays where it was. Only the main command's flags
are spread (not a subcommand's), and nothing after `--`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

# Tools a rule may name besides the built-in ones (the engine's own and Claude Code's).
_OTHER_TOOLS = frozenset(
    [
        "Agent",
        "Task",
        "Skill",
        "ToolSearch",
        "WebSearch",
        "NotebookEdit",
        "NotebookRead",
        "ListMcpResourcesTool",
        "ReadMcpResourceTool",
        "BashOutput",
        "KillShell",
        "ExitPlanMode",
        "StructuredOutput",
    ]
)
_RULE = re.compile(r"(?P<name>[A-Za-z_][\w-]*)(?:\(.*\))?", re.S)


def _is_rules(word: str) -> bool:
    from bridle.core.errors import BridleError
    from bridle.policy.sources import split_rule_list
    from bridle.tools.names import BUILTIN_TOOL_NAMES

    try:
        rules = split_rule_list([word])
    except BridleError:
        return False
    known = set(BUILTIN_TOOL_NAMES) | _OTHER_TOOLS
    for rule in rules:
        m = _RULE.fullmatch(rule)
        if m is None:
            return False
        name = m.group("name")
        if name not in known and not name.startswith("mcp__"):
            return False
    return bool(rules)


def _is_dir(word: str) -> bool:
    return Path(word).expanduser().is_dir()


def _is_mcp_config(word: str) -> bool:
    return word.lstrip().startswith("{") or Path(word).expanduser().is_file()


VALUES: dict[str, Callable[[str], bool]] = {
    "--allowedTools": _is_rules,
    "--allowed-tools": _is_rules,
    "--disallowedTools": _is_rules,
    "--disallowed-tools": _is_rules,
    "--add-dir": _is_dir,
    "--mcp-config": _is_mcp_config,
}


def spread(args: list[str], subcommands: Iterable[str]) -> list[str]:
    """`args` with each many-valued flag repeated for every value that follows it."""
    if not any(a in VALUES for a in args):
        return args
    names = set(subcommands)
    out: list[str] = []
    i = 0
    while i < len(args):
        word = args[i]
        out.append(word)
        i += 1
        if word == "--":
            out += args[i:]
            break
        if word in names and not any(o in VALUES for o in out[:-1]):
            out += args[i:]  # a subcommand's own flags are its business
            break
        check = VALUES.get(word)
        if check is None or i >= len(args):
            continue
        out.append(args[i])  # the flag's own value, whatever it is
        i += 1
        while i < len(args) and not args[i].startswith("-") and check(args[i]):
            out += [word, args[i]]
            i += 1
    return out
