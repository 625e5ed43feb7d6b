"""Defect 15: one `bridle mcp sync` leaves the primary `~/.claude.json` and every
account equal. Additions in the first and the last account, an addition in the
primary, a deletion in one account and an edit in another all reach everyone in
one run; the report says what changed where (edits included); conflicting edits
are reported; and a second run finds nothing to do."""

from __future__ import annotations

import json
from pathlib import Path

from bridle.accounts.manage import add_account
from bridle.accounts.mcp_sync import merge_all
from bridle.accounts.runner import Accounts

NAMES = ("a", "b", "c", "d")
BASE = {"command": "base"}
GONE = {"command": "gone"}


def servers(path: Path) -> dict:
    return json.loads(path.read_text())["mcpServers"]


def set_servers(path: Path, value: dict) -> None:
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "mcpServers": value}))


def setup(bridle, ctx: Accounts, home: Path) -> Path:
    for name in NAMES:
        add_account(ctx, name, ["claude"], "config-dir")
        ctx.paths(name).claude_json.write_text(
            json.dumps({"oauthAccount": {"emailAddress": f"{name}@x"}})
        )
    primary = home / ".claude.json"
    primary.write_text(json.dumps({"numStartups": 7, "mcpServers": {"base": BASE, "gone": GONE}}))
    first = bridle("mcp", "sync")
    assert first.returncode == 0, first.stderr
    return primary


def test_one_run_leaves_every_account_and_the_primary_equal(
    bridle, ctx: Accounts, home: Path
) -> None:
    primary = setup(bridle, ctx, home)
    path = {n: ctx.paths(n).claude_json for n in NAMES}
    set_servers(path["a"], {**servers(path["a"]), "first": {"command": "f"}})
    set_servers(path["d"], {**servers(path["d"]), "last": {"command": "l"}})
    set_servers(path["b"], {"base": BASE})  # b deletes "gone"
    set_servers(path["c"], {"base": {"command": "base2"}, "gone": GONE})  # c edits "base"
    set_servers(primary, {**servers(primary), "prim": {"command": "p"}})

    done = bridle("mcp", "sync")
    assert done.returncode == 0, done.stderr
    want = {
        "base": {"command": "base2"},
        "first": {"command": "f"},
        "last": {"command": "l"},
        "prim": {"command": "p"},
    }
    assert servers(primary) == want
    for name in NAMES:
        assert servers(path[name]) == want, name
        data = json.loads(path[name].read_text())
        assert data["oauthAccount"] == {"emailAddress": f"{name}@x"}
    assert json.loads(primary.read_text())["numStartups"] == 7
    assert done.stdout == (
        "a: added to primary: first; added to account: last, prim; "
        "removed from account: gone; updated in account: base (4 server(s))\n"
        "b: removed from primary: gone; added to account: first, last, prim; "
        "updated in account: base (4 server(s))\n"
        "c: updated in primary: base; added to account: first, last, prim; "
        "removed from account: gone (4 server(s))\n"
        "d: added to primary: last; added to account: first, prim; "
        "removed from account: gone; updated in account: base (4 server(s))\n"
    )
    again = bridle("mcp", "sync")
    assert again.stdout == "".join(f"{n}: in sync (4 server(s))\n" for n in NAMES)
    # The launch path (one account at a time) agrees that nothing is left to do.
    for name in NAMES:
        result = ctx.sync_mcp(name)
        assert result is not None and not result.changed, name


def test_conflicting_edits_are_reported_and_still_converge(
    bridle, ctx: Accounts, home: Path
) -> None:
    primary = setup(bridle, ctx, home)
    path = {n: ctx.paths(n).claude_json for n in NAMES}
    set_servers(path["a"], {"base": {"command": "from-a"}, "gone": GONE})
    set_servers(path["c"], {"base": {"command": "from-c"}, "gone": GONE})
    set_servers(path["b"], {"base": BASE})  # b deletes "gone" ...
    set_servers(path["d"], {"base": BASE, "gone": {"command": "kept"}})  # ... d edits it

    report = json.loads(bridle("mcp", "sync", "--json").stdout)
    want = {"base": {"command": "from-c"}, "gone": {"command": "kept"}}
    assert servers(primary) == want
    assert all(servers(path[n]) == want for n in NAMES)
    assert report["c"]["conflicts"] == ["base: changed in a and in c; kept c's version"]
    assert report["d"]["conflicts"] == ["gone: deleted in b, changed in d; kept d's version"]
    assert [report[n]["conflicts"] for n in ("a", "b")] == [[], []]
    text = bridle("mcp", "sync").stdout
    assert "conflict" not in text and text.count("in sync") == 4


def test_named_accounts_only_and_a_bad_name_changes_nothing(
    bridle, ctx: Accounts, home: Path
) -> None:
    primary = setup(bridle, ctx, home)
    path = {n: ctx.paths(n).claude_json for n in NAMES}
    set_servers(path["d"], {**servers(path["d"]), "last": {"command": "l"}})
    add_account(ctx, "x", ["codex"], "config-dir")
    wrong = bridle("mcp", "sync", "d", "x")
    assert wrong.returncode == 64 and "account 'x' has no claude" in wrong.stderr
    assert "last" not in servers(primary)  # refused before anything was written
    done = bridle("mcp", "sync", "d", "a")
    assert done.returncode == 0, done.stderr
    assert "last" in servers(primary) and "last" in servers(path["a"])
    assert "last" not in servers(path["b"])  # not named, so not touched


def test_merge_all_table() -> None:
    s1, s2, s3 = {"c": "1"}, {"c": "2"}, {"c": "3"}
    # Never synced: a plain union; a clash is a conflict the later side wins.
    merged, conflicts, sources = merge_all(
        {"p": s1}, [("a", {"x": s1}, None), ("b", {"p": s2}, None)]
    )
    assert merged == {"p": s2, "x": s1}
    assert conflicts == {"b": ["p: changed in primary and in b; kept b's version"]}
    assert sources == {"p": "b", "x": "a"}
    # A deletion in the last account reaches the first, an addition in the last too.
    base = {"k": s1, "del": s3}
    merged, conflicts, _ = merge_all(
        {"k": s1, "del": s3},
        [("a", {"k": s1, "del": s3}, base), ("z", {"k": s1, "new": s2}, base)],
    )
    assert merged == {"k": s1, "new": s2}
    assert conflicts == {}
