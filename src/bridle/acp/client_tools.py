"""Read, Write, Edit and Bash through the editor, when the ACP client offers it.

An editor that announces `fs.readTextFile`/`fs.writeTextFile` holds buffers the
disk does not see yet (unsaved edits); one that announces `terminal` shows the
commands it runs. For such a client, `editor_tools` returns replacements for the
session's Read, Write, Edit and Bash with the same names, schemas and rules
(read before write, exact unique match, the same result texts), whose file text
comes from and goes to `fs/read_text_file` and `fs/write_text_file`, and whose
commands run in a `terminal/create` terminal, killed on timeout or interrupt and
shown in the tool call. The agent swaps them into the dispatcher's tool table,
so permissions, hooks and the loop are unchanged. Images and directories are
still read from disk; MultiEdit and ApplyPatch still write the disk.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from bridle.core.errors import ToolError
from bridle.tools.base import Tool, ToolContext, ToolOutput
from bridle.tools.bash import DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS
from bridle.tools.bash import Bash as DiskBash
from bridle.tools.edit import Edit as DiskEdit
from bridle.tools.edit import apply_edit, edited_snippet
from bridle.tools.files import numbered, record_read
from bridle.tools.read import DEFAULT_LIMIT, IMAGE_TYPES, MAX_LINE
from bridle.tools.read import Read as DiskRead
from bridle.tools.write import Write as DiskWrite

OUTPUT_LIMIT = 200_000  # bytes of a command's output the terminal keeps


class EditorLink:
    """Calls into the client from the engine's worker thread: each call is a
    coroutine run on the connection's event loop, waited for here."""

    def __init__(self, conn: Any, loop: asyncio.AbstractEventLoop, session_id: str):
        self.conn = conn
        self.loop = loop
        self.session_id = session_id
        # The non-concurrent call running now (set by the agent on ToolStarted), so
        # a terminal can be attached to it.
        self.current_call: str | None = None

    def submit(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, make: Callable[..., Coroutine[Any, Any, Any]], **kw: Any) -> Any:
        return self.submit(make(session_id=self.session_id, **kw)).result()


def _client_error(e: Exception, what: str) -> ToolError:
    from acp import RequestError

    if isinstance(e, RequestError):
        return ToolError(f"the editor could not {what}: {e}")
    return ToolError(f"the editor could not {what}: {type(e).__name__}: {e}")


class EditorRead(DiskRead):
    def __init__(self, link: EditorLink):
        self.link = link

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        path = ctx.resolve(args["file_path"])
        if path.suffix.lower() in IMAGE_TYPES or path.is_dir():
            return super().run(args, ctx)
        shown = ctx.display(path)
        try:
            text = self.link.call(self.link.conn.read_text_file, path=str(path))
        except Exception as e:
            if not path.exists():
                return super().run(args, ctx)  # the disk tool's "did you mean"
            raise _client_error(e, f"read {shown}") from e
        record_read(ctx, path)
        return ToolOutput.text(
            _render(text.content, args.get("offset") or 1, args.get("limit"), shown)
        )


def _render(text: str, offset: int, limit: int | None, shown: str) -> str:
    """`cat -n` lines as the disk Read shows them."""
    if not text:
        return f"({shown} is empty)"
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if offset > len(lines):
        raise ToolError(f"offset {offset} is past the end: {shown} has {len(lines)} lines.")
    end = min(len(lines), offset - 1 + (limit or DEFAULT_LIMIT))
    picked = [
        ln if len(ln) <= MAX_LINE else ln[:MAX_LINE] + f"… [line cut at {MAX_LINE} chars]"
        for ln in (line.removesuffix("\r") for line in lines[offset - 1 : end])
    ]
    body = numbered(picked, offset)
    if end < len(lines):
        body += (
            f"\n[showing lines {offset}-{end} of {len(lines)}; use offset={end + 1} to read more]"
        )
    return body


def _write(link: EditorLink, ctx: ToolContext, path: Path, content: str) -> None:
    try:
        link.call(link.conn.write_text_file, path=str(path), content=content)
    except Exception as e:
        raise _client_error(e, f"write {ctx.display(path)}") from e
    record_read(ctx, path)


def _require_read(ctx: ToolContext, path: Path, shown: str) -> None:
    # The editor's buffer is the truth, so only "was it read" is checked here;
    # Edit's exact-match rule catches a buffer that changed since.
    if str(path) not in ctx.read_files:
        raise ToolError(f"{shown} has not been read in this session. Read it first, then retry.")


