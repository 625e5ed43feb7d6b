"""The Linux sandbox: the bubblewrap command line, and a cap on processes.

`bwrap_argv` mounts the whole file system read-only, a fresh /dev and /proc, the
session's private temp dir at /tmp, the writable roots read-write, and then the
protected paths inside them (`.git/hooks`, `.bridle`, `.claude`, `.mcp.json`,
`denyWrite`) read-only again; denied reads are covered with an empty tmpfs (a
directory) or /dev/null (a file), and `allowRead` binds the real path back on
top. The command gets new user (all capabilities dropped), pid, ipc and network
namespaces, its own session (no TIOCSTI into our terminal) and dies with bridle;
when its first process exits the pid namespace ends and every process it left
behind (`nohup`, `setsid`, `&`) dies with it. With allowed domains the network
namespace stays empty and `sandbox_bridge` forwards a loopback port inside to
the host proxy's unix socket. A protected path that does not exist yet gets a
read-only /dev/null mount point, which bubblewrap leaves behind as an empty
file; `remove_ghosts` deletes those after the command. `ProcessLimit` puts each
command in a pids cgroup (v1 or v2, when this user may create one) so a fork
bomb hits `maxProcesses` instead of the machine. Unix sockets are refused by
the `sandbox_seccomp` filter. This module builds argv and
manages the cgroup; it starts no process itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bridle.policy.sandbox import Layout

PROXY_PORT = 3128  # inside the sandbox's own network namespace
BRIDGE = Path(__file__).with_name("sandbox_bridge.py")


def bwrap_argv(
    bwrap: str, layout: Layout, argv: Sequence[str], *, cwd: Path, procs: str | None = None
) -> list[str]:
    """The full command line; `procs` is the pids cgroup's cgroup.procs to join."""
    out = [
        bwrap,
        "--new-session",
        "--die-with-parent",
        "--unshare-user",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-net",
        "--cap-drop",
        "ALL",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--bind",
        layout.tmp,
        "/tmp",
    ]
    for path in _toolchain_under_tmp():  # a virtualenv or PATH entry under /tmp stays usable
        out += ["--ro-bind", path, path]
    for path in layout.roots:  # read-only mode: visible even under the private /tmp
        if path not in layout.writable and os.path.isdir(path):
            out += ["--ro-bind", path, path]
    for path in layout.writable:
        if os.path.isdir(path):
            out += ["--bind", path, path]
    for path in layout.read_only:
        if os.path.lexists(path):
            out += ["--ro-bind", path, path]
    for path in layout.missing_protected:
        out += ["--ro-bind", "/dev/null", path]
    # After the roots, so a denied path inside a project stays hidden; paths under
    # /tmp are already replaced by the private temp dir unless a root is there.
    for path in layout.deny_read:
        shown = any(_under(path, r) for r in [*layout.roots, *layout.writable])
        if (_under(path, "/tmp") and not shown) or not os.path.lexists(path):
            continue
        out += ["--tmpfs", path] if os.path.isdir(path) else ["--ro-bind", "/dev/null", path]
    for path in layout.allow_read:
        if os.path.lexists(path) and any(_under(path, d) for d in layout.deny_read):
            out += ["--ro-bind", path, path]
    control = layout.proxy_socket or layout.seccomp_file
    if control is not None:  # read-only inside, so a command cannot swap the filter
        host_dir = os.path.dirname(control)
        out += ["--ro-bind", host_dir, "/tmp" + host_dir[len(layout.tmp) :]]
    if layout.proxy_socket is not None:
        # The bridge connects to the proxy first, then filters the command itself.
        inner = [sys.executable, "-I", "-S", str(BRIDGE), _inside(layout, layout.proxy_socket),
                 str(PROXY_PORT), _inside(layout, layout.seccomp_file), *argv]  # fmt: skip
        full = [*out, "--chdir", str(cwd), "--", *inner]
        seccomp = None
    else:
        seccomp = layout.seccomp_file
        full = [*out, *(["--seccomp", "3"] if seccomp else []), "--chdir", str(cwd), "--", *argv]
    if procs is None and seccomp is None:
        return full
    # A shell joins the pids cgroup before bwrap starts (bwrap forks its sandbox at
    # once: moving it later would leave that child outside) and opens the filter
    # as fd 3 for --seccomp; about a millisecond.
    script = (
        '[ -z "$0" ] || echo $$ > "$0" 2>/dev/null; [ -z "$1" ] || exec 3<"$1"; shift; exec "$@"'
    )
    return ["/bin/sh", "-c", script, procs or "", seccomp or "", *full]


