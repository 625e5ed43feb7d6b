"""account.json: names, schema migrations, tolerant loading, atomic writes, default."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bridle.accounts.store import SCHEMA_VERSION, AccountStore, validate_name
from bridle.core.errors import UsageError, UserError


@pytest.mark.parametrize("name", ["work", "a", "Client_B-2", "9lives", "x" * 64])
def test_valid_names(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize(
    ("name", "fix"),
    [
        ("my account", "'my-account'"),
        ("-lead", "'lead'"),
        ("_x", "'x'"),
        ("a.b", "'a-b'"),
        ("x" * 65, "'" + "x" * 64 + "'"),
        ("", "'work'"),
        ("native", "'native-1'"),
        ("Default", "'Default-1'"),
        ("list", "'list-1'"),
        ("all", "'all-1'"),
    ],
)
def test_invalid_names_say_how_to_fix(name: str, fix: str) -> None:
    with pytest.raises(UsageError) as err:
        validate_name(name)
    assert f"try {fix}" in str(err.value)


def test_round_trip_keeps_unknown_keys_and_mode(tmp_path: Path) -> None:
    store = AccountStore(tmp_path / "accounts")
    account = store.create("work", ["codex", "claude"], "home")
    path = tmp_path / "accounts" / "work" / "account.json"
    assert path.stat().st_mode & 0o777 == 0o600
    data = json.loads(path.read_text())
    data["note"] = {"from": "a future tool"}
    path.write_text(json.dumps(data))
    os.chmod(path, 0o640)

    loaded = store.load("work")
    loaded.default_provider = "claude"
    store.save(loaded)

    assert path.stat().st_mode & 0o777 == 0o640
    assert json.loads(path.read_text()) == {
        "note": {"from": "a future tool"},
        "version": SCHEMA_VERSION,
        "name": "work",
        "providers": ["codex", "claude"],
        "default_provider": "claude",
        "isolation": "home",
        "shared": {},
        "created": account.created,
        "last_used": {},
    }
    assert [p.name for p in path.parent.iterdir()] == ["account.json"]  # no temp files left


@pytest.mark.parametrize(
    ("old", "providers", "default"),
    [
        ({"version": 1, "provider": "gemini", "created": "2025-01-01"}, ["gemini"], "gemini"),
        ({"provider": "copilot"}, ["copilot"], "copilot"),
        ({"version": 1, "provider": "nonsense"}, ["claude"], "claude"),
        ({}, ["claude"], "claude"),
    ],
)
def test_v1_files_migrate(tmp_path: Path, old: dict, providers: list[str], default: str) -> None:
    store = AccountStore(tmp_path)
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "account.json").write_text(json.dumps(old))
    account = store.load("old")
    assert (account.providers, account.default_provider, account.isolation) == (
        providers,
        default,
        "config-dir",
    )


@pytest.mark.parametrize(
    "text",
    ["{not json", "[1, 2]", '{"version": 99}', '{"version": "two"}', '{"isolation": "chroot"}'],
)
def test_bad_file_is_a_clear_error_and_stays_untouched(tmp_path: Path, text: str) -> None:
    store = AccountStore(tmp_path)
    (tmp_path / "bad").mkdir()
    path = tmp_path / "bad" / "account.json"
    path.write_text(text)
    with pytest.raises(UserError) as err:
        store.load("bad")
    assert str(path) in str(err.value)
    assert path.read_text() == text


def test_unknown_account_names_the_fix(tmp_path: Path) -> None:
    store = AccountStore(tmp_path)
    store.create("work", ["claude"], "config-dir")
    with pytest.raises(
        UsageError, match=r"accounts: work\); create it with `bridle accounts add home`"
    ):
        store.load("home")


def test_create_refuses_duplicates_and_reserved(tmp_path: Path) -> None:
    store = AccountStore(tmp_path)
    store.create("work", ["claude"], "config-dir")
    with pytest.raises(UsageError, match="already exists"):
        store.create("work", ["claude"], "config-dir")
    with pytest.raises(UsageError, match="reserved"):
        store.create("native", ["claude"], "config-dir")


def test_default_account(tmp_path: Path) -> None:
    store = AccountStore(tmp_path)
    assert store.default() is None
    with pytest.raises(UsageError, match="bridle accounts use NAME"):
        store.resolve(None)
    store.create("work", ["claude"], "config-dir")
    store.set_default("work")
    assert store.resolve(None) == "work"
    assert store.resolve("other") == "other"
    store.set_default("native")
    assert store.default() == "native"
    with pytest.raises(UsageError):
        store.set_default("ghost")
