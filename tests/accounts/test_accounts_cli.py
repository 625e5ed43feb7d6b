"""The `bridle accounts`, `bridle launch/shell` and `bridle mcp sync` commands as a
user runs them: the home-isolation catalog defaults and per-entry overrides, the
provider commands, the default account, `bridle shell`, `bridle mcp sync` (deletions
stay deleted, other keys and modes untouched), and the tmux portal on a real
terminal (a pty) with real tmux: created with the full env, reattached, and
explained when tmux is missing."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bridle.accounts.manage import add_account
from bridle.accounts.runner import Accounts
from bridle.accounts.specs import TOOLS

RECORDER = """#!{python}
import json, os, sys
with open(os.environ["RECORD"], "a") as f:
    f.write(json.dumps({{"argv": sys.argv, "cwd": os.getcwd(), "env": dict(os.environ)}}) + "\\n")
sys.exit(int(os.environ.get("EXIT_CODE", "0")))
"""


@pytest.fixture
def record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """BRIDLE_CLI_PATH holds the four CLIs and a shell, each recording its start."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in (*TOOLS, "fake-shell"):
        script = bin_dir / name
        script.write_text(RECORDER.format(python=sys.executable))
        script.chmod(0o755)
    monkeypatch.setenv("BRIDLE_CLI_PATH", str(bin_dir))
    monkeypatch.setenv("SHELL", str(bin_dir / "fake-shell"))
    monkeypatch.setenv("RECORD", str(tmp_path / "record.jsonl"))
    return tmp_path / "record.jsonl"


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# Every default the issue names, plus the rest of the catalog's identities.
CATALOG_DEFAULTS = [
    (".aws", True),
    (".config/gcloud", True),
    (".azure", True),
    (".docker", True),
    (".kube", True),
    (".terraform.d", True),
    (".config/gh", True),
    (".ssh", False),
    (".gitconfig", False),
    (".gnupg", False),
    (".npmrc", False),
    (".config/glab", False),
    (".cargo", False),
    (".m2", False),
]


def test_home_isolation_catalog_defaults_and_overrides(bridle, home: Path) -> None:
    for rel, _shared in CATALOG_DEFAULTS:
        (home / rel).mkdir(parents=True)
        (home / rel / "real").write_text(rel)
    done = bridle("accounts", "add", "client", "--isolation", "home")
    assert done.returncode == 0, done.stderr
    acct = home / ".bridle" / "accounts" / "client" / "home"
    found = {rel: (acct / rel).is_symlink() for rel, _ in CATALOG_DEFAULTS}
    assert found == dict(CATALOG_DEFAULTS)
    for rel, shared in CATALOG_DEFAULTS:
        if shared:
            assert os.readlink(acct / rel) == str(home / rel)
        else:
            assert not (acct / rel).exists()

    # Per entry, at creation and later; the real HOME's data is never touched.
    done = bridle(
        "accounts", "add", "c2", "--isolation", "home", "--isolate", "aws", "--share", "ssh"
    )
    assert done.returncode == 0, done.stderr
    acct2 = home / ".bridle" / "accounts" / "c2" / "home"
    assert not (acct2 / ".aws").exists() and os.readlink(acct2 / ".ssh") == str(home / ".ssh")
    assert bridle("accounts", "share", "c2", "gh", "--off").returncode == 0
    assert bridle("accounts", "share", "c2", "gnupg").returncode == 0
    assert not (acct2 / ".config" / "gh").exists()
    assert os.readlink(acct2 / ".gnupg") == str(home / ".gnupg")
    shown = json.loads(bridle("accounts", "show", "c2", "--json").stdout)
    assert {k for k, v in shown["shared"].items() if v} == {
        "gcloud", "azure", "docker", "kube", "terraform", "ssh", "gnupg",
    }  # fmt: skip
    assert json.loads((acct2.parent / "account.json").read_text())["shared"] == {
        "aws": False, "ssh": True, "gh": False, "gnupg": True,
    }  # fmt: skip
    for rel, _shared in CATALOG_DEFAULTS:
        assert (home / rel / "real").read_text() == rel
    clash = bridle("accounts", "add", "c3", "--share", "aws", "--isolate", "aws")
    assert clash.returncode == 64 and "both --share and --isolate" in clash.stderr


def test_names_are_checked_with_a_fix(bridle) -> None:
    done = bridle("accounts", "add", "my acct")
    assert done.returncode == 64
    assert "try 'my-acct'" in done.stderr
    done = bridle("accounts", "add", "native")
    assert done.returncode == 64 and "reserved" in done.stderr and "try 'native-1'" in done.stderr


