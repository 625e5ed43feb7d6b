"""A seccomp filter that stops sandboxed commands from opening unix sockets.

An empty network namespace cuts TCP and UDP, but a unix socket on the file
system (`/var/run/docker.sock`, an ssh agent, a desktop bus) is reached by path
and would hand a sandboxed command root on the host or the user's keys. The
filter answers `socket(AF_UNIX, ...)` with EPERM, refuses `io_uring_setup`
(io_uring can open sockets without the socket syscall), x32 system calls and
any other ABI such as i386's `socketcall` (other doors to the same calls);
everything else passes, including
`socketpair`, which only joins two ends the process already owns. It is a
classic BPF program for x86-64 and AArch64, handed to bubblewrap with
`--seccomp FD` (or, with allowed domains, installed by `sandbox_bridge` after it
has connected its own relay). `network.allowAllUnixSockets` turns it off. On
other machines `unix_socket_filter` returns None and the sandbox runs without it.
"""

from __future__ import annotations

import platform
import struct

# (AUDIT_ARCH_*, __NR_socket, __NR_io_uring_setup)
_ARCH = {
    "x86_64": (0xC000003E, 41, 425),
    "amd64": (0xC000003E, 41, 425),
    "aarch64": (0xC00000B7, 198, 425),
    "arm64": (0xC00000B7, 198, 425),
}
_LD_W_ABS, _JEQ, _JGE, _RET = 0x20, 0x15, 0x35, 0x06
_ALLOW = 0x7FFF0000
_EPERM = 0x00050000 | 1  # SECCOMP_RET_ERRNO | EPERM
_X32_BIT = 0x40000000
_AF_UNIX = 1


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def unix_socket_filter(machine: str | None = None) -> bytes | None:
    """The filter program for `machine` (default: this one), or None if unknown."""
    arch = _ARCH.get((machine or platform.machine()).lower())
    if arch is None:
        return None
    audit, nr_socket, nr_uring = arch
    program = [
        _op(_LD_W_ABS, 4),  # 0: A = seccomp_data.arch
        _op(_JEQ, audit, 0, 7),  # 1: another ABI (i386's socketcall): deny (9)
        _op(_LD_W_ABS, 0),  # 2: A = seccomp_data.nr
        _op(_JGE, _X32_BIT, 5, 0),  # 3: x32: deny (9)
        _op(_JEQ, nr_uring, 4, 0),  # 4: io_uring_setup: deny (9)
        _op(_JEQ, nr_socket, 0, 2),  # 5: not socket(): allow (8)
        _op(_LD_W_ABS, 16),  # 6: A = low half of args[0], the domain
        _op(_JEQ, _AF_UNIX, 1, 0),  # 7: AF_UNIX: deny (9)
        _op(_RET, _ALLOW),  # 8
        _op(_RET, _EPERM),  # 9
    ]
    return b"".join(program)
