"""Opening a session: settings, model, tools, policy, store, lease and system prompt.

`open_session(options, cwd, env)` is the composition root every front end
calls with a typed `SessionOptions`: it loads the settings layers (the options'
overrides on top), finds the session to resume or continue (whose recorded
model is kept unless the options name another), binds the model
(`engine.binding`), builds the tool set and permission policy, takes the
session's lease (`store.lease`: one writer per session), and returns an
`OpenSession` holding a ready `Engine`. Nothing here runs the loop or prints;
the information commands (`--print-config`, `--doctor`) live in front ends and
call the pure helpers below (`session_settings`, `offered_tools`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridle.core import startup
from bridle.core.errors import UnknownModelError, UsageError, UserError
from bridle.core.messages import Usage
from bridle.engine import events as ev
from bridle.engine.binding import (
    bind_model,
    choose_accounts,
    default_model,
    keys_of,
    prices_known,
    rotation,
)
from bridle.engine.dispatch import Dispatcher
from bridle.engine.loop import Engine, EngineLimits
from bridle.engine.options import SessionOptions

# Other tools' session references (`claude:ID`) that `resume` imports first.
_FOREIGN = ("claude", "codex", "gemini", "copilot")


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

    def describe(self, **changes: str) -> None:
        """Update the session's record: the model, provider or account now in use."""
        self.store.update(self.session_id, **changes)


@dataclass
class OpenSession:
    """An opened session: the engine and everything that must live and close with it."""

    engine: Engine
    record: Any  # store.sessions.SessionRecord
    store: Any
    conn: sqlite3.Connection
    model_name: str
    started_event: ev.SessionStarted
    mock_server: Any = None
    # Settings warnings (unknown keys) and notices for the front end to show.
    warnings: list[str] = field(default_factory=list)
    lease: Any = None  # store.lease.SessionLease, released on close
    policy: Any = None  # the running policy.engine.PermissionPolicy
    settings: Any = None  # the merged config.settings.Settings
    extensions: Any = None  # engine.extensions.Extensions: skills, commands, style
    mcp: Any = None  # engine.mcp_setup.McpSession: its servers stop on close
    hooks: Any = None  # engine.hooks_bridge.HookBridge: SessionEnd runs on close

    @property
    def instruction_files(self) -> list[Any]:
        """The instruction files loaded so far (`extensions.instructions.InstructionFile`,
        with Claude Code's InstructionsLoaded fields); path-scoped rules and nested
        CLAUDE.md files join when a file tool touches a matching path."""
        instructions = self.engine.dispatcher.instructions
        return list(instructions.files) if instructions is not None else []

    def expand_prompt(self, text: str) -> str:
        """A `/command args` prompt expanded (see `engine.extensions.expand_prompt`)."""
        from bridle.engine.extensions import expand_prompt

        if self.extensions is None or not text.startswith("/"):
            return text
        ctx = self.engine.dispatcher.ctx
        return expand_prompt(text, self.extensions, policy=self.policy, ctx=ctx, hooks=self.hooks)

    def transcript_markdown(self) -> str:
        from bridle.store.export import render

        return render(self.store, self.record.id, "markdown")

    def close(self) -> None:
        if self.hooks is not None:
            self.hooks.end("other")
        try:
            self.conn.close()
        finally:
            if self.lease is not None:
                self.lease.release()
            if self.mcp is not None:
                self.mcp.close()
            if self.engine.dispatcher.ctx.sandbox is not None:
                self.engine.dispatcher.ctx.sandbox.close()
            if self.mock_server is not None:
                self.mock_server.stop()


def session_settings(options: SessionOptions, cwd: Path, env: Mapping[str, str]) -> Any:
    """The merged settings a session in `cwd` would see (`config.settings.Settings`)."""
    from bridle.config.settings import load_settings

    return load_settings(cwd, env, cli=dict(options.settings))


def session_policy(
    options: SessionOptions, settings: Any, cwd: Path, env: Mapping[str, str]
) -> Any:
    """Rules from every settings layer (validated per file, so an error names the
    file and key, `.claude/settings.json` included), then the options on top."""
    from bridle.config.paths import user_home
    from bridle.policy.sources import build_policy, config_from_settings, merge_configs

    layers = [
        config_from_settings(layer.data, path=layer.source) for layer in reversed(settings.layers)
    ]
    config = merge_configs(*layers, options.permission_config())
    return build_policy(config, project_root=cwd, home=user_home(env), headless=options.headless)