def test_provider_commands_and_teardown(bridle, home: Path) -> None:
    assert bridle("accounts", "add", "w").returncode == 0
    tool_dir = home / ".bridle" / "accounts" / "w" / "home"
    assert bridle("accounts", "add-provider", "w", "codex").returncode == 0
    assert os.readlink(tool_dir / ".codex" / "sessions") == str(home / ".codex" / "sessions")
    done = bridle("accounts", "default-provider", "w", "codex")
    assert done.stdout == "w launches codex by default.\n"
    shown = json.loads(bridle("accounts", "show", "w", "--json").stdout)
    assert (shown["default_provider"], list(shown["providers"])) == ("codex", ["claude", "codex"])
    nope = bridle("accounts", "default-provider", "w", "gemini")
    assert nope.returncode == 64 and "bridle accounts add-provider w gemini" in nope.stderr

    (tool_dir / ".codex" / "auth.json").write_text("{}")
    assert bridle("accounts", "remove-provider", "w", "codex").returncode == 0
    assert sorted(p.name for p in (tool_dir / ".codex").iterdir()) == ["auth.json"]
    shown = json.loads(bridle("accounts", "show", "w", "--json").stdout)
    assert (shown["default_provider"], list(shown["providers"])) == ("claude", ["claude"])

    done = bridle("accounts", "teardown", "w")
    assert done.returncode == 0
    assert f"Removed {len(TOOLS['claude'].shared_dirs)} link(s)" in done.stdout
    assert not any(p.is_symlink() for p in (tool_dir / ".claude").iterdir())
    assert all((home / ".claude" / d).is_dir() for d in TOOLS["claude"].shared_dirs)


def test_the_default_account_is_what_runs_without_a_name(record: Path, bridle, home: Path) -> None:
    none = bridle("launch")
    assert none.returncode == 64 and "bridle accounts use NAME" in none.stderr
    for name in ("a", "b"):
        assert bridle("accounts", "add", name, "--provider", "claude", "--provider", "codex")
    assert bridle("accounts", "use", "b").stdout == "Default account: b.\n"
    assert bridle("accounts", "use", "ghost").returncode == 64
    assert json.loads(bridle("accounts", "list", "--json").stdout)["accounts"][1]["default"]

    assert bridle("launch").returncode == 0
    assert bridle("launch", "codex", "--", "exec", "hi").returncode == 0
    assert bridle("launch", "default", "claude", "--yolo").returncode == 0
    b = home / ".bridle" / "accounts" / "b" / "home"
    got = [(Path(r["argv"][0]).name, r["argv"][1:], r["env"]["BRIDLE_ACCOUNT"]) for r in records(record)]  # fmt: skip
    assert got == [
        ("claude", [], "b"),
        ("codex", ["exec", "hi"], "b"),
        ("claude", ["--dangerously-skip-permissions"], "b"),
    ]
    assert records(record)[1]["env"]["CODEX_HOME"] == str(b / ".codex")

    assert bridle("accounts", "use", "native").returncode == 0
    assert bridle("launch", "claude").returncode == 0
    assert records(record)[-1]["env"]["BRIDLE_ACCOUNT"] == "native"
    assert "CLAUDE_CONFIG_DIR" not in records(record)[-1]["env"]


def test_shell_runs_in_the_account_context(
    record: Path, bridle, ctx: Accounts, tmp_path: Path
) -> None:
    add_account(ctx, "work", ["claude", "gemini"], "home")
    done = bridle("shell", "work", env={"EXIT_CODE": "5", "CLAUDECODE": "1"})
    assert done.returncode == 5
    assert "shell for account work" in done.stderr
    (rec,) = records(record)
    assert Path(rec["argv"][0]).name == "fake-shell" and rec["cwd"] == str(tmp_path)
    acct = ctx.store.dir("work") / "home"
    assert rec["env"]["HOME"] == str(acct)
    assert rec["env"]["CLAUDE_CONFIG_DIR"] == str(acct / ".claude")
    assert rec["env"]["GEMINI_CLI_HOME"] == str(acct)
    assert rec["env"]["BRIDLE_ACCOUNT"] == "work"
    assert "CLAUDECODE" not in rec["env"]
    assert bridle("shell").returncode == 0  # the default account
    assert records(record)[-1]["env"]["BRIDLE_ACCOUNT"] == "work"


def test_mcp_sync_command(bridle, ctx: Accounts, home: Path) -> None:
    add_account(ctx, "a", ["claude"], "config-dir")
    add_account(ctx, "b", ["claude"], "config-dir")
    add_account(ctx, "c", ["codex"], "config-dir")
    primary = home / ".claude.json"
    primary.write_text(json.dumps({"oauthAccount": {"emailAddress": "me@x"}, "numStartups": 3}))
    os.chmod(primary, 0o644)
    a_json = ctx.paths("a").claude_json
    a_json.write_text(
        json.dumps({"oauthAccount": {"emailAddress": "a@x"}, "mcpServers": {"s": {"command": "s"}}})
    )

    done = bridle("mcp", "sync")
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "a: added to primary: s (1 server(s))\nb: added to account: s (1 server(s))\n"
    )
    assert json.loads(primary.read_text()) == {
        "oauthAccount": {"emailAddress": "me@x"},
        "numStartups": 3,
        "mcpServers": {"s": {"command": "s"}},
    }
    assert primary.stat().st_mode & 0o777 == 0o644

    # Removed from b: gone everywhere after the next syncs, and it stays gone.
    b_json = ctx.paths("b").claude_json
    b_data = json.loads(b_json.read_text())
    b_json.write_text(json.dumps({**b_data, "mcpServers": {}}))
    assert bridle("mcp", "sync", "b").returncode == 0
    report = json.loads(bridle("mcp", "sync", "--json").stdout)
    assert report["a"]["removed_from_account"] == ["s"]
    assert bridle("mcp", "sync").stdout == "a: in sync (0 server(s))\nb: in sync (0 server(s))\n"
    assert json.loads(primary.read_text())["mcpServers"] == {}
    assert json.loads(a_json.read_text()) == {
        "oauthAccount": {"emailAddress": "a@x"},
        "mcpServers": {},
    }

    wrong = bridle("mcp", "sync", "c")
    assert wrong.returncode == 64 and "has no claude" in wrong.stderr
    assert bridle("mcp", "sync", "ghost").returncode == 64


