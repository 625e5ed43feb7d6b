"""The sandbox's parts that need no sandbox: settings parsing and validation, the
permission gate (autoAllowBashIfSandboxed, dangerouslyDisableSandbox,
allowUnsandboxedCommands, excludedCommands), the Seatbelt profile as text, the
bwrap command line, the domain matcher and the proxy over a unix socket, and
start-up where no sandbox can start (a notice once, or failIfUnavailable's
fix-it error)."""

from __future__ import annotations

import socket
import struct
import threading
from pathlib import Path
from typing import Any

import pytest

from bridle.config.schema import validate
from bridle.core.errors import ConfigError
from bridle.policy.engine import PermissionPolicy
from bridle.policy.sandbox import Layout, SandboxConfig, open_sandbox
from bridle.policy.sandbox_gate import SandboxGate
from bridle.policy.sandbox_linux import bwrap_argv
from bridle.policy.sandbox_macos import sbpl_string, seatbelt_profile
from bridle.policy.sandbox_proxy import DomainProxy, host_matches
from bridle.policy.sandbox_seccomp import unix_socket_filter


def getter(data: dict[str, Any]) -> Any:
    def get(dotted: str, default: Any = None) -> Any:
        node: Any = data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    return get


def test_config_reads_claude_codes_shape() -> None:
    c = SandboxConfig.from_settings(
        getter(
            {
                "sandbox": {
                    "enabled": True,
                    "autoAllowBashIfSandboxed": False,
                    "excludedCommands": ["docker"],
                    "allowUnsandboxedCommands": False,
                    "filesystem": {"allowWrite": ["~/.cache"], "denyRead": ["secrets"]},
                    "network": {"allowedDomains": ["*.pypi.org"], "allowLocalBinding": True},
                    "bwrapPath": "/opt/bwrap",
                }
            }
        )
    )
    assert c == SandboxConfig(
        enabled=True,
        auto_allow=False,
        excluded_commands=("docker",),
        allow_unsandboxed=False,
        allow_write=("~/.cache",),
        deny_read=("secrets",),
        allowed_domains=("*.pypi.org",),
        allow_local_binding=True,
        bwrap_path="/opt/bwrap",
    )
    # --sandbox read-only puts mode in the CLI layer; off wins over enabled.
    ro = SandboxConfig.from_settings(getter({"sandbox": {"mode": "read-only", "enabled": True}}))
    assert (ro.enabled, ro.mode) == (True, "read-only")
    off = SandboxConfig.from_settings(getter({"sandbox": {"mode": "off", "enabled": True}}))
    assert off.enabled is False


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"enabled": "yes"}, "sandbox.enabled: must be true or false"),
        ({"mode": "full"}, "sandbox.mode: must be read-only, workspace-write or off"),
        ({"filesystem": {"allowWrite": "/x"}}, "sandbox.filesystem.allowWrite: must be a list"),
        ({"filesystem": {"allowwrite": []}}, "unknown key 'allowwrite'; valid keys are allowWrite"),
        ({"network": {"allowedDomains": [1]}}, "sandbox.network.allowedDomains[0]: must be a str"),
        ({"network": {"allowLocalBinding": 1}}, "allowLocalBinding: must be true or false"),
        ({"maxProcesses": 0}, "sandbox.maxProcesses: must be a positive whole number"),
        ({"sandbox": True}, "unknown key 'sandbox'"),
    ],
)
def test_bad_sandbox_settings_name_file_and_key(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")) as e:
        validate({"sandbox": data}, "/p/.bridle/settings.json")
    assert str(e.value).startswith("/p/.bridle/settings.json: sandbox")


def test_good_sandbox_settings_pass() -> None:
    ok = {"enabled": True, "mode": "workspace-write", "excludedCommands": ["git push"],
          "network": {"allowedDomains": ["github.com"], "deniedDomains": [], "httpProxyPort": 1},
          "filesystem": {"denyWrite": [], "allowRead": []}, "failIfUnavailable": False}  # fmt: skip
    assert validate({"sandbox": ok}, None) == []


def policy(tmp_path: Path, **gate: Any) -> PermissionPolicy:
    p = PermissionPolicy("default", allow=["Bash(make:*)"], ask=["Bash(git push:*)"],
                         deny=["Bash(rm -rf:*)"], project_root=tmp_path)  # fmt: skip
    p.sandbox = SandboxGate(
        auto_allow=gate.get("auto_allow", True),
        allow_unsandboxed=gate.get("allow_unsandboxed", True),
        excluded=lambda c: c.startswith("docker"),
    )
    return p


@pytest.mark.parametrize(
    ("command", "extra", "gate", "behavior", "reason"),
    [
        ("python -m pytest", {}, {}, "allow", "runs inside the sandbox"),
        ("python -m pytest", {}, {"auto_allow": False}, "ask", "needs approval"),
        ("rm -rf /", {}, {}, "deny", "denied by rule"),
        ("git push origin", {}, {}, "ask", "rule Bash(git push:*) asks"),
        ("docker run x", {}, {}, "ask", "needs approval"),
        ("ls", {"dangerouslyDisableSandbox": True}, {}, "ask", "outside the sandbox needs"),
        ("make all", {"dangerouslyDisableSandbox": True}, {}, "allow", "allowed by rule"),
        ("ls", {"dangerouslyDisableSandbox": True}, {"allow_unsandboxed": False}, "deny",
         "allowUnsandboxedCommands is false"),
    ],
)  # fmt: skip
def test_gate(
    tmp_path: Path,
    command: str,
    extra: dict[str, Any],
    gate: dict[str, Any],
    behavior: str,
    reason: str,
) -> None:
    d = policy(tmp_path, **gate).evaluate("Bash", {"command": command, **extra}, cwd=tmp_path)
    assert (d.behavior, reason in d.reason) == (behavior, True), d


def test_headless_still_denies_what_asks_and_plan_mode_holds(tmp_path: Path) -> None:
    p = PermissionPolicy("plan", project_root=tmp_path, headless=True)
    p.sandbox = SandboxGate(True, True, lambda c: False)
    assert p.evaluate("Bash", {"command": "touch x"}, cwd=tmp_path).behavior == "deny"
    p.mode = "default"
    d = p.evaluate("Bash", {"command": "ls", "dangerouslyDisableSandbox": True}, cwd=tmp_path)
    assert d.behavior == "deny" and "nobody to ask" in d.reason


def layout(**kw: Any) -> Layout:
    base = dict(
        writable=["/work/proj"],
        read_only=["/work/proj/.git/hooks"],
        missing_protected=["/work/proj/.claude"],
        deny_read=["/home/u/.ssh"],
        allow_read=["/home/u/.ssh/known_hosts"],
        tmp="/tmp/bridle-sandbox-x",
        roots=["/work/proj"],
    )
    return Layout(**{**base, **kw})  # type: ignore[arg-type]


def test_seatbelt_profile() -> None:
    text = seatbelt_profile(layout(), SandboxConfig(enabled=True))
    lines = text.splitlines()
    assert lines[0] == "(version 1)" and lines[1] == "(deny default)"
    assert "(allow file-read*)" in lines
    order = [
        '(deny file-read* (subpath "/home/u/.ssh"))',
        '(allow file-read* (subpath "/home/u/.ssh/known_hosts"))',
        '(allow file-write* (subpath "/work/proj"))',
        '(allow file-write* (subpath "/tmp/bridle-sandbox-x"))',
        '(deny file-write* (subpath "/work/proj/.git/hooks"))',
        '(deny file-write* (subpath "/work/proj/.claude"))',
    ]
    assert [line for line in lines if line in order] == order  # later rules win
    assert not any("network" in line for line in lines)  # no network at all
    with_net = seatbelt_profile(
        layout(proxy_port=4128), SandboxConfig(enabled=True, allow_local_binding=True)
    )
    assert '(allow network-outbound (remote ip "localhost:4128"))' in with_net
    assert '(allow network-bind (local ip "localhost:*"))' in with_net
    assert sbpl_string('/a "b"\\c') == '"/a \\"b\\"\\\\c"'
    assert "unix-socket" not in with_net
    unix = seatbelt_profile(layout(), SandboxConfig(enabled=True, allow_all_unix_sockets=True))
    assert "(allow network* (remote unix-socket))" in unix


def test_bwrap_argv(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    (proj / ".git" / "hooks").mkdir(parents=True)
    lay = layout(
        writable=[str(proj)],
        read_only=[str(proj / ".git/hooks")],
        missing_protected=[str(proj / ".mcp.json")],
        deny_read=[],
        allow_read=[],
        roots=[str(proj)],
    )
    argv = bwrap_argv("/usr/bin/bwrap", lay, ["true"], cwd=proj)
    text = " ".join(argv)
    for flag in ("--new-session", "--die-with-parent", "--unshare-user", "--unshare-pid",
                 "--unshare-net", "--cap-drop ALL", "--ro-bind / /",
                 "--bind /tmp/bridle-sandbox-x /tmp", f"--bind {proj} {proj}",
                 f"--ro-bind {proj}/.git/hooks {proj}/.git/hooks",
                 f"--ro-bind /dev/null {proj}/.mcp.json", f"--chdir {proj} -- true"):  # fmt: skip
        assert flag in text, flag
    # The writable bind comes before the protected read-only one (later mounts win).
    assert text.index(f"--bind {proj} {proj}") < text.index(f"{proj}/.git/hooks {proj}")
    assert argv[0] == "/usr/bin/bwrap"  # nothing to join or open: bwrap directly
    # With a pids cgroup and the socket filter, a shell joins the cgroup and opens
    # the filter as fd 3 before it becomes bwrap.
    lay.seccomp_file = "/tmp/bridle-sandbox-x/.sandbox/unix-sockets.bpf"
    argv = bwrap_argv("/usr/bin/bwrap", lay, ["true"], cwd=proj, procs="/cg/cgroup.procs")
    assert argv[:2] == ["/bin/sh", "-c"]
    assert argv[3:6] == ["/cg/cgroup.procs", lay.seccomp_file, "/usr/bin/bwrap"]
    text = " ".join(argv)
    assert "--ro-bind /tmp/bridle-sandbox-x/.sandbox /tmp/.sandbox" in text
    assert f"--seccomp 3 --chdir {proj} -- true" in text
    # With the proxy the bridge runs first and filters the command itself.
    lay.proxy_socket = "/tmp/bridle-sandbox-x/.sandbox/proxy.sock"
    argv = bwrap_argv("/usr/bin/bwrap", lay, ["true"], cwd=proj)
    assert "--seccomp" not in argv
    bridge = argv.index("--") + 1
    assert argv[bridge + 4 :] == ["/tmp/.sandbox/proxy.sock", "3128",
                                  "/tmp/.sandbox/unix-sockets.bpf", "true"]  # fmt: skip


def test_unix_socket_filter_program() -> None:
    program = unix_socket_filter("x86_64")
    assert program is not None and len(program) == 10 * 8  # ten 8-byte instructions
    ops = [struct.unpack("=HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]
    assert ops[1] == (0x15, 0, 7, 0xC000003E)  # another ABI: denied
    assert ops[5] == (0x15, 0, 2, 41)  # socket() on x86-64
    assert ops[7] == (0x15, 1, 0, 1)  # AF_UNIX: denied
    assert ops[-1] == (0x06, 0, 0, 0x00050001)  # EPERM
    aarch64 = unix_socket_filter("aarch64")
    assert aarch64 is not None and struct.unpack("=HBBI", aarch64[40:48])[3] == 198
    assert unix_socket_filter("riscv64") is None


def test_domain_matching() -> None:
    assert host_matches("pypi.org", ["pypi.org"])
    assert host_matches("files.pypi.org", ["*.pypi.org"])
    assert not host_matches("pypi.org.evil.com", ["*.pypi.org", "pypi.org"])
    assert not host_matches("evilpypi.org", ["*.pypi.org"])
    assert host_matches("anything", ["*"])
    proxy = DomainProxy("/unused", ["*.example.com"], ["bad.example.com"])
    assert proxy.allows("a.example.com") and not proxy.allows("bad.example.com")


def test_proxy_refuses_and_records_over_its_unix_socket(tmp_path: Path) -> None:
    upstream = socket.create_server(("127.0.0.1", 0))
    port = upstream.getsockname()[1]

    def answer() -> None:
        conn, _ = upstream.accept()
        conn.recv(1024)
        conn.sendall(b"pong")
        conn.close()

    threading.Thread(target=answer, daemon=True).start()
    proxy = DomainProxy(str(tmp_path / "net" / "p.sock"), ["localhost"]).start()
    try:
        mark = proxy.mark()

        def ask(request: bytes) -> bytes:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(proxy.socket_path)
                s.sendall(request)
                data = b""
                while chunk := s.recv(4096):
                    data += chunk
                    if request.startswith(b"CONNECT") and data.endswith(b"\r\n\r\n"):
                        s.sendall(b"ping")
                        data += s.recv(4096)
                        break
                return data

        denied = ask(b"GET http://127.0.0.1:%d/ HTTP/1.1\r\nHost: x\r\n\r\n" % port)
        assert denied.startswith(b"HTTP/1.1 403") and b"not in sandbox.network" in denied
        tunnel = ask(b"CONNECT localhost:%d HTTP/1.1\r\n\r\n" % port)
        assert tunnel.startswith(b"HTTP/1.1 200") and tunnel.endswith(b"pong")
        assert proxy.blocked_since(mark) == ["127.0.0.1"]
    finally:
        proxy.stop()
        upstream.close()


def test_unavailable_sandbox_says_so_once_or_stops(tmp_path: Path) -> None:
    conf = {"sandbox": {"enabled": True, "bwrapPath": str(tmp_path / "no-bwrap")}}
    kw: dict[str, Any] = {"home": tmp_path, "bridle_home": tmp_path / "bh", "platform": "linux"}
    setup = open_sandbox(getter(conf), [tmp_path], **kw)
    assert setup.sandbox is None
    assert len(setup.warnings) == 1 and "shell commands ask for permission" in setup.warnings[0]
    conf["sandbox"]["failIfUnavailable"] = True
    with pytest.raises(ConfigError, match=r"the sandbox cannot start: .*no-bwrap could not start"):
        open_sandbox(getter(conf), [tmp_path], **kw)
    assert open_sandbox(getter({}), [tmp_path], **kw).warnings == []
    no_bwrap = {"sandbox": {"enabled": True}}
    missing = open_sandbox(getter(no_bwrap), [tmp_path], **{**kw, "platform": "freebsd"})
    assert missing.sandbox is None and "no OS sandbox is available" in missing.warnings[0]
