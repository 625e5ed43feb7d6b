"""`bridle acp`: bridle as an Agent Client Protocol (version 1) agent over stdio.

`BridleAgent` implements the official SDK's `Agent` interface (`acp`, imported
only by this command): `initialize` announces session loading, prompt content
(text, images, embedded resources), MCP over stdio and HTTP, and the ways to
authenticate (API keys in the environment, or a bridle account's keys);
`session/new` and `session/load` open a bridle session through
`engine.setup.open_session` (headless=False, so the policy asks; the client's
MCP servers become `SessionOptions.mcp_configs`; a loaded session's history is
replayed as updates first); `session/prompt` runs the turn in a worker thread
(`acp.turn`) and answers with its stop reason and usage; `session/cancel`
interrupts; `session/set_mode` switches the permission mode and the `model`
config option (`session/set_config_option`; this protocol version has no
`session/set_model`) switches the model. A loaded session comes back in the
permission mode it last switched to (its stored `permission_mode` events).
After `session/new` and `session/load` the client gets the session's slash
commands (`available_commands_update`: commands, skills, MCP prompts), and a
prompt is expanded as a headless run expands it (`/command`, `/mcp__s__p`,
`@server:uri`). When the client offers `fs` and `terminal`, the session's file
tools and Bash go through the editor (`acp.client_tools`). The JSON-RPC stream owns the real stdout: anything else
written to fd 1 (a stray print, a child process) lands on stderr instead.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from acp import PROTOCOL_VERSION, RequestError, run_agent, stdio_streams
from acp import schema as s
from acp.helpers import update_current_mode

from bridle import __version__
from bridle.acp import updates as up
from bridle.acp.client_tools import editor_tools
from bridle.acp.link import EditorLink
from bridle.acp.turn import AcpSession, run_turn
from bridle.core import startup
from bridle.core.errors import MissingKeyError, ToolError, UnknownModelError, UserError
from bridle.engine import events as ev

MODES = [
    ("default", "Default", "Ask before edits, commands and other changes"),
    ("acceptEdits", "Accept edits", "Edit files without asking; ask for commands"),
    ("plan", "Plan", "Read and plan only; nothing is changed"),
    ("dontAsk", "Don't ask", "Run what the rules allow; deny the rest without asking"),
    ("bypassPermissions", "Bypass permissions", "Run everything without asking (deny rules hold)"),
]
MAX_MODEL_CHOICES = 80
STREAM_LIMIT = 50 * 1024 * 1024  # one JSON-RPC line: prompts may carry images


class BridleAgent:
    def __init__(self, env: Mapping[str, str], *, model: str | None, accounts: tuple[str, ...]):
        self.env = dict(env)
        self.model = model
        self.accounts = accounts
        self.conn: Any = None
        self.caps = s.ClientCapabilities()
        self.sessions: dict[str, AcpSession] = {}
        self._tasks: set[asyncio.Task[None]] = set()  # notifications in flight

    def on_connect(self, conn: Any) -> None:
        self.conn = conn

    # ------------------------------------------------------------ connection
    async def initialize(
        self,
        protocol_version: int,
        client_capabilities: s.ClientCapabilities | None = None,
        client_info: s.Implementation | None = None,
        **kwargs: Any,
    ) -> s.InitializeResponse:
        self.caps = client_capabilities or s.ClientCapabilities()
        return s.InitializeResponse(
            protocol_version=min(protocol_version, PROTOCOL_VERSION),
            agent_capabilities=s.AgentCapabilities(
                load_session=True,
                prompt_capabilities=s.PromptCapabilities(image=True, embedded_context=True),
                mcp_capabilities=s.McpCapabilities(http=True, sse=True),
            ),
            auth_methods=await asyncio.to_thread(self._auth_methods),
            agent_info=s.Implementation(name="bridle", title="bridle", version=__version__),
        )

    def _auth_methods(self) -> list[Any]:
        from bridle.accounts.store import AccountStore

        methods: list[Any] = [
            s.AuthMethodAgent(
                id="env",
                name="API key in the environment",
                description="A provider key such as ANTHROPIC_API_KEY or OPENAI_API_KEY in the "
                "editor's environment (see `bridle models`)",
            )
        ]
        for name in AccountStore.from_env(self.env).names():
            methods.append(
                s.AuthMethodAgent(
                    id=f"account:{name}",
                    name=f"bridle account {name}",
                    description="The keys stored with `bridle accounts keys set`",
                )
            )
        return methods

    async def authenticate(self, method_id: str, **kwargs: Any) -> s.AuthenticateResponse:
        account = method_id.removeprefix("account:") if method_id.startswith("account:") else None
        if method_id != "env" and account is None:
            raise RequestError.invalid_params(
                {"message": f"unknown method {method_id!r}; use env or account:NAME"}
            )
        await asyncio.to_thread(self._check_keys, account)
        self.accounts = (account,) if account else ()
        return s.AuthenticateResponse()

    def _check_keys(self, account: str | None) -> None:
        """Whether the model can be reached with these keys (auth_required if not)."""
        from bridle.accounts.store import AccountStore
        from bridle.engine.binding import default_model, keys_of
        from bridle.engine.options import SessionOptions
        from bridle.engine.setup import session_settings
        from bridle.providers.resolve import resolve_model

        if account is not None and not AccountStore.from_env(self.env).exists(account):
            raise RequestError.invalid_params(
                {"message": f"no bridle account {account!r}; see `bridle accounts list`"}
            )
        keys = keys_of(account, self.env) if account else None
        settings = session_settings(SessionOptions(), Path.cwd(), self.env)
        try:
            spec = self.model or default_model(settings, self.env)
            resolved = resolve_model(spec, settings, self.env, account_keys=keys)
        except MissingKeyError as e:
            raise RequestError.auth_required({"message": str(e)}) from e
        except UserError as e:
            if "mock" not in str(e):  # the mock gets its address when a session opens
                raise RequestError.auth_required({"message": str(e)}) from e
        else:
            del resolved

    # -------------------------------------------------------------- sessions
    async def new_session(
        self,
        cwd: str,
        additional_directories: list[str] | None = None,
        mcp_servers: list[Any] | None = None,
        **kwargs: Any,
    ) -> s.NewSessionResponse:
        sess = await self._open(cwd, mcp_servers, additional_directories, resume=None)
        modes, options = self._state(sess)
        self._announce_commands(sess)
        return s.NewSessionResponse(session_id=sess.id, modes=modes, config_options=options)

    async def load_session(
        self,
        cwd: str,
        session_id: str,
        mcp_servers: list[Any] | None = None,
        additional_directories: list[str] | None = None,
        **kwargs: Any,
    ) -> s.LoadSessionResponse:
        old = self.sessions.pop(session_id, None)
        if old is not None:  # loaded again: this process holds its lease already
            await asyncio.to_thread(old.open.close)
        sess = await self._open(cwd, mcp_servers, additional_directories, resume=session_id)
        mode = await asyncio.to_thread(recorded_mode, sess.open)
        if mode is not None:  # the mode the session last ran in (its stored switches)
            sess.engine.dispatcher.set_mode(mode)
        for update in up.history_updates(sess.engine.messages, sess.cwd):
            await self.conn.session_update(session_id=sess.id, update=update)
        modes, options = self._state(sess)
        self._announce_commands(sess)
        return s.LoadSessionResponse(modes=modes, config_options=options)

    def _announce_commands(self, sess: AcpSession) -> None:
        """`available_commands_update` once the session's answer is on its way
        (clients drop updates for a session they do not know yet)."""

        async def send() -> None:
            commands = await asyncio.to_thread(session_commands, sess.open)
            await asyncio.sleep(0)
            await self.conn.session_update(
                session_id=sess.id, update=up.available_commands(commands)
            )

        task = asyncio.get_running_loop().create_task(send())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _open(
        self, cwd: str, servers: list[Any] | None, dirs: list[str] | None, resume: str | None
    ) -> AcpSession:
        from bridle.engine.options import SessionOptions
        from bridle.engine.setup import open_session

        where = Path(cwd)
        if not where.is_absolute() or not where.is_dir():
            raise RequestError.invalid_params({"message": f"cwd {cwd!r} must be an existing "
                                               "absolute directory"})  # fmt: skip
        try:
            options = SessionOptions(
                model=self.model, accounts=self.accounts, headless=False, resume=resume,
                add_dirs=tuple(Path(d) for d in dirs or ()), mcp_configs=mcp_configs(servers or []),
            )  # fmt: skip
            opened = await asyncio.to_thread(open_session, options, where, self.env)
        except UserError as e:
            raise _request_error(e) from e
        link = EditorLink(self.conn, asyncio.get_running_loop(), str(opened.record.id))
        fs = self.caps.fs or s.FileSystemCapabilities()
        swaps = editor_tools(link, read=bool(fs.read_text_file), write=bool(fs.write_text_file),
                             terminal=bool(self.caps.terminal))  # fmt: skip
        tools = opened.engine.dispatcher.tools
        for tool in swaps:
            if tool.name in tools:  # only tools the session offers (plan mode hides some)
                tools[tool.name] = tool
        window = await asyncio.to_thread(self._context_window, opened)
        sess = AcpSession(opened, where, link, context_window=window)
        self.sessions[sess.id] = sess
        for warning in opened.warnings:
            print(f"bridle: {warning}", file=sys.stderr)
        return sess

    def _context_window(self, opened: Any) -> int | None:
        from bridle.providers.resolve import resolve_model

        try:
            info = resolve_model(opened.model_name, opened.settings, self.env, require_key=False)
        except UserError:
            return None
        return info.info.context_window

    def _state(self, sess: AcpSession) -> tuple[s.SessionModeState, list[Any]]:
        modes = s.SessionModeState(
            current_mode_id=str(sess.open.policy.mode),
            available_modes=[s.SessionMode(id=i, name=n, description=d) for i, n, d in MODES],
        )
        return modes, [self._model_option(sess)]

    def _model_option(self, sess: AcpSession) -> s.SessionConfigOptionSelect:
        current = sess.engine.binding.name
        choices = [current, *(m for m in model_choices(sess.open.settings, self.env)
                              if m != current)][:MAX_MODEL_CHOICES]  # fmt: skip
        return s.SessionConfigOptionSelect(
            type="select", id="model", name="Model", category="model", current_value=current,
            options=[s.SessionConfigSelectOption(value=m, name=m) for m in choices],
        )  # fmt: skip

    def _session(self, session_id: str) -> AcpSession:
        sess = self.sessions.get(session_id)
        if sess is None:
            raise RequestError.invalid_params(
                {"message": f"no open session {session_id!r}; create one with session/new "
                 "or open it with session/load"}
            )  # fmt: skip
        return sess

    async def set_session_mode(
        self, session_id: str, mode_id: str, **kwargs: Any
    ) -> s.SetSessionModeResponse:
        sess = self._session(session_id)
        if mode_id not in [m[0] for m in MODES]:
            names = ", ".join(m[0] for m in MODES)
            raise RequestError.invalid_params({"message": f"unknown mode {mode_id!r}; use {names}"})
        await self._apply(sess, ev.SetPermissionMode(mode_id))
        await self.conn.session_update(session_id=sess.id, update=update_current_mode(mode_id))
        return s.SetSessionModeResponse()

    async def set_config_option(
        self, config_id: str, session_id: str, value: str | bool, **kwargs: Any
    ) -> s.SetSessionConfigOptionResponse:
        sess = self._session(session_id)
        if config_id != "model" or not isinstance(value, str):
            raise RequestError.invalid_params({"message": f"unknown option {config_id!r}; "
                                               "bridle has: model"})  # fmt: skip
        if sess.running:
            raise RequestError.invalid_request(
                {"message": "the model cannot change while a prompt runs; cancel it or wait"}
            )
        try:
            await self._apply(sess, ev.SetModel(value))
        except UserError as e:
            raise _request_error(e) from e
        sess.context_window = await asyncio.to_thread(self._context_window, sess.open)
        return s.SetSessionConfigOptionResponse(config_options=[self._model_option(sess)])

    async def _apply(self, sess: AcpSession, op: ev.Op) -> None:
        """An op now, or between the events of the turn that runs (the engine is
        used by one thread at a time)."""
        if sess.running:
            sess.ops.put(op)
            return
        async with sess.engine_lock:
            await asyncio.to_thread(lambda: list(sess.engine.send(op)))

    # ---------------------------------------------------------------- turns
    async def prompt(self, session_id: str, prompt: list[Any], **kwargs: Any) -> s.PromptResponse:
        sess = self._session(session_id)
        if sess.running:
            raise RequestError.invalid_request(
                {"message": "a prompt is already running in this session; cancel it first"}
            )
        turn = up.prompt_turn(prompt)
        sess.running, sess.cancelled = True, False
        try:
            turn = await asyncio.to_thread(expand_turn, sess.open, turn)
            async with sess.engine_lock:  # an op applied just before has finished
                result = await asyncio.to_thread(run_turn, sess, turn)
        except UserError as e:
            raise _request_error(e) from e
        finally:
            sess.running = False
        reason = up.stop_reason(result, sess.cancelled)
        if result.is_error and reason == "end_turn" and result.error_kind not in (
            "max_budget", "loop_guard"
        ):  # fmt: skip
            raise RequestError.internal_error(
                {"message": result.errors[0] if result.errors else result.subtype,
                 "kind": result.error_kind, "sessionId": sess.id}
            )  # fmt: skip
        return s.PromptResponse(stop_reason=reason, usage=up.usage_of(result))

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        sess = self.sessions.get(session_id)
        if sess is not None and sess.running:
            sess.cancel()

    def close(self) -> None:
        """The client went away: stop running turns, release every session."""
        for sess in self.sessions.values():
            if sess.running:
                sess.cancel()
        for sess in list(self.sessions.values()):
            sess.open.close()
        self.sessions.clear()


def _request_error(e: UserError) -> RequestError:
    if isinstance(e, MissingKeyError) or str(e).startswith("no model"):
        return RequestError.auth_required({"message": str(e)})
    if isinstance(e, UnknownModelError):
        return RequestError.invalid_params({"message": str(e)})
    return RequestError.invalid_params({"message": str(e)})


def expand_turn(session: Any, turn: ev.UserTurn) -> ev.UserTurn:
    """The prompt as a headless run expands it: `/mcp__server__prompt` and
    `@server:uri` from the session's MCP servers, then `/command args`."""
    text, images = turn.text, list(turn.images)
    if text.startswith("/mcp__") or (session.mcp is not None and session.mcp.manager):
        from bridle.engine.mentions import expand_mcp

        text, images = expand_mcp(session, text, images)
    if text.startswith("/"):
        text = session.expand_prompt(text)
    return ev.UserTurn(text, images)


