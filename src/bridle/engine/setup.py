"""Assembling a session: settings, model, tools, policy, store and system prompt.

`open_session` is the composition root every front end calls: it resolves the
model to an endpoint and client, builds the tool set and permission policy from
settings and flags, opens or resumes the session in the store, and returns an
`OpenSession` holding a ready `Engine`. Nothing here runs the loop. It also hosts
the information commands (`--print-config`, `--print-tools-list`, `--doctor`).
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bridle.core.errors import UsageError
from bridle.core.messages import ModelRequest, Usage
from bridle.engine import events as ev
from bridle.engine.dispatch import Dispatcher
from bridle.engine.loop import Engine, EngineLimits, ModelBinding

# The model used when none is named, by the first key present: a provider name
# alone means that provider's flagship (the first model in its catalog entry).
_KEY_DEFAULTS = (
    ("ANTHROPIC_API_KEY", "sonnet"),
    ("OPENAI_API_KEY", "openai"),
    ("DEEPSEEK_API_KEY", "deepseek"),
    ("GEMINI_API_KEY", "gemini"),
    ("OPENROUTER_API_KEY", "openrouter"),
)


class StoreSink:
    """Queues a turn's events and writes them in one transaction."""

    def __init__(self, store: Any, session_id: str):
        self.store = store
        self.session_id = session_id
        self.pending: list[tuple[str, dict[str, Any]]] = []

    def save(self, kind: str, payload: dict[str, Any]) -> None:
        self.pending.append((kind, payload))

    def commit(self, usage: Usage | None = None, cost: float = 0.0, turns: int = 0) -> None:
        if not self.pending and usage is None:
            return
        batch, self.pending = self.pending, []
        self.store.append_many(self.session_id, batch, usage=usage, cost_usd=cost, turns=turns)


@dataclass
class OpenSession:
    engine: Engine
    record: Any  # store.sessions.SessionRecord
    store: Any
    conn: sqlite3.Connection
    model_name: str
    started_event: ev.SessionStarted
    mock_server: Any = None
    # Settings warnings (unknown keys) for the front end to show.
    warnings: list[str] = field(default_factory=list)

    def transcript_markdown(self) -> str:
        from bridle.store.export import render

        return render(self.store, self.record.id, "markdown")

    def close(self) -> None:
        try:
            self.conn.close()
        finally:
            if self.mock_server is not None:
                self.mock_server.stop()


def _settings(opts: Mapping[str, Any], cwd: Path, env: Mapping[str, str]) -> Any:
    from bridle.config.settings import load_settings

    cli: dict[str, Any] = {}
    raw = opts.get("settings_json")
    if raw:
        text = (
            Path(raw).read_text()
            if not raw.lstrip().startswith("{") and Path(raw).is_file()
            else raw
        )
        try:
            cli = json.loads(text)
        except json.JSONDecodeError as e:
            raise UsageError(
                f"--settings: not valid JSON ({e}); pass a JSON object or a file path"
            ) from e
        if not isinstance(cli, dict):
            raise UsageError("--settings must be a JSON object")
    return load_settings(cwd, env, cli=cli)


def _default_model(settings: Any, env: Mapping[str, str]) -> str:
    configured = settings.get("model") or env.get("BRIDLE_MODEL")
    if configured:
        return str(configured)
    for var, model in _KEY_DEFAULTS:
        if env.get(var):
            return model
    raise UsageError(
        'no model: pass --model provider/model (see `bridle models`), set "model" in '
        "settings, or set an API key such as ANTHROPIC_API_KEY. To try bridle without a key, "
        "run the demo: scripts/demo"
    )


