"""Where permission rules and the mode come from: settings and command-line flags.

`config_from_settings` reads one settings mapping (`permissions.allow/ask/deny`,
`permissions.defaultMode`, `permissions.additionalDirectories`) and validates it,
naming the file and key on error. `config_from_flags` reads `--allowedTools`,
`--disallowedTools`, `--allow-tool`, `--deny-tool`, `--permission-mode`,
`--dry-run` (plan mode) and `--add-dir`; each flag value may hold several rules
separated by commas or spaces outside parentheses (`split_rule_list`).
`merge_configs` layers them (rules accumulate, the last mode set wins) and
`build_policy` makes the `PermissionPolicy`. Finding and reading settings files
is `config/`'s job, not this module's.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridle.core.errors import ConfigError
from bridle.policy.engine import PermissionPolicy, normalize_mode
from bridle.policy.rules import parse_rule


@dataclass
class PermissionConfig:
    """Permission rules, mode and extra directories from one source, or merged from several."""

    mode: str | None = None
    allow: list[str] = field(default_factory=list)
    ask: list[str] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)
    additional_directories: list[str] = field(default_factory=list)


def split_rule_list(values: Iterable[str]) -> list[str]:
    """Split flag values into rules on commas and whitespace outside parentheses:
    `["Bash(git commit:*),Read", "Edit"]` -> `["Bash(git commit:*)", "Read", "Edit"]`."""
    rules: list[str] = []
    for value in values:
        depth, current = 0, list[str]()
        for ch in value:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth = max(depth - 1, 0)
            if depth == 0 and (ch == "," or ch.isspace()):
                if current:
                    rules.append("".join(current))
                current = []
                continue
            current.append(ch)
        if depth:
            raise ConfigError(f"unbalanced '(' in permission rules {value!r}; close it with ')'")
        if current:
            rules.append("".join(current))
    return rules


def config_from_settings(
    settings: Mapping[str, Any], *, path: str | None = None
) -> PermissionConfig:
    """The permission part of one settings mapping; ConfigError names file and key."""
    perms = settings.get("permissions")
    if perms is None:
        return PermissionConfig()
    if not isinstance(perms, Mapping):
        raise ConfigError(
            "must be an object with allow/ask/deny lists", path=path, key="permissions"
        )
    config = PermissionConfig()
    for name in ("allow", "ask", "deny", "additionalDirectories"):
        value = perms.get(name, [])
        key = f"permissions.{name}"
        if not isinstance(value, list):
            raise ConfigError(
                'must be a list of strings, e.g. ["Bash(git status)"]', path=path, key=key
            )
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise ConfigError(f"item {i} must be a string, not {item!r}", path=path, key=key)
            if name != "additionalDirectories":
                try:
                    parse_rule(item)
                except ConfigError as e:
                    raise ConfigError(str(e), path=path, key=f"{key}[{i}]") from e
        target = "additional_directories" if name == "additionalDirectories" else name
        getattr(config, target).extend(value)
    mode = perms.get("defaultMode")
    if mode is not None:
        if not isinstance(mode, str):
            raise ConfigError("must be a mode name", path=path, key="permissions.defaultMode")
        try:
            config.mode = normalize_mode(mode)
        except ConfigError as e:
            raise ConfigError(str(e), path=path, key="permissions.defaultMode") from e
    return config


def config_from_flags(
    *,
    allowed_tools: Sequence[str] = (),
    disallowed_tools: Sequence[str] = (),
    allow_tool: Sequence[str] = (),
    deny_tool: Sequence[str] = (),
    permission_mode: str | None = None,
    dry_run: bool = False,
    add_dirs: Sequence[str] = (),
) -> PermissionConfig:
    """Rules from the flags (each value may list several rules); `--dry-run` is plan mode."""
    allow = split_rule_list([*allowed_tools, *allow_tool])
    deny = split_rule_list([*disallowed_tools, *deny_tool])
    for flag, rules in (("--allowedTools", allow), ("--disallowedTools", deny)):
        for rule in rules:
            parse_rule(rule, source=flag)
    mode = normalize_mode(permission_mode) if permission_mode else None
    if dry_run:
        if mode not in (None, "plan"):
            raise ConfigError(
                f"--dry-run is plan mode and conflicts with --permission-mode {permission_mode}"
            )
        mode = "plan"
    return PermissionConfig(mode, allow, [], deny, list(add_dirs))


def merge_configs(*configs: PermissionConfig) -> PermissionConfig:
    """Layer configs lowest first: rules accumulate, the last mode set wins."""
    out = PermissionConfig()
    for c in configs:
        out.mode = c.mode or out.mode
        out.allow += c.allow
        out.ask += c.ask
        out.deny += c.deny
        out.additional_directories += c.additional_directories
    return out


def build_policy(
    config: PermissionConfig, *, project_root: str | Path, home: str | Path, headless: bool = False
) -> PermissionPolicy:
    """The policy for a session; relative extra directories are under the project."""
    roots = []
    for d in config.additional_directories:
        expanded = os.path.join(str(home), d[2:]) if d == "~" or d.startswith("~/") else d
        roots.append(os.path.join(str(project_root), expanded))
    return PermissionPolicy(
        config.mode or "default",
        config.allow,
        config.ask,
        config.deny,
        project_root=project_root,
        extra_roots=roots,
        home=home,
        headless=headless,
    )
