"""Run a CLI, a shell or one command under an account, end to end.

`prepare_launch` turns a request into a `LaunchPlan`: it loads the account, repairs
its links (idempotent), syncs Claude's MCP servers, finds the binary, and, when a
session is resumed by id, moves to that session's directory (or explains that the
directory is gone and stays where it is). `run_plan` runs the child, forwarding
SIGINT, SIGTERM, SIGHUP and SIGWINCH to it, and returns its exit code (128+N when a
signal ended it). `finish_launch` records the session the child wrote (moving
aside the empty files Gemini CLI leaves when it resumes, which would make its own
cleanup delete the session), carries shared files it rewrote or created into the
shared store, and syncs MCP servers back. `open_portal` runs the plan inside tmux. This is the only module of
`accounts/` that starts processes; it prints nothing (notices are returned).
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType

from bridle.accounts import sessions
from bridle.accounts.files import set_aside
from bridle.accounts.keys import load_oauth_token
from bridle.accounts.launch import LaunchPlan, account_env, command_line, portal_argv, portal_name
from bridle.accounts.layout import (
    AccountPaths,
    SharedFileState,
    account_paths,
    adopt_replaced_files,
    setup_account,
    setup_tool,
    shared_file_states,
)
from bridle.accounts.mcp_sync import SyncResult, sync_claude_mcp_all
from bridle.accounts.specs import TOOL_NAMES, TOOLS, CliSpec, find_binary, tool
from bridle.accounts.store import NATIVE, Account, AccountStore
from bridle.core.errors import UsageError, UserError

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGWINCH)


@dataclass
class Request:
    """A launch as the user asked for it: which account and CLI, yolo, and what to resume."""

    account: str
    tool: str | None = None
    yolo: bool = False
    resume_id: str | None = None
    resume_latest: bool = False
    args: list[str] = field(default_factory=list)


@dataclass
class Prepared:
    """A launch ready to run, with what `finish_launch` needs afterwards: the start time and
    the state of the shared files before the child ran."""

    plan: LaunchPlan
    spec: CliSpec
    account: Account | None
    paths: AccountPaths
    started: float
    shared_before: dict[str, SharedFileState] = field(default_factory=dict)


class Accounts:
    """Everything the launch path needs, passed in: base env, cwd, store, clock."""

    def __init__(
        self,
        env: Mapping[str, str],
        cwd: Path,
        *,
        now: Callable[[], datetime] = datetime.now,
    ):
        self.env = dict(env)
        self.cwd = cwd
        self.store = AccountStore.from_env(env)
        self.now = now

    @property
    def record_file(self) -> Path:
        return self.store.root.parent / "last-sessions.json"

    def paths(self, name: str) -> AccountPaths:
        return account_paths(self.store.dir(name), self.env)

    def open(self, name: str) -> tuple[Account | None, AccountPaths]:
        if name == NATIVE:
            return None, self.paths(NATIVE)
        account = self.store.load(name)
        paths = self.paths(name)
        setup_account(paths, account, now=self.now())
        return account, paths

    def sync_mcp(self, name: str) -> SyncResult | None:
        account = self.store.load(name)
        if "claude" not in account.providers:
            return None
        return self.sync_mcp_all([name])[name]

    def sync_mcp_all(self, names: list[str]) -> dict[str, SyncResult]:
        """Sync Claude's MCP servers of the primary and every named account in one
        pass (all end equal); an account without claude is refused before any write."""
        sides: list[tuple[str, Path, Path]] = []
        for name in dict.fromkeys(names):
            if "claude" not in self.store.load(name).providers:
                raise UsageError(f"account {name!r} has no claude; nothing to sync.")
            state = self.store.dir(name) / "mcp-sync.json"
            sides.append((name, self.paths(name).claude_json, state))
        if not sides:
            return {}
        return sync_claude_mcp_all(self.paths(sides[0][0]).primary_claude_json, sides)

    def pick_tool(self, account: Account | None, requested: str | None) -> CliSpec:
        if account is None:
            if requested:
                return tool(requested)
            for name in TOOL_NAMES:
                if find_binary(TOOLS[name], self.env):
                    return TOOLS[name]
            return TOOLS["claude"]
        if requested is None:
            return TOOLS[account.default_provider]
        spec = tool(requested)
        if spec.name not in account.providers:
            raise UsageError(
                f"account {account.name!r} has no {spec.name} set up (it has "
                f"{', '.join(account.providers)}); add it with "
                f"`bridle accounts add-provider {account.name} {spec.name}`."
            )
        return spec

    def env_for(self, account: Account | None, paths: AccountPaths) -> dict[str, str]:
        token = load_oauth_token(paths.root) if account is not None else None
        return account_env(
            self.env, account=account, paths=paths if account else None,
            accounts_root=self.store.root, oauth_token=token,
        )  # fmt: skip

    def prepare_launch(self, req: Request) -> Prepared:
        account, paths = self.open(req.account)
        spec = self.pick_tool(account, req.tool)
        notices: list[str] = []
        if account is not None and spec.name == "claude":
            result = self.sync_mcp(account.name)
            if result is not None and result.changed:
                from bridle.accounts.mcp_sync import describe

                notices.append(f"MCP servers synced: {describe(result)}")
        binary = find_binary(spec, self.env)
        if binary is None:
            raise UserError(
                f"{spec.display} (`{spec.binary}`) is not on PATH: install it, or point "
                "BRIDLE_CLI_PATH at the directory that holds it."
            )
        cwd = self.cwd
        if req.resume_id:
            tool_dir = paths.tool_dir(spec) if account else paths.primary_dir(spec)
            found = sessions.find_session(spec, tool_dir, req.resume_id)
            if found is not None and found.cwd:
                if sessions.cwd_exists(found.cwd):
                    if Path(found.cwd) != cwd:
                        notices.append(f"resuming in the session's directory {found.cwd}")
                        cwd = Path(found.cwd)
                else:
                    notices.append(
                        f"the session's directory {found.cwd} no longer exists; "
                        f"resuming from {cwd} instead"
                    )
        argv = command_line(
            spec, binary, yolo=req.yolo, resume_id=req.resume_id,
            resume_latest=req.resume_latest, args=req.args,
        )  # fmt: skip
        plan = LaunchPlan(argv, self.env_for(account, paths), str(cwd), notices)
        before = shared_file_states(paths, spec) if account is not None else {}
        return Prepared(plan, spec, account, paths, time.time(), before)

    def prepare_command(self, name: str, argv: list[str]) -> LaunchPlan:
        return self.prepare_commands(name, argv)[0].plan

    def prepare_commands(self, name: str, argv: list[str]) -> list[Prepared]:
        """A shell or one command in `name`'s context. Any of the account's CLIs may
        run inside it, so there is one `Prepared` per CLI for `finish_command`; the
        first carries the plan to run."""
        account, paths = self.open(name)
        plan = LaunchPlan(argv, self.env_for(account, paths), str(self.cwd))
        specs = [TOOLS[p] for p in account.providers] if account is not None else []
        started = time.time()
        preps = [
            Prepared(plan, spec, account, paths, started, shared_file_states(paths, spec))
            for spec in specs
        ]
        return preps or [Prepared(plan, TOOLS["claude"], account, paths, started, {})]

    def finish_command(self, preps: list[Prepared]) -> list[str]:
        """What `finish_launch` does, for every CLI the shell or command could have run."""
        notices: list[str] = []
        for prep in preps:
            notices += self.finish_launch(prep)
        return notices

    def finish_launch(self, prep: Prepared) -> list[str]:
        """Record the session the child wrote, carry shared files it rewrote or
        created back into the shared store, and sync its MCP changes back."""
        notices: list[str] = []
        if prep.account is not None:
            changes = adopt_replaced_files(prep.paths, prep.spec, prep.shared_before)
            changes += setup_tool(prep.paths, prep.spec, now=self.now())
            notices += [
                f"kept a conflicting copy at {c.path} ({c.detail}); merge it by hand"
                for c in changes
                if c.kind == "quarantined"
            ]
        name = prep.account.name if prep.account else NATIVE
        if prep.account is not None:
            tool_dir = prep.paths.tool_dir(prep.spec)
        else:
            tool_dir = prep.paths.primary_dir(prep.spec)
        ref = sessions.latest_session(prep.spec, tool_dir, prep.started - 2.0)
        if ref is not None and prep.spec.name == "gemini":
            stubs = sessions.gemini_resume_stubs(Path(ref.path).parent, ref.id)
            for stub in stubs:  # else Gemini's cleanup deletes the session with them
                set_aside(stub, self.store.root.parent / "backups" / "gemini-stubs")
            if stubs:
                ref = sessions.latest_session(prep.spec, tool_dir, prep.started - 2.0)
        if ref is not None:
            ended = self.now().isoformat(timespec="seconds")
            sessions.record_last_session(self.record_file, name, ref, ended)
        if prep.account is not None:
            self.store.touch(prep.account.name, prep.spec.name)
            if prep.spec.name == "claude":
                self.sync_mcp(prep.account.name)
        return notices


class CommandNotRun(UserError):
    """The child could not be started; exits as a shell would (127 not found, 126
    found but not executable), with the shell's wording after `bridle: `."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code

    @classmethod
    def explain(cls, plan: LaunchPlan, e: OSError) -> CommandNotRun:
        command = plan.argv[0]
        if e.errno == errno.ENOENT and not Path(plan.cwd).is_dir():
            return cls(f"the working directory {plan.cwd} does not exist; cd elsewhere", 1)
        if e.errno == errno.ENOENT:
            if "/" in command:
                return cls(f"{command}: No such file or directory", 127)
            return cls(f"{command}: command not found", 127)
        if e.errno == errno.EACCES and Path(command).is_dir():
            return cls(f"{command}: Is a directory", 126)
        if e.errno == errno.ENOEXEC:
            return cls(f"{command}: cannot execute binary file: Exec format error", 126)
        return cls(f"{command}: {e.strerror or e}", 126)