def bind_model(
    spec: str, settings: Any, env: Mapping[str, str], account_keys: Mapping[str, str] | None
) -> ModelBinding:
    from bridle.providers.caching import plan_cache_breakpoints
    from bridle.providers.pricing import cost_usd
    from bridle.providers.resolve import resolve_model
    from bridle.wire.client import ModelClient

    resolved = resolve_model(spec, settings, env, account_keys=account_keys)
    endpoint = resolved.endpoint
    retry_events: list[tuple[int, float, str]] = []

    def observe(attempt: int, delay: float, error: BaseException) -> None:
        retry_events.append((attempt, delay, str(error)))

    client = ModelClient(endpoint, retry_observer=observe, env=env)
    info = resolved.info

    def price(usage: Usage) -> float:
        return float(cost_usd(usage, info))

    prepare = None
    if endpoint.wire == "anthropic-messages":

        def prepare(req: ModelRequest) -> ModelRequest:
            return plan_cache_breakpoints(req)

    max_out = getattr(info, "max_output_tokens", None) or 8192
    return ModelBinding(
        name=spec,
        provider=endpoint.provider,
        model=endpoint.model,
        wire=endpoint.wire,
        client=client,
        cost=price,
        max_output_tokens=min(int(max_out), 32000),
        prepare=prepare,
        retry_events=retry_events,
    )


def _policy(
    opts: Mapping[str, Any], settings: Any, cwd: Path, env: Mapping[str, str], headless: bool
) -> tuple[Any, str, list[Path]]:
    """Rules from every settings layer (validated per file, so an error names the
    file and key, `.claude/settings.json` included), then the flags on top."""
    from bridle.config.paths import user_home
    from bridle.policy.sources import (
        build_policy,
        config_from_settings,
        merge_configs,
    )

    layers = [
        config_from_settings(layer.data, path=layer.source) for layer in reversed(settings.layers)
    ]
    config = merge_configs(*layers, permission_flags(opts))
    if opts.get("dangerously_skip_permissions"):
        config.mode = "bypassPermissions"
    home = user_home(env)
    policy = build_policy(config, project_root=cwd, home=home, headless=headless)
    extra = [Path(r) for r in policy.roots[1:]]
    return policy, policy.mode, extra


def permission_flags(opts: Mapping[str, Any]) -> Any:
    """The permission part of the flags; a bad rule is a usage error (exit 64),
    so front ends call this while validating, before any work starts."""
    from bridle.core.errors import ConfigError
    from bridle.policy.sources import config_from_flags

    try:
        return config_from_flags(
            allowed_tools=list(opts.get("allowed_tools", [])),
            disallowed_tools=list(opts.get("disallowed_tools", [])),
            allow_tool=list(opts.get("allow_tool", [])),
            deny_tool=list(opts.get("deny_tool", [])),
            permission_mode=opts.get("permission_mode"),
            dry_run=bool(opts.get("dry_run")),
            add_dirs=[str(Path(d).resolve()) for d in opts.get("add_dir", [])],
        )
    except ConfigError as e:
        raise UsageError(str(e)) from e


def _tools(policy: Any, mode: str, spec: str | None = None) -> list[Any]:
    """The tools offered: `--tools` ("" none, "default" all, or names), less
    what plan mode hides."""
    from bridle.tools.registry import builtin_tools

    tools = builtin_tools()
    if spec is not None and spec.strip() != "default":
        wanted = [n.strip() for n in spec.split(",") if n.strip()]
        known = [t.name for t in tools]
        missing = [n for n in wanted if n not in known]
        if missing:
            raise UsageError(
                f"--tools: unknown tool {missing[0]!r}; bridle has: {', '.join(known)}"
            )
        tools = [t for t in tools if t.name in wanted]
    if mode == "plan":
        visible = set(policy.visible_tools([t.name for t in tools]))
        tools = [t for t in tools if t.name in visible]
    return tools


