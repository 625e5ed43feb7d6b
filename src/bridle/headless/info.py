"""The information commands: `--print-config`, `--print-tools-list`, `--doctor`.

Each writes a report to an output stream and returns the exit code; none opens a
session. They ask the engine's pure helpers what a session with the same
options would see (`engine.setup.session_settings`, `session_policy`,
`offered_tools`, `engine.binding.bind_model`, `engine.extensions.load_extensions`,
`mcp.status`), so the report cannot disagree with a run. `--print-config` is one
JSON document: the merged settings and every settings file, then what was loaded
and from where (plugins, skills, commands, agents, output style, MCP servers
with their scope and file, hooks), secrets masked. `--doctor` also lists the
plugins in use and checks hooks (each command's program exists), MCP servers
(they start and list tools within `MCP_TIMEOUT`, 10 s by default here) and
skill, command and agent files (valid frontmatter). This module does not run the agent.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from bridle.core.errors import UsageError
from bridle.engine.options import SessionOptions

DOCTOR_MCP_TIMEOUT_MS = "10000"
# A hook command starting with one of these runs no program of its own.
_SHELL_WORDS = frozenset(
    ("echo", "printf", "exit", "true", "false", "test", "[", "[[", "cd", "export", "set", "if",
     "for", "while", "case", "cat", ":", ".", "source", "exec", "read", "return")
)  # fmt: skip
_INTERPRETERS = frozenset(
    ("python", "python3", "node", "bash", "sh", "zsh", "bun", "deno", "ruby", "perl", "uv", "npx")
)


def print_config(options: SessionOptions, cwd: Path, env: Mapping[str, str], out: IO[str]) -> int:
    from bridle.config.settings import Settings
    from bridle.engine.setup import session_settings

    settings = session_settings(options, cwd, env)
    ext = _extensions(options, cwd, env, settings)
    doc: dict[str, Any] = {
        "settings": settings.data,
        "settings_files": [
            {"layer": layer.name, "file": layer.source} for layer in reversed(settings.layers)
        ],
        **loaded(options, cwd, env, settings, ext),
    }
    out.write(json.dumps(Settings(data=doc).redacted(), indent=2, sort_keys=False) + "\n")
    return 0


def loaded(
    options: SessionOptions, cwd: Path, env: Mapping[str, str], settings: Any, ext: Any
) -> dict[str, Any]:
    """What a session here would load, and from where (nothing is started)."""
    from bridle.mcp.status import approved

    style = ext.style
    servers = _mcp_config(options, cwd, env, settings, ext)
    hooks = _hooks(options, env, settings, ext)
    return {
        "plugins": [
            {
                "name": p.name,
                "version": p.version,
                "source": p.source,
                "key": p.key or None,
                "root": str(p.root),
            }
            for p in ext.plugins
        ],
        "skills": [
            {"name": s.name, "scope": s.scope, "file": str(s.path)} for s in ext.skills.values()
        ],
        "commands": [
            {"name": c.name, "scope": c.scope, "file": str(c.path)}
            for c in (ext.commands.by_name.values() if ext.commands else ())
        ],
        "agents": [
            {"name": a.name, "scope": a.scope, "file": a.source}
            for a in (ext.agents.by_name.values() if ext.agents else ())
        ],
        "output_style": {"name": style.name, "file": style.source} if style else None,
        "mcp_servers": [
            {
                "name": c.name,
                "scope": c.scope,
                "file": c.source,
                "type": c.type,
                "target": c.describe(),
                **({"approved": approved(c.name, settings)} if c.scope == "project" else {}),
            }
            for c in servers.servers.values()
        ],
        "hooks": [
            {
                "event": e.event,
                "matcher": e.matcher.text,
                "type": e.handler.type,
                "run": e.handler.label,
                "file": e.handler.source.path,
            }
            for e in hooks.entries
        ],
        "warnings": [*ext.warnings(), *(f"MCP: {w}" for w in servers.warnings), *hooks.warnings],
    }


def print_tools(options: SessionOptions, cwd: Path, env: Mapping[str, str], out: IO[str]) -> int:
    from bridle.engine.setup import offered_tools, session_policy, session_settings

    settings = session_settings(options, cwd, env)
    for tool in offered_tools(options, session_policy(options, settings, cwd, env)):
        first = tool.description.strip().splitlines()[0]
        out.write(f"{tool.name}\t{first}\n")
    return 0


def doctor(options: SessionOptions, cwd: Path, env: Mapping[str, str], out: IO[str]) -> int:
    """Check Python, the database, helper programs, the model, hooks, MCP servers
    and extension files; 1 if any fails."""
    from bridle.config.paths import bridle_home, database_path
    from bridle.engine.binding import bind_model, default_model
    from bridle.engine.setup import session_settings
    from bridle.store.db import open_db

    settings = session_settings(options, cwd, env)
    problems = 0

    def line(ok: bool, what: str, fix: str = "") -> None:
        nonlocal problems
        problems += 0 if ok else 1
        out.write(f"{'ok ' if ok else 'FAIL'}  {what}{'  -> ' + fix if fix and not ok else ''}\n")

    line(
        sys.version_info >= (3, 11),
        f"python {sys.version.split()[0]}",
        "install Python 3.11 or newer",
    )
    home = bridle_home(env)
    try:
        home.mkdir(parents=True, exist_ok=True)
        open_db(database_path(env)).close()
        line(True, f"database {database_path(env)}")
    except Exception as e:
        line(False, f"database {database_path(env)}: {e}", "check BRIDLE_HOME permissions")
    for tool, why in (
        ("git", "diffs, commits, git status"),
        ("rg", "fast Grep (Python fallback otherwise)"),
    ):
        found = shutil.which(tool) or (Path(sys.executable).parent / tool).exists()
        out.write(f"{'ok ' if found else 'warn'}  {tool}: {why}\n")
    try:
        spec = options.model or default_model(settings, env)
        if spec.split("/", 1)[0] == "mock" and not env.get("BRIDLE_MOCK_BASE_URL"):
            # A run starts its own mock server from the scenario; check that instead.
            from bridle.mock.scenario import load_scenario

            path = env.get("BRIDLE_MOCK_SCENARIO") or settings.get("mock.scenario")
            if not path:
                raise UsageError("the mock model needs BRIDLE_MOCK_SCENARIO=path/to/scenario.json")
            load_scenario(Path(path))
            line(True, f"model {spec} (scenario {path})")
        else:
            bind_model(spec, settings, env, None)
            line(True, f"model {spec}")
    except Exception as e:
        line(False, f"model: {e}")
    if settings.get("sandbox") is not None:
        from bridle.policy.sandbox import sandbox_status

        if (sandbox := sandbox_status(settings.get)) is not None:
            if sandbox[0] == "warn":
                out.write(f"warn  {sandbox[1]} (shell commands ask for permission instead)\n")
            else:
                line(sandbox[0] == "ok", sandbox[1], "or set sandbox.failIfUnavailable to false")
    for ok, what, fix in _extension_checks(options, cwd, env, settings):
        line(ok, what, fix)
    for state, what in _mcp_checks(options, cwd, env, settings):
        if state == "warn":
            out.write(f"warn  {what}\n")
        else:
            line(state == "ok", what)
    return 0 if problems == 0 else 1


def _extension_checks(
    options: SessionOptions, cwd: Path, env: Mapping[str, str], settings: Any
) -> list[tuple[bool, str, str]]:
    """Skills, commands, agents and styles (frontmatter), then hooks."""
    checks: list[tuple[bool, str, str]] = []
    try:
        ext = _extensions(options, cwd, env, settings)
    except Exception as e:  # a bad outputStyle or --plugin-dir stops a run: say so
        return [(False, f"extensions: {e}", "")]
    counts = (
        f"{len(ext.skills)} skill(s), {len(ext.commands.by_name) if ext.commands else 0} "
        f"command(s), {len(ext.agents.by_name) if ext.agents else 0} agent(s)"
    )
    if ext.skills or (ext.commands and ext.commands.by_name) or (ext.agents and ext.agents.by_name):
        checks.append((True, f"extensions: {counts}", ""))
    checks += [(False, f"skipped {p}", "fix the field it names") for p in ext.problems]
    for p in ext.plugins:
        what = f"{p.name} {p.version}" if p.version else p.name
        checks.append((True, f"plugin {what} ({p.source}) at {p.root}", ""))
    hooks = _hooks(options, env, settings, ext)
    checks += [(False, w, "") for w in hooks.warnings]
    project = settings.project_root or cwd
    for entry in hooks.entries:
        handler = entry.handler
        if handler.type != "command":
            continue
        missing = _missing_program(handler, project, env)
        where = f"{entry.event} {handler.label}"
        checks.append((missing is None, where if missing is None else f"{where}: {missing}", ""))
    if hooks.entries or hooks.warnings:
        checks.append((True, f"hooks: {len(hooks.entries)} configured", ""))
    return checks


def _mcp_checks(
    options: SessionOptions, cwd: Path, env: Mapping[str, str], settings: Any
) -> list[tuple[str, str]]:
    from bridle.config.settings import Settings
    from bridle.mcp.status import check_servers

    found = _mcp_config(options, cwd, env, settings, None)
    rows: list[tuple[str, str]] = [("fail", f"MCP: {w}") for w in found.warnings]
    if not found.servers:
        return rows
    run_env = dict(env)
    run_env.setdefault("MCP_TIMEOUT", DOCTOR_MCP_TIMEOUT_MS)
    for r in check_servers(found.servers, settings, run_env, cwd):
        state = {"connected": "ok", "needs approval": "warn"}.get(r.state, "fail")
        text = f"MCP server {r.name} ({r.config.scope}): {r.summary()}"
        rows.append((state, Settings(data={"t": text}).redacted()["t"]))  # URL passwords
    return rows


def _extensions(options: SessionOptions, cwd: Path, env: Mapping[str, str], settings: Any) -> Any:
    from bridle.engine.extensions import load_extensions

    dirs = tuple(getattr(options, "plugin_dirs", ()) or ())
    extra: dict[str, Any] = {"plugin_dirs": dirs} if dirs else {}
    return load_extensions(cwd, settings.project_root or cwd, env, settings, **extra)


def _mcp_config(
    options: SessionOptions, cwd: Path, env: Mapping[str, str], settings: Any, ext: Any
) -> Any:
    from bridle.mcp.config import load_servers

    if ext is None:
        try:
            ext = _extensions(options, cwd, env, settings)
        except Exception:
            ext = None
    plugin_files = list(getattr(ext, "plugin_mcp_files", lambda: [])()) if ext else []
    configured = settings.get("mcpServers")
    return load_servers(
        settings.project_root or cwd,
        env=env,
        settings_servers=configured if isinstance(configured, Mapping) else None,
        cli_configs=options.mcp_configs,
        strict=options.strict_mcp_config,
        plugin_files=plugin_files,
    )


def _hooks(options: SessionOptions, env: Mapping[str, str], settings: Any, ext: Any) -> Any:
    from bridle.config.paths import bridle_home
    from bridle.engine.hooks_setup import plugin_hooks
    from bridle.hooks.config import load_hooks

    layers = [(layer.source, layer.data, layer.name == "managed") for layer in settings.layers]
    return load_hooks(
        list(reversed(layers)),
        plugins=plugin_hooks(ext, bridle_home(env)),
        cli_hooks=tuple(getattr(options, "hooks", ())),
    )


def _missing_program(handler: Any, project: Path, env: Mapping[str, str]) -> str | None:
    """Why a command hook's program cannot run, or None when it can."""
    source = handler.source
    values = {
        **env,
        "CLAUDE_PROJECT_DIR": str(project),
        **({"CLAUDE_PLUGIN_ROOT": source.plugin_root} if source.plugin_root else {}),
        **({"CLAUDE_PLUGIN_DATA": source.plugin_data} if source.plugin_data else {}),
    }

    def expand(word: str) -> str:
        for name in ("CLAUDE_PROJECT_DIR", "CLAUDE_PLUGIN_ROOT", "CLAUDE_PLUGIN_DATA", "HOME"):
            if name in values:
                word = word.replace("${" + name + "}", values[name]).replace(
                    "$" + name, values[name]
                )
        return os.path.expanduser(word)

    if handler.args is not None:
        words = [handler.command or "", *handler.args]
    else:
        try:
            words = shlex.split(handler.command or "")
        except ValueError as e:
            return f"the command does not parse as a shell line ({e})"
    words = [w for w in words if not (w and "=" in w.split("/")[0] and w[0].isalpha())] or [""]
    program = expand(words[0])
    if not program or program in _SHELL_WORDS:
        return None
    if "/" in program:
        if not Path(program).exists():
            return f"{program} does not exist"
        if not os.access(program, os.X_OK):
            return f"{program} is not executable (chmod +x it)"
    elif shutil.which(program, path=env.get("PATH")) is None:
        return f"{program}: command not found on PATH"
    name = Path(program).name
    if len(words) > 1 and (name in _INTERPRETERS or name.startswith("python")):
        script = expand(words[1])
        if "/" in script and not script.startswith("-") and not Path(script).exists():
            return f"its script {script} does not exist"
    return None
