"""Harness keys (`bridle accounts keys`, `account_keys`) and the Claude long-lived
token (`bridle accounts setup-token`): values from stdin, 0600 files or a keyring,
never printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridle.accounts import account_keys
from bridle.accounts.keys import KeyStore, check_oauth_token
from bridle.accounts.manage import add_account, remove_account
from bridle.accounts.runner import Accounts
from bridle.core.errors import UsageError


class MemoryKeyring:
    """A keyring backend that keeps secrets in a dict (keyring's own interface)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.items[(service, username)]


def test_keys_cli_file_backend(ctx: Accounts, bridle) -> None:
    add_account(ctx, "work", ["claude"], "config-dir")
    done = bridle("accounts", "keys", "set", "work", "ANTHROPIC_API_KEY", input="sk-ant-secret-1\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Stored ANTHROPIC_API_KEY for work (file).\n"
    bridle("accounts", "keys", "set", "work", "OPENAI_API_KEY", input="sk-openai-2")
    path = ctx.store.dir("work") / "keys.json"
    assert path.stat().st_mode & 0o777 == 0o600

    listed = bridle("accounts", "keys", "list", "work")
    assert listed.stdout == "ANTHROPIC_API_KEY  (file)\nOPENAI_API_KEY  (file)\n"
    as_json = json.loads(bridle("accounts", "keys", "list", "work", "--json").stdout)
    assert as_json == {
        "account": "work",
        "keys": [
            {"name": "ANTHROPIC_API_KEY", "where": "file"},
            {"name": "OPENAI_API_KEY", "where": "file"},
        ],
    }
    assert "sk-" not in listed.stdout + listed.stderr + json.dumps(as_json)

    assert account_keys("work") == {
        "ANTHROPIC_API_KEY": "sk-ant-secret-1",
        "OPENAI_API_KEY": "sk-openai-2",
    }
    assert bridle("accounts", "keys", "rm", "work", "OPENAI_API_KEY").returncode == 0
    assert account_keys("work") == {"ANTHROPIC_API_KEY": "sk-ant-secret-1"}


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["set", "work", "1BAD"], "x", "not an environment variable name"),
        (["set", "work", "GOOD"], "", "must be one non-empty line"),
        (["set", "ghost", "GOOD"], "x", "bridle accounts add ghost"),
        (["rm", "work", "NOPE"], "", "has no key NOPE"),
    ],
)
def test_keys_cli_errors(ctx: Accounts, bridle, args: list[str], stdin: str, message: str) -> None:
    add_account(ctx, "work", ["claude"], "config-dir")
    done = bridle("accounts", "keys", *args, input=stdin)
    assert done.returncode == 64
    assert message in done.stderr


def test_keyring_backend_keeps_values_out_of_files(ctx: Accounts) -> None:
    add_account(ctx, "work", ["claude"], "config-dir")
    ring = MemoryKeyring()
    keys = KeyStore(ctx.store.dir("work"), "work", ring)
    assert keys.set("ANTHROPIC_API_KEY", "sk-ring") == "keyring"
    assert ring.items == {("bridle:work", "ANTHROPIC_API_KEY"): "sk-ring"}
    assert "sk-ring" not in (ctx.store.dir("work") / "keys.json").read_text()
    assert keys.values() == {"ANTHROPIC_API_KEY": "sk-ring"}
    assert keys.where("ANTHROPIC_API_KEY") == "keyring"
    keys.move_to("renamed")
    assert ring.items == {("bridle:renamed", "ANTHROPIC_API_KEY"): "sk-ring"}
    keys.remove("ANTHROPIC_API_KEY")
    assert ring.items == {} and keys.names() == []


def test_account_keys_of_an_unknown_account_says_how_to_fix() -> None:
    with pytest.raises(UsageError, match="create it with `bridle accounts add nobody`"):
        account_keys("nobody")


@pytest.mark.parametrize(
    "token", ["sk-ant-api03-abcdefghijkl", "sk-ant-oat01-", "sk-ant-oat01-abc def ghijk", "hello"]
)
def test_bad_tokens_are_refused(token: str) -> None:
    with pytest.raises(UsageError, match=r"sk-ant-oat01-|one line"):
        check_oauth_token(token)


def test_setup_token_is_stored_0600_and_used_at_launch(
    ctx: Accounts, bridle, tmp_path: Path
) -> None:
    add_account(ctx, "work", ["claude"], "config-dir")
    bad = bridle("accounts", "setup-token", "work", input="sk-ant-api03-nope\n")
    assert bad.returncode == 64 and "claude setup-token" in bad.stderr
    assert not (ctx.store.dir("work") / "claude-oauth-token").exists()

    token = "sk-ant-oat01-" + "x" * 40
    done = bridle("accounts", "setup-token", "work", input=token + "\n")
    assert done.returncode == 0, done.stderr
    path = ctx.store.dir("work") / "claude-oauth-token"
    assert path.read_text() == token + "\n" and path.stat().st_mode & 0o777 == 0o600
    assert token not in done.stdout
    listed = json.loads(bridle("accounts", "list", "--json").stdout)
    assert listed["accounts"][0]["providers"]["claude"]["login"] == "token"
    out = bridle("exec", "work", "--", "sh", "-c", 'printf %s "$CLAUDE_CODE_OAUTH_TOKEN"')
    assert out.stdout == token


def test_list_reports_login_state_per_provider(ctx: Accounts, bridle) -> None:
    add_account(ctx, "a", ["claude", "codex", "gemini", "copilot"], "config-dir")
    add_account(ctx, "b", ["codex"], "home")
    paths = ctx.paths("a")
    (paths.home / ".claude" / ".claude.json").write_text(
        json.dumps({"oauthAccount": {"emailAddress": "a@x"}})
    )
    (paths.home / ".codex" / "auth.json").write_text("{}")
    listed = json.loads(bridle("accounts", "list", "--json").stdout)
    logins = {
        a["name"]: {p: v["login"] for p, v in a["providers"].items()} for a in listed["accounts"]
    }
    assert logins == {
        "a": {
            "claude": "logged in",
            "codex": "logged in",
            "gemini": "not logged in",
            "copilot": "not logged in",
        },
        "b": {"codex": "not logged in"},
    }
    assert [a["default"] for a in listed["accounts"]] == [True, False]
    text = bridle("accounts", "list").stdout
    assert text.splitlines()[0] == "* a  [config-dir]"


def test_rm_needs_yes_off_a_terminal(ctx: Accounts, bridle) -> None:
    add_account(ctx, "work", ["claude"], "config-dir")
    assert bridle("accounts", "rm", "work").returncode == 64  # not a TTY: needs --yes
    done = bridle("accounts", "rm", "work", "--yes")
    assert done.returncode == 0, done.stderr
    assert ctx.store.names() == []
    with pytest.raises(UsageError):
        remove_account(ctx, "work")
