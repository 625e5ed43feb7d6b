"""Opening a session's OS sandbox: settings in, a sandbox on the tool context and
a gate on the permission policy out.

`attach_sandbox` starts the sandbox the merged settings ask for (`sandbox`,
including what `--sandbox` put in the CLI layer), hands it to the Bash tool via
`ToolContext.sandbox`, and gives the policy a `SandboxGate` so sandboxed
commands may run without an ask. It returns the notices to show (a sandbox that
cannot start says so once; `failIfUnavailable` raises instead). It is imported
only when settings mention `sandbox`, so a plain run pays nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any


def attach_sandbox(
    settings: Any, policy: Any, ctx: Any, env: Mapping[str, str], undo: contextlib.ExitStack
) -> list[str]:
    from bridle.config.paths import bridle_home, user_home
    from bridle.policy.sandbox import open_sandbox
    from bridle.policy.sandbox_gate import SandboxGate

    setup = open_sandbox(settings.get, ctx.roots, home=user_home(env), bridle_home=bridle_home(env))
    sandbox = setup.sandbox
    if sandbox is None:
        return setup.warnings
    undo.callback(sandbox.close)
    ctx.sandbox = sandbox
    policy.sandbox = SandboxGate(
        auto_allow=sandbox.config.auto_allow,
        allow_unsandboxed=sandbox.config.allow_unsandboxed,
        excluded=sandbox.excluded,
    )
    return setup.warnings