def _toolchain_under_tmp() -> list[str]:
    """The interpreter's prefixes, bridle's own folder and the PATH entries that live
    under /tmp, which the private temp dir would otherwise hide (a checkout or a
    virtualenv in /tmp)."""
    seen: list[str] = []
    candidates = [
        sys.prefix,
        sys.base_prefix,
        str(BRIDGE.parent),  # the proxy bridge runs from bridle's own source
        *os.environ.get("PATH", "").split(os.pathsep),
    ]
    for raw in candidates:
        if not raw:
            continue
        path = os.path.realpath(raw)
        if _under(path, "/tmp") and os.path.isdir(path) and path not in seen:
            seen.append(path)
    return seen


def _inside(layout: Layout, path: str | None) -> str:
    """A file of the private temp dir as the sandbox sees it ("-" for none)."""
    return "-" if path is None else "/tmp" + path[len(layout.tmp) :]


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def remove_ghosts(layout: Layout) -> None:
    """Delete the empty mount-point files bubblewrap left for missing protected paths."""
    for path in layout.missing_protected:
        with contextlib.suppress(OSError):
            st = os.lstat(path)
            if st.st_size == 0 and not os.path.islink(path) and os.path.isfile(path):
                os.unlink(path)


@dataclass
class ProcessLimit:
    """A pids cgroup that every sandboxed command of the session joins."""

    path: Path

    @classmethod
    def create(cls, max_processes: int) -> ProcessLimit | None:
        """A new cgroup capped at `max_processes`, or None where we may not make one."""
        name = f"bridle-sandbox-{os.getpid()}-{id(object()):x}"
        for parent in _cgroup_parents():
            _sweep(parent)
            path = parent / name
            try:
                path.mkdir()
            except OSError:
                continue
            try:
                (path / "pids.max").write_text(str(max_processes))
                return cls(path)
            except OSError:
                with contextlib.suppress(OSError):
                    path.rmdir()
        return None

    def reap(self) -> None:
        """Kill whatever the last command left in the cgroup."""
        kill = self.path / "cgroup.kill"
        if kill.exists():
            with contextlib.suppress(OSError):
                kill.write_text("1")
            return
        with contextlib.suppress(OSError):
            for line in (self.path / "cgroup.procs").read_text().split():
                with contextlib.suppress(ProcessLookupError, PermissionError, ValueError):
                    os.kill(int(line), signal.SIGKILL)

    def close(self) -> None:
        self.reap()
        # Killed processes leave the cgroup a moment later; rmdir fails until then.
        for _ in range(40):
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.05)


def _sweep(parent: Path) -> None:
    """Remove the empty cgroups of bridle processes that died without closing them."""
    with contextlib.suppress(OSError):
        for old in parent.glob("bridle-sandbox-*"):
            pid = old.name.split("-")[2]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                with contextlib.suppress(OSError):
                    old.rmdir()  # fails, harmlessly, while it still holds a process


def _cgroup_parents() -> list[Path]:
    """Where a pids cgroup could go: cgroup v1's pids hierarchy, else our own v2 group."""
    out = []
    v1 = Path("/sys/fs/cgroup/pids")
    if (v1 / "pids.max").exists() or (v1 / "cgroup.procs").exists():
        out.append(v1)
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            if line.startswith("0::"):
                own = Path("/sys/fs/cgroup") / line[3:].lstrip("/")
                if "pids" in (own / "cgroup.subtree_control").read_text():
                    out.append(own)
    return out
