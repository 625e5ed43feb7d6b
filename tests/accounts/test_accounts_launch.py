"""Launching under accounts: the pure command line and environment, then `bridle
launch/exec` end to end against a recording launcher (a script standing in for the
CLI binary that records argv, env and cwd), signal forwarding, the cwd fallback,
last-session recording, and the tmux portal against real tmux."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bridle.accounts.launch import LaunchPlan, account_env, command_line, portal_argv, portal_name
from bridle.accounts.layout import account_paths
from bridle.accounts.manage import add_account
from bridle.accounts.runner import Accounts
from bridle.accounts.specs import TOOLS
from bridle.accounts.store import Account

RECORDER = """#!{python}
import json, os, sys, pathlib
tool = pathlib.Path(sys.argv[0]).name
out = {{"tool": tool, "argv": sys.argv[1:], "cwd": os.getcwd(),
        "env": {{k: v for k, v in os.environ.items()}}}}
with open(os.environ["RECORD"], "a") as f:
    f.write(json.dumps(out) + "\\n")
session = os.environ.get("WRITE_SESSION")
if session and tool == "claude":
    d = pathlib.Path(os.environ["CLAUDE_CONFIG_DIR"]) / "projects" / "-work-proj"
    d.mkdir(parents=True, exist_ok=True)
    (d / (session + ".jsonl")).write_text(json.dumps({{"cwd": os.getcwd(), "sessionId": session}}) + "\\n")
