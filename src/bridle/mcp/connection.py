"""One live MCP server: its transport, its `ClientSession`, and its cached tool list.

A `Connection` runs on the event loop the `client.McpManager` owns. One task opens
the transport (stdio, SSE or streamable HTTP, from the official `mcp` SDK),
initializes the session, lists the tools and then parks until it is told to
close, so the SDK's context managers are entered and left in the same task, as
anyio requires. Requests come from other tasks on the same loop. Results are
turned into plain values here (`McpTool`, dicts of content blocks), so nothing
above this module sees an SDK type. A stdio server's stderr goes to a log file
whose tail explains a failed start. This module imports the SDK at the top: only
`client` imports it, and only when a server is started.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, TypeVar

import anyio
import httpx2
import mcp_types as types
from mcp.client.session import ClientSession, IncomingMessage
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from bridle.mcp.config import ServerConfig

T = TypeVar("T")

# Errors that mean the connection itself is gone (the server is restarted next time).
_CONNECTION_CODES = (types.CONNECTION_CLOSED,)
_sdk_log_routed = False


class ConnectionLost(Exception):
    """The transport broke or the server exited; the message says how."""


class ServerAnswer(Exception):
    """The server answered a request with a JSON-RPC error; the session is fine."""


@dataclass(frozen=True)
class McpTool:
    """A tool a server offers, as bridle needs it."""

    server: str
    name: str
    description: str
    input_schema: dict[str, Any]
    read_only: bool = False
    title: str | None = None


@dataclass
class CallResult:
    """A tool's answer: content blocks as plain dicts (`type` text, image, audio,
    resource or resource_link, snake_case keys), structured content, error flag."""

    content: list[dict[str, Any]] = field(default_factory=list)
    structured: Any = None
    is_error: bool = False


class Connection:
    """A server's session on the manager's loop; start, use, close."""

    def __init__(
        self,
        cfg: ServerConfig,
        *,
        env: Mapping[str, str],
        cwd: Path | None,
        log_path: Path,
        on_tools_changed: Callable[[str], None] | None = None,
    ) -> None:
        _route_sdk_logs(log_path.parent)
        self.cfg = cfg
        self._env = env
        self._cwd = cwd
        self.log_path = log_path
        self._on_tools_changed = on_tools_changed
        self.session: ClientSession | None = None
        self.tools: list[McpTool] = []
        self.instructions: str | None = None
        self.capabilities: types.ServerCapabilities | None = None
        self.error: BaseException | None = None
        self.garbage: str | None = None  # the last line that was not JSON-RPC
        self._ready = asyncio.Event()
        self._close = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._eof = False  # the transport ended (a stdio server exited, a stream closed)

    @property
    def alive(self) -> bool:
        if self._eof or self.session is None or self._task is None:
            return False
        return not self._task.done()

    async def start(self, timeout: float) -> None:
        """Open the session and list the tools, within `timeout` seconds."""
        self._task = asyncio.get_running_loop().create_task(self._run())
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            await self.close()
            hint = (
                f"; it printed {self.garbage!r}, which is not MCP JSON-RPC" if self.garbage else ""
            )
            raise ConnectionLost(
                f"did not finish starting within {timeout:g} s{hint} (raise MCP_TIMEOUT, "
                f"in milliseconds, for a slow server){self._stderr_tail()}"
            ) from None
        if self.session is None:
            raise ConnectionLost(self._explain(self.error) + self._stderr_tail())

    async def close(self) -> None:
        """Close the session and stop the server; never raises."""
        self._close.set()
        task = self._task
        if task is None or task.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), 8)
        except BaseException:
            task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(task, 4)

    async def request(self, make: Callable[[ClientSession], Awaitable[T]], timeout: float) -> T:
        """Run one request; `ServerAnswer` for a JSON-RPC error, `ConnectionLost`
        when the server is gone, `TimeoutError` when it took too long."""
        session = self.session
        if session is None or not self.alive:
            raise ConnectionLost(self._explain(self.error) if self.error else "not connected")
        try:
            return await asyncio.wait_for(make(session), timeout)
        except TimeoutError:
            raise
        except MCPError as e:
            if e.code in _CONNECTION_CODES or not self.alive:
                raise ConnectionLost(self._explain(e)) from e
            raise ServerAnswer(f"{e.message} (JSON-RPC error {e.code})") from e
        except (OSError, EOFError, RuntimeError, ValueError) as e:
            raise ConnectionLost(self._explain(e)) from e
        except Exception as e:
            if type(e).__module__.startswith(("anyio", "httpx", "pydantic", "mcp")):
                raise ConnectionLost(self._explain(e)) from e
            raise

    async def list_tools(self) -> list[McpTool]:
        session = self.session
        assert session is not None
        tools: list[McpTool] = []
        cursor: str | None = None
        for _ in range(100):  # a paginator that never ends must not hang start-up
            params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
            page = await session.list_tools(params=params)
            tools.extend(_tool(self.cfg.name, t) for t in page.tools)
            cursor = page.next_cursor
            if not cursor:
                break
        return tools

    async def _run(self) -> None:
        try:
            async with AsyncExitStack() as stack:
                read, write = await stack.enter_async_context(self._transport(stack))
                read = await self._watch(stack, read)
                session = await stack.enter_async_context(
                    ClientSession(
                        read,
                        write,
                        message_handler=self._on_message,
                        client_info=types.Implementation(name="bridle", version=_version()),
                    )
                )
                init = await session.initialize()
                self.instructions = init.instructions
                self.session = session
                self.capabilities = init.capabilities
                has_tools = init.capabilities.tools is not None
                self.tools = await self.list_tools() if has_tools else []
                self._ready.set()
                await self._close.wait()
        except BaseException as e:
            if self.error is None and not self._close.is_set():
                self.error = e
            if isinstance(e, asyncio.CancelledError):
                raise
        finally:
            self.session = None
            self._ready.set()

    async def _watch(self, stack: AsyncExitStack, read: Any) -> Any:
        """`read`, passed through a stream that notes when the transport ends, so
        a server that exited while idle is restarted before the next request
        instead of failing it."""
        send, out = anyio.create_memory_object_stream[Any](0)
        group = await stack.enter_async_context(anyio.create_task_group())
        stack.callback(group.cancel_scope.cancel)  # runs before the group's exit
        stack.callback(out.close)

        async def forward() -> None:
            try:
                async with send:
                    async for item in read:
                        await send.send(item)
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                pass
            finally:
                self._eof = True

        group.start_soon(forward)
        return out

    def _transport(self, stack: AsyncExitStack) -> Any:
        cfg = self.cfg
        if cfg.type == "stdio":
            # The user's whole environment (PATH included), then the server's own env.
            env = {**self._env, **cfg.env}
            cwd = cfg.cwd or (str(self._cwd) if self._cwd else None)
            params = StdioServerParameters(
                command=cfg.command,
                args=list(cfg.args),
                env=env,
                cwd=cwd,
                encoding_error_handler="replace",
            )
            return stdio_client(params, errlog=self._open_log(stack))
        if cfg.type == "sse":
            return sse_client(cfg.url, headers=dict(cfg.headers), timeout=30)
        client = httpx2.AsyncClient(headers=dict(cfg.headers), timeout=httpx2.Timeout(30, read=300))
        stack.push_async_callback(client.aclose)
        return streamable_http_client(cfg.url, http_client=client)

    def _open_log(self, stack: AsyncExitStack) -> TextIO:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "w", encoding="utf-8", errors="replace")  # noqa: SIM115
        stack.callback(log.close)
        return log

    async def _on_message(self, message: IncomingMessage) -> None:
        if isinstance(message, Exception):
            self.garbage = str(message)[:300]
            return
        if isinstance(message, types.ToolListChangedNotification):
            task = asyncio.get_running_loop().create_task(self._refresh_tools())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    def stop_reason(self) -> str:
        """Why a connection that is no longer alive stopped."""
        return self._explain(self.error) + self._stderr_tail()

    @property
    def refreshing(self) -> tuple[asyncio.Task[Any], ...]:
        """The tool-list refreshes `tools/list_changed` started and not yet done
        (read on the loop only)."""
        return tuple(self._background)

    async def _refresh_tools(self) -> None:
        if self.session is None:
            return
        try:
            self.tools = await self.list_tools()
        except Exception:
            return  # the next call finds out whether the server is still there
        if self._on_tools_changed is not None:
            self._on_tools_changed(self.cfg.name)

    def _explain(self, err: BaseException | None) -> str:
        if err is None:
            return "the server closed the connection"
        while isinstance(err, BaseExceptionGroup) and err.exceptions:
            err = err.exceptions[0]
        if isinstance(err, FileNotFoundError) and self.cfg.type == "stdio":
            return (
                f'command {self.cfg.command!r} not found; install it or fix "command" '
                f"(PATH is {self._env.get('PATH', '(unset)')!r})"
            )
        if isinstance(err, PermissionError) and self.cfg.type == "stdio":
            return f"command {self.cfg.command!r} is not executable ({err.strerror})"
        if isinstance(err, MCPError):
            if err.code == types.CONNECTION_CLOSED:
                return "the server closed the connection (it exited or crashed)"
            return f"{err.message} (JSON-RPC error {err.code})"
        if isinstance(err, httpx2.HTTPError):
            return f"HTTP request to {self.cfg.url} failed: {err}"
        text = str(err) or type(err).__name__
        return f"{type(err).__name__}: {text}" if str(err) else text

    def _stderr_tail(self) -> str:
        if self.cfg.type != "stdio":
            return ""
        try:
            data = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        lines = [line for line in data.splitlines() if line.strip()][-5:]
        if not lines:
            return ""
        return "; its stderr ends with: " + " | ".join(lines)[-600:]


def _route_sdk_logs(log_dir: Path) -> None:
    """The SDK logs transport failures (with tracebacks) through `logging`, which
    with no handler prints them on the user's terminal; they go to
    `<log_dir>/sdk.log` instead (the error the user sees names the server)."""
    global _sdk_log_routed
    if _sdk_log_routed:
        return
    _sdk_log_routed = True
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(
            log_dir / "sdk.log", encoding="utf-8", errors="replace", delay=True
        )
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    except OSError:
        handler = logging.NullHandler()
    logging.getLogger("mcp").addHandler(handler)


def _tool(server: str, tool: types.Tool) -> McpTool:
    hints = tool.annotations
    schema = tool.input_schema if isinstance(tool.input_schema, dict) else {}
    return McpTool(
        server=server,
        name=tool.name,
        description=tool.description or "",
        input_schema=dict(schema) or {"type": "object", "properties": {}},
        read_only=bool(hints and hints.read_only_hint),
        title=tool.title or (hints.title if hints else None),
    )


def call_result(result: types.CallToolResult) -> CallResult:
    return CallResult(
        content=[block.model_dump(mode="json", exclude_none=True) for block in result.content],
        structured=result.structured_content,
        is_error=result.is_error,
    )


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("bridle")
    except Exception:
        return "0"


def stdio_env(base: Mapping[str, str] | None) -> dict[str, str]:
    """The environment a stdio server starts from: the user's, PATH kept."""
    return dict(os.environ if base is None else base)
