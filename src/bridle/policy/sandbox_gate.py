"""How the sandbox changes a Bash call's permission decision.

With a working sandbox (`SandboxGate` set on the `PermissionPolicy`), a Bash
call that would only ask because nothing allows it runs without asking when
`autoAllowBashIfSandboxed` is on: the sandbox, not a prompt, bounds it. Deny
rules and explicit ask rules still hold, and so does plan mode. A call with
`dangerouslyDisableSandbox: true` is denied when
`allowUnsandboxedCommands` is false, and otherwise needs approval unless a rule
allows it or the mode is bypassPermissions. Commands in `excludedCommands`
follow the ordinary rules. This module decides; it runs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bridle.policy.engine import Decision


@dataclass(frozen=True)
class SandboxGate:
    """The sandbox settings that bear on a Bash call's decision; `judge` applies them."""

    auto_allow: bool
    allow_unsandboxed: bool
    excluded: Callable[[str], bool]

    def judge(self, d: Decision, args: Mapping[str, Any], mode: str) -> Decision:
        from bridle.policy.engine import Decision

        if d.behavior == "deny":
            return d
        command = args.get("command")
        if args.get("dangerouslyDisableSandbox") is True:
            if not self.allow_unsandboxed:
                return Decision(
                    "deny",
                    "sandbox.allowUnsandboxedCommands is false: commands cannot run outside "
                    "the sandbox; run it sandboxed or change course",
                )
            if d.behavior == "allow" and d.rule is None and mode != "bypassPermissions":
                return Decision("ask", "running outside the sandbox needs approval")
            return d
        if not isinstance(command, str) or self.excluded(command):
            return d
        if d.behavior == "ask" and d.rule is None and self.auto_allow and mode != "plan":
            return Decision("allow", "runs inside the sandbox (autoAllowBashIfSandboxed)")
        return d
