"""`McpManager`: every configured MCP server behind one synchronous API for the engine.

The manager owns one background thread running an asyncio event loop; each
server's `connection.Connection` lives there. A server starts on first use (or
all at once with `start_all()`, for `bridle mcp list`), within `MCP_TIMEOUT`
milliseconds (default 30 s); a call waits at most the server's `timeout` or
`MCP_TOOL_TIMEOUT` milliseconds. A server that fails to start, exits mid-call or
answers garbage raises `McpServerError` (a `ToolError`: the model sees which
server failed and why), is marked failed in `status()`, and is started again on
the next call to it. A server's `tools/list_changed` notification refreshes its
cached tools and tells the listeners. What the user should hear about between
two model requests (a server that failed or was restarted, servers whose tools
changed) is collected for `take_updates()`; `settle()` first waits briefly for
tool-list refreshes still in flight. Importing this module costs nothing: the
`mcp` SDK is imported with `connection` when the first server starts. This module
neither adapts tools to bridle's `Tool` contract (`mcp.tools` does) nor reads
configuration files (`mcp.config` does).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from bridle.config.paths import bridle_home
from bridle.core.errors import ToolError
from bridle.mcp.config import ServerConfig

if TYPE_CHECKING:
    from bridle.mcp.connection import CallResult, Connection, McpTool

T = TypeVar("T")
State = Literal["not started", "connected", "failed"]

DEFAULT_START_MS = 30_000
# Claude Code waits practically forever for a tool unless MCP_TOOL_TIMEOUT says otherwise.
DEFAULT_TOOL_MS = 100_000_000


class McpServerError(ToolError):
    """An MCP server could not serve a request; `str(err)` names it and says why."""

    def __init__(self, server: str, message: str) -> None:
        super().__init__(message)
        self.server = server


@dataclass(frozen=True)
class ServerStatus:
    """What `bridle mcp list` shows for one server."""

    name: str
    state: State
    scope: str
    target: str  # the command line or the URL
    reason: str | None = None
    tools: int = 0


@dataclass
class _Slot:
    """One server's connection and state, on the manager's loop; `lock` serialises its starts."""

    cfg: ServerConfig
    state: State = "not started"
    reason: str | None = None
    conn: Connection | None = None
    tools: list[McpTool] = field(default_factory=list)  # last known, kept after a failure
    lock: asyncio.Lock | None = None


def timeout_ms(env: Mapping[str, str], name: str, default: int) -> int:
    """A positive millisecond count from `env[name]`, else `default`."""
    try:
        value = int(env.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


class McpManager:
    """The session's MCP servers. Thread-safe; every method blocks until done."""

    def __init__(
        self,
        servers: Mapping[str, ServerConfig],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self._env = dict(os.environ if env is None else env)
        self._cwd = cwd
        self._log_dir = log_dir or bridle_home(self._env) / "logs" / "mcp"
        self.start_timeout = timeout_ms(self._env, "MCP_TIMEOUT", DEFAULT_START_MS) / 1000
        self.tool_timeout = timeout_ms(self._env, "MCP_TOOL_TIMEOUT", DEFAULT_TOOL_MS) / 1000
        self._slots = {name: _Slot(cfg) for name, cfg in servers.items()}
        self._listeners: list[Callable[[str], None]] = []
        self._notes: list[str] = []  # for the user, drained by take_updates()
        self._changed: set[str] = set()  # servers whose tools changed since then
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()
        self._closed = False

    # -- the synchronous API -------------------------------------------------

    @property
    def names(self) -> list[str]:
        return list(self._slots)

    def config(self, server: str) -> ServerConfig:
        return self._slot(server).cfg

    def add_listener(self, callback: Callable[[str], None]) -> None:
        """`callback(server)` runs (on the manager's thread) when a server's tools change."""
        self._listeners.append(callback)

    def start_all(self) -> dict[str, ServerStatus]:
        """Start every server that is not connected, in parallel; return `status()`."""

        async def run() -> None:
            await asyncio.gather(*(self._ensure(n) for n in self._slots), return_exceptions=True)

        if self._slots:
            self._run(run(), None)
        return self.status()

    def status(self) -> dict[str, ServerStatus]:
        out: dict[str, ServerStatus] = {}
        for name, slot in self._slots.items():
            state: State = slot.state
            if state == "connected" and (slot.conn is None or not slot.conn.alive):
                state = "failed"
            out[name] = ServerStatus(
                name=name,
                state=state,
                scope=slot.cfg.scope,
                target=slot.cfg.describe(),
                reason=slot.reason
                if state == "failed" and slot.reason
                else ("the server exited" if state == "failed" else None),
                tools=len(slot.tools),
            )
        return out

    def list_tools(self, server: str | None = None) -> list[McpTool]:
        """Every server's tools (or one server's). Servers not yet started are
        started; a failed server keeps its last known tools, so calling one
        restarts it."""
        names = [server] if server is not None else list(self._slots)
        pending = [n for n in names if self._slot(n).state == "not started"]
        if pending:

            async def run() -> None:
                await asyncio.gather(*(self._ensure(n) for n in pending), return_exceptions=True)

            self._run(run(), None)
        return [tool for n in names for tool in self._slot(n).tools]

    def call_tool(self, server: str, tool: str, args: Mapping[str, Any]) -> CallResult:
        from bridle.mcp.connection import call_result

        slot = self._slot(server)
        seconds = (slot.cfg.timeout / 1000) if slot.cfg.timeout else self.tool_timeout
        what = f"the call to {tool}"
        result = self._request(
            server, what, lambda s: s.call_tool(tool, dict(args)), seconds, "MCP_TOOL_TIMEOUT"
        )
        return call_result(result)

    def list_resources(self, server: str | None = None) -> list[dict[str, Any]]:
        """Resources of one server, or of every server that offers any."""
        out: list[dict[str, Any]] = []
        for name in [server] if server is not None else list(self._slots):
            if server is None:
                self.list_tools(name)  # starts it
                conn = self._slot(name).conn
                if conn is None or conn.capabilities is None or not conn.capabilities.resources:
                    continue
            page = self._request(
                name, "resources/list", lambda s: s.list_resources(), self.start_timeout
            )
            for res in page.resources:
                item = res.model_dump(mode="json", exclude_none=True)
                out.append({"server": name, **item})
        return out

    def read_resource(self, server: str, uri: str) -> list[dict[str, Any]]:
        """A resource's contents: dicts with `uri`, `mime_type` and `text` or `blob`."""
        result = self._request(
            server, f"reading {uri}", lambda s: s.read_resource(uri), self.tool_timeout
        )
        return [c.model_dump(mode="json", exclude_none=True) for c in result.contents]

    def list_prompts(self, server: str | None = None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for name in [server] if server is not None else list(self._slots):
            if server is None:
                self.list_tools(name)
                conn = self._slot(name).conn
                if conn is None or conn.capabilities is None or not conn.capabilities.prompts:
                    continue
            page = self._request(
                name, "prompts/list", lambda s: s.list_prompts(), self.start_timeout
            )
            for prompt in page.prompts:
                out.append({"server": name, **prompt.model_dump(mode="json", exclude_none=True)})
        return out

    def get_prompt(
        self, server: str, name: str, args: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """A prompt's `description` and `messages` (each with `role` and `content`)."""
        result = self._request(
            server,
            f"prompt {name}",
            lambda s: s.get_prompt(name, dict(args or {})),
            self.tool_timeout,
        )
        return result.model_dump(mode="json", exclude_none=True)

    def settle(self, timeout: float = 5.0) -> None:
        """Wait (at most `timeout` seconds) for the tool-list refreshes that
        `tools/list_changed` notifications started (one quick trip to the loop
        when none is)."""
        loop = self._loop
        if loop is None or self._closed:
            return
        if not any(s.conn is not None and s.conn.alive for s in self._slots.values()):
            return

        async def wait() -> None:  # on the loop, where the task sets change
            for _ in range(5):  # notifications read with a result reach their handler
                await asyncio.sleep(0)
            tasks = [t for s in self._slots.values() if s.conn for t in s.conn.refreshing]
            if tasks:
                await asyncio.wait(tasks, timeout=timeout)

        try:
            self._run(wait(), timeout + 1)
        except (FutureTimeout, McpServerError):
            pass

    def take_updates(self) -> tuple[list[str], set[str]]:
        """(notes for the user, servers whose tools changed) since the last call."""
        with self._guard:
            notes, self._notes = self._notes, []
            changed, self._changed = self._changed, set()
        return notes, changed

    def close(self) -> None:
        """Stop every server and the loop thread. Safe to call twice."""
        with self._guard:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def shutdown() -> None:
            conns = [s.conn for s in self._slots.values() if s.conn is not None]
            await asyncio.gather(*(c.close() for c in conns), return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=20)
        except Exception:
            pass
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        if not thread.is_alive():
            loop.close()
        for slot in self._slots.values():
            slot.conn = None
            if slot.state == "connected":
                slot.state = "not started"

    def __enter__(self) -> McpManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- on the loop ---------------------------------------------------------

    def _request(
        self,
        server: str,
        what: str,
        make: Callable[[Any], Coroutine[Any, Any, T]],
        seconds: float,
        knob: str = "MCP_TIMEOUT",
    ) -> T:
        from bridle.mcp.connection import ConnectionLost, ServerAnswer

        async def run() -> T:
            conn = await self._ensure(server)
            try:
                return await conn.request(make, seconds)
            except ServerAnswer as e:
                raise McpServerError(server, f"MCP server {server!r} refused {what}: {e}") from e
            except TimeoutError:
                raise McpServerError(
                    server,
                    f"MCP server {server!r} did not answer {what} within {seconds:g} s "
                    f"(set {knob}, in milliseconds, to wait longer)",
                ) from None
            except ConnectionLost as e:
                await self._fail(server, str(e))
                message = (
                    f"MCP server {server!r} failed during {what}: {e}. "
                    "It will be restarted on the next call."
                )
                self._note(message)
                raise McpServerError(server, message) from e

        return self._run(run(), None)

    async def _ensure(self, name: str) -> Connection:
        from bridle.mcp.connection import Connection, ConnectionLost

        slot = self._slot(name)
        if slot.lock is None:
            slot.lock = asyncio.Lock()
        async with slot.lock:
            if slot.conn is not None and slot.conn.alive:
                return slot.conn
            restarting = slot.state == "failed" or slot.conn is not None
            if slot.conn is not None:  # it exited while idle
                slot.reason = slot.conn.stop_reason()
                await slot.conn.close()
                slot.conn = None
            conn = Connection(
                slot.cfg,
                env=self._env,
                cwd=self._cwd,
                log_path=self._log_dir / f"{_safe(name)}.log",
                on_tools_changed=self._tools_changed,
            )
            try:
                await conn.start(self.start_timeout)
            except Exception as e:
                reason = str(e) if isinstance(e, ConnectionLost) else f"{type(e).__name__}: {e}"
                slot.state, slot.reason = "failed", reason
                message = f"MCP server {name!r} failed to start: {reason}"
                if restarting:
                    self._note(message.replace("failed to start", "could not be restarted"))
                raise McpServerError(name, message) from e
            if restarting:
                why = f" (it had stopped: {slot.reason})" if slot.reason else ""
                self._note(f"MCP server {name!r} was restarted{why}")
            before = [(t.name, t.input_schema, t.description) for t in slot.tools]
            slot.conn, slot.state, slot.reason = conn, "connected", None
            slot.tools = list(conn.tools)
            if restarting and before != [
                (t.name, t.input_schema, t.description) for t in conn.tools
            ]:
                with self._guard:
                    self._changed.add(name)
            return conn

    async def _fail(self, name: str, reason: str) -> None:
        slot = self._slot(name)
        slot.state, slot.reason = "failed", reason
        conn, slot.conn = slot.conn, None
        if conn is not None:
            await conn.close()

    def _tools_changed(self, name: str) -> None:
        slot = self._slot(name)
        if slot.conn is not None:
            slot.tools = list(slot.conn.tools)
        with self._guard:
            self._changed.add(name)
        for callback in list(self._listeners):
            try:
                callback(name)
            except Exception:
                pass  # a listener's bug must not break the server's session

    def _note(self, text: str) -> None:
        with self._guard:
            self._notes.append(text)

    def _slot(self, name: str) -> _Slot:
        try:
            return self._slots[name]
        except KeyError:
            known = ", ".join(self._slots) or "none"
            raise McpServerError(
                name, f"no MCP server named {name!r} is configured (configured: {known})"
            ) from None

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float | None) -> T:
        loop = self._ensure_loop()
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._guard:
            if self._closed:
                raise McpServerError("", "the MCP servers of this session were closed")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="bridle-mcp", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "server"
