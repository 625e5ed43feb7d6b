"""Build the exact command line and environment for running a CLI under an account.

Everything here is a pure function of its inputs (spec, flags, base env, account
paths), so tests check the result against a recording launcher without running
anything: yolo and resume are translated per tool (Codex's `resume` is a
subcommand, the others take flags), the account's config-dir variables (and HOME in
`home` isolation) are set, a stored Claude long-lived token is passed as
`CLAUDE_CODE_OAUTH_TOKEN`, and variables a parent coding CLI sets for its children
are stripped so the child saves its sessions normally. The tmux portal is built
here too. Running the plan, forwarding signals and recording sessions is
`runner.py`'s job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bridle.accounts.layout import AccountPaths
from bridle.accounts.specs import ALL_CHILD_VARS, TOOLS, CliSpec
from bridle.accounts.store import NATIVE, Account

_XDG_UNDER_HOME = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")


@dataclass(frozen=True)
class LaunchPlan:
    """Exactly what to run for one launch and where, plus notices for the user to read first."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    notices: list[str] = field(default_factory=list)


def command_line(
    spec: CliSpec,
    binary: str,
    *,
    yolo: bool = False,
    resume_id: str | None = None,
    resume_latest: bool = False,
    args: list[str] | tuple[str, ...] = (),
) -> list[str]:
    """argv for `spec`, translating bridle's --yolo/--resume/--continue."""
    resume: list[str] = []
    if resume_id is not None:
        resume = spec.resume_args(resume_id)
    elif resume_latest:
        resume = spec.resume_args(None)
    yolo_args = list(spec.yolo) if yolo else []
    if resume and args and args[0] in spec.resume.within:
        return [binary, args[0], *resume, *yolo_args, *args[1:]]
    if spec.resume.prefix and resume:
        return [binary, *resume, *yolo_args, *args]
    return [binary, *yolo_args, *resume, *args]


def _inside(path: str, root: Path) -> bool:
    try:
        return Path(path).resolve().is_relative_to(root.resolve())
    except (OSError, ValueError):
        return False


def account_env(
    base: Mapping[str, str],
    *,
    account: Account | None,
    paths: AccountPaths | None,
    accounts_root: Path,
    oauth_token: str | None = None,
) -> dict[str, str]:
    """The environment a CLI (or shell) runs with under `account` (None = native)."""
    env = {k: v for k, v in base.items() if k not in ALL_CHILD_VARS}
    if account is None or paths is None:
        # Native: the real setup. Drop config-dir variables an outer bridle account
        # shell exported, but keep ones the user set to their own directories.
        for spec in TOOLS.values():
            value = env.get(spec.config_env)
            if value and _inside(value, accounts_root):
                del env[spec.config_env]
        real_home = env.pop("BRIDLE_REAL_HOME", None)
        if real_home and _inside(env.get("HOME", ""), accounts_root):
            env["HOME"] = real_home
        env["BRIDLE_ACCOUNT"] = NATIVE
        return env
    for name in account.providers:
        spec = TOOLS[name]
        env[spec.config_env] = str(paths.config_env_value(spec))
    # A `bridle` run inside the account must still find the same BRIDLE_HOME and
    # the real HOME's shared store, whatever HOME it sees.
    env["BRIDLE_HOME"] = str(accounts_root.parent)
    if account.isolation == "home":
        env["BRIDLE_REAL_HOME"] = str(paths.real_home)
        env["HOME"] = str(paths.home)
        for var in _XDG_UNDER_HOME:
            if var in env and _inside(env[var], paths.real_home):
                del env[var]
    if oauth_token and "claude" in account.providers:
        env["CLAUDE_CODE_OAUTH_TOKEN"] = oauth_token
    env["BRIDLE_ACCOUNT"] = account.name
    return env


_TMUX_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def tmux_segment(raw: str) -> str:
    """tmux forbids `.` and `:` in session names; keep names readable and safe."""
    return _TMUX_UNSAFE.sub("-", raw).strip("-") or "x"


def portal_name(project: str, account: str, tool: str) -> str:
    return "/".join(tmux_segment(s) for s in (project, account, tool))


def portal_argv(
    plan: LaunchPlan,
    name: str,
    *,
    tmux: str = "tmux",
    session_exists: bool,
    inside_tmux: bool,
) -> list[list[str]]:
    """The tmux commands that open (or reattach to) the portal for `plan`.

    A new session gets the plan's full environment (`-e` for every variable) and
    its cwd; an existing one is reattached as it is. Inside tmux the client is
    switched instead of nesting a second tmux.
    """
    target = f"={name}"
    if session_exists:
        verb = "switch-client" if inside_tmux else "attach-session"
        return [[tmux, verb, "-t", target]]
    create = [tmux, "new-session", "-s", name, "-c", plan.cwd]
    if inside_tmux:
        create.insert(2, "-d")
    for key in sorted(plan.env):
        create += ["-e", f"{key}={plan.env[key]}"]
    create += ["--", *plan.argv]
    if inside_tmux:
        return [create, [tmux, "switch-client", "-t", target]]
    return [create]