def offered_tools(options: SessionOptions, policy: Any) -> list[Any]:
    """The tools offered: `options.tools` (None all, () none, or names), less
    what plan mode hides."""
    from bridle.tools.registry import builtin_tools

    tools = builtin_tools()
    if options.tools is not None:
        known = [t.name for t in tools]
        missing = [n for n in options.tools if n not in [*known, "Agent", "Task"]]
        if missing:
            raise UsageError(
                f"--tools: unknown tool {missing[0]!r}; bridle has: {', '.join(known)}"
            )
        tools = [t for t in tools if t.name in options.tools]
    if policy.mode == "plan":
        visible = set(policy.visible_tools([t.name for t in tools]))
        tools = [t for t in tools if t.name in visible]
    return tools


def open_session(options: SessionOptions, cwd: Path, env: Mapping[str, str]) -> OpenSession:
    from bridle.config.paths import database_path
    from bridle.store.db import open_db
    from bridle.store.sessions import SessionStore

    settings = session_settings(options, cwd, env)
    policy = session_policy(options, settings, cwd, env)
    tools = offered_tools(options, policy)
    with contextlib.ExitStack() as undo:  # unwound only if opening fails half way
        conn = open_db(database_path(env))
        undo.callback(conn.close)
        session = _open(options, cwd, dict(env), settings, policy, tools, SessionStore(conn), undo)
        undo.pop_all()
    # What it took to get here lives as long as the session: the program is loaded.
    startup.done()
    return session