def test_portal_without_tmux_explains_and_launches_directly(
    record: Path, bridle, ctx: Accounts
) -> None:
    add_account(ctx, "work", ["claude"], "config-dir")
    done = bridle("launch", "work", "--portal", env={"PATH": "/nonexistent", "EXIT_CODE": "3"})
    assert done.returncode == 3
    assert "tmux is not installed, so the portal is off: launched directly" in done.stderr
    assert len(records(record)) == 1


def _on_a_terminal(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """Start `argv` with a pty as stdin/stdout (drained in the background)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=subprocess.PIPE, env=env, cwd=cwd, text=True
    )
    os.close(slave)

    def drain() -> None:
        try:
            while os.read(master, 4096):
                pass
        except OSError:
            pass
        finally:
            os.close(master)

    threading.Thread(target=drain, daemon=True).start()
    return proc


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_portal_on_a_terminal_runs_in_tmux_then_reattaches(
    record: Path, ctx: Accounts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sock = tmp_path / "tmux"
    sock.mkdir()
    monkeypatch.setenv("TMUX_TMPDIR", str(sock))
    monkeypatch.delenv("TMUX", raising=False)
    # tmux runs a one-string command with $SHELL, which `record` made a recorder.
    env = {**os.environ, "TERM": "xterm", "MARKER": "from-the-launch", "SHELL": "/bin/sh"}
    project = tmp_path / "my.proj"
    project.mkdir()
    add_account(ctx, "work", ["claude"], "config-dir")
    argv = [sys.executable, "-m", "bridle", "launch", "work", "--portal", "--", "-p", "x"]
    try:
        first = _on_a_terminal(argv, env, project)
        _out, err = first.communicate(timeout=120)
        assert first.returncode == 0, err
        assert "bridle: tmux session my-proj/work/claude\n" in err
        (rec,) = records(record)
        assert rec["argv"][1:] == ["-p", "x"] and rec["cwd"] == str(project)
        assert rec["env"]["MARKER"] == "from-the-launch"  # the full environment
        assert rec["env"]["CLAUDE_CONFIG_DIR"] == str(ctx.store.dir("work") / "home" / ".claude")
        assert "TMUX" in rec["env"]  # it did run inside tmux

        # A fresh server: the first one may still be shutting down.
        (tmp_path / "tmux2").mkdir()
        env["TMUX_TMPDIR"] = str(tmp_path / "tmux2")
        name = "my-proj/work/claude"
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", name, "sleep", "600"], env=env, check=True
        )
        second = _on_a_terminal(argv, env, project)
        while not subprocess.run(
            ["tmux", "list-clients", "-t", f"={name}"], env=env, capture_output=True, text=True
        ).stdout.strip():
            assert second.poll() is None, second.stderr.read() if second.stderr else ""
            time.sleep(0.05)
        subprocess.run(["tmux", "kill-session", "-t", f"={name}"], env=env, check=True)
        _out, err = second.communicate(timeout=120)
        assert "bridle: tmux session my-proj/work/claude (reattached)\n" in err
        assert len(records(record)) == 1  # reattached, not started again
    finally:
        for server in ("tmux", "tmux2"):
            env["TMUX_TMPDIR"] = str(tmp_path / server)
            subprocess.run(["tmux", "kill-server"], env=env, capture_output=True)


@pytest.mark.parametrize(("answer", "kept"), [("n", True), ("y", False)])
def test_rm_asks_on_a_terminal(ctx: Accounts, answer: str, kept: bool, tmp_path: Path) -> None:
    add_account(ctx, "work", ["claude"], "config-dir")
    master, slave = pty.openpty()
    os.write(master, f"{answer}\n".encode())  # typed ahead of the prompt
    proc = subprocess.run(
        [sys.executable, "-m", "bridle", "accounts", "rm", "work"],
        stdin=slave, stdout=slave, stderr=subprocess.PIPE, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        shown += chunk
        if not chunk or b"Removed" in shown or b"Abort" in proc.stderr + shown:
            break
    os.close(master)
    assert b"Remove account work and its credentials?" in shown + proc.stderr
    assert proc.returncode == (130 if kept else 0)  # "no" aborts, as Ctrl-C does
    assert ctx.store.exists("work") is kept