def open_session(
    opts: Mapping[str, Any], cwd: Path, env: Mapping[str, str], *, headless: bool
) -> OpenSession:
    from bridle.config.paths import bridle_home, database_path
    from bridle.engine.context import build_system_prompt, git_info
    from bridle.store.db import open_db
    from bridle.store.sessions import SessionStore
    from bridle.tools.base import ToolContext

    settings = _settings(opts, cwd, env)
    accounts = _accounts(opts.get("account"), settings, env)
    account_keys = _account_keys(accounts[0], env) if accounts else None
    mock_server = None
    env = dict(env)
    spec = opts.get("model") or _default_model(settings, env)
    if spec.split("/", 1)[0] == "mock" and not env.get("BRIDLE_MOCK_BASE_URL"):
        mock_server = _start_mock(settings, env, cwd)
        env["BRIDLE_MOCK_BASE_URL"] = mock_server.base_url
    binding = bind_model(spec, settings, env, account_keys)
    policy, mode, extra_roots = _policy(opts, settings, cwd, env, headless)
    tools = _tools(policy, mode, opts.get("tools"))

    conn = open_db(database_path(env))
    store = SessionStore(conn)
    git = git_info(cwd)
    history = None
    resumed = False
    if opts.get("continue_") or opts.get("resume"):
        if opts.get("resume"):
            ref = str(opts["resume"])
            if ref.partition(":")[0] in ("claude", "codex", "gemini", "copilot"):
                # Another tool's session: import it into a new bridle session first.
                from bridle.history.convert import import_session

                ref = import_session(
                    conn, ref, model=binding.name, provider=binding.provider,
                    account=opts.get("account"), env=env,
                )  # fmt: skip
            record = store.get(ref)
        else:
            latest = store.latest_for_cwd(str(cwd))
            if latest is None:
                raise UsageError(
                    f"no earlier bridle session in {cwd} to continue; start one without -c"
                )
            record = latest
        if opts.get("fork_session"):
            record = store.fork(record.id)
        history = store.rebuild_messages(record.id)
        resumed = True
    else:
        record = store.create(
            binding.name,
            binding.provider,
            str(cwd),
            git_branch=git.branch,
            account=opts.get("account"),
        )

    system_prompt = opts.get("system_prompt")
    if opts.get("system_file"):
        system_prompt = Path(opts["system_file"]).read_text()
    system = build_system_prompt(
        cwd, env, now=_dt.datetime.now().astimezone(), git=git,
        system_prompt=system_prompt, append=list(opts.get("append_system_prompt", [])),
    )  # fmt: skip
    ctx = ToolContext(
        cwd=cwd,
        session_id=record.id,
        extra_roots=extra_roots,
        env=env,
        env_allow=list(settings.get("env_allow", []) or []),
        output_dir=bridle_home(env) / "tool-output" / record.id,
        verify=settings.get("verify"),
        allow_private_network=bool(settings.get("webfetch.allow_private_network", False)),
        cancel=threading.Event(),
    )
    if history:
        _remember_reads(history, ctx)
    dispatcher = Dispatcher({t.name: t for t in tools}, ctx, policy)
    limits = EngineLimits(
        max_turns=int(opts.get("max_turns") or settings.get("max_turns") or 50),
        max_cost_usd=opts.get("max_cost") or settings.get("max_cost"),
    )
    engine = Engine(
        binding=binding,
        dispatcher=dispatcher,
        system=system,
        tool_specs=[t.spec() for t in tools],
        session_id=record.id,
        sink=StoreSink(store, record.id),
        history=history,
        limits=limits,
        bind_model=lambda s: bind_model(s, settings, env, account_keys),
        rotate_account=_rotation(accounts, spec, settings, env),
    )
    started = ev.SessionStarted(
        session_id=record.id, model=binding.name, provider=binding.provider, cwd=str(cwd),
        tools=[t.name for t in tools], permission_mode=mode, resumed=resumed,
    )  # fmt: skip
    return OpenSession(
        engine, record, store, conn, binding.name, started, mock_server, list(settings.warnings)
    )


