"""An ACP client for the tests, built on the official SDK's client side.

`EditorClient` records every `session/update`, answers permission asks from a
script (option ids in order, or "cancel" to cancel the turn instead), and, when made with `editor=True`, acts as an
editor does: `fs/read_text_file` and `fs/write_text_file` use its buffers (a
write is saved to disk, as Zed saves, unless made with `save=False`), and
`terminal/*` runs commands as real processes. `on_ask` lets a test act while
the user is asked (edit a buffer, say). `agent(...)` spawns `python -m bridle acp` against the mock model and
yields the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from acp import PROTOCOL_VERSION, RequestError, spawn_agent_process
from acp import schema as s


class Terminal:
    def __init__(self, proc: asyncio.subprocess.Process):
        self.proc = proc
        self.output = b""
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while chunk := await self.proc.stdout.read(4096):
            self.output += chunk


class EditorClient:
    def __init__(
        self, answers: list[str] | None = None, *, editor: bool = False, save: bool = True
    ):
        self.answers = list(answers or [])
        self.editor = editor
        self.save = save  # whether a write is saved to disk (else it stays in the buffer)
        self.refuse: set[str] = set()  # paths whose writes fail
        self.cwds: list[str | None] = []  # each terminal's working directory
        # Called with each permission ask before it is answered (the user edits meanwhile).
        self.on_ask: Callable[[s.ToolCallUpdate], None] | None = None
        self.updates: list[Any] = []
        self.asks: list[s.ToolCallUpdate] = []
        self.buffers: dict[str, str] = {}
        self.reads: list[str] = []
        self.writes: list[tuple[str, str]] = []
        self.commands: list[list[str]] = []
        self.terminals: dict[str, Terminal] = {}
        # Called with each update as it arrives (a test cancels from here).
        self.on_update: Callable[[Any], Awaitable[None] | None] | None = None
        self.conn: Any = None  # the connection to the agent, set by `agent`

    def capabilities(self) -> s.ClientCapabilities:
        fs = s.FileSystemCapabilities(read_text_file=self.editor, write_text_file=self.editor)
        return s.ClientCapabilities(fs=fs, terminal=self.editor)

    # ------------------------------------------------------------ protocol
    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.updates.append(update)
        if self.on_update is not None:
            done = self.on_update(update)
            if done is not None:
                await done

    async def request_permission(
        self, session_id: str, tool_call: s.ToolCallUpdate, options: list[Any], **kwargs: Any
    ) -> s.RequestPermissionResponse:
        self.asks.append(tool_call)
        if self.on_ask is not None:
            self.on_ask(tool_call)
        assert [o.option_id for o in options] == ["allow_once", "allow_always", "reject_once"]
        choice = self.answers.pop(0) if self.answers else "reject_once"
        if choice == "cancel":  # the user cancels the turn while asked (as ACP says)
            await self.conn.cancel(session_id=session_id)
            return s.RequestPermissionResponse(outcome=s.DeniedOutcome(outcome="cancelled"))
        return s.RequestPermissionResponse(
            outcome=s.AllowedOutcome(outcome="selected", option_id=choice)
        )

    async def read_text_file(
        self, session_id: str, path: str, line: int | None = None, limit: int | None = None,
        **kwargs: Any,
    ) -> s.ReadTextFileResponse:  # fmt: skip
        self.reads.append(path)
        text = self.buffers.get(path)
        if text is None:
            text = Path(path).read_text()
        return s.ReadTextFileResponse(content=text)

    async def write_text_file(
        self, session_id: str, path: str, content: str, **kwargs: Any
    ) -> s.WriteTextFileResponse:
        if path in self.refuse:
            raise RequestError.internal_error({"message": f"{path} is read-only here"})
        self.writes.append((path, content))
        self.buffers[path] = content
        if self.save:
            Path(path).write_text(content)
        return s.WriteTextFileResponse()

    async def create_terminal(
        self, session_id: str, command: str, args: list[str] | None = None,
        env: list[Any] | None = None, cwd: str | None = None,
        output_byte_limit: int | None = None, **kwargs: Any,
    ) -> s.CreateTerminalResponse:  # fmt: skip
        argv = [command, *(args or [])]
        self.commands.append(argv)
        self.cwds.append(cwd)
        proc = await asyncio.create_subprocess_exec(
            *argv, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        tid = f"term-{len(self.terminals) + 1}"
        self.terminals[tid] = Terminal(proc)
        return s.CreateTerminalResponse(terminal_id=tid)

    async def terminal_output(
        self, session_id: str, terminal_id: str, **kwargs: Any
    ) -> s.TerminalOutputResponse:
        term = self.terminals[terminal_id]
        code = term.proc.returncode
        status = None if code is None else s.TerminalExitStatus(exit_code=max(code, 0))
        return s.TerminalOutputResponse(
            output=term.output.decode("utf-8", "replace"), truncated=False, exit_status=status
        )

    async def wait_for_terminal_exit(
        self, session_id: str, terminal_id: str, **kwargs: Any
    ) -> s.WaitForTerminalExitResponse:
        term = self.terminals[terminal_id]
        code = await term.proc.wait()
        await term.reader
        if code < 0:
            return s.WaitForTerminalExitResponse(signal=f"signal {-code}")
        return s.WaitForTerminalExitResponse(exit_code=code)

    async def kill_terminal(self, session_id: str, terminal_id: str, **kwargs: Any) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.terminals[terminal_id].proc.pid, 9)

    async def release_terminal(self, session_id: str, terminal_id: str, **kwargs: Any) -> None:
        term = self.terminals[terminal_id]
        if term.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(term.proc.pid, 9)

    # ------------------------------------------------------------- reading
    def of(self, kind: str) -> list[Any]:
        return [u for u in self.updates if u.session_update == kind]

    def text(self, kind: str = "agent_message_chunk") -> str:
        return "".join(u.content.text for u in self.of(kind) if hasattr(u.content, "text"))


def agent_env(home: Path, scenario: Path | None = None, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HOME=str(home), BRIDLE_HOME=str(home / ".bridle"), **extra)
    if scenario is not None:
        env["BRIDLE_MOCK_SCENARIO"] = str(scenario)
    return env


@contextlib.asynccontextmanager
async def agent(
    client: EditorClient, env: dict[str, str], *args: str
) -> AsyncIterator[tuple[Any, asyncio.subprocess.Process]]:
    """`python -m bridle acp ARGS`, initialized; yields (connection, process)."""
    async with spawn_agent_process(
        client, sys.executable, "-m", "bridle", "acp", *args, env=env
    ) as (conn, proc):
        client.conn = conn
        init = await conn.initialize(
            protocol_version=PROTOCOL_VERSION, client_capabilities=client.capabilities()
        )
        assert init.protocol_version == PROTOCOL_VERSION
        yield conn, proc