class EditorWrite(DiskWrite):
    def __init__(self, link: EditorLink):
        self.link = link

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        path = ctx.resolve(args["file_path"])
        shown = ctx.display(path)
        content: str = args["content"]
        if path.is_dir():
            raise ToolError(f"{shown} is a directory; give a file path.")
        existed = path.exists()
        if existed:
            _require_read(ctx, path, shown)
        _write(self.link, ctx, path, content)
        lines = content.count("\n") + (0 if content.endswith("\n") or not content else 1)
        verb = "Overwrote" if existed else "Created"
        return ToolOutput.text(f"{verb} {shown} ({lines} lines).", changed_files=[str(path)])


class EditorEdit(DiskEdit):
    def __init__(self, link: EditorLink):
        self.link = link

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        path = ctx.resolve(args["file_path"])
        shown = ctx.display(path)
        old, new = args["old_string"], args["new_string"]
        if path.exists():
            _require_read(ctx, path, shown)
            try:
                text = self.link.call(self.link.conn.read_text_file, path=str(path)).content
            except Exception as e:
                raise _client_error(e, f"read {shown}") from e
        elif old == "":
            text = ""
        else:
            raise ToolError(f"{shown} does not exist. Use Write to create a file.")
        replace_all = bool(args.get("replace_all", False))
        n = text.count(old) if old else 1
        edited, first, last = apply_edit(text, old, new, replace_all, shown)
        _write(self.link, ctx, path, edited)
        what = f"Replaced {n} occurrences in" if replace_all and n > 1 else "Edited"
        summary = f"{what} {shown}:\n{edited_snippet(edited, first, last)}"
        return ToolOutput.text(summary, changed_files=[str(path)])


class TerminalBash(DiskBash):
    """Bash in the editor's terminal: `bash -c COMMAND` in the shell's directory,
    polled so an interrupt or the timeout kills it."""

    def __init__(self, link: EditorLink):
        self.link = link

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        from acp.helpers import tool_terminal_ref, update_tool_call

        command: str = args["command"]
        if not command.strip():
            raise ToolError("command is empty.")
        timeout_ms = min(int(args.get("timeout") or DEFAULT_TIMEOUT_MS), MAX_TIMEOUT_MS)
        link, conn = self.link, self.link.conn
        cwd = ctx.shell_cwd if ctx.shell_cwd and ctx.shell_cwd.is_dir() else ctx.cwd
        try:
            made = link.call(conn.create_terminal, command="bash", args=["-c", command],
                             cwd=str(cwd), output_byte_limit=OUTPUT_LIMIT)  # fmt: skip
        except Exception as e:
            raise _client_error(e, "start a terminal") from e
        tid = made.terminal_id
        try:
            if link.current_call:
                update = update_tool_call(link.current_call, content=[tool_terminal_ref(tid)])
                link.submit(conn.session_update(session_id=link.session_id, update=update))
            note = self._wait(tid, timeout_ms, ctx)
            out = link.call(conn.terminal_output, terminal_id=tid)
        finally:
            link.submit(conn.release_terminal(session_id=link.session_id, terminal_id=tid))
        text = out.output.rstrip("\n")
        notes = ["[output truncated by the terminal]"] if out.truncated else []
        status = out.exit_status
        code = status.exit_code if status is not None else None
        if note:
            notes.append(note)
        elif code:
            notes.append(f"[exit code {code}]")
        elif status is not None and status.signal:
            notes.append(f"[killed by signal {status.signal}]")
        body = "\n".join(x for x in [text or "(no output)", *notes] if x)
        return ToolOutput.text(body, is_error=bool(note), metadata={"exit_code": code})

    def _wait(self, tid: str, timeout_ms: int, ctx: ToolContext) -> str:
        """Wait for the command; kill it on timeout or interrupt and say which."""
        link = self.link
        done = link.submit(link.conn.wait_for_terminal_exit(session_id=link.session_id,
                                                            terminal_id=tid))  # fmt: skip
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            try:
                done.result(timeout=0.1)
                return ""
            except concurrent.futures.TimeoutError:
                pass
            why = ""
            if ctx.cancel is not None and ctx.cancel.is_set():
                why = "[interrupted; the command was killed]"
            elif time.monotonic() > deadline:
                why = f"[timed out after {timeout_ms} ms; the command was killed]"
            if why:
                link.call(link.conn.kill_terminal, terminal_id=tid)
                try:
                    done.result(timeout=5)
                except (concurrent.futures.TimeoutError, Exception):
                    done.cancel()
                return why


def editor_tools(link: EditorLink, *, read: bool, write: bool, terminal: bool) -> list[Tool]:
    """The replacements the client's capabilities allow (Edit needs both fs calls)."""
    tools: list[Tool] = []
    if read:
        tools.append(EditorRead(link))
    if write:
        tools.append(EditorWrite(link))
    if read and write:
        tools.append(EditorEdit(link))
    if terminal:
        tools.append(TerminalBash(link))
    return tools
