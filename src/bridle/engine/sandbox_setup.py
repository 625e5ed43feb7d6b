"""Opening a session's OS sandbox: settings in, a sandbox on the tool context and
a gate on the permission policy out.

`attach_sandbox` starts the sandbox the merged settings ask for (`sandbox`,
including what `--sandbox` put in the CLI layer), hands it to the Bash tool via
`ToolContext.sandbox`, and gives the policy a `SandboxGate` so sandboxed
commands may run without an ask. It returns the notices to show (a sandbox that
cannot start says so once; `failIfUnavailable` raises instead). `share_sandbox`
does the same for a subagent: the parent's sandbox, or its own for a worktree. It is imported
only when settings mention `sandbox`, so a plain run pays nothing.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping
from typing import Any


def attach_sandbox(
    settings: Any, policy: Any, ctx: Any, env: Mapping[str, str], undo: contextlib.ExitStack
) -> list[str]:
    from bridle.config.paths import bridle_home, user_home
    from bridle.policy.sandbox import open_sandbox

    setup = open_sandbox(settings.get, ctx.roots, home=user_home(env), bridle_home=bridle_home(env))
    sandbox = setup.sandbox
    if sandbox is None:
        return setup.warnings
    undo.callback(sandbox.close)
    ctx.sandbox = sandbox
    policy.sandbox = _gate(sandbox)
    return setup.warnings


def _gate(sandbox: Any) -> Any:
    from bridle.policy.sandbox_gate import SandboxGate

    return SandboxGate(
        auto_allow=sandbox.config.auto_allow,
        allow_unsandboxed=sandbox.config.allow_unsandboxed,
        excluded=sandbox.excluded,
    )


def share_sandbox(
    parent_ctx: Any, ctx: Any, policy: Any, settings: Any, env: Mapping[str, str]
) -> Callable[[], None]:
    """Give a subagent the parent's sandbox: the same one when its roots are the
    parent's, else (a worktree) its own with the same settings. Returns what to
    call when the subagent ends."""
    parent = getattr(parent_ctx, "sandbox", None)
    if parent is None:
        return lambda: None
    if [os.path.realpath(r) for r in ctx.roots] == parent.layout.roots:
        ctx.sandbox = parent
        policy.sandbox = _gate(parent)
        return lambda: None
    with contextlib.ExitStack() as undo:
        attach_sandbox(settings, policy, ctx, env, undo)
        undo.pop_all()
    return ctx.sandbox.close if ctx.sandbox is not None else (lambda: None)
