"""MCP sync: the three-way merge table, the file-level rules (only `mcpServers`
changes, modes kept, corrupt files untouched, Claude Code's lock honoured) and 20
concurrent syncs racing a Claude-Code-like rewriter of `~/.claude.json`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bridle.accounts.files import config_lock
from bridle.accounts.manage import add_account
from bridle.accounts.mcp_sync import merge_servers, sync_claude_mcp
from bridle.accounts.runner import Accounts
from bridle.core.errors import UserError

A = {"command": "a"}
A2 = {"command": "a2"}
B = {"command": "b"}


@pytest.mark.parametrize(
    ("primary", "account", "base", "merged"),
    [
        ({}, {}, None, {}),
        ({"a": A}, {"b": B}, None, {"a": A, "b": B}),  # first sync: union
        ({"a": A}, {"a": A2}, None, {"a": A2}),  # first sync clash: account wins
        ({"a": A, "b": B}, {"a": A}, {"a": A}, {"a": A, "b": B}),  # added in primary
        ({"a": A}, {"a": A, "b": B}, {"a": A}, {"a": A, "b": B}),  # added in account
        ({"a": A}, {"a": A, "b": B}, {"a": A, "b": B}, {"a": A}),  # deleted in primary
        ({"a": A, "b": B}, {"a": A}, {"a": A, "b": B}, {"a": A}),  # deleted in account
        ({"a": A2}, {"a": A}, {"a": A}, {"a": A2}),  # changed in primary
        ({"a": A}, {"a": A2}, {"a": A}, {"a": A2}),  # changed in account
        ({}, {"a": A2}, {"a": A}, {"a": A2}),  # deleted there, changed here: change wins
        ({"a": A2}, {}, {"a": A}, {"a": A2}),
        ({}, {}, {"a": A}, {}),  # deleted on both sides
    ],
)
def test_merge_table(primary: dict, account: dict, base: dict | None, merged: dict) -> None:
    assert merge_servers(primary, account, base) == merged


def test_sync_touches_only_mcp_servers_and_keeps_modes(tmp_path: Path) -> None:
    primary, account, state = (
        tmp_path / ".claude.json",
        tmp_path / "acct.json",
        tmp_path / "state.json",
    )
    primary.write_text(
        json.dumps(
            {
                "oauthAccount": {"emailAddress": "me@x"},
                "projects": {"/p": {}},
                "mcpServers": {"a": A},
            }
        )
    )
    account.write_text(json.dumps({"oauthAccount": {"emailAddress": "work@x"}, "numStartups": 3}))
    os.chmod(primary, 0o644)
    os.chmod(account, 0o600)

    result = sync_claude_mcp(primary, account, state)

    assert (result.added_to_account, result.added_to_primary) == (["a"], [])
    assert json.loads(primary.read_text()) == {
        "oauthAccount": {"emailAddress": "me@x"},
        "projects": {"/p": {}},
        "mcpServers": {"a": A},
    }
    assert json.loads(account.read_text()) == {
        "oauthAccount": {"emailAddress": "work@x"},
        "numStartups": 3,
        "mcpServers": {"a": A},
    }
    assert primary.stat().st_mode & 0o777 == 0o644
    assert account.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [".claude.json", "acct.json", "state.json"]

    # The account removes it; the next sync removes it from primary too, for good.
    data = json.loads(account.read_text())
    data["mcpServers"] = {}
    account.write_text(json.dumps(data))
    result = sync_claude_mcp(primary, account, state)
    assert result.removed_from_primary == ["a"]
    assert json.loads(primary.read_text())["mcpServers"] == {}
    assert sync_claude_mcp(primary, account, state).changed is False


def test_sync_writes_through_a_symlinked_config(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "claude.json"
    real.parent.mkdir()
    real.write_text(json.dumps({"mcpServers": {"a": A}}))
    primary = tmp_path / ".claude.json"
    primary.symlink_to(real)
    sync_claude_mcp(primary, tmp_path / "acct.json", tmp_path / "state.json")
    data = json.loads((tmp_path / "acct.json").read_text())
    data["mcpServers"]["b"] = B
    (tmp_path / "acct.json").write_text(json.dumps(data))
    sync_claude_mcp(primary, tmp_path / "acct.json", tmp_path / "state.json")
    assert primary.is_symlink()
    assert json.loads(real.read_text())["mcpServers"] == {"a": A, "b": B}


@pytest.mark.parametrize("text", ["{broken", '{"mcpServers": [1]}'])
def test_a_corrupt_config_is_never_written(tmp_path: Path, text: str) -> None:
    primary = tmp_path / ".claude.json"
    primary.write_text(text)
    account = tmp_path / "acct.json"
    account.write_text(json.dumps({"mcpServers": {"a": A}}))
    with pytest.raises(UserError, match="fix it by hand"):
        sync_claude_mcp(primary, account, tmp_path / "state.json")
    assert primary.read_text() == text
    assert not (tmp_path / "state.json").exists()
    assert not Path(f"{primary}.lock").exists() and not Path(f"{account}.lock").exists()


def test_a_held_lock_is_waited_for_and_a_stale_one_taken_over(tmp_path: Path) -> None:
    primary = tmp_path / ".claude.json"
    primary.write_text(json.dumps({"mcpServers": {"a": A}}))
    lock = Path(f"{primary}.lock")
    lock.mkdir()
    done = threading.Event()

    def sync() -> None:
        sync_claude_mcp(primary, tmp_path / "acct.json", tmp_path / "state.json")
        done.set()

    worker = threading.Thread(target=sync)
    worker.start()
    # While the (fresh) lock is held nothing is written.
    assert not done.wait(0.5)
    assert not (tmp_path / "acct.json").exists()
    os.rmdir(lock)
    worker.join()
    assert json.loads((tmp_path / "acct.json").read_text())["mcpServers"] == {"a": A}

    lock.mkdir()
    os.utime(lock, (0, 0))  # its holder died long ago
    with config_lock(primary):
        assert lock.is_dir()
    assert not lock.exists()


def test_lock_gives_up_with_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    Path(f"{target}.lock").mkdir()
    clock = iter(range(0, 1000, 5))
    with (
        pytest.raises(UserError, match="remove that directory"),
        config_lock(
            target,
            timeout=20,
            clock=lambda: float(next(clock)),
            sleep=lambda _s: None,
            stale=10_000,
        ),
    ):
        pass


def test_twenty_parallel_launches_racing_claude_code_lose_nothing(
    ctx: Accounts, home: Path, tmp_path: Path
) -> None:
    names = [f"acct{i}" for i in range(5)]
    for name in names:
        add_account(ctx, name, ["claude"], "config-dir")
        (ctx.paths(name).claude_json).write_text(
            json.dumps(
                {
                    "oauthAccount": {"emailAddress": f"{name}@x"},
                    "mcpServers": {f"srv-{name}": {"command": name}},
                }
            )
        )
    primary = home / ".claude.json"
    primary.write_text(
        json.dumps({"oauthAccount": {"emailAddress": "me@x"}, "mcpServers": {"base": A}})
    )

    invalid: list[str] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                json.loads(primary.read_text())
            except json.JSONDecodeError as e:
                invalid.append(str(e))

    watcher = threading.Thread(target=watch)
    watcher.start()
    stop_file = tmp_path / "stop"
    rewriter = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("claude_json_rewriter.py")),
            str(primary),
            str(stop_file),
            "50",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    # 20 launches (each syncs before and after the tool runs) plus explicit syncs.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "claude").symlink_to(shutil.which("true") or "/bin/true")
    env = {**os.environ, "BRIDLE_CLI_PATH": str(bin_dir)}
    commands = [["launch", names[i % len(names)], "claude"] for i in range(20)]
    commands += [["mcp", "sync", name] for name in names]
    syncs = [
        subprocess.Popen(
            [sys.executable, "-m", "bridle", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for args in commands
    ]
    errors = [p.communicate(timeout=240)[1] for p in syncs]
    stop_file.touch()
    ticks = int(rewriter.communicate(timeout=240)[0])
    stop.set()
    watcher.join()

    assert [p.returncode for p in syncs] == [0] * len(commands), errors
    assert invalid == []
    final = json.loads(primary.read_text())
    assert final["oauthAccount"] == {"emailAddress": "me@x"}
    assert [final.get(f"tick{i}") for i in range(ticks)] == list(range(ticks))
    assert final["numStartups"] == ticks
    servers = {"base": A} | {f"srv-{n}": {"command": n} for n in names}
    assert final["mcpServers"] == servers
    for name in names:  # one more round carries everything to every account
        ctx.sync_mcp(name)
        data = json.loads(ctx.paths(name).claude_json.read_text())
        assert data == {"oauthAccount": {"emailAddress": f"{name}@x"}, "mcpServers": servers}
    assert not list(home.glob(".claude.json.*")) and not Path(f"{primary}.lock").exists()
