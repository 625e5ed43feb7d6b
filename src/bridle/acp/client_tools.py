"""Bash in the editor's terminals, and the editor tools a client's capabilities allow.

An editor that announces `terminal` shows the commands it runs. For such a
client the session's Bash runs each command in a `terminal/create` terminal
(`bash -c`), shown in the tool call, and killed on timeout or interrupt. The
working directory persists between calls as it does for the built-in Bash: the
command runs through `eval` and a trailer writes `pwd` to a side file, and the
new directory is kept while it stays inside the project roots (a `cd` out of
them resets the shell to the project, with a note). `editor_tools` returns
these and the buffer-backed file tools (`acp.editor_files`) with the built-in
names and schemas; the agent swaps them into the dispatcher's tool table, so
permissions, hooks and the loop are unchanged.
"""

from __future__ import annotations

import concurrent.futures
import os
import shlex
import tempfile
import time
from pathlib import Path
from typing import Any

from bridle.acp.editor_files import (
    EditorApplyPatch,
    EditorEdit,
    EditorMultiEdit,
    EditorRead,
    EditorWrite,
)
from bridle.acp.link import EditorLink, client_error
from bridle.core.errors import ToolError
from bridle.tools.base import Tool, ToolContext, ToolOutput
from bridle.tools.bash import DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS, follow_cwd
from bridle.tools.bash import Bash as DiskBash

OUTPUT_LIMIT = 200_000  # bytes of a command's output the terminal keeps
# `bash -c SCRIPT bash COMMAND`: `eval` keeps the trailer out of reach of the
# command's own syntax (an unclosed quote cannot swallow it); `set --` gives the
# command the empty arguments a plain `bash -c` has.
SCRIPT = (
    "__bridle_cmd=$1; set --\n"
    'eval "$__bridle_cmd"\n'
    "__bridle_status=$?\n"
    "pwd -P >| {pwd} 2>/dev/null\n"
    "exit $__bridle_status\n"
)


class TerminalBash(DiskBash):
    """Bash in the editor's terminal: the command under `bash -c` in the shell's
    directory, polled so an interrupt or the timeout kills it."""

    def __init__(self, link: EditorLink):
        self.link = link

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        from acp.helpers import tool_terminal_ref, update_tool_call

        command: str = args["command"]
        if not command.strip():
            raise ToolError("command is empty.")
        timeout_ms = min(int(args.get("timeout") or DEFAULT_TIMEOUT_MS), MAX_TIMEOUT_MS)
        link, conn = self.link, self.link.conn
        notes: list[str] = []
        cwd = ctx.shell_cwd or ctx.cwd
        if not cwd.is_dir():
            notes.append(f"[previous directory {cwd} is gone; ran in {ctx.cwd}]")
            cwd = ctx.shell_cwd = ctx.cwd
        fd, pwd_name = tempfile.mkstemp(prefix="bridle-pwd-")
        pwd_file = Path(pwd_name)
        os.close(fd)
        script = SCRIPT.format(pwd=shlex.quote(pwd_name))
        try:
            try:
                made = link.call(conn.create_terminal, command="bash",
                                 args=["-c", script, "bash", command], cwd=str(cwd),
                                 output_byte_limit=OUTPUT_LIMIT)  # fmt: skip
            except Exception as e:
                raise client_error(e, "start a terminal") from e
            tid = made.terminal_id
            try:
                if link.current_call:
                    update = update_tool_call(link.current_call, content=[tool_terminal_ref(tid)])
                    link.submit(conn.session_update(session_id=link.session_id, update=update))
                note = self._wait(tid, timeout_ms, ctx)
                out = link.call(conn.terminal_output, terminal_id=tid)
            finally:
                link.submit(conn.release_terminal(session_id=link.session_id, terminal_id=tid))
            new_cwd = pwd_file.read_text().strip()
        finally:
            pwd_file.unlink(missing_ok=True)
        if new_cwd:
            notes.extend(follow_cwd(ctx, Path(new_cwd)))
        text = out.output.rstrip("\n")
        if out.truncated:
            notes.append("[output truncated by the terminal]")
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
    """The replacements the client's capabilities allow (the edit tools need both
    fs calls)."""
    tools: list[Tool] = []
    if read:
        tools.append(EditorRead(link))
    if write:
        tools.append(EditorWrite(link))
    if read and write:
        tools += [EditorEdit(link), EditorMultiEdit(link), EditorApplyPatch(link)]
    if terminal:
        tools.append(TerminalBash(link))
    return tools
