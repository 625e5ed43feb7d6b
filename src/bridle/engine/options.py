"""`SessionOptions`: the typed value a session is opened with.

Every front end (the headless CLI, the interactive app, the daemon, the ACP
agent) builds one and hands it to `engine.setup.open_session`; the engine never
sees a command-line flag name. Every field has a default, so
`SessionOptions(model="mock/default", resume="3f2a")` is a complete request.
Sequences are stored as tuples and the settings overrides as a read-only
mapping, so a value can be shared between threads and reused for several
sessions (a batch). Construction validates what can be checked without I/O
(conflicting fields, limits, the permission mode and the syntax of every rule)
and raises `UsageError` naming the field. What needs the disk or the catalog (an
unknown model or tool, a missing session) is checked when the session opens.
This module does not parse flags (front ends do) and does not read files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bridle.core.errors import ConfigError, UsageError


def _tuple(value: Iterable[Any] | None) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """What to open: which model and accounts, which permissions, which limits,
    and whether to start fresh, resume, continue or fork."""

    # `provider/model`, a catalog name or an alias; None: the resumed session's
    # model, else settings `model`, else the first provider with a key.
    model: str | None = None
    # Accounts whose keys are used, in rotation order (the next one takes over
    # when a rate limit or quota is exhausted). Empty: settings
    # `accounts.rotation`, else the shell's or the default account.
    accounts: tuple[str, ...] = ()
    # Permissions on top of every settings layer (deny rules always hold).
    permission_mode: str | None = None  # default|acceptEdits|plan|dontAsk|bypassPermissions
    allow_rules: tuple[str, ...] = ()  # Claude Code rule syntax: "Bash(npm test:*)"
    deny_rules: tuple[str, ...] = ()
    dry_run: bool = False  # plan mode: nothing is written
    add_dirs: tuple[Path, ...] = ()  # more roots the agent may write in
    # The base tool set: None is every built-in tool, () none, or these names.
    tools: tuple[str, ...] | None = None
    max_turns: int | None = None  # model requests per user turn (settings, else 50)
    max_cost_usd: float | None = None
    # Prompt additions: the text (not a path) replacing the base system prompt,
    # and texts appended to it.
    system_prompt: str | None = None
    append_system_prompt: tuple[str, ...] = ()
    # Which session: `resume` is a bridle id (or unique prefix) or another tool's
    # session (`claude:ID`, imported first); `continue_latest` takes the latest
    # session of the project; `fork` continues either in a new session.
    resume: str | None = None
    continue_latest: bool = False
    fork: bool = False
    # With `fork` (`--resume-session-at`, Claude Code's flag): the fork keeps the
    # session only up to this point: an event number shown by `bridle sessions
    # show` (e.g. the one just before a compaction) or an assistant message id.
    resume_at: str | None = None
    # Facts to pin in this session (`--anchor`); kept by `-c`/`-r` (see `Anchor`).
    anchors: tuple[str, ...] = ()
    # Settings overrides, the "cli" layer (dotted keys allowed: {"a.b": 1}).
    settings: Mapping[str, Any] = field(default_factory=dict)
    # True when nobody can answer a permission ask (it is denied instead).
    headless: bool = True
    # MCP servers given for this session (`--mcp-config`: a JSON text or a file
    # path each); `strict_mcp_config` ignores every other MCP configuration.
    mcp_configs: tuple[str, ...] = ()
    strict_mcp_config: bool = False
    # Plugin folders for this session (`--plugin-dir`), before the installed ones.
    plugin_dirs: tuple[Path, ...] = ()
    # Hooks given for this session (`--hook EVENT:COMMAND` or EVENT[MATCHER]:COMMAND),
    # added to the hooks of every settings layer, plugin and skill.
    hooks: tuple[str, ...] = ()
    # The new session's id (a UUID; `--session-id`), else bridle makes one. With
    # resume or continue it names the fork, so it needs `fork`.
    session_id: str | None = None
    # A JSON Schema (an object) the turn's answer must fit (`--json-schema`): the
    # model gets a StructuredOutput tool, see `engine.structured`.
    json_schema: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        for name in (
            "accounts",
            "allow_rules",
            "deny_rules",
            "append_system_prompt",
            "mcp_configs",
            "hooks",
            "anchors",
        ):
            object.__setattr__(self, name, tuple(str(v) for v in _tuple(getattr(self, name))))
        object.__setattr__(self, "add_dirs", tuple(Path(d) for d in _tuple(self.add_dirs)))
        object.__setattr__(self, "plugin_dirs", tuple(Path(d) for d in _tuple(self.plugin_dirs)))
        if self.tools is not None:
            object.__setattr__(self, "tools", tuple(str(t) for t in _tuple(self.tools)))
        if not isinstance(self.settings, Mapping):
            raise UsageError("SessionOptions.settings must be a mapping of settings keys")
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))
        if self.json_schema is not None:
            if not isinstance(self.json_schema, Mapping):
                raise UsageError("SessionOptions.json_schema must be a JSON Schema object")
            object.__setattr__(self, "json_schema", MappingProxyType(dict(self.json_schema)))
        self._validate()

    def _validate(self) -> None:
        if self.continue_latest and self.resume:
            raise UsageError("continue the latest session or resume one by id, not both")
        if self.resume is not None and not self.resume.strip():
            raise UsageError("resume needs a session id (see `bridle sessions list`)")
        if self.fork and not (self.continue_latest or self.resume):
            raise UsageError("forking needs a session to fork: continue or resume one")
        if self.resume_at is not None and not (self.fork and self.resuming):
            raise UsageError(
                "--resume-session-at forks the session at that point: "
                "add --fork-session and -r ID (or -c)"
            )
        if any(not a.strip() for a in self.anchors):
            raise UsageError("an anchor is empty; pin a fact with --anchor TEXT")
        if self.max_turns is not None and self.max_turns < 1:
            raise UsageError(f"max_turns must be 1 or more, not {self.max_turns}")
        if self.max_cost_usd is not None and not self.max_cost_usd > 0:
            raise UsageError(f"max_cost_usd must be more than 0, not {self.max_cost_usd}")
        if self.session_id is not None:
            import uuid

            try:
                if str(uuid.UUID(self.session_id)) != self.session_id.lower():
                    raise ValueError("not in the 8-4-4-4-12 form")
            except ValueError:
                raise UsageError(
                    f"session id {self.session_id!r} is not a UUID; pass one such as "
                    f"{uuid.uuid4()} (or leave it out and bridle makes one)"
                ) from None
            if self.resuming and not self.fork:
                raise UsageError(
                    "a session id with resume or continue names the fork: add --fork-session"
                )
        if any(not a.strip() for a in self.accounts):
            raise UsageError("an account name is empty; name each account")
        if self.hooks:
            from bridle.hooks.config import parse_cli_hook

            for spec in self.hooks:
                problems = parse_cli_hook(spec)[1]
                if problems:
                    raise UsageError(problems[0].replace("; this hook is skipped", ""))
        if self.allow_rules or self.deny_rules or self.permission_mode or self.dry_run:
            self.permission_config()  # checks the rules and the mode (no flags: nothing to check)

    @property
    def resuming(self) -> bool:
        return bool(self.continue_latest or self.resume)

    def permission_config(self) -> Any:
        """The permission part as a `policy.sources.PermissionConfig` (rules
        checked; a bad rule or mode is a `UsageError`)."""
        from bridle.policy.sources import config_from_flags

        try:
            return config_from_flags(
                allowed_tools=self.allow_rules,
                disallowed_tools=self.deny_rules,
                permission_mode=self.permission_mode,
                dry_run=self.dry_run,
                add_dirs=[str(d.resolve()) for d in self.add_dirs],
            )
        except ConfigError as e:
            raise UsageError(str(e)) from e
