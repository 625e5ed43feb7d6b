"""`bridle accounts import-altergo`: altergo's `~/.altergo/accounts/*` (account.json
v2 and v3, HOME-per-account layout) becomes bridle accounts; every credential is
copied, the altergo tree is left byte for byte as it was."""

from __future__ import annotations

import json
import os
from pathlib import Path

from accounts_fs import snapshot

from bridle.accounts.runner import Accounts


def write(path: Path, text: str, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)


def altergo_tree(home: Path) -> Path:
    """An altergo install as altergo lays it out (see its docs/architecture.md)."""
    root = home / ".altergo"
    (home / ".claude" / "projects").mkdir(parents=True)
    (home / ".aws").mkdir()
    write(
        root / ".altergo.json",
        json.dumps(
            {"version": 1, "active_account": "work", "shared": {"ssh": True, "bogus": True}}
        ),
    )

    # v3, two providers, Claude token and credentials, links into the real HOME.
    work = root / "accounts" / "work"
    write(
        work / "account.json",
        json.dumps(
            {
                "version": 3,
                "providers": ["codex", "claude"],
                "default_provider": "claude",
                "created": "2025-01-02T03:04:05",
                "keychain": "none",
            }
        ),
    )
    write(
        work / ".claude" / ".credentials.json", '{"claudeAiOauth": {"accessToken": "work-claude"}}'
    )
    write(work / ".claude" / ".oauth-token", "sk-ant-oat01-" + "w" * 30)
    (work / ".claude" / "projects").symlink_to(home / ".claude" / "projects")
    write(
        work / ".claude.json",
        json.dumps(
            {"oauthAccount": {"emailAddress": "work@x"}, "mcpServers": {"w": {"command": "w"}}}
        ),
    )
    write(work / ".codex" / "auth.json", '{"tokens": {"id_token": "work-codex"}}')
    write(work / ".ssh" / "id_ed25519", "work ssh key")
    (work / ".aws").symlink_to(home / ".aws")

    # v2, one provider; the name is reserved in bridle.
    default = root / "accounts" / "default"
    write(default / "account.json", json.dumps({"version": 2, "provider": "gemini"}))
    write(default / ".gemini" / "oauth_creds.json", '{"id_token": "default-gemini"}')

    # Legacy: no account.json, just a .claude dir.
    write(root / "accounts" / "old" / ".claude" / ".credentials.json", "old-claude")
    # Corrupt metadata: reported, not imported, not touched.
    write(root / "accounts" / "broken" / "account.json", "{nope")
    return root


def test_import_altergo_copies_everything_and_changes_nothing(
    ctx: Accounts, bridle, home: Path
) -> None:
    root = altergo_tree(home)
    before = snapshot(root)

    done = bridle("accounts", "import-altergo")

    assert done.returncode == 0, done.stderr
    assert snapshot(root) == before
    lines = done.stdout.splitlines()
    assert lines[0].split()[:4] == ["failed", "broken", "->", "-"]
    assert lines[1].split()[:4] == ["imported", "default", "->", "altergo-default"]
    assert lines[2].split()[:4] == ["imported", "old", "->", "old"]
    assert lines[3].split()[:4] == ["imported", "work", "->", "work"]
    assert ctx.store.names() == ["altergo-default", "old", "work"]
    assert ctx.store.default() == "work"

    work = ctx.store.load("work")
    assert (work.providers, work.default_provider, work.isolation) == (
        ["codex", "claude"],
        "claude",
        "home",
    )
    assert work.shared == {"ssh": True}
    assert work.created == "2025-01-02T03:04:05"
    acct = ctx.store.dir("work") / "home"
    assert (
        acct / ".claude" / ".credentials.json"
    ).read_text() == '{"claudeAiOauth": {"accessToken": "work-claude"}}'
    assert (acct / ".claude" / ".credentials.json").stat().st_mode & 0o777 == 0o600
    assert json.loads((acct / ".claude" / ".claude.json").read_text())["oauthAccount"] == {
        "emailAddress": "work@x"
    }
    assert (acct / ".codex" / "auth.json").read_text() == '{"tokens": {"id_token": "work-codex"}}'
    assert (acct / ".ssh" / "id_ed25519").read_text() == "work ssh key"  # its own key, kept
    assert os.readlink(acct / ".claude" / "projects") == str(home / ".claude" / "projects")
    assert os.readlink(acct / ".aws") == str(home / ".aws")
    token = ctx.store.dir("work") / "claude-oauth-token"
    assert token.read_text() == "sk-ant-oat01-" + "w" * 30 and token.stat().st_mode & 0o777 == 0o600

    gem = ctx.store.load("altergo-default")
    assert (gem.providers, gem.default_provider) == (["gemini"], "gemini")
    assert (
        ctx.store.dir("altergo-default") / "home" / ".gemini" / "oauth_creds.json"
    ).read_text() == '{"id_token": "default-gemini"}'
    assert (
        ctx.store.dir("old") / "home" / ".claude" / ".credentials.json"
    ).read_text() == "old-claude"

    # The MCP server altergo's account had reaches the real ~/.claude.json on launch.
    ctx.sync_mcp("work")
    assert json.loads((home / ".claude.json").read_text())["mcpServers"] == {"w": {"command": "w"}}

    listed = json.loads(bridle("accounts", "list", "--json").stdout)
    logins = {
        a["name"]: {p: v["login"] for p, v in a["providers"].items()} for a in listed["accounts"]
    }
    assert logins == {
        "altergo-default": {"gemini": "logged in"},
        "old": {"claude": "logged in"},
        "work": {"codex": "logged in", "claude": "token"},
    }

    # Running it again imports nothing twice and overwrites nothing.
    again = bridle("accounts", "import-altergo")
    assert again.returncode == 0
    assert "Imported 0 of 4" in again.stdout
    assert snapshot(root) == before


def test_import_without_altergo_says_where_it_looked(bridle, home: Path) -> None:
    done = bridle("accounts", "import-altergo")
    assert done.returncode == 64
    assert str(home / ".altergo" / "accounts") in done.stderr
