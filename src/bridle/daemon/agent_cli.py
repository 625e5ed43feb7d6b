"""A task phase run by another coding CLI (`claude`, `codex`, `gemini`, `copilot`[@account]).

A task's `agents` field names, per agent phase, either bridle's engine or another
CLI under an account. `parse` splits such a name; `check` (used when a task is
submitted) refuses an unknown CLI or account with the fix. `run_phase` runs the
CLI headless in the task's worktree under the account's isolated config, as the
Agent tool's external subagents do (`engine.agents_external`: the same argv and
permission mapping, plan for Lead/Review, acceptEdits for Implement), and streams
what it prints into the task's event log while it runs: each CLI's JSON event
stream (read by `engine.cli_stream`, shared with the Agent tool) becomes
`assistant_message` and `tool_finished` events like an engine phase's, then
`agent_result`; lines that are not its events become `agent_output` events. The final answer goes to the next phase. Cost is what the CLI reports
(Claude Code's `total_cost_usd`), else 0 with a note saying so. `PhaseProcess`
lets the worker's control thread stop the CLI (its whole process group).
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BRIDLE = "bridle"  # the engine itself
MAX_TEXT = 4000


class AgentError(Exception):
    """The CLI could not run (not installed, unknown account, not logged in)."""


@dataclass
class PhaseOutcome:
    """How a phase run by another CLI ended: its final answer (or the error), cost and turns."""

    answer: str
    cost_usd: float
    turns: int
    failed: bool


def parse(name: str) -> tuple[str, str | None]:
    """`claude@work` → ("claude", "work"); `codex` → ("codex", None)."""
    tool, _, account = name.strip().partition("@")
    return tool, (account or None)


def check(name: str, env: Mapping[str, str]) -> str | None:
    """None when `name` is bridle or a CLI (and account) that exists; else the fix."""
    from bridle.accounts.specs import TOOL_NAMES
    from bridle.accounts.store import NATIVE, AccountStore, validate_name
    from bridle.core.errors import UserError

    if name == BRIDLE:
        return None
    tool, account = parse(name)
    if tool not in TOOL_NAMES:
        return (
            f"{name!r} names no agent; use {BRIDLE!r} (the engine) or one of "
            f"{', '.join(TOOL_NAMES)}, optionally with @ACCOUNT (e.g. claude@work)"
        )
    if account is None or account == NATIVE:
        return None
    try:
        validate_name(account)  # before it becomes a path
    except UserError as e:
        return str(e)
    store = AccountStore.from_env(env)
    try:
        acct = store.load(account)
    except UserError as e:
        return f"{e} (`bridle accounts add {account} --provider {tool}` creates it)"
    if tool not in acct.providers:
        return (
            f"account {account!r} has no {tool} set up (it has {', '.join(acct.providers)}); "
            f"add it with `bridle accounts add-provider {account} {tool}`"
        )
    return None


class PhaseProcess:
    """The running CLI of one phase; `stop` ends it (from any thread)."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True
        proc = self.proc
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except OSError:
                pass


def _argv(tool: str, prompt: str, mode: str, conf: dict[str, Any]) -> list[str]:
    from bridle.engine.agents_external import cli_argv

    extra = [str(a) for a in conf.get("args") or []]
    model = conf.get("model")
    return cli_argv(tool, prompt, mode, extra, str(model) if model else None)


def run_phase(
    name: str, prompt: str, mode: str, tree: Path, env: dict[str, str],
    emit: Callable[..., Any], handle: PhaseProcess,
) -> PhaseOutcome:  # fmt: skip
    """Run the CLI `name` on `prompt` in `tree` with permission `mode`; events go to
    `emit(kind, **fields)`. AgentError when it cannot start."""
    from bridle.accounts.runner import Accounts, Request
    from bridle.accounts.specs import TOOLS
    from bridle.accounts.store import NATIVE
    from bridle.config.settings import load_settings
    from bridle.core.errors import UserError
    from bridle.engine.agents_external import logged_in

    tool, account = parse(name)
    spec = TOOLS[tool]
    acct = account or NATIVE
    conf = load_settings(tree, env).get(f"agents.external.{tool}")
    conf = conf if isinstance(conf, dict) else {}
    accounts = Accounts(env, tree)
    try:
        prep = accounts.prepare_launch(Request(account=acct, tool=tool, args=_argv(
            tool, prompt, mode, conf)))  # fmt: skip
    except UserError as e:
        raise AgentError(f"cannot run {spec.display} for this phase: {e}") from e
    try:
        if not logged_in(tool, prep, env):
            raise AgentError(
                f"{spec.display} under account {acct!r} is not logged in on this worker: run "
                f"`bridle launch {acct} {tool}` once and log in, or give its API key in the "
                "daemon's environment"
            )
        emit("agent_started", agent=name, cli=tool, account=acct, permission_mode=mode)
        outcome = _run(tool, prep.plan, float(conf.get("timeout") or 1800), emit, handle)
    finally:
        accounts.finish_launch(prep)
    return outcome


def _run(
    tool: str, plan: Any, timeout: float, emit: Callable[..., Any], handle: PhaseProcess
) -> PhaseOutcome:
    from bridle.engine.cli_stream import CliStream

    with tempfile.TemporaryFile("w+", errors="replace") as err:
        proc = subprocess.Popen(
            plan.argv, env=plan.env, cwd=plan.cwd, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=err, text=True, errors="replace",
            start_new_session=True,
        )  # fmt: skip
        handle.proc = proc
        if handle.stopped:  # stopped while it started
            handle.stop()
        timer = threading.Timer(timeout, handle.stop)
        timer.start()
        stream = CliStream(tool, emit)
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                stream.line(line)
            code = proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            handle.proc = None
        err.seek(0)
        stderr = err.read()
    answer, failed = stream.answer(), code != 0 or stream.is_error
    if code != 0:
        tail = (stderr or "\n".join([*stream.errors, *stream.lines])).strip()[-2000:]
        why = "was stopped" if handle.stopped else f"exited with code {code}"
        answer = f"{tool} {why}:\n{tail}"
    note = None if stream.cost is not None else f"{tool} reports no cost; counted as $0"
    emit(
        "agent_result", cli=tool, exit_code=code, is_error=failed, result=answer[:MAX_TEXT],
        cost_usd=stream.cost or 0.0, num_turns=stream.turns, **({"note": note} if note else {}),
    )  # fmt: skip
    return PhaseOutcome(answer, stream.cost or 0.0, stream.turns, failed)
