"""How to continue a past session: in its own tool, account and directory.

`plan_resume` is a pure function from an indexed session (and the accounts that
can see its files) to a `ResumePlan`: the argv in the tool's own resume syntax
(`claude --resume ID`, `codex resume ID`, `gemini --resume ID`,
`copilot --resume=ID`, `bridle --resume ID`), the directory to start in, the
environment that selects the account's config dir, the inherited variables to
drop, and a notice when the session's directory is gone. Resuming under the
user's own setup from inside an account's context (a `bridle shell`) drops the
account's config-dir variable and HOME, so the session opens where it was made. `exec_plan` is the one
impure step, run by the CLI at the very end: `os.execvpe` replaces the process.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bridle.core.errors import UsageError
from bridle.history.roots import PRIMARY

if TYPE_CHECKING:
    from bridle.history.search import SessionRow


@dataclass(frozen=True)
class ResumePlan:
    """How to continue one session: the command, where and under which account to run it, and
    the variables to set and drop."""

    argv: list[str]
    cwd: str | None
    account: str
    env: dict[str, str] = field(default_factory=dict)
    unset: tuple[str, ...] = ()
    notice: str | None = None


def plan_resume(
    tool: str,
    session_id: str,
    cwd: str | None,
    access: Mapping[str, str],
    *,
    account: str | None = None,
    is_dir: Callable[[str], bool] = os.path.isdir,
    home: str | None = None,
) -> ResumePlan:
    """`access` maps each account that can see the session to its config dir;
    `home` is the user's real HOME, to undo an account context for the primary one."""
    if account is not None and account not in access:
        can = ", ".join(a or "default" for a in sorted(access)) or "none"
        raise UsageError(
            f"account {account!r} cannot see this {tool} session (accounts that can: {can}); "
            f"pass one of those with --account."
        )
    if account is None:
        account = PRIMARY if PRIMARY in access or not access else sorted(access)[0]
    env: dict[str, str] = {}
    unset: tuple[str, ...] = ()
    if tool == "bridle":
        argv = ["bridle", "--resume", session_id]
        if account:
            argv += ["--account", account]
    else:
        from bridle.accounts.specs import ALL_CHILD_VARS, TOOLS

        spec = TOOLS[tool]
        argv = [spec.binary, *spec.resume_args(session_id)]
        unset = ALL_CHILD_VARS
        if account != PRIMARY and account in access:
            config_dir = Path(access[account])
            env[spec.config_env] = str(config_dir.parent if spec.config_env_is_home else config_dir)
        elif home is not None and account in access:
            # The user's own setup: their config dir, whatever an account shell exported.
            config_dir = Path(access[account])
            env["HOME"] = home
            if config_dir == Path(home) / spec.dot_dir:
                unset = (*unset, spec.config_env)
            else:
                env[spec.config_env] = str(
                    config_dir.parent if spec.config_env_is_home else config_dir
                )
    notice = None
    start = cwd
    if cwd and not is_dir(cwd):
        notice = (
            f"the session's directory {cwd} no longer exists; starting in the current directory"
        )
        if tool in ("claude", "gemini"):
            notice += f" ({tool} keeps sessions per directory, so it may not find this one)"
        start = None
    return ResumePlan(argv, start, account, env, unset, notice)


def plan_for_session(
    db: sqlite3.Connection,
    session: SessionRow,
    account: str | None = None,
    env: Mapping[str, str] | None = None,
) -> ResumePlan:
    """The plan for an indexed session, with the accounts that can see its files.
    With `env`, resuming under the user's own setup also undoes an account context."""
    from bridle.history.roots import real_home
    from bridle.history.search import session_files

    access: dict[str, str] = {}
    for _, _, acc in session_files(db, session.key):
        access.update(acc)
    if session.tool == "bridle":
        access.update({a: "" for a in session.accounts})
    home = None if env is None else str(real_home(env))
    plan = plan_resume(session.tool, session.id, session.cwd, access, account=account, home=home)
    if env is not None and plan.env.get("HOME") == env.get("HOME"):
        del plan.env["HOME"]  # already the user's own
    return plan


def exec_plan(plan: ResumePlan, base_env: Mapping[str, str], *, binary: str | None = None) -> None:
    """Replace this process with the planned command. Never returns."""
    env = {k: v for k, v in base_env.items() if k not in plan.unset}
    env.update(plan.env)
    if plan.cwd:
        os.chdir(plan.cwd)
    argv = list(plan.argv)
    os.execvpe(binary or argv[0], argv, env)
