"""Hook settings from every source, parsed strictly and merged.

Sources are settings layers (`{"hooks": {EVENT: [{"matcher", "hooks": [...]}]}}`,
given as (path, dict) pairs in precedence order, lowest first), plugins'
`hooks/hooks.json` (with `${CLAUDE_PLUGIN_ROOT}`/`${CLAUDE_PLUGIN_DATA}`),
the `hooks` field of skill and agent frontmatter, and `--hook EVENT:COMMAND`.
Hooks from all sources add up; `disableAllHooks` takes the value of the highest
layer that sets it, and only a managed layer can switch off managed hooks.

Validation is strict (an unknown event, handler type or field type, a missing
`command`/`url`/`prompt`, a bad matcher regex or `if` rule), but a bad hook
never stops a run: `load_hooks` returns it as a warning naming the file and
the key (`.claude/settings.json: hooks.PreToolUse[0].hooks[1]: ...`) and skips
only that hook. The result is a frozen `HookConfig` the runner reads.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from bridle.hooks.events import HANDLER_TYPES, KNOWN_EVENTS, TOOL_EVENTS, supports_type
from bridle.hooks.matchers import Matcher, check_if_rule, compile_matcher

SourceKind = Literal["settings", "managed", "plugin", "skill", "agent", "cli", "sdk"]
# Claude Agent SDK callbacks time out after this many seconds unless their matcher says.
SDK_CALLBACK_TIMEOUT = 60.0


@dataclass(frozen=True)
class HookSource:
    """Where a hook came from; plugins carry their root and data directories."""

    path: str
    kind: SourceKind = "settings"
    name: str | None = None  # plugin, skill or agent name
    plugin_root: str | None = None
    plugin_data: str | None = None

    @property
    def label(self) -> str:
        if self.kind == "plugin":
            return f"plugin:{self.name}"
        if self.kind in ("skill", "agent"):
            return f"{self.kind}:{self.name}"
        return self.path


@dataclass(frozen=True)
class HookHandler:
    """One handler as written (placeholders are expanded when it runs)."""

    type: str
    source: HookSource
    command: str | None = None
    args: tuple[str, ...] | None = None
    timeout: float | None = None
    async_: bool = False
    async_rewake: bool = False
    if_: str | None = None
    status_message: str | None = None
    once: bool = False
    on_failure: str | None = None  # "block": a crash or time-out blocks (bridle extension)
    shell: str | None = None
    url: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    allowed_env_vars: tuple[str, ...] = ()
    server: str | None = None
    tool: str | None = None
    input: str | None = None  # JSON text of the mcp_tool `input` object
    prompt: str | None = None
    model: str | None = None
    continue_on_block: bool = False
    callback_id: str | None = None  # type "callback": the SDK's hookCallbackIds entry

    def identity(self) -> tuple[Any, ...]:
        """Equal for the same handler from two settings files (it runs once);
        a plugin's, skill's or agent's copy stays separate."""
        owner = None if self.source.kind in ("settings", "managed", "cli") else self.source.label
        fields = {k: v for k, v in self.__dict__.items() if k != "source"}
        return (owner, tuple(sorted(fields.items())))

    @property
    def label(self) -> str:
        what = {
            "command": self.command
            if self.args is None
            else " ".join([self.command or "", *self.args]),
            "http": self.url,
            "mcp_tool": f"{self.server}/{self.tool}",
            "callback": self.callback_id,
        }.get(self.type, (self.prompt or "")[:60])
        return f"{self.type} hook {what!r} ({self.source.label})"


@dataclass(frozen=True)
class HookEntry:
    """A handler under one event and matcher group."""

    event: str
    matcher: Matcher
    handler: HookHandler


@dataclass(frozen=True)
class HookConfig:
    """Every hook a session runs, merged from all sources, with the settings that limit http
    hooks; `disabled` when `disableAllHooks` turned them off."""

    entries: tuple[HookEntry, ...] = ()
    warnings: tuple[str, ...] = ()
    disabled: bool = False
    allowed_http_urls: tuple[str, ...] | None = None  # `allowedHttpHookUrls`
    http_allowed_env_vars: tuple[str, ...] | None = None  # `httpHookAllowedEnvVars`

    def for_event(self, event: str) -> list[HookEntry]:
        return [e for e in self.entries if e.event == event]

    @property
    def empty(self) -> bool:
        return not self.entries


class _Bad(Exception):
    pass