sys.exit(int(os.environ.get("EXIT_CODE", "0")))
"""


@pytest.fixture
def clis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A BRIDLE_CLI_PATH directory whose four CLIs record how they were started."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in TOOLS:
        script = bin_dir / name
        script.write_text(RECORDER.format(python=sys.executable))
        script.chmod(0o755)
    monkeypatch.setenv("BRIDLE_CLI_PATH", str(bin_dir))
    monkeypatch.setenv("RECORD", str(tmp_path / "record.jsonl"))
    return tmp_path / "record.jsonl"


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize(
    ("tool", "kwargs", "argv"),
    [
        ("claude", {}, ["claude"]),
        (
            "claude",
            {"yolo": True, "args": ["-p", "hi"]},
            ["claude", "--dangerously-skip-permissions", "-p", "hi"],
        ),
        ("claude", {"resume_id": "S1"}, ["claude", "--resume", "S1"]),
        (
            "claude",
            {"resume_latest": True, "yolo": True},
            ["claude", "--dangerously-skip-permissions", "--continue"],
        ),
        ("codex", {"yolo": True}, ["codex", "--dangerously-bypass-approvals-and-sandbox"]),
        (
            "codex",
            {"resume_id": "S1", "yolo": True, "args": ["go on"]},
            ["codex", "resume", "S1", "--dangerously-bypass-approvals-and-sandbox", "go on"],
        ),
        ("codex", {"resume_latest": True}, ["codex", "resume", "--last"]),
        ("gemini", {"yolo": True, "resume_id": "S1"}, ["gemini", "--yolo", "--resume", "S1"]),
        ("gemini", {"resume_latest": True}, ["gemini", "--resume", "latest"]),
        (
            "copilot",
            {"yolo": True, "resume_id": "S1"},
            ["copilot", "--allow-all-tools", "--resume=S1"],
        ),
        ("copilot", {"resume_latest": True}, ["copilot", "--continue"]),
    ],
)
def test_command_line(tool: str, kwargs: dict, argv: list[str]) -> None:
    assert command_line(TOOLS[tool], tool, **kwargs) == argv


def test_account_env_config_dir_and_home(tmp_path: Path) -> None:
    real_home = tmp_path / "me"
    accounts_root = tmp_path / "b" / "accounts"
    paths = account_paths(accounts_root / "w", {"HOME": str(real_home)})
    base = {
        "HOME": str(real_home), "PATH": "/bin", "CLAUDECODE": "1", "CLAUDE_CODE_ENTRYPOINT": "cli",
        "CODEX_SANDBOX": "seatbelt", "XDG_CONFIG_HOME": str(real_home / ".config"),
    }  # fmt: skip
    account = Account(name="w", providers=["claude", "gemini"], isolation="config-dir")
    env = account_env(
        base,
        account=account,
        paths=paths,
        accounts_root=accounts_root,
        oauth_token="sk-ant-oat01-x",
    )
    assert env == {
        "HOME": str(real_home),
        "PATH": "/bin",
        "XDG_CONFIG_HOME": str(real_home / ".config"),
        "CLAUDE_CONFIG_DIR": str(accounts_root / "w" / "home" / ".claude"),
        "GEMINI_CLI_HOME": str(accounts_root / "w" / "home"),
        "CLAUDE_CODE_OAUTH_TOKEN": "sk-ant-oat01-x",
        "BRIDLE_HOME": str(tmp_path / "b"),
        "BRIDLE_ACCOUNT": "w",
    }
    account.isolation = "home"
    env = account_env(base, account=account, paths=paths, accounts_root=accounts_root)
    assert env["HOME"] == str(accounts_root / "w" / "home")
    assert env["BRIDLE_REAL_HOME"] == str(real_home)
    assert "XDG_CONFIG_HOME" not in env  # it would point the tools back at the real HOME

    # Native, from inside that account's shell: back to the real setup.
    native = account_env(
        {**env, "CODEX_HOME": "/opt/my-codex"},
        account=None,
        paths=None,
        accounts_root=accounts_root,
    )
    assert native["HOME"] == str(real_home)
    assert "CLAUDE_CONFIG_DIR" not in native and "GEMINI_CLI_HOME" not in native
    assert native["CODEX_HOME"] == "/opt/my-codex"  # the user's own choice is kept
    assert native["BRIDLE_ACCOUNT"] == "native"


def test_launch_runs_the_tool_with_the_account_env(
    ctx: Accounts, clis: Path, bridle, home: Path, tmp_path: Path
) -> None:
    add_account(ctx, "work", ["claude", "gemini"], "config-dir")
    done = bridle(
        "launch",
        "work",
        "--yolo",
        "--",
        "-p",
        "hi",
        env={"CLAUDECODE": "1", "CLAUDE_CODE_ENTRYPOINT": "sdk-py", "EXIT_CODE": "7"},
    )
    assert done.returncode == 7, done.stderr
    (rec,) = records(clis)
    assert rec["argv"] == ["--dangerously-skip-permissions", "-p", "hi"]
    assert rec["env"]["CLAUDE_CONFIG_DIR"] == str(ctx.store.dir("work") / "home" / ".claude")
    assert rec["env"]["HOME"] == str(home)
    assert "CLAUDECODE" not in rec["env"] and "CLAUDE_CODE_ENTRYPOINT" not in rec["env"]
    assert rec["cwd"] == str(tmp_path)

    assert bridle("launch", "work", "gemini", "--resume").returncode == 0
    rec = records(clis)[-1]
    assert rec["argv"] == ["--resume", "latest"]
    assert rec["env"]["GEMINI_CLI_HOME"] == str(ctx.store.dir("work") / "home")
    assert os.readlink(ctx.store.dir("work") / "home" / ".gemini" / "tmp") == str(
        home / ".gemini" / "tmp"
    )


def test_launch_default_account_and_missing_tool(ctx: Accounts, clis: Path, bridle) -> None:
    add_account(ctx, "work", ["claude"], "config-dir")
    done = bridle("launch", "work", "codex")
    assert done.returncode == 64
    assert "bridle accounts add-provider work codex" in done.stderr
    done = bridle("launch", "work", "claude", env={"BRIDLE_CLI_PATH": "", "PATH": "/nonexistent"})
    assert done.returncode == 1
    assert "BRIDLE_CLI_PATH" in done.stderr


def test_session_is_recorded_shared_and_resumable_from_another_account(
    ctx: Accounts, clis: Path, bridle, home: Path, tmp_path: Path
) -> None:
    add_account(ctx, "a", ["claude"], "config-dir")
    add_account(ctx, "b", ["claude"], "config-dir")
    project = tmp_path / "proj"
    project.mkdir()
    sid = "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert bridle("launch", "a", "claude", cwd=project, env={"WRITE_SESSION": sid}).returncode == 0
    shared = home / ".claude" / "projects" / "-work-proj" / f"{sid}.jsonl"
    assert json.loads(shared.read_text())["cwd"] == str(project)
    last = json.loads((home / ".bridle" / "last-sessions.json").read_text())
    assert last["a:claude"]["id"] == sid and last["last"]["account"] == "a"
    shown = json.loads(bridle("accounts", "show", "a", "--json").stdout)
    assert shown["providers"]["claude"]["last_session"] == sid
    assert shown["providers"]["claude"]["last_used"]

    # From b, anywhere: bridle finds the session and resumes it in its directory.
    done = bridle("launch", "b", "claude", "--resume", sid, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rec = records(clis)[-1]
    assert rec["argv"] == ["--resume", sid]
    assert rec["cwd"] == str(project)
    assert f"resuming in the session's directory {project}" in done.stderr

    project.rmdir()
    done = bridle("launch", "b", "claude", "--resume", sid, cwd=tmp_path)
    assert done.returncode == 0
    assert records(clis)[-1]["cwd"] == str(tmp_path)
    assert (
        f"the session's directory {project} no longer exists; resuming from {tmp_path} instead"
        in done.stderr
    )


CHILD = """
import os, signal, sys, pathlib
log = pathlib.Path(sys.argv[1])
def on(signum, frame):
    with log.open("a") as f:
        f.write(signal.Signals(signum).name + "\\n")
    if signum == signal.SIGTERM:
        sys.exit(40)
