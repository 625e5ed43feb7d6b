"""From the root command's flags to the engine's `SessionOptions`.

`session_options(opts, cwd)` is the one place that maps flag names
(`--allowedTools`, `--continue`, `--system-file`, ...) to the typed fields the
engine is opened with: rule lists from every rule flag, `--dangerously-skip-
permissions` as a permission mode, file flags read into their text,
`--settings` parsed into an overrides object, `--tools` into names. A bad value
is a `UsageError` (exit 64) naming the flag, raised before any work starts.
This module does not validate combinations that only matter to a headless run
(`headless.run` does) and opens nothing. `resume_prompt` answers `-c`/`-r ID`
given without a prompt and without a terminal (on one, the interactive app
opens): the prompt piped on stdin, else a `UsageError` naming the session and
the command to type.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from bridle.core.errors import ConfigError, UsageError
from bridle.engine.options import SessionOptions


def session_options(o: Mapping[str, Any], cwd: Path) -> SessionOptions:
    """The options for a session opened by `bridle` with these flags in `cwd`."""
    mode = o.get("permission_mode")
    if o.get("dangerously_skip_permissions"):
        if mode not in (None, "bypassPermissions", "bypass"):
            raise UsageError(
                f"--dangerously-skip-permissions cannot be combined with --permission-mode {mode}"
            )
        mode = "bypassPermissions"
    system_prompt = o.get("system_prompt")
    if o.get("system_file"):
        system_prompt = _read(o["system_file"], "--system-file")
    settings: dict[str, Any] = {}
    if o.get("settings_json"):
        try:
            from bridle.config.settings import parse_settings_arg

            settings = parse_settings_arg(o["settings_json"], cwd)
        except ConfigError as e:
            raise UsageError(str(e)) from e
    if o.get("agent"):
        settings["agent"] = o["agent"]  # as Claude Code: the flag wins over the setting
    if o.get("sandbox"):  # Codex's names; the flag wins over settings sandbox.enabled
        settings["sandbox.mode"] = o["sandbox"]
        settings["sandbox.enabled"] = o["sandbox"] != "off"
    tools = o.get("tools")
    account = o.get("account") or ""
    return SessionOptions(
        model=o.get("model") or None,
        accounts=tuple(a.strip() for a in account.split(",") if a.strip()),
        permission_mode=mode,
        allow_rules=(*o.get("allowed_tools", ()), *o.get("allow_tool", ())),
        deny_rules=(*o.get("disallowed_tools", ()), *o.get("deny_tool", ())),
        dry_run=bool(o.get("dry_run")),
        add_dirs=tuple(Path(d).resolve() for d in o.get("add_dir", ())),
        tools=_tool_names(tools) if tools is not None else None,
        max_turns=o.get("max_turns"),
        max_cost_usd=o.get("max_cost"),
        system_prompt=system_prompt,
        append_system_prompt=tuple(o.get("append_system_prompt", ())),
        resume=o.get("resume"),
        continue_latest=bool(o.get("continue_")),
        fork=bool(o.get("fork_session")),
        resume_at=o.get("resume_session_at") or None,
        anchors=tuple(o.get("anchor") or ()),
        settings=settings,
        headless=o.get("permission_prompt_tool") != "stdio",
        mcp_configs=tuple(o.get("mcp_config") or ()),
        strict_mcp_config=bool(o.get("strict_mcp_config")),
        hooks=tuple(o.get("hooks") or ()),
        plugin_dirs=tuple(Path(d).expanduser().resolve() for d in o.get("plugin_dir") or ()),
    )


def _tool_names(spec: str) -> tuple[str, ...] | None:
    """`--tools`: "default" is every tool, "" none, else comma-separated names."""
    if spec.strip() == "default":
        return None
    return tuple(n.strip() for n in spec.split(",") if n.strip())


def _read(path: str, flag: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise UsageError(f"{flag} {path}: not UTF-8 text ({e.reason} at byte {e.start})") from e
    except OSError as e:
        raise UsageError(f"{flag} {path}: cannot read it: {e.strerror or e}") from e


def resume_prompt(o: Mapping[str, Any], stdin: IO[str], cwd: Path) -> str:
    """The prompt for `-c`/`-r ID` given without one: what is piped on stdin. With
    an empty pipe (or stdin a terminal but stdout not) there is nothing to send and
    no app to open: say which session it is and what to type."""
    if not stdin.isatty():
        from bridle.headless.inputs import read_stdin

        text = read_stdin(stdin)
        if text.strip():
            return text
    ref = (o.get("resume") or "").strip()
    flag, which = (f"-r {ref}", f"session {ref}") if ref else ("-c", "the latest session")
    if ref.partition(":")[0] not in ("claude", "codex", "gemini", "copilot"):
        from bridle.config.paths import database_path
        from bridle.config.settings import find_project_root
        from bridle.core.errors import UserError
        from bridle.store.db import open_db
        from bridle.store.sessions import SessionStore

        conn = open_db(database_path())
        try:
            store = SessionStore(conn)
            if ref:
                try:
                    record = store.get(ref)
                except UserError as e:  # unknown or ambiguous: that is the mistake
                    raise UsageError(str(e)) from e
            else:
                root = find_project_root(cwd)
                found = store.latest_within(str(root))
                if found is None:
                    raise UsageError(
                        f"no earlier bridle session in {root} to continue; start one without -c"
                    )
                record = found
        finally:
            conn.close()
        title = " ".join((record.title or "untitled").split())
        title = title if len(title) <= 60 else title[:59] + "…"
        flag = f"-r {record.id[:8]}" if ref else "-c"
        which = f'session {record.id[:8]} ("{title}")'
    raise UsageError(
        f"{which} needs a prompt to continue without a terminal: "
        f'run `bridle {flag} -p "what next"`, or pipe the prompt on stdin'
    )