def session_commands(session: Any) -> list[tuple[str, str, str | None]]:
    """(name, description, argument hint) of each slash command a prompt may
    start with: the session's commands and skills, then its MCP servers' prompts
    (`mcp__server__prompt`; a server that cannot list them adds none)."""
    out: list[tuple[str, str, str | None]] = []
    commands = getattr(session.extensions, "commands", None)
    for name, command in sorted((commands.by_name if commands is not None else {}).items()):
        out.append((name, command.description, command.argument_hint))
    manager = getattr(session.mcp, "manager", None)
    if manager is None:
        return out
    try:
        prompts = manager.list_prompts()
    except (UserError, OSError, ToolError):
        return out
    for prompt in prompts:
        args = prompt.get("arguments") or []
        hint = " ".join(f"<{a['name']}>" if a.get("required") else f"[{a['name']}]" for a in args)
        name = f"mcp__{_sanitize(prompt['server'])}__{_sanitize(prompt['name'])}"
        out.append((name, str(prompt.get("description") or name), hint or None))
    return out


def _sanitize(name: str) -> str:
    """A server or prompt name as `/mcp__server__prompt` spells it."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)


def recorded_mode(session: Any) -> str | None:
    """The permission mode a stored session last switched to, if it did."""
    mode = None
    for event in session.store.events(session.record.id):
        if event.kind == "system" and event.payload.get("type") == "permission_mode":
            mode = event.payload.get("mode")
    return mode if isinstance(mode, str) else None


def mcp_configs(servers: list[Any]) -> tuple[str, ...]:
    """The client's MCP servers as one `--mcp-config` JSON document."""
    found: dict[str, Any] = {}
    for srv in servers:
        if isinstance(srv, s.McpServerStdio):
            found[srv.name] = {"command": srv.command, "args": list(srv.args),
                               "env": {e.name: e.value for e in srv.env}}  # fmt: skip
        elif isinstance(srv, s.HttpMcpServer | s.SseMcpServer):
            found[srv.name] = {"type": srv.type, "url": srv.url,
                               "headers": {h.name: h.value for h in srv.headers}}  # fmt: skip
    return (json.dumps({"mcpServers": found}),) if found else ()