for s in (signal.SIGINT, signal.SIGHUP, signal.SIGWINCH, signal.SIGTERM):
    signal.signal(s, on)
log.write_text("ready\\n")
while True:
    signal.pause()
"""


def test_exec_forwards_signals_and_returns_the_exit_code(ctx: Accounts, tmp_path: Path) -> None:
    add_account(ctx, "work", ["claude"], "config-dir")
    log = tmp_path / "signals.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bridle",
            "exec",
            "work",
            "--",
            sys.executable,
            "-c",
            CHILD,
            str(log),
        ],
        stdin=subprocess.DEVNULL,
    )
    while not (log.exists() and log.read_text().startswith("ready")):
        assert proc.poll() is None, "bridle exited before the child was ready"
        time.sleep(0.05)
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGWINCH):
        proc.send_signal(sig)
        while sig.name not in log.read_text():
            time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 40
    assert log.read_text().split() == ["ready", "SIGINT", "SIGHUP", "SIGWINCH", "SIGTERM"]


def test_exec_reports_a_signal_death_as_128_plus_n(ctx: Accounts, bridle) -> None:
    add_account(ctx, "work", ["claude"], "config-dir")
    done = bridle(
        "exec",
        "work",
        "--",
        sys.executable,
        "-c",
        "import os, signal; os.kill(os.getpid(), signal.SIGKILL)",
    )
    assert done.returncode == 128 + signal.SIGKILL


def test_native_launch_drops_an_outer_account_config(ctx: Accounts, clis: Path, bridle) -> None:
    add_account(ctx, "work", ["claude"], "config-dir")
    inside = str(ctx.store.dir("work") / "home" / ".claude")
    assert bridle("launch", "native", "claude", env={"CLAUDE_CONFIG_DIR": inside}).returncode == 0
    rec = records(clis)[-1]
    assert "CLAUDE_CONFIG_DIR" not in rec["env"]
    assert rec["env"]["BRIDLE_ACCOUNT"] == "native"


def test_portal_off_the_terminal_explains_and_launches_directly(
    ctx: Accounts, clis: Path, bridle
) -> None:
    add_account(ctx, "work", ["claude"], "config-dir")
    done = bridle("launch", "work", "--portal")
    assert done.returncode == 0
    assert "not on a terminal, so the portal is off: launched directly" in done.stderr
    assert len(records(clis)) == 1


@pytest.mark.parametrize(
    ("parts", "name"),
    [
        (("my.app", "work", "claude"), "my-app/work/claude"),
        (("a:b c", "x", "codex"), "a-b-c/x/codex"),
        (("...", "w", "gemini"), "x/w/gemini"),
    ],
)
def test_portal_names_are_tmux_safe(parts: tuple[str, str, str], name: str) -> None:
    assert portal_name(*parts) == name


@pytest.fixture
def tmux_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A private tmux server (its own socket dir), killed afterwards."""
    sock = tmp_path / "tmux"
    sock.mkdir()
    monkeypatch.setenv("TMUX_TMPDIR", str(sock))
    monkeypatch.delenv("TMUX", raising=False)
    yield dict(os.environ)
    subprocess.run(["tmux", "kill-server"], env=dict(os.environ), capture_output=True)


