"""The macOS sandbox: a Seatbelt profile for `sandbox-exec`.

`seatbelt_profile` writes the same policy the Linux sandbox mounts, as SBPL
rules (later rules win): deny by default; processes, signals to the same
sandbox, sysctl reads and the Mach services ordinary tools need are allowed;
every file may be read except `denyRead` (with `allowRead` carved back out);
writes are allowed only under the writable roots, the private temp dir and a
few devices, then denied again under the protected paths and `denyWrite`.
Network: nothing, or with allowed domains only the host proxy's loopback port
(`network.allowLocalBinding` adds binding and accepting on localhost); unix
sockets only with `network.allowAllUnixSockets`. Paths are
escaped as SBPL string literals. This module only builds text and argv; it is
unit-tested as strings so that it can be checked without a Mac.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bridle.policy.sandbox import Layout, SandboxConfig

_BASE = """(version 1)
(deny default)
(allow process-exec)
(allow process-fork)
(allow process-info* (target same-sandbox))
(allow signal (target same-sandbox))
(allow sysctl-read)
(allow iokit-open)
(allow ipc-posix-shm)
(allow ipc-posix-sem)
(allow pseudo-tty)
(allow file-ioctl (literal "/dev/null") (literal "/dev/zero") (literal "/dev/tty"))
(allow mach-lookup
  (global-name "com.apple.system.opendirectoryd.libinfo")
  (global-name "com.apple.system.notification_center")
  (global-name "com.apple.logd")
  (global-name "com.apple.FSEvents")
  (global-name "com.apple.trustd.agent")
  (global-name "com.apple.SecurityServer")
  (global-name "com.apple.coreservices.launchservicesd"))
(allow file-read*)
(allow file-write*
  (literal "/dev/null") (literal "/dev/zero") (literal "/dev/tty")
  (literal "/dev/stdout") (literal "/dev/stderr") (regex #"^/dev/fd/[0-9]+$")
  (regex #"^/dev/tty[a-z0-9]*$") (regex #"^/dev/ttys[0-9]+$"))
"""


def sbpl_string(text: str) -> str:
    """`text` as an SBPL string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _paths(op: str, paths: Sequence[str]) -> list[str]:
    return [f"({op} (subpath {sbpl_string(p)}))" for p in paths]


def seatbelt_profile(layout: Layout, config: SandboxConfig) -> str:
    lines = [_BASE.rstrip("\n")]
    lines += _paths("deny file-read*", layout.deny_read)
    lines += _paths("allow file-read*", layout.allow_read)
    lines += _paths("allow file-write*", [*layout.writable, layout.tmp])
    lines += _paths("deny file-write*", [*layout.read_only, *layout.missing_protected])
    if layout.proxy_port is not None:
        lines.append(f'(allow network-outbound (remote ip "localhost:{layout.proxy_port}"))')
    if config.allow_all_unix_sockets:
        lines.append("(allow network* (remote unix-socket))")
    if config.allow_local_binding:
        lines.append('(allow network-bind (local ip "localhost:*"))')
        lines.append('(allow network-inbound (local ip "localhost:*"))')
        lines.append('(allow network-outbound (remote ip "localhost:*"))')
    return "\n".join(lines) + "\n"


def seatbelt_argv(
    sandbox_exec: str, layout: Layout, config: SandboxConfig, argv: Sequence[str]
) -> list[str]:
    return [sandbox_exec, "-p", seatbelt_profile(layout, config), *argv]
