"""Data-safety regressions (where altergo lost users' data): nothing real is deleted
or overwritten, conflicts are quarantined with a timestamp, add-provider moves only
shareable entries and never pools credentials, teardown removes only symlinks into
the shared store, and rm refuses while quarantined copies are inside."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from accounts_fs import contents, snapshot

from bridle.accounts.layout import account_paths, link_shared, setup_tool, teardown_account
from bridle.accounts.manage import add_account, add_provider, remove_account, remove_provider
from bridle.accounts.runner import Accounts
from bridle.accounts.specs import TOOLS
from bridle.core.errors import UsageError

CLAUDE = TOOLS["claude"]
NOW = datetime(2025, 3, 4, 5, 6, 7)
TS = "20250304T050607"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_config_dir_account_links_shared_entries_and_leaves_home_alone(
    ctx: Accounts, home: Path
) -> None:
    write(home / ".claude" / "settings.json", '{"theme": "dark"}')
    before = [*sorted(p.name for p in home.iterdir()), ".bridle"]
    add_account(ctx, "work", ["claude"], "config-dir")
    tool_dir = ctx.store.dir("work") / "home" / ".claude"
    for entry in CLAUDE.shared_dirs:
        assert os.readlink(tool_dir / entry) == str(home / ".claude" / entry)
        assert (home / ".claude" / entry).is_dir()
    assert os.readlink(tool_dir / "settings.json") == str(home / ".claude" / "settings.json")
    assert not (tool_dir / "CLAUDE.md").exists()  # nothing to share yet: no dangling link
    assert not (tool_dir / ".credentials.json").exists()
    assert sorted(p.name for p in home.iterdir()) == sorted(before)


def test_account_dir_merges_into_store_with_conflicts_quarantined(tmp_path: Path) -> None:
    src, dst = tmp_path / "primary" / "projects", tmp_path / "acct" / "projects"
    write(src / "-p1" / "a.jsonl", "primary a")
    write(src / "-p1" / "same.jsonl", "primary version")
    write(dst / "-p1" / "b.jsonl", "account b")
    write(dst / "-p1" / "same.jsonl", "account version")
    write(dst / "-p2" / "c.jsonl", "account c")
    everything = contents(tmp_path)

    changes = link_shared(CLAUDE, "projects", src, dst, now=NOW)

    assert os.readlink(dst) == str(src)
    conflict = tmp_path / "acct" / f"projects.bridle-conflict-{TS}"
    assert (src / "-p1" / "b.jsonl").read_text() == "account b"
    assert (src / "-p2" / "c.jsonl").read_text() == "account c"
    assert (src / "-p1" / "same.jsonl").read_text() == "primary version"
    assert (conflict / "-p1" / "same.jsonl").read_text() == "account version"
    assert contents(tmp_path) == everything  # nothing lost
    assert [c.kind for c in changes] == ["quarantined", "merged", "linked"]


def test_real_file_where_a_shared_file_goes_is_quarantined_not_overwritten(tmp_path: Path) -> None:
    src = write(tmp_path / "primary" / "settings.json", "primary")
    dst = write(tmp_path / "acct" / "settings.json", "account")
    link_shared(CLAUDE, "settings.json", src, dst, now=NOW)
    assert os.readlink(dst) == str(src)
    assert src.read_text() == "primary"
    assert (tmp_path / "acct" / f"settings.json.bridle-conflict-{TS}").read_text() == "account"
    # A second quarantine in the same second gets its own name.
    dst.unlink()
    write(dst, "account again")
    link_shared(CLAUDE, "settings.json", src, dst, now=NOW)
    assert (
        tmp_path / "acct" / f"settings.json.bridle-conflict-{TS}-2"
    ).read_text() == "account again"


def test_account_data_is_promoted_when_the_store_has_none(tmp_path: Path) -> None:
    src, dst = tmp_path / "primary" / "CLAUDE.md", write(tmp_path / "acct" / "CLAUDE.md", "rules")
    link_shared(CLAUDE, "CLAUDE.md", src, dst, now=NOW)
    assert src.read_text() == "rules" and os.readlink(dst) == str(src)


def test_a_link_elsewhere_is_left_alone(tmp_path: Path) -> None:
    elsewhere = tmp_path / "dotfiles" / "skills"
    elsewhere.mkdir(parents=True)
    dst = tmp_path / "acct" / "skills"
    dst.parent.mkdir()
    dst.symlink_to(elsewhere)
    changes = link_shared(CLAUDE, "skills", tmp_path / "primary" / "skills", dst, now=NOW)
    assert os.readlink(dst) == str(elsewhere)
    assert [c.kind for c in changes] == ["kept"]


def test_credentials_are_never_linked(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        link_shared(CLAUDE, ".credentials.json", tmp_path / "a", tmp_path / "b")


def test_add_provider_moves_only_shareable_entries(ctx: Accounts, home: Path) -> None:
    add_account(ctx, "work", ["claude"], "config-dir")
    codex_dir = ctx.store.dir("work") / "home" / ".codex"
    write(codex_dir / "auth.json", '{"token": "work-secret"}')
    write(codex_dir / "sessions" / "2025" / "01" / "02" / "rollout-x.jsonl", "session")
    write(codex_dir / "config.toml", "model = 'x'")
    write(codex_dir / "history.jsonl", "local history")

    add_provider(ctx, "work", "codex")

    primary = home / ".codex"
    assert (codex_dir / "auth.json").read_text() == '{"token": "work-secret"}'
    assert not (primary / "auth.json").exists()
    assert (
        primary / "sessions" / "2025" / "01" / "02" / "rollout-x.jsonl"
    ).read_text() == "session"
    assert (primary / "config.toml").read_text() == "model = 'x'"
    assert (codex_dir / "history.jsonl").read_text() == "local history"
    assert os.readlink(codex_dir / "sessions") == str(primary / "sessions")
    assert ctx.store.load("work").providers == ["claude", "codex"]


def test_two_accounts_never_pool_credentials(ctx: Accounts, home: Path) -> None:
    add_account(ctx, "a", ["claude", "codex", "gemini", "copilot"], "config-dir")
    add_account(ctx, "b", ["claude", "codex", "gemini", "copilot"], "config-dir")
    pa, pb = ctx.paths("a"), ctx.paths("b")
    for spec in TOOLS.values():
        for cred in spec.credential_files:
            write(pa.tool_dir(spec) / cred, f"a:{spec.name}:{cred}")
    for name in ("a", "b"):  # set up again, as every launch does
        for spec in TOOLS.values():
            setup_tool(ctx.paths(name), spec)
    for spec in TOOLS.values():
        for cred in spec.credential_files:
            assert not (pb.tool_dir(spec) / cred).exists()
            assert not (home / spec.dot_dir / cred).exists()


def test_teardown_removes_only_links_into_the_store(
    ctx: Accounts, home: Path, tmp_path: Path
) -> None:
    add_account(ctx, "work", ["claude"], "config-dir")
    tool_dir = ctx.store.dir("work") / "home" / ".claude"
    write(tool_dir / ".credentials.json", "secret")
    mine = tmp_path / "mine"
    mine.mkdir()
    (tool_dir / "plugins").symlink_to(mine)
    write(home / ".claude" / "projects" / "-p" / "s.jsonl", "shared session")
    store_before = snapshot(home / ".claude")

    changes = teardown_account(ctx.paths("work"))

    assert {c.path.name for c in changes} == set(CLAUDE.shared_dirs)
    assert sorted(p.name for p in tool_dir.iterdir()) == [".credentials.json", "plugins"]
    assert os.readlink(tool_dir / "plugins") == str(mine)
    assert snapshot(home / ".claude") == store_before


def test_remove_provider_keeps_its_files(ctx: Accounts) -> None:
    add_account(ctx, "work", ["claude", "codex"], "config-dir")
    codex_dir = ctx.store.dir("work") / "home" / ".codex"
    write(codex_dir / "auth.json", "secret")
    remove_provider(ctx, "work", "codex")
    assert sorted(p.name for p in codex_dir.iterdir()) == ["auth.json"]
    assert ctx.store.load("work").providers == ["claude"]
    with pytest.raises(UsageError, match="only provider"):
        remove_provider(ctx, "work", "claude")


def test_rm_refuses_while_conflict_copies_are_inside_and_never_touches_the_store(
    ctx: Accounts, home: Path
) -> None:
    add_account(ctx, "work", ["claude"], "config-dir")
    write(home / ".claude" / "projects" / "-p" / "s.jsonl", "shared session")
    conflict = write(ctx.store.dir("work") / "home" / ".claude" / "x.bridle-conflict-1", "mine")
    with pytest.raises(UsageError, match="conflict copies"):
        remove_account(ctx, "work")
    assert conflict.read_text() == "mine"
    conflict.unlink()
    store_before = snapshot(home / ".claude")
    remove_account(ctx, "work")
    assert not ctx.store.dir("work").exists()
    assert snapshot(home / ".claude") == store_before
    assert ctx.store.default() is None


def test_home_isolation_shares_the_catalog_per_entry(ctx: Accounts, home: Path) -> None:
    write(home / ".aws" / "credentials", "aws")
    write(home / ".config" / "gh" / "hosts.yml", "gh")
    write(home / ".ssh" / "id_ed25519", "real key")
    write(home / ".gitconfig", "[user]\n")
    add_account(ctx, "client", ["claude"], "home", {"gitconfig": True})
    acct_home = ctx.store.dir("client") / "home"
    assert os.readlink(acct_home / ".aws") == str(home / ".aws")
    assert os.readlink(acct_home / ".config" / "gh") == str(home / ".config" / "gh")
    assert os.readlink(acct_home / ".gitconfig") == str(home / ".gitconfig")
    assert not (acct_home / ".ssh").exists()
    assert not (acct_home / ".config").is_symlink()

    # The account's own .ssh is its data: sharing it later does not replace it.
    write(acct_home / ".ssh" / "id_ed25519", "client key")
    from bridle.accounts.manage import set_sharing

    changes = set_sharing(ctx, "client", "ssh", True)
    assert (acct_home / ".ssh" / "id_ed25519").read_text() == "client key"
    assert any(c.kind == "kept" and c.path == acct_home / ".ssh" for c in changes)
    set_sharing(ctx, "client", "aws", False)
    assert not (acct_home / ".aws").exists()
    assert (home / ".aws" / "credentials").read_text() == "aws"
    assert ctx.store.load("client").shared == {"gitconfig": True, "ssh": True, "aws": False}


def test_paths_prefer_the_real_home_inside_a_home_account(home: Path, tmp_path: Path) -> None:
    paths = account_paths(
        tmp_path / "acct", {"HOME": str(tmp_path / "acct" / "home"), "BRIDLE_REAL_HOME": str(home)}
    )
    assert paths.primary_dir(CLAUDE) == home / ".claude"


def test_a_dangling_link_in_the_store_is_mirrored_not_replaced(ctx: Accounts, home: Path) -> None:
    (home / ".claude").mkdir()
    (home / ".claude" / "skills").symlink_to(home / "dotfiles" / "skills")  # not checked out
    add_account(ctx, "work", ["claude"], "config-dir")
    link = ctx.store.dir("work") / "home" / ".claude" / "skills"
    assert os.readlink(home / ".claude" / "skills") == str(home / "dotfiles" / "skills")
    assert os.readlink(link) == str(home / ".claude" / "skills")
    (home / "dotfiles" / "skills").mkdir(parents=True)
    assert link.is_dir()  # works as soon as the dotfiles appear