def _open(
    options: SessionOptions,
    cwd: Path,
    env: dict[str, str],
    settings: Any,
    policy: Any,
    tools: list[Any],
    store: Any,
    undo: contextlib.ExitStack,
) -> OpenSession:
    from bridle.config.paths import bridle_home
    from bridle.engine.compactor import compactor_for
    from bridle.engine.context import build_system_prompt, git_info, load_context
    from bridle.engine.extensions import (
        agent_tools,
        load_extensions,
        skill_scope,
        skill_tool,
        system_additions,
    )
    from bridle.engine.hooks_setup import open_hooks
    from bridle.engine.mcp_setup import open_mcp
    from bridle.store.lease import acquire

    accounts = choose_accounts(options.accounts, settings, env)
    keys = keys_of(accounts[0], env) if accounts else None
    account = options.accounts[0] if options.accounts else None
    git = git_info(cwd)
    warnings = list(settings.warnings)
    record, recorded_model = _find_resumed(options, store, cwd, git, settings, env)
    spec = options.model or recorded_model or default_model(settings, env)
    mock_server = None
    if spec.split("/", 1)[0] == "mock" and not env.get("BRIDLE_MOCK_BASE_URL"):
        mock_server = _start_mock(settings, env, cwd)
        undo.callback(mock_server.stop)
        env["BRIDLE_MOCK_BASE_URL"] = mock_server.base_url
    try:
        binding = bind_model(spec, settings, env, keys)
    except UnknownModelError as e:
        if options.model or recorded_model is None:
            raise
        raise UsageError(
            f"the session was using the model {recorded_model!r}, which bridle cannot resolve "
            f"({e}); pass --model provider/model to continue it with another model"
        ) from e
    max_cost = options.max_cost_usd or settings.get("max_cost")
    if max_cost is not None and not prices_known(spec, settings, env):
        warnings.append(
            f"prices for {spec} are unknown; --max-cost ${float(max_cost):g} "
            "cannot be enforced (costs count as 0)"
        )

    history = None
    if options.resume and options.resume.partition(":")[0] in _FOREIGN:
        from bridle.history.convert import import_session

        # Another tool's session: import it into a new bridle session first.
        new_id = import_session(
            store.conn, options.resume, model=binding.name, provider=binding.provider,
            account=account, env=env,
        )  # fmt: skip
        record = store.get(new_id)
    anchors: list[str] = []
    if record is not None:
        if options.fork:
            upto = _fork_point(store, record.id, options.resume_at)
            record = store.fork(record.id, options.session_id, upto=upto)
        lease = acquire(bridle_home(env), record.id)
        undo.callback(lease.release)
        if (record.model, record.provider) != (binding.name, binding.provider):
            record = store.update(record.id, model=binding.name, provider=binding.provider)
        from bridle.store.conversation import fold_messages, pinned_facts, repair_history

        events = store.events(record.id)
        history, anchors = repair_history(fold_messages(events)), pinned_facts(events)
    else:
        record = store.create(
            binding.name, binding.provider, str(cwd), git_branch=git.branch, account=account,
            session_id=options.session_id,
        )  # fmt: skip
        lease = acquire(bridle_home(env), record.id)
        undo.callback(lease.release)

    ext = load_extensions(
        cwd, git.root or settings.project_root, env, settings, plugin_dirs=options.plugin_dirs
    )
    warnings += ext.warnings()
    style_base, additions = system_additions(ext, settings.get("context_window"))
    skill = skill_tool(ext, policy)  # a loaded body's ! commands run under the rules
    if skill is not None and (options.tools is None or "Skill" in options.tools):
        tools = [*tools, skill]
    mcp = open_mcp(
        options, git.root or settings.project_root or cwd, cwd, env, settings,
        ext.plugin_mcp_files(),
    )  # fmt: skip
    undo.callback(mcp.close)
    warnings += mcp.warnings
    tools = agent_tools(ext, [*tools, *_visible(policy, mcp.tools)])
    context = load_context(cwd, env, git.root, settings, policy=policy)  # memory: writable
    agents = None  # engine.agents.AgentHost: the Agent tool's runner
    if options.tools is None or {"Agent", "Task"} & set(options.tools):
        from bridle.engine.agents import host_for

        agents = host_for(
            options, cwd, env, settings, ext, tools, policy, binding, context, record.id,
            account, bind=lambda s: bind_model(s, settings, env, keys),
        )  # fmt: skip
        tools = agent_tools(ext, [*tools, agents.tool()])
        if skill is not None:  # `context: fork` skills run as a subagent
            skill.fork = agents.run
    warnings += context.problems
    system = build_system_prompt(
        cwd, env, now=_dt.datetime.now().astimezone(), git=git,
        system_prompt=options.system_prompt if options.system_prompt is not None else style_base,
        append=[*additions, *options.append_system_prompt], context=context,
    )  # fmt: skip
    ctx = _tool_context(cwd, env, settings, record.id, [Path(r) for r in policy.roots[1:]])
    for reader in ("Read", "Grep"):  # capped outputs say "read the rest in <file>"
        policy.add_allow(f"{reader}(/{ctx.output_dir}/**)")
    if settings.get("sandbox") is not None:  # the sandbox modules load only when configured
        from bridle.engine.sandbox_setup import attach_sandbox

        warnings += attach_sandbox(settings, policy, ctx, env, undo)
    if history:
        _remember_reads(history, ctx)
    structured = None
    if options.json_schema is not None:  # the model answers through a StructuredOutput tool
        from bridle.engine.structured import StructuredAnswer, check_schema

        structured = StructuredAnswer(check_schema(options.json_schema))
        tools = [*tools, structured.tool]
    specs, note = [t.spec() for t in tools], None
    if mcp.tools:  # only MCP tools are ever deferred to ToolSearch
        from bridle.mcp.search import defer_tools

        window = settings.get("context_window")
        tools, specs, note = defer_tools(tools, env, window, history=history)
    warnings += [note] if note else []  # a bad ENABLE_TOOL_SEARCH
    dispatcher = Dispatcher({t.name: t for t in tools}, ctx, policy)
    dispatcher.instructions = context.instructions
    offered = dispatcher.tools.get("Skill")  # None when --tools or the agent left it out
    dispatcher.skill_scope = skill_scope(
        ext, offered, cwd, git.root or settings.project_root or cwd
    )
    hooks, hook_warnings = open_hooks(
        options, settings, ext, project_dir=git.root or settings.project_root or cwd, cwd=cwd,
        env=env, session_id=record.id, resumed=history is not None, git_branch=git.branch,
        binding=binding, bind_model=lambda s: bind_model(s, settings, env, keys), mcp=mcp, ctx=ctx,
    )  # fmt: skip
    warnings += hook_warnings
    dispatcher.hooks = hooks
    if agents is not None:
        agents.hooks = hooks  # SubagentStart / SubagentStop
    if hooks is not None:
        hooks.watch_instructions(context.instructions)  # InstructionsLoaded
    limits = EngineLimits(
        max_turns=int(options.max_turns or settings.get("max_turns") or 50),
        max_cost_usd=float(max_cost) if max_cost is not None else None,
    )
    engine = Engine(
        binding=binding,
        dispatcher=dispatcher,
        system=system,
        tool_specs=specs,  # ToolSearch adds found MCP tools to this list
        session_id=record.id,
        sink=StoreSink(store, record.id),
        history=history,
        limits=limits,
        bind_model=lambda s: bind_model(s, settings, env, keys),
        rotate_account=rotation(accounts, spec, settings, env),
        hooks=hooks,
        compactor=compactor_for(binding, settings, ctx.output_dir, context.instructions.render()),
    )
    engine.anchors = anchors  # pinned in an earlier run of the session
    engine.bind_account = lambda s, name: bind_model(s, settings, env, keys_of(name, env))
    for fact in options.anchors:  # `--anchor`: pinned now, saved with the session
        list(engine.send(ev.Anchor(fact)))
    if agents is not None:
        agents.engine, engine.background = engine, agents.background
        dispatcher.relay = agents.relay  # its children's asks reach this front end
    mcp.bind(engine, lambda ts: agent_tools(ext, _visible(policy, ts)))  # list_changed, crashes
    engine.structured = structured
    started = ev.SessionStarted(
        session_id=record.id, model=binding.name, provider=binding.provider, cwd=str(cwd),
        tools=[t.name for t in tools], permission_mode=policy.mode, resumed=history is not None,
        mcp_servers=mcp.statuses(),
    )  # fmt: skip
    return OpenSession(
        engine, record, store, store.conn, binding.name, started, mock_server, warnings,
        lease=lease, policy=policy, settings=settings, extensions=ext, mcp=mcp, hooks=hooks,
    )  # fmt: skip