def test_portal_creates_a_session_with_the_full_env_then_reattaches(
    tmux_env: dict, tmp_path: Path
) -> None:
    plan = LaunchPlan(
        ["sleep", "600"], {**tmux_env, "CLAUDE_CONFIG_DIR": "/acct/.claude"}, str(tmp_path)
    )
    name = portal_name("proj", "work", "claude")
    create, switch = portal_argv(plan, name, session_exists=False, inside_tmux=True)
    assert create[:3] == ["tmux", "new-session", "-d"] and create[-3:] == ["--", "sleep", "600"]
    assert switch == ["tmux", "switch-client", "-t", "=proj/work/claude"]
    subprocess.run(create, env=tmux_env, check=True)
    shown = subprocess.run(
        ["tmux", "show-environment", "-t", f"={name}", "CLAUDE_CONFIG_DIR"],
        env=tmux_env,
        capture_output=True,
        text=True,
    )
    assert shown.stdout.strip() == "CLAUDE_CONFIG_DIR=/acct/.claude"
    cwd = subprocess.run(
        ["tmux", "display-message", "-p", "-t", f"={name}:", "#{pane_current_path}"],
        env=tmux_env,
        capture_output=True,
        text=True,
    )
    assert cwd.stdout.strip() == str(tmp_path)
    from bridle.accounts.runner import tmux_session_exists

    assert tmux_session_exists("tmux", name, tmux_env)
    assert portal_argv(plan, name, session_exists=True, inside_tmux=False) == [
        ["tmux", "attach-session", "-t", f"={name}"]
    ]


def test_rename_updates_every_reference(ctx: Accounts, tmux_env: dict, bridle, home: Path) -> None:
    add_account(ctx, "old", ["claude"], "config-dir")
    assert (
        bridle("accounts", "keys", "set", "old", "OPENAI_API_KEY", input="sk-test\n").returncode
        == 0
    )
    (home / ".bridle" / "last-sessions.json").write_text(
        json.dumps(
            {"old:claude": {"account": "old", "id": "S"}, "last": {"account": "old", "id": "S"}}
        )
    )
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", "proj/old/claude", "sleep", "600"],
        env=tmux_env,
        check=True,
    )
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", "proj/older/claude", "sleep", "600"],
        env=tmux_env,
        check=True,
    )

    done = bridle("accounts", "rename", "old", "fresh")
    assert done.returncode == 0, done.stderr

    assert ctx.store.names() == ["fresh"]
    assert ctx.store.default() == "fresh"
    assert ctx.store.load("fresh").name == "fresh"
    assert json.loads((ctx.store.dir("fresh") / "account.json").read_text())["name"] == "fresh"
    from bridle.accounts.keys import account_keys

    assert account_keys("fresh") == {"OPENAI_API_KEY": "sk-test"}
    assert json.loads((home / ".bridle" / "last-sessions.json").read_text()) == {
        "fresh:claude": {"account": "fresh", "id": "S"},
        "last": {"account": "fresh", "id": "S"},
    }
    listed = subprocess.run(
        ["tmux", "list-sessions", "-F", "#{session_name}"],
        env=tmux_env,
        capture_output=True,
        text=True,
    )
    assert sorted(listed.stdout.split()) == ["proj/fresh/claude", "proj/older/claude"]
    assert os.readlink(ctx.store.dir("fresh") / "home" / ".claude" / "projects") == str(
        home / ".claude" / "projects"
    )
    assert bridle("accounts", "rename", "fresh", "bad name").returncode == 64
