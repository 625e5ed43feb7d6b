"""Bash: run a shell command for the model.

The command runs under `bash -c` in its own process group with stdin from
/dev/null and a scrubbed environment (names containing KEY, TOKEN, SECRET,
PASSWORD or CREDENTIAL are removed unless allowed in settings). stdout and stderr
are merged in order; the result is capped (full text saved, see `output`) and
reports a non-zero exit code. On timeout (default 2 minutes, max 10) or
cancellation the whole group is killed, grandchildren included. The working
directory persists between calls: the command runs via `eval` and a trailer
writes `pwd` to a side file, and the new directory is kept only while it stays
inside the project roots. With a sandbox in the context (`policy.sandbox`) the
command runs inside it unless it is in `excludedCommands` or the call sets
`dangerouslyDisableSandbox` (which the permission policy has already made ask);
what the sandbox blocked is named after the output so the model can ask for that
or change course. Runaway output is killed (see `_process`). The sandbox's rules
and the permission checks belong to `policy/`.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from bridle.core.errors import ToolError
from bridle.store.atomic import new_temp_file
from bridle.tools._process import child_env, run_group
from bridle.tools.base import Tool, ToolContext, ToolOutput
from bridle.tools.output import MAX_CHARS, cap_text, output_dir

DEFAULT_TIMEOUT_MS = 120_000
MAX_TIMEOUT_MS = 600_000

# `eval` keeps the trailer out of reach of the command's own syntax (an unclosed
# quote or heredoc cannot swallow it), and `export -n` hides the command text
# from the command's children.
SCRIPT = (
    "export -n __BRIDLE_CMD __BRIDLE_PWD\n"
    'eval "$__BRIDLE_CMD"\n'
    "__bridle_status=$?\n"
    'pwd -P >| "$__BRIDLE_PWD" 2>/dev/null\n'
    "exit $__bridle_status\n"
)


class Bash(Tool):
    name = "Bash"
    description = (
        "Run a bash command in the project; the working directory persists between "
        "calls. stdout+stderr are merged and long output is truncated. timeout in ms "
        "(default 120000, max 600000). Prefer Read/Grep/Glob/Edit over cat/grep/find/sed."
    )
    input_schema = {
        "type": "object",
        "properties": {
            "command": {"type": "string"},
            "timeout": {"type": "integer", "minimum": 1, "maximum": MAX_TIMEOUT_MS},
            "description": {"type": "string", "description": "5-10 words on what it does"},
            "dangerouslyDisableSandbox": {
                "type": "boolean",
                "description": "Run outside the OS sandbox (needs the user's approval); only "
                "after the sandbox blocked something the task really needs.",
            },
        },
        "required": ["command"],
        "additionalProperties": False,
    }

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        command: str = args["command"]
        if not command.strip():
            raise ToolError("command is empty.")
        timeout_ms = min(int(args.get("timeout") or DEFAULT_TIMEOUT_MS), MAX_TIMEOUT_MS)
        notes: list[str] = []
        cwd = ctx.shell_cwd or ctx.cwd
        if not cwd.is_dir():
            notes.append(f"[previous directory {cwd} is gone; ran in {ctx.cwd}]")
            cwd = ctx.shell_cwd = ctx.cwd
        sandbox = ctx.sandbox
        if args.get("dangerouslyDisableSandbox") and sandbox is not None:
            if not sandbox.config.allow_unsandboxed:
                raise ToolError("sandbox.allowUnsandboxedCommands is false; run it sandboxed.")
            sandbox = None
        if sandbox is not None and sandbox.excluded(command):
            sandbox = None
        spool_dir = output_dir(ctx)
        spool_dir.mkdir(parents=True, exist_ok=True)
        # The shell leaves its last working directory in this file.
        fd, pwd_name = new_temp_file(
            sandbox.tmp_dir if sandbox is not None else spool_dir, "bridle-pwd-", ""
        )
        os.close(fd)
        pwd_file = Path(pwd_name)
        env = child_env(ctx)
        env["__BRIDLE_CMD"] = command
        env["__BRIDLE_PWD"] = sandbox.inside(pwd_file) if sandbox is not None else pwd_name
        argv = ["bash", "-c", SCRIPT]
        launch = sandbox.wrap(argv, cwd=cwd, env=env) if sandbox is not None else None
        try:
            done = run_group(
                launch.argv if launch is not None else argv,
                cwd=cwd,
                env=launch.env if launch is not None else env,
                timeout=timeout_ms / 1000,
                cancel=ctx.cancel,
                spool_dir=spool_dir,
            )
        except OSError as e:
            pwd_file.unlink(missing_ok=True)
            raise ToolError(f"could not start bash: {e.strerror or e}") from e
        except BaseException:
            pwd_file.unlink(missing_ok=True)
            raise
        finally:
            blocked = launch.finish() if launch is not None else []
        try:
            new_cwd = pwd_file.read_text().strip()
        except OSError:
            new_cwd = ""
        finally:
            pwd_file.unlink(missing_ok=True)
        if new_cwd:
            notes.extend(follow_cwd(ctx, Path(new_cwd)))
        raw = done.output.rstrip("\n")
        text = cap_text(raw, ctx, label="bash", saved=done.spool)
        if len(raw) <= MAX_CHARS:
            # Not capped: the spool holds nothing the model has not seen.
            done.spool.unlink(missing_ok=True)
        is_error = False
        if done.timed_out:
            notes.append(
                f"[timed out after {timeout_ms} ms; the command and its children were killed]"
            )
            is_error = True
        elif done.cancelled:
            notes.append("[interrupted; the command and its children were killed]")
            is_error = True
        elif done.overflowed:
            notes.append(
                f"[output passed {done.size // (1024 * 1024)} MB; the command and its "
                "children were killed]"
            )
            is_error = True
        elif done.exit_code:
            notes.append(f"[exit code {done.exit_code}]")
        if launch is not None:
            notes.extend(launch.sandbox.explain(command, raw, blocked))
        body = "\n".join(s for s in [text or "(no output)", *notes] if s)
        return ToolOutput.text(body, is_error=is_error, metadata={"exit_code": done.exit_code})


def follow_cwd(ctx: ToolContext, new: Path) -> list[str]:
    """Keep `new` as the shell's cwd if it lies inside a project root, else go back
    to the project with a note (the built-in Bash and an editor's terminal alike)."""
    for root in ctx.roots:
        with contextlib.suppress(OSError):
            real_root = root.resolve()
            if new == real_root or real_root in new.parents:
                # Store the path under the root as the user spelled it.
                ctx.shell_cwd = root / new.relative_to(real_root)
                return []
    ctx.shell_cwd = ctx.cwd
    return [f"[cwd {new} is outside the project; the shell was reset to {ctx.cwd}]"]