def _remember_reads(history: list[Any], ctx: Any) -> None:
    """A resumed session may edit files it read in an earlier process: Edit and
    Write require a prior read, which lives in memory, so rebuild it from the
    successful Read/Write/Edit calls in the history (Edit's exact-match rule still
    guards against files that changed in between)."""
    from bridle.core.messages import ToolResultPart, ToolUsePart
    from bridle.tools._files import record_read

    ok = {
        p.tool_use_id
        for m in history
        for p in m.parts
        if isinstance(p, ToolResultPart) and not p.is_error
    }
    for m in history:
        for p in m.parts:
            if (
                isinstance(p, ToolUsePart)
                and p.id in ok
                and p.name in ("Read", "Write", "Edit", "MultiEdit")
                and isinstance(p.input, dict)
                and isinstance(p.input.get("file_path"), str)
            ):
                path = ctx.resolve(p.input["file_path"])
                if path.is_file():
                    record_read(ctx, path)


def _accounts(flag: str | None, settings: Any, env: Mapping[str, str]) -> list[str]:
    """`--account a,b` (or settings `accounts.rotation`): keys come from the first;
    the others take over, in order, when a rate limit or quota is exhausted.
    Without either, the account of a `bridle shell` (BRIDLE_ACCOUNT), else the
    default account (`bridle accounts use NAME`), if any."""
    if flag:
        return [a.strip() for a in flag.split(",") if a.strip()]
    rotation = settings.get("accounts.rotation") or []
    if rotation:
        return [str(a) for a in rotation]
    from bridle.accounts.store import NATIVE, AccountStore

    store = AccountStore.from_env(env)
    implicit = env.get("BRIDLE_ACCOUNT") or store.default()
    if implicit and implicit != NATIVE and store.exists(implicit):
        return [implicit]
    return []


def _account_keys(account: str, env: Mapping[str, str]) -> dict[str, str]:
    from bridle.accounts.keys import account_keys

    return dict(account_keys(account, env))


def _rotation(accounts: list[str], spec: str, settings: Any, env: Mapping[str, str]) -> Any:
    queue = list(accounts[1:])
    if not queue:
        return None

    def rotate() -> tuple[str, ModelBinding] | None:
        if not queue:
            return None
        name = queue.pop(0)
        return name, bind_model(spec, settings, env, _account_keys(name, env))

    return rotate


def _start_mock(settings: Any, env: Mapping[str, str], cwd: Path) -> Any:
    from bridle.mock.scenario import load_scenario
    from bridle.mock.server import MockServer

    path = env.get("BRIDLE_MOCK_SCENARIO") or settings.get("mock.scenario")
    if not path:
        raise UsageError(
            "the mock model needs a scenario: set BRIDLE_MOCK_SCENARIO=path/to/scenario.json, "
            "or run `bridle mock serve --scenario FILE` and set BRIDLE_MOCK_BASE_URL"
        )
    server = MockServer(load_scenario(Path(path)), workdir=cwd)
    server.start()
    return server


def info_command(opts: Mapping[str, Any], cwd: Path, env: Mapping[str, str], out: IO[str]) -> int:
    settings = _settings(opts, cwd, env)
    if opts.get("print_config"):
        out.write(json.dumps(settings.redacted(), indent=2, sort_keys=True) + "\n")
        return 0
    if opts.get("print_tools_list"):
        policy, mode, _ = _policy(opts, settings, cwd, env, headless=True)
        for tool in _tools(policy, mode, opts.get("tools")):
            first = tool.description.strip().splitlines()[0]
            out.write(f"{tool.name}\t{first}\n")
        return 0
    return _doctor(settings, cwd, env, out, opts.get("model"))


def _doctor(
    settings: Any, cwd: Path, env: Mapping[str, str], out: IO[str], model: str | None = None
) -> int:
    import shutil

    from bridle.config.paths import bridle_home, database_path
    from bridle.store.db import open_db

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
        spec = model or _default_model(settings, env)
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
    return 0 if problems == 0 else 1