_BOOL_FIELDS = {
    "async": "async_",
    "asyncRewake": "async_rewake",
    "once": "once",
    "continueOnBlock": "continue_on_block",
}
_STR_FIELDS = {
    "command": "command",
    "if": "if_",
    "statusMessage": "status_message",
    "shell": "shell",
    "url": "url",
    "server": "server",
    "tool": "tool",
    "prompt": "prompt",
    "model": "model",
}
_KNOWN_FIELDS = {"type", "timeout", "args", "headers", "allowedEnvVars", "input", "onFailure"}
_KNOWN_FIELDS |= set(_BOOL_FIELDS) | set(_STR_FIELDS)


def parse_handler(raw: Any, event: str, source: HookSource) -> HookHandler:
    """One handler object; raises _Bad with a message saying how to fix it."""
    if not isinstance(raw, Mapping):
        raise _Bad('a hook must be an object such as {"type": "command", "command": "..."}')
    kind = raw.get("type")
    if kind not in HANDLER_TYPES:
        raise _Bad(f"unknown hook type {kind!r}; use one of {', '.join(HANDLER_TYPES)}")
    if kind == "agent":
        raise _Bad("agent hooks are not supported by bridle yet; use a prompt or command hook")
    if not supports_type(event, kind):
        raise _Bad(f"{event} does not run {kind} hooks (Claude Code runs only some types there)")
    unknown = sorted(set(raw) - _KNOWN_FIELDS)
    if unknown:
        raise _Bad(f"unknown field(s) {', '.join(map(repr, unknown))}")
    values: dict[str, Any] = {"type": kind, "source": source}
    for key, attr in _BOOL_FIELDS.items():
        if key in raw:
            if not isinstance(raw[key], bool):
                raise _Bad(f"{key!r} must be true or false")
            values[attr] = raw[key]
    for key, attr in _STR_FIELDS.items():
        if key in raw and raw[key] is not None:
            if not isinstance(raw[key], str):
                raise _Bad(f"{key!r} must be a string")
            values[attr] = raw[key]
    if "timeout" in raw and raw["timeout"] is not None:
        t = raw["timeout"]
        if isinstance(t, bool) or not isinstance(t, int | float) or t <= 0:
            raise _Bad("'timeout' must be a positive number of seconds")
        values["timeout"] = float(t)
    if raw.get("onFailure") is not None:
        if raw["onFailure"] not in ("block", "continue"):
            raise _Bad('\'onFailure\' must be "block" or "continue"')
        values["on_failure"] = raw["onFailure"]
    if "args" in raw and raw["args"] is not None:
        args = raw["args"]
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise _Bad("'args' must be a list of strings")
        values["args"] = tuple(args)
    if "headers" in raw and raw["headers"] is not None:
        h = raw["headers"]
        if not isinstance(h, Mapping) or not all(isinstance(v, str) for v in h.values()):
            raise _Bad("'headers' must be an object of string values")
        values["headers"] = tuple((str(k), v) for k, v in h.items())
    if "allowedEnvVars" in raw and raw["allowedEnvVars"] is not None:
        names = raw["allowedEnvVars"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise _Bad("'allowedEnvVars' must be a list of variable names")
        values["allowed_env_vars"] = tuple(names)
    if "input" in raw and raw["input"] is not None:
        if not isinstance(raw["input"], Mapping):
            raise _Bad("'input' must be an object of tool arguments")
        values["input"] = json.dumps(raw["input"], sort_keys=True)
    required = {"command": "command", "http": "url", "prompt": "prompt"}.get(kind)
    if required and not values.get(_STR_FIELDS[required]):
        raise _Bad(f"a {kind} hook needs {required!r}")
    if kind == "mcp_tool" and not (values.get("server") and values.get("tool")):
        raise _Bad("an mcp_tool hook needs 'server' and 'tool'")
    if values.get("if_") is not None:
        if event not in TOOL_EVENTS:
            raise _Bad(f"'if' only applies to tool events; on {event} the hook would never run")
        problem = check_if_rule(values["if_"])
        if problem:
            raise _Bad(f"'if': {problem}")
    return HookHandler(**values)


def parse_hooks_block(
    hooks: Any, source: HookSource, where: str = "hooks"
) -> tuple[list[HookEntry], list[str]]:
    """Parse a `hooks` object ({EVENT: [matcher groups]}); bad parts become warnings."""
    entries: list[HookEntry] = []
    warnings: list[str] = []

    def warn(key: str, why: str) -> None:
        warnings.append(f"{source.path}: {key}: {why}; this hook is skipped")

    if hooks is None:
        return entries, warnings
    if not isinstance(hooks, Mapping):
        warn(where, "must be an object mapping event names to matcher groups")
        return entries, warnings
    for event, groups in hooks.items():
        key = f"{where}.{event}"
        if event not in KNOWN_EVENTS:
            warn(key, f"unknown hook event {event!r} (events: {', '.join(sorted(KNOWN_EVENTS))})")
            continue
        if not isinstance(groups, list):
            warn(key, 'must be a list of matcher groups such as [{"matcher": "Bash", ...}]')
            continue
        for i, group in enumerate(groups):
            gkey = f"{key}[{i}]"
            if not isinstance(group, Mapping) or not isinstance(group.get("hooks"), list):
                warn(gkey, "a matcher group needs a 'hooks' list")
                continue
            matcher_text = group.get("matcher")
            if matcher_text is not None and not isinstance(matcher_text, str):
                warn(f"{gkey}.matcher", "must be a string")
                continue
            try:
                matcher = compile_matcher(matcher_text, event)
            except ValueError as exc:
                warn(f"{gkey}.matcher", str(exc))
                continue
            for j, raw in enumerate(group["hooks"]):
                try:
                    handler = parse_handler(raw, event, source)
                except _Bad as exc:
                    warn(f"{gkey}.hooks[{j}]", str(exc))
                    continue
                entries.append(HookEntry(event, matcher, handler))
    return entries, warnings


@dataclass(frozen=True)
class PluginHooks:
    """A plugin's `hooks/hooks.json`; `data_dir` defaults to CLAUDE_PLUGIN_DATA's place."""

    name: str
    root: str
    data_dir: str | None = None
    hooks_file: str | None = None  # plugin.json's `hooks` path; default hooks/hooks.json
    inline: Mapping[str, Any] | None = None  # plugin.json's inline `hooks` object instead


@dataclass(frozen=True)
class FrontmatterHooks:
    """The `hooks` field of a skill or agent file's frontmatter (already parsed YAML)."""

    kind: Literal["skill", "agent"]
    name: str
    path: str
    hooks: Any


@dataclass
class _Acc:
    """Entries and warnings gathered from the sources while merging."""

    entries: list[HookEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, result: tuple[list[HookEntry], list[str]]) -> None:
        self.entries.extend(result[0])
        self.warnings.extend(result[1])


def load_plugin_hooks(plugin: PluginHooks) -> tuple[list[HookEntry], list[str]]:
    path = Path(plugin.hooks_file or Path(plugin.root) / "hooks" / "hooks.json")
    source = HookSource(
        str(path), "plugin", plugin.name, plugin.root, plugin.data_dir or _plugin_data(plugin.name)
    )
    if plugin.inline is not None:
        where = str(Path(plugin.root) / ".claude-plugin" / "plugin.json")
        return parse_hooks_block(
            plugin.inline.get("hooks", plugin.inline), replace(source, path=where)
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [], []
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [], [f"{path}: cannot be read as JSON ({exc}); the plugin's hooks are skipped"]
    if not isinstance(data, Mapping):
        return [], [f"{path}: must be an object with a 'hooks' key; the plugin's hooks are skipped"]
    return parse_hooks_block(data.get("hooks"), source)


def _plugin_data(name: str) -> str:
    home = os.environ.get("BRIDLE_HOME") or str(Path.home() / ".bridle")
    return str(Path(home) / "plugins" / "data" / name)


def parse_cli_hook(spec: str) -> tuple[list[HookEntry], list[str]]:
    """`--hook EVENT:COMMAND` (or `EVENT[MATCHER]:COMMAND`) as one command hook."""
    source = HookSource("--hook", "cli")
    head, sep, command = spec.partition(":")
    matcher_text: str | None = None
    if head.endswith("]") and "[" in head:
        head, matcher_text = head[: head.index("[")], head[head.index("[") + 1 : -1]
    if not sep or not command.strip() or not head:
        return [], [f"--hook {spec!r}: write EVENT:COMMAND, as in --hook 'Stop:notify-send done'"]
    group: dict[str, Any] = {"hooks": [{"type": "command", "command": command.strip()}]}
    if matcher_text is not None:
        group["matcher"] = matcher_text
    return parse_hooks_block({head.strip(): [group]}, source, where="--hook")


_NO_FAILURE_BLOCK = frozenset({"Stop", "SubagentStop", "TaskCompleted", "TeammateIdle"})


def parse_sdk_hooks(hooks: Any) -> tuple[list[HookEntry], list[str]]:
    """The Agent SDK's `initialize` hooks, `{EVENT: [{"matcher", "hookCallbackIds",
    "timeout"?, "onFailure"?}]}`, as `callback` handlers (answered over the control
    channel); a bad part is a warning and is skipped."""
    source = HookSource("the SDK's initialize request", "sdk")
    entries: list[HookEntry] = []
    warnings: list[str] = []
    if not isinstance(hooks, Mapping):
        return [], ["SDK hooks: must be an object mapping event names to matchers; ignored"]
    for event, groups in hooks.items():
        if event not in KNOWN_EVENTS:
            warnings.append(f"SDK hooks: unknown hook event {event!r}; its callbacks never run")
            continue
        for i, group in enumerate(groups if isinstance(groups, list) else [groups]):
            where = f"SDK hooks: {event}[{i}]"
            ids = group.get("hookCallbackIds") if isinstance(group, Mapping) else None
            if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
                warnings.append(f"{where}: needs a hookCallbackIds list; skipped")
                continue
            text = group.get("matcher")
            try:
                matcher = compile_matcher(text if isinstance(text, str) else None, event)
            except ValueError as exc:
                warnings.append(f"{where}.matcher: {exc}; skipped")
                continue
            timeout = group.get("timeout")
            if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
                timeout = SDK_CALLBACK_TIMEOUT
            # The SDK's rule: an unknown value blocks; these events ignore it.
            block = "block" if group.get("onFailure") not in (None, "continue") else None
            block = None if event in _NO_FAILURE_BLOCK else block
            for callback_id in ids:
                handler = HookHandler(
                    "callback", source, timeout=float(timeout), on_failure=block,
                    callback_id=callback_id,
                )  # fmt: skip
                entries.append(HookEntry(event, matcher, handler))
    return entries, warnings


def load_hooks(
    layers: Iterable[tuple[str, Mapping[str, Any]] | tuple[str, Mapping[str, Any], bool]],
    *,
    plugins: Sequence[PluginHooks] = (),
    frontmatter: Sequence[FrontmatterHooks] = (),
    cli_hooks: Sequence[str] = (),
) -> HookConfig:
    """Merge hooks from every source. `layers` are (path, settings[, managed]) lowest first."""
    acc = _Acc()
    disabled: bool | None = None
    managed_disabled = False
    urls: list[str] | None = None
    env_names: list[str] | None = None
    managed_entries: list[HookEntry] = []
    for layer in layers:
        path, settings = layer[0], layer[1]
        managed = bool(layer[2]) if len(layer) > 2 else False
        if not isinstance(settings, Mapping):
            acc.warnings.append(f"{path}: settings must be a JSON object; its hooks are skipped")
            continue
        flag = settings.get("disableAllHooks")
        if flag is not None:
            if not isinstance(flag, bool):
                acc.warnings.append(f"{path}: disableAllHooks: must be true or false; ignored")
            elif managed:
                managed_disabled = flag
            else:
                disabled = flag
        for key, target in (("allowedHttpHookUrls", "urls"), ("httpHookAllowedEnvVars", "env")):
            value = settings.get(key)
            if value is None:
                continue
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                acc.warnings.append(f"{path}: {key}: must be a list of strings; ignored")
                continue
            if target == "urls":
                urls = [*(urls or []), *value]
            else:
                env_names = [*(env_names or []), *value]
        source = HookSource(path, "managed" if managed else "settings")
        result = parse_hooks_block(settings.get("hooks"), source)
        (managed_entries if managed else acc.entries).extend(result[0])
        acc.warnings.extend(result[1])
    for plugin in plugins:
        acc.add(load_plugin_hooks(plugin))
    for fm in frontmatter:
        source = HookSource(fm.path, fm.kind, fm.name)
        hooks = fm.hooks
        if fm.kind == "agent" and isinstance(hooks, Mapping) and "Stop" in hooks:
            # A subagent's Stop hook fires as SubagentStop, as in Claude Code.
            hooks = {("SubagentStop" if k == "Stop" else k): v for k, v in hooks.items()}
        acc.add(parse_hooks_block(hooks, source))
    for spec in cli_hooks:
        acc.add(parse_cli_hook(spec))
    entries: list[HookEntry] = [] if managed_disabled else managed_entries
    if not disabled and not managed_disabled:
        entries.extend(acc.entries)
    return HookConfig(
        entries=tuple(entries),
        warnings=tuple(acc.warnings),
        disabled=bool(disabled or managed_disabled),
        allowed_http_urls=tuple(urls) if urls is not None else None,
        http_allowed_env_vars=tuple(env_names) if env_names is not None else None,
    )
