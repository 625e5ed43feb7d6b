"""The Agent SDK's `updatedPermissions`: permission updates sent with an answer.

A `can_use_tool` answer may carry Claude Code permission updates, such as
`{"type": "addRules", "rules": [{"toolName": "Bash", "ruleContent": "git status"}],
"behavior": "allow", "destination": "localSettings"}`. Each update applies to the
running session at once, and one whose destination is a settings file is also
saved there, as Claude Code does: `localSettings` is the project's
`.claude/settings.local.json`, `projectSettings` its `.claude/settings.json`,
`userSettings` `~/.claude/settings.json` (bridle reads all three). A file is
merged, never replaced: only the keys under `permissions` that the update names
change, through the one atomic writer, and a file with comments is kept beside
it as `.bak` first because JSON cannot keep them. Like Claude Code, a response
with one malformed update applies none of them. Types: `addRules`,
`replaceRules`, `removeRules` (behavior allow, ask or deny), `setMode`,
`addDirectories`, `removeDirectories`. A `session` remove or replace touches only
rules this run's answers added; a settings file's rules go with the file's
update. This module does not decide permissions (the policy does) and does not
speak the control protocol (`sdk.py` does).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridle.core.errors import ConfigError, UsageError

DESTINATIONS = ("session", "localSettings", "projectSettings", "userSettings")
_RULE_TYPES = ("addRules", "replaceRules", "removeRules")
_DIR_TYPES = ("addDirectories", "removeDirectories")


@dataclass(frozen=True)
class Update:
    """One checked permission update."""

    kind: str  # one of _RULE_TYPES, "setMode", or one of _DIR_TYPES
    destination: str
    behavior: str = ""  # allow | ask | deny, for rule updates
    rules: tuple[str, ...] = ()  # Claude Code rule strings: Tool or Tool(content)
    mode: str = ""
    directories: tuple[str, ...] = ()


def parse_updates(raw: Any) -> list[Update]:
    """The updates of one answer, or a `UsageError` naming the first bad one."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise UsageError("updatedPermissions must be a list of permission updates")
    return [_parse(i, item) for i, item in enumerate(raw)]


def _parse(i: int, item: Any) -> Update:
    def bad(why: str) -> UsageError:
        return UsageError(f"updatedPermissions[{i}]: {why}")

    if not isinstance(item, dict):
        raise bad("each update must be an object")
    kind = item.get("type")
    destination = item.get("destination") or "session"
    if destination not in DESTINATIONS:
        raise bad(f"unknown destination {destination!r}; use one of {', '.join(DESTINATIONS)}")
    if kind in _RULE_TYPES:
        behavior = item.get("behavior")
        if behavior not in ("allow", "ask", "deny"):
            raise bad(f"{kind} needs a behavior of allow, ask or deny, not {behavior!r}")
        rules = item.get("rules")
        if not isinstance(rules, list):
            raise bad(f"{kind} needs a list of rules")
        return Update(kind, destination, behavior, tuple(_rule_text(bad, r) for r in rules))
    if kind == "setMode":
        from bridle.policy.engine import normalize_mode

        try:
            mode = normalize_mode(str(item.get("mode")))
        except ConfigError as e:
            raise bad(str(e)) from e
        return Update(kind, destination, mode=mode)
    if kind in _DIR_TYPES:
        dirs = item.get("directories")
        if not isinstance(dirs, list) or not all(isinstance(d, str) and d for d in dirs):
            raise bad(f"{kind} needs a list of directory paths")
        return Update(kind, destination, directories=tuple(dirs))
    raise bad(
        f"unknown type {kind!r}; bridle applies {', '.join(_RULE_TYPES)}, setMode, "
        f"{', '.join(_DIR_TYPES)}"
    )


def _rule_text(bad: Callable[[str], UsageError], rule: Any) -> str:
    from bridle.policy.rules import parse_rule

    if not isinstance(rule, dict) or not isinstance(rule.get("toolName"), str):
        raise bad('each rule needs a toolName, e.g. {"toolName": "Bash", "ruleContent": "ls"}')
    content = rule.get("ruleContent")
    if content is not None and not isinstance(content, str):
        raise bad("ruleContent must be a string")
    text = f"{rule['toolName']}({content})" if content else rule["toolName"]
    try:
        parse_rule(text)
    except ConfigError as e:
        raise bad(str(e)) from e
    return text


def settings_file(destination: str, project_root: Path, env: Mapping[str, str]) -> Path | None:
    """The Claude Code settings file a destination names (None for `session`)."""
    from bridle.config.paths import user_home

    return {
        "localSettings": project_root / ".claude" / "settings.local.json",
        "projectSettings": project_root / ".claude" / "settings.json",
        "userSettings": user_home(env) / ".claude" / "settings.json",
    }.get(destination)


class PermissionUpdates:
    """Applies an answer's updates to a running policy and to settings files."""

    def __init__(
        self,
        policy: Any,
        project_root: Path,
        env: Mapping[str, str],
        set_mode: Callable[[str], None],
    ):
        self.policy = policy  # policy.engine.PermissionPolicy
        self.project_root = project_root
        self.env = env
        self.set_mode = set_mode  # switches the running session's mode
        self.added: dict[str, list[str]] = {"allow": [], "ask": [], "deny": []}

    def apply(self, raw: Any) -> list[Path]:
        """Apply every update of `raw` (all or none); return the files written.
        Raises `UsageError` for a malformed update, `OSError` when a file cannot
        be written (the session's own rules are already in effect then)."""
        updates = parse_updates(raw)
        for update in updates:
            self._to_session(update)
        written: list[Path] = []
        for update in updates:
            path = settings_file(update.destination, self.project_root, self.env)
            if path is not None:
                merge_into(path, update)
                written.append(path)
        return written

    def _to_session(self, u: Update) -> None:
        if u.kind == "setMode":
            self.set_mode(u.mode)
            return
        if u.kind in _DIR_TYPES:
            for d in u.directories:
                real = os.path.realpath(self.project_root / os.path.expanduser(d))
                if u.kind == "addDirectories" and real not in self.policy.roots:
                    self.policy.roots.append(real)
                elif u.kind == "removeDirectories" and real in self.policy.roots[1:]:
                    self.policy.roots.remove(real)
            return
        mine = self.added[u.behavior]
        # A file's rules were loaded into the policy: its update drops them too.
        removable = mine if u.destination == "session" else None
        dropped = list(mine) if u.kind == "replaceRules" and u.destination == "session" else []
        if u.kind == "removeRules":
            dropped = list(u.rules)
        for text in dropped:
            if removable is None or text in removable:
                self.policy.remove_rule(u.behavior, text)
                while text in mine:
                    mine.remove(text)
        if u.kind in ("addRules", "replaceRules"):
            for text in u.rules:
                self.policy.add_rule(u.behavior, text)
                mine.append(text)


def merge_into(path: Path, u: Update) -> None:
    """Change only `permissions.<what the update names>` in the file at `path`."""
    from bridle.store.settings_file import edit_settings

    def change(perms: dict[str, Any]) -> None:
        if u.kind == "setMode":
            perms["defaultMode"] = u.mode
            return
        key = "additionalDirectories" if u.kind in _DIR_TYPES else u.behavior
        items = list(u.directories if u.kind in _DIR_TYPES else u.rules)
        old = perms.get(key)
        old = list(old) if isinstance(old, list) else []
        if u.kind in ("addRules", "addDirectories"):
            perms[key] = old + [x for x in items if x not in old]
        elif u.kind == "replaceRules":
            perms[key] = items
        else:
            perms[key] = [x for x in old if x not in items]

    edit_settings(path, "permissions", change)
