"""Defect 17 (accounts parts). `bridle exec -- CMD` runs under the account of the
surrounding `bridle shell` (BRIDLE_ACCOUNT), else the default account, as `launch`
and `shell` do; and `Work` cannot be added, or renamed to, when `work` exists (a
case-insensitive filesystem, as on macOS, would merge their directories)."""

from __future__ import annotations

import json

import pytest

from bridle.accounts.manage import add_account
from bridle.accounts.runner import Accounts
from bridle.core.errors import UsageError

PRINT_ACCOUNT = ("sh", "-c", 'printf "%s" "$BRIDLE_ACCOUNT"')


def test_exec_without_account_uses_shell_account_then_default(bridle, ctx: Accounts) -> None:
    none = bridle("exec", "--", *PRINT_ACCOUNT)
    assert none.returncode == 64
    assert "no account given and no default set" in none.stderr
    add_account(ctx, "work", ["claude"], "config-dir")  # the first becomes the default
    add_account(ctx, "play", ["claude"], "config-dir")
    done = bridle("exec", "--", *PRINT_ACCOUNT)
    assert (done.returncode, done.stdout) == (0, "work")
    inside = bridle("exec", "--", *PRINT_ACCOUNT, env={"BRIDLE_ACCOUNT": "play"})
    assert (inside.returncode, inside.stdout) == (0, "play")
    # An account named before `--` still wins, and a stale BRIDLE_ACCOUNT is ignored.
    named = bridle("exec", "play", "--", *PRINT_ACCOUNT, env={"BRIDLE_ACCOUNT": "work"})
    assert (named.returncode, named.stdout) == (0, "play")
    stale = bridle("exec", "--", *PRINT_ACCOUNT, env={"BRIDLE_ACCOUNT": "gone"})
    assert (stale.returncode, stale.stdout) == (0, "work")
    # Without `--` the first word is the account, as before.
    plain = bridle("exec", "play", "sh", "-c", 'printf "%s" "$BRIDLE_ACCOUNT"')
    assert (plain.returncode, plain.stdout) == (0, "play")
    empty = bridle("exec", "work", "--")
    assert empty.returncode == 64 and "give the command to run" in empty.stderr


def test_account_names_differing_only_in_case_are_refused(bridle, ctx: Accounts) -> None:
    assert bridle("accounts", "add", "work").returncode == 0
    done = bridle("accounts", "add", "Work")
    assert done.returncode == 64
    assert done.stderr == (
        "bridle: account 'work' already exists, and names that differ only in case would "
        "share one directory on macOS and Windows; choose another name, or use 'work'.\n"
    )
    assert not ctx.store.dir("Work").exists()
    assert bridle("accounts", "add", "other").returncode == 0
    renamed = bridle("accounts", "rename", "other", "WORK")
    assert renamed.returncode == 64
    assert "account 'work' already exists, and names that differ only in case" in renamed.stderr
    assert ctx.store.names() == ["other", "work"]
    # Changing only the case of an account's own name is a rename like any other.
    assert bridle("accounts", "rename", "other", "Other").returncode == 0
    assert ctx.store.names() == ["Other", "work"]
    missing = bridle("accounts", "show", "WORK")
    assert missing.returncode == 64
    assert "no account named 'WORK'; did you mean 'work'?" in missing.stderr


def test_store_refuses_case_variants_directly(ctx: Accounts) -> None:
    add_account(ctx, "Team", ["claude"], "config-dir")
    with pytest.raises(UsageError, match="account 'Team' already exists, and names"):
        add_account(ctx, "team", ["claude"], "config-dir")
    assert ctx.store.names() == ["Team"]
    assert json.loads((ctx.store.dir("Team") / "account.json").read_text())["name"] == "Team"