def _exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def _tty_delivers(signum: int) -> bool:
    """A signal the terminal already sent to the child (same foreground group)."""
    if signum not in (signal.SIGINT, signal.SIGWINCH):
        return False
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, ValueError):
        return False


def run_plan(plan: LaunchPlan) -> int:
    """Run `plan` in the foreground, forwarding signals; return the exit code."""
    try:
        proc = subprocess.Popen(plan.argv, env=plan.env, cwd=plan.cwd)
    except OSError as e:
        raise CommandNotRun.explain(plan, e) from e

    def forward(signum: int, _frame: FrameType | None) -> None:
        if _tty_delivers(signum):
            return
        try:
            proc.send_signal(signum)
        except ProcessLookupError:
            pass

    previous = {s: signal.signal(s, forward) for s in FORWARDED}
    try:
        return _exit_code(proc.wait())
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def tmux_session_exists(tmux: str, name: str, env: Mapping[str, str]) -> bool:
    result = subprocess.run(
        [tmux, "has-session", "-t", f"={name}"], env=dict(env), capture_output=True
    )
    return result.returncode == 0


def open_portal(plan: LaunchPlan, project: str, account: str, tool_name: str) -> tuple[int, str]:
    """Run `plan` inside tmux; returns (exit code, note). Falls back to a direct run."""
    tmux = shutil.which("tmux", path=plan.env.get("PATH"))
    if tmux is None:
        return run_plan(plan), "tmux is not installed, so the portal is off: launched directly"
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return run_plan(plan), "not on a terminal, so the portal is off: launched directly"
    name = portal_name(project, account, tool_name)
    exists = tmux_session_exists(tmux, name, plan.env)
    inside = bool(plan.env.get("TMUX"))
    code = 0
    for argv in portal_argv(plan, name, tmux=tmux, session_exists=exists, inside_tmux=inside):
        code = subprocess.run(argv, env=plan.env).returncode
        if code != 0:
            break
    return code, f"tmux session {name}" + (" (reattached)" if exists else "")


def rename_tmux_sessions(old: str, new: str, env: Mapping[str, str]) -> list[str]:
    """Rename live portal sessions `<project>/<old>/<tool>` to use the new name."""
    tmux = shutil.which("tmux", path=env.get("PATH"))
    if tmux is None:
        return []
    listed = subprocess.run(
        [tmux, "list-sessions", "-F", "#{session_name}"], env=dict(env),
        capture_output=True, text=True,
    )  # fmt: skip
    if listed.returncode != 0:
        return []
    renamed = []
    for session in listed.stdout.splitlines():
        parts = session.split("/")
        if len(parts) == 3 and parts[1] == old:
            target = "/".join([parts[0], new, parts[2]])
            done = subprocess.run(
                [tmux, "rename-session", "-t", f"={session}", target],
                env=dict(env), capture_output=True,
            )  # fmt: skip
            if done.returncode == 0:
                renamed.append(target)
    return renamed
