"""The OS sandbox for shell commands: settings, start-up, and what was blocked.

`SandboxConfig.from_settings` reads Claude Code's `sandbox` settings shape
(`enabled`, `failIfUnavailable`, `autoAllowBashIfSandboxed`, `excludedCommands`,
`allowUnsandboxedCommands`, `filesystem.allowWrite/denyWrite/denyRead/allowRead`,
`network.allowedDomains/deniedDomains/allowLocalBinding`, `bwrapPath`) plus
bridle's `mode` (`read-only` or `workspace-write`, Codex's names, set by
`--sandbox`) and `maxProcesses`. `open_sandbox` turns it into a running
`Sandbox` for one session: it probes bubblewrap (Linux) or sandbox-exec (macOS)
once, makes a private temp dir, starts the domain-filtering proxy when domains
are allowed, and says once (or, with `failIfUnavailable`, stops with a fix-it
error) when no sandbox can start. `Sandbox.wrap` gives the argv that runs a
command inside it (built by `sandbox_linux` / `sandbox_macos`) and
`Sandbox.explain` turns a finished command's output into a note for the model
naming what the sandbox blocked. Whether a call may run unsandboxed, or runs
without an ask because it is sandboxed, is `sandbox_gate`'s job; this module
runs nothing but the probe.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridle.core.errors import ConfigError

MODES = ("read-only", "workspace-write")
# Inside a writable root these stay read-only: a command that could write them
# could run code outside the sandbox later (git hooks, bridle/Claude settings
# with hooks, MCP servers).
PROTECTED = (".git/hooks", ".git/config", ".bridle", ".claude", ".mcp.json")
# Secrets a shell command has no business reading, hidden unless allowRead says so.
DEFAULT_DENY_READ = ("~/.ssh", "~/.gnupg", "~/.aws", "~/.netrc", "~/.docker/config.json")
DEFAULT_MAX_PROCESSES = 2048
CONTROL_DIR = ".sandbox"  # in the private temp dir, read-only inside: proxy socket, filter

_WRITE_BLOCKED = ("Read-only file system", "EROFS")
_NET_BLOCKED = (
    "Could not resolve host",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "getaddrinfo failed",
    "No address associated with hostname",
)


@dataclass(frozen=True)
class SandboxConfig:
    """The `sandbox` settings, validated; `enabled` is false when the sandbox is off."""

    enabled: bool = False
    mode: str = "workspace-write"
    fail_if_unavailable: bool = False
    auto_allow: bool = True
    excluded_commands: tuple[str, ...] = ()
    allow_unsandboxed: bool = True
    allow_write: tuple[str, ...] = ()
    deny_write: tuple[str, ...] = ()
    deny_read: tuple[str, ...] = ()
    allow_read: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    denied_domains: tuple[str, ...] = ()
    allow_local_binding: bool = False
    allow_all_unix_sockets: bool = False
    bwrap_path: str | None = None
    max_processes: int = DEFAULT_MAX_PROCESSES

    @classmethod
    def from_settings(cls, get: Callable[[str, Any], Any]) -> SandboxConfig:
        """From a settings getter (`Settings.get`, dotted keys)."""
        raw = get("sandbox", None) or {}
        if not isinstance(raw, Mapping):
            raise ConfigError("must be an object", key="sandbox")
        fs = raw.get("filesystem") or {}
        net = raw.get("network") or {}
        mode = raw.get("mode") or "workspace-write"
        if mode == "off":
            return cls(enabled=False)

        def strs(v: Any) -> tuple[str, ...]:
            return tuple(str(s) for s in v or ())

        return cls(
            enabled=bool(raw.get("enabled", "mode" in raw)),
            mode=str(mode),
            fail_if_unavailable=bool(raw.get("failIfUnavailable", False)),
            auto_allow=bool(raw.get("autoAllowBashIfSandboxed", True)),
            excluded_commands=strs(raw.get("excludedCommands")),
            allow_unsandboxed=bool(raw.get("allowUnsandboxedCommands", True)),
            allow_write=strs(fs.get("allowWrite")),
            deny_write=strs(fs.get("denyWrite")),
            deny_read=strs(fs.get("denyRead")),
            allow_read=strs(fs.get("allowRead")),
            allowed_domains=strs(net.get("allowedDomains")),
            denied_domains=strs(net.get("deniedDomains")),
            allow_local_binding=bool(net.get("allowLocalBinding", False)),
            allow_all_unix_sockets=bool(net.get("allowAllUnixSockets", False)),
            bwrap_path=raw.get("bwrapPath") or None,
            max_processes=int(raw.get("maxProcesses") or DEFAULT_MAX_PROCESSES),
        )


@dataclass
class Layout:
    """Absolute host paths the platform builders turn into mounts or rules."""

    writable: list[str]  # project roots (workspace-write) and allowWrite
    read_only: list[str]  # protected names and denyWrite inside the writable ones
    missing_protected: list[str]  # protected paths that do not exist yet
    deny_read: list[str]
    allow_read: list[str]
    tmp: str  # the private temp dir on the host, /tmp inside
    roots: list[str] = field(default_factory=list)  # the project roots, readable in any mode
    proxy_socket: str | None = None  # the host proxy's unix socket, when domains are allowed
    proxy_port: int | None = None  # macOS: the host proxy's loopback port
    seccomp_file: str | None = None  # Linux: the unix-socket filter (sandbox_seccomp)


def expand(path: str, root: Path, home: Path) -> str:
    """A settings path as an absolute host path: `~/` is home, `//x` and `/x` are
    absolute, anything else is relative to the project root."""
    if path == "~" or path.startswith("~/"):
        return os.path.normpath(str(home) + path[1:])
    if path.startswith("//"):
        path = path[1:]
    return os.path.normpath(path if path.startswith("/") else os.path.join(root, path))


def under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


@dataclass
class Sandbox:
    """A sandbox ready for one session's shell commands."""

    config: SandboxConfig
    platform: str  # "linux" or "macos"
    launcher: str  # the bwrap or sandbox-exec binary
    layout: Layout
    proxy: Any = None  # sandbox_proxy.DomainProxy
    limits: Any = None  # sandbox_linux.ProcessLimit
    _cleanups: list[Callable[[], None]] = field(default_factory=list)

    @property
    def tmp_dir(self) -> Path:
        return Path(self.layout.tmp)

    def inside(self, host_path: Path) -> str:
        """Where a file of the private temp dir appears inside the sandbox."""
        if self.platform == "linux" and under(str(host_path), self.layout.tmp):
            return "/tmp" + str(host_path)[len(self.layout.tmp) :]
        return str(host_path)

    def excluded(self, command: str) -> bool:
        """True for a command `excludedCommands` runs outside the sandbox."""
        text = command.strip()
        for pattern in self.config.excluded_commands:
            stem = pattern.strip().removesuffix("*").removesuffix(":").rstrip()
            if stem and (text == stem or text.startswith(stem + " ")):
                return True
        return False

    def wrap(self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> Launch:
        """The argv and environment that run `argv` inside the sandbox."""
        env = dict(env)
        if self.proxy is not None:
            env.update(self.proxy.client_env())
        if self.platform == "linux":
            from bridle.policy.sandbox_linux import bwrap_argv

            env["TMPDIR"] = "/tmp"
            procs = str(self.limits.path / "cgroup.procs") if self.limits is not None else None
            full = bwrap_argv(self.launcher, self.layout, argv, cwd=cwd, procs=procs)
            return Launch(full, env, self)
        from bridle.policy.sandbox_macos import seatbelt_argv

        env["TMPDIR"] = self.layout.tmp
        full = seatbelt_argv(self.launcher, self.layout, self.config, argv)
        return Launch(full, env, self)

    def explain(self, command: str, output: str, blocked_hosts: Sequence[str] = ()) -> list[str]:
        """Notes for the model naming what the sandbox blocked, with the way out."""
        notes = []
        way_out = (
            "retry with dangerouslyDisableSandbox: true (the user will be asked) or change course"
            if self.config.allow_unsandboxed
            else "sandbox.allowUnsandboxedCommands is false, so change course"
        )
        if any(m in output for m in _WRITE_BLOCKED):
            where = ", ".join([*self.layout.writable, "/tmp"])
            notes.append(
                f"[sandbox: a write outside the writable paths ({where}) or to a protected "
                f"path ({', '.join(PROTECTED)}) was blocked (the user can add paths to "
                f"sandbox.filesystem.allowWrite); {way_out}]"
            )
        protected = [
            p
            for p in [*self.layout.read_only, *self.layout.missing_protected]
            if os.path.basename(p) in command
        ]
        if protected and any(m in output for m in ("File exists", "Not a directory")):
            notes.append(
                f"[sandbox: {', '.join(protected)} is protected (read-only inside the sandbox); "
                f"{way_out}]"
            )
        hidden = [
            p for p in self.layout.deny_read if p in command or p in output or _tilde(p) in command
        ]
        if hidden:
            notes.append(
                f"[sandbox: {', '.join(hidden)} cannot be read (sandbox.filesystem.denyRead; "
                f"it looks empty inside the sandbox); {way_out}]"
            )
        if (
            self.layout.seccomp_file is not None
            and "Operation not permitted" in output
            and any(w in command + output for w in ("sock", "AF_UNIX", "unix"))
        ):
            notes.append(
                "[sandbox: unix sockets cannot be opened inside the sandbox (the user can set "
                f"sandbox.network.allowAllUnixSockets); {way_out}]"
            )
        if blocked_hosts:
            notes.append(
                f"[sandbox: network access to {', '.join(sorted(set(blocked_hosts)))} was "
                f"blocked (not in sandbox.network.allowedDomains); {way_out}]"
            )
        elif self.proxy is None and any(m in output for m in _NET_BLOCKED):
            notes.append(f"[sandbox: the command has no network access; {way_out}]")
        return notes

    def close(self) -> None:
        for undo in reversed(self._cleanups):
            with contextlib.suppress(OSError):
                undo()
        self._cleanups.clear()


def _tilde(path: str) -> str:
    home = os.path.expanduser("~")
    return "~" + path[len(home) :] if under(path, home) else path


@dataclass
class Launch:
    """One sandboxed command: run `argv` with `env`, and call `finish()` once it
    has ended."""

    argv: list[str]
    env: dict[str, str]
    sandbox: Sandbox
    _mark: int = 0

    def __post_init__(self) -> None:
        if self.sandbox.proxy is not None:
            self._mark = self.sandbox.proxy.mark()

    def finish(self) -> list[str]:
        """Hosts the proxy refused while this command ran."""
        if self.sandbox.platform == "linux":
            from bridle.policy.sandbox_linux import remove_ghosts

            remove_ghosts(self.sandbox.layout)
        if self.sandbox.limits is not None:
            self.sandbox.limits.reap()
        return self.sandbox.proxy.blocked_since(self._mark) if self.sandbox.proxy else []


@dataclass
class SandboxSetup:
    """What `open_sandbox` gives a session: the running sandbox or None, and why not."""

    sandbox: Sandbox | None
    warnings: list[str]
    config: SandboxConfig


def probe(platform: str, launcher: str | None) -> str | None:
    """None when a sandbox starts here, else why not (with the fix)."""
    if platform == "macos":
        if launcher is None:
            return "sandbox-exec was not found (it ships with macOS in /usr/bin)"
        return None
    if platform != "linux":
        return f"no OS sandbox is available on {sys.platform}"
    if launcher is None:
        return (
            "bubblewrap (bwrap) was not found on PATH; install it (apt-get install "
            "bubblewrap, dnf install bubblewrap) or set sandbox.bwrapPath"
        )
    try:
        done = subprocess.run(
            [launcher, "--unshare-user", "--ro-bind", "/", "/", "--", "/bin/true"],
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"{launcher} could not start: {e}"
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        why = lines[-1] if lines else f"exit {done.returncode}"
        return (
            f"{launcher} could not create a sandbox ({why}); "
            "unprivileged user namespaces may be off (sysctl kernel.unprivileged_userns_clone=1, "
            "or on Ubuntu kernel.apparmor_restrict_unprivileged_userns=0)"
        )
    return None


def _launcher(config: SandboxConfig, platform: str | None) -> tuple[str, str | None]:
    plat = platform or ("linux" if sys.platform.startswith("linux") else "macos" if sys.platform == "darwin" else sys.platform)  # fmt: skip
    if plat == "linux":
        return plat, config.bwrap_path or shutil.which("bwrap")
    exe = "/usr/bin/sandbox-exec"
    return plat, exe if plat == "macos" and os.path.exists(exe) else None


def sandbox_status(get: Callable[[str, Any], Any]) -> tuple[str, str] | None:
    """For `--doctor`: ("ok" | "warn" | "fail", what), or None when the sandbox is off."""
    config = SandboxConfig.from_settings(get)
    if not config.enabled:
        return None
    plat, launcher = _launcher(config, None)
    problem = probe(plat, launcher)
    if problem is None:
        return "ok", f"sandbox: {config.mode} with {launcher}"
    return ("fail" if config.fail_if_unavailable else "warn"), f"sandbox: {problem}"


def open_sandbox(
    get: Callable[[str, Any], Any],
    roots: Sequence[Path],
    *,
    home: Path,
    bridle_home: Path,
    platform: str | None = None,
) -> SandboxSetup:
    """Start the session's sandbox from settings; `sandbox` None when it is off
    or cannot start (then `warnings` says so once)."""
    config = SandboxConfig.from_settings(get)
    if not config.enabled:
        return SandboxSetup(None, [], config)
    if config.mode not in MODES:
        raise ConfigError(
            f"unknown sandbox mode {config.mode!r}; use read-only, workspace-write or off",
            key="sandbox.mode",
        )
    plat, launcher = _launcher(config, platform)
    problem = probe(plat, launcher)
    if problem is not None:
        if config.fail_if_unavailable:
            raise ConfigError(
                f"the sandbox cannot start: {problem}. Fix that, or set "
                "sandbox.failIfUnavailable to false to fall back to permission prompts",
                key="sandbox.failIfUnavailable",
            )
        return SandboxSetup(
            None,
            [f"sandbox: not available ({problem}); shell commands ask for permission instead"],
            config,
        )
    assert launcher is not None
    sandbox = _build(config, plat, launcher, roots, home, bridle_home)
    return SandboxSetup(sandbox, [], config)


def _build(
    config: SandboxConfig,
    plat: str,
    launcher: str,
    roots: Sequence[Path],
    home: Path,
    bridle_home: Path,
) -> Sandbox:
    root = Path(os.path.realpath(roots[0]))
    real = [os.path.realpath(r) for r in roots]
    writable = real if config.mode == "workspace-write" else []
    writable += [os.path.realpath(expand(p, root, home)) for p in config.allow_write]
    read_only, missing = [], []
    for w in writable:
        for name in PROTECTED:
            p = os.path.join(w, name)
            if os.path.lexists(p):
                read_only.append(os.path.realpath(p))
            elif name != ".git/config" and (not name.startswith(".git/") or os.path.isdir(os.path.join(w, ".git"))):  # fmt: skip
                missing.append(p)
    read_only += [os.path.realpath(expand(p, root, home)) for p in config.deny_write]
    deny_read = [expand(p, root, home) for p in (*DEFAULT_DENY_READ, *config.deny_read)]
    deny_read.append(str(bridle_home))
    deny_read = [os.path.realpath(p) for p in deny_read]
    tmp = tempfile.mkdtemp(prefix="bridle-sandbox-")
    layout = Layout(
        writable=writable,
        read_only=read_only,
        missing_protected=missing,
        deny_read=[p for p in deny_read if not any(under(w, p) for w in writable)],
        allow_read=[os.path.realpath(expand(p, root, home)) for p in config.allow_read],
        tmp=tmp,
        roots=real,
    )
    sandbox = Sandbox(config, plat, launcher, layout)
    sandbox._cleanups.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
    if config.allowed_domains:
        from bridle.policy.sandbox_proxy import DomainProxy

        socket_path = os.path.join(tmp, CONTROL_DIR, "proxy.sock")
        sandbox.proxy = DomainProxy(
            socket_path, config.allowed_domains, config.denied_domains, tcp=plat != "linux"
        ).start()
        layout.proxy_socket = socket_path
        layout.proxy_port = sandbox.proxy.port
        sandbox._cleanups.append(sandbox.proxy.stop)
    if plat == "linux" and not config.allow_all_unix_sockets:
        from bridle.policy.sandbox_seccomp import unix_socket_filter

        program = unix_socket_filter()
        if program is not None:
            layout.seccomp_file = os.path.join(tmp, CONTROL_DIR, "unix-sockets.bpf")
            os.makedirs(os.path.dirname(layout.seccomp_file), exist_ok=True)
            Path(layout.seccomp_file).write_bytes(program)
    if plat == "linux":
        from bridle.policy.sandbox_linux import ProcessLimit

        sandbox.limits = ProcessLimit.create(config.max_processes)
        if sandbox.limits is not None:
            sandbox._cleanups.append(sandbox.limits.close)
    return sandbox