def model_choices(settings: Any, env: Mapping[str, str]) -> list[str]:
    """Catalog models whose provider has a key (or needs none)."""
    from bridle.providers.resolve import catalog_for, find_key

    catalog = catalog_for(settings)
    out: list[str] = []
    for provider in catalog.providers.values():
        if provider.needs_key and find_key(provider, env)[0] is None:
            continue
        out.extend(f"{provider.name}/{m}" for m in provider.models)
    return out


async def _serve(env: Mapping[str, str], model: str | None, accounts: tuple[str, ...]) -> None:
    # The protocol keeps the real stdout; fd 1 becomes stderr for everything else.
    protocol_out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = protocol_out  # stdio_streams writes to sys.stdout
    try:
        reader, writer = await stdio_streams(limit=STREAM_LIMIT)
    finally:
        sys.stdout = sys.stderr
    agent = BridleAgent(env, model=model, accounts=accounts)
    try:
        # The SDK's Agent protocol lists optional methods too (list, fork, ...).
        await run_agent(cast(Any, agent), writer, reader)
    finally:
        await asyncio.to_thread(agent.close)


def serve(env: Mapping[str, str], *, model: str | None, accounts: tuple[str, ...]) -> int:
    """Serve one client on stdin/stdout until it closes the stream."""
    startup.done()
    asyncio.run(_serve(env, model, accounts))
    return 0
