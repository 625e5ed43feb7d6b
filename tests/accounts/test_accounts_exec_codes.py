"""`bridle exec` exits like a shell when the command cannot run (defect 14): a
command that is not found exits 127 with `bridle: CMD: command not found`, a path
that does not exist 127, and one that is found but cannot be executed 126."""

from __future__ import annotations

from pathlib import Path

from bridle.accounts.manage import add_account
from bridle.accounts.runner import Accounts


def test_exec_command_not_found_exits_127(bridle, ctx: Accounts) -> None:
    add_account(ctx, "work", ["claude"], "config-dir")
    done = bridle("exec", "work", "--", "nosuchcmd", "arg")
    assert (done.returncode, done.stdout) == (127, "")
    assert done.stderr == "bridle: nosuchcmd: command not found\n"
    missing = bridle("exec", "work", "--", "./no/such/file")
    assert (missing.returncode, missing.stderr) == (
        127,
        "bridle: ./no/such/file: No such file or directory\n",
    )


def test_exec_found_but_not_executable_exits_126(bridle, ctx: Accounts, tmp_path: Path) -> None:
    add_account(ctx, "work", ["claude"], "config-dir")
    script = tmp_path / "script.sh"
    script.write_text("echo hi\n")
    script.chmod(0o644)
    done = bridle("exec", "work", "--", "./script.sh")
    assert (done.returncode, done.stdout) == (126, "")
    assert done.stderr == "bridle: ./script.sh: Permission denied\n"
    a_dir = bridle("exec", "work", "--", str(tmp_path))
    assert (a_dir.returncode, a_dir.stderr) == (126, f"bridle: {tmp_path}: Is a directory\n")