def _find_resumed(
    options: SessionOptions,
    store: Any,
    cwd: Path,
    git: Any,
    settings: Any,
    env: Mapping[str, str],
) -> tuple[Any, str | None]:
    """The bridle session to resume or continue (None for a new session or another
    tool's, imported later) and the model it was using."""
    if options.resume:
        ref = options.resume.strip()
        if ref.partition(":")[0] in _FOREIGN:
            return None, _foreign_model(store.conn, ref, env)
        try:
            record = store.get(ref)
        except UserError as e:  # unknown or ambiguous: the argument is wrong
            raise UsageError(str(e)) from e
        return record, record.model or None
    if options.continue_latest:
        # The project's latest session, wherever in the project it was started.
        root = git.root or settings.project_root or cwd
        record = store.latest_within(str(root))
        if record is None:
            raise UsageError(
                f"no earlier bridle session in {root} to continue; start one without -c"
            )
        return record, record.model or None
    return None, None


def _fork_point(store: Any, session_id: str, at: str | None) -> int | None:
    """The last event a fork keeps (`--resume-session-at`): an event number, or
    the event of an assistant message id; None keeps them all."""
    if at is None:
        return None
    events = store.events(session_id)
    ref = at.strip().lstrip("#")
    if ref.isdigit() and any(e.seq == int(ref) for e in events):
        return int(ref)
    for e in events:
        if e.kind == "assistant" and e.payload.get("id") == ref:
            return int(e.seq)
    last = events[-1].seq if events else 0
    raise UsageError(
        f"--resume-session-at {at!r}: session {session_id} has no event or assistant "
        f"message with that id (events run 1..{last}; `bridle sessions show {session_id}` "
        "numbers them and marks each compaction)"
    )


def _foreign_model(conn: sqlite3.Connection, ref: str, env: Mapping[str, str]) -> str | None:
    """The model another tool's session recorded, if the index knows it."""
    from bridle.history.fresh import Freshness, ensure_fresh
    from bridle.history.search import find_session

    ensure_fresh(conn, env, Freshness.from_env(env))
    found = [s for s in find_session(conn, ref) if s.tool in _FOREIGN]
    return found[0].model or None if len(found) == 1 else None


def _visible(policy: Any, tools: list[Any]) -> list[Any]:
    """`tools` the model may see in the policy's mode."""
    visible = set(policy.visible_tools([t.name for t in tools]))
    return [t for t in tools if t.name in visible]


def _tool_context(
    cwd: Path, env: dict[str, str], settings: Any, session_id: str, extra_roots: list[Path]
) -> Any:
    from bridle.config.paths import bridle_home
    from bridle.tools.base import ToolContext

    return ToolContext(
        cwd=cwd,
        session_id=session_id,
        extra_roots=extra_roots,
        env=env,
        env_allow=list(settings.get("env_allow", []) or []),
        output_dir=bridle_home(env) / "tool-output" / session_id,
        verify=settings.get("verify"),
        allow_private_network=bool(settings.get("webfetch.allow_private_network", False)),
        cancel=threading.Event(),
    )


def _remember_reads(history: list[Any], ctx: Any) -> None:
    """A resumed session may edit files it read in an earlier process: Edit and
    Write require a prior read, which lives in memory, so rebuild it from the
    successful Read/Write/Edit calls in the history (Edit's exact-match rule still
    guards against files that changed in between)."""
    from bridle.core.messages import ToolResultPart, ToolUsePart
    from bridle.tools.files import record_read
    from bridle.tools.names import FILE_PATH_TOOLS

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
                and p.name in FILE_PATH_TOOLS
                and isinstance(p.input, dict)
                and isinstance(p.input.get("file_path"), str)
            ):
                path = ctx.resolve(p.input["file_path"])
                if path.is_file():
                    record_read(ctx, path)


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
