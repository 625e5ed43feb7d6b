"""Secrets an account holds for bridle's own harness (`ANTHROPIC_API_KEY`, ...), and
the Claude long-lived token `bridle accounts setup-token` stores.

Values live in the system keyring (service `bridle:<account>`) when a real backend
exists, else in `<account>/keys.json` with mode 0600. Either way the *names* are kept
in `keys.json`, so `list` works without reading a single value and a rename can move
keyring entries. `account_keys(account, env)` is the API the rest of bridle calls
for `bridle --account NAME`. This module never prints a value and never logs one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from bridle.accounts.files import atomic_write_json, atomic_write_text, read_json_object
from bridle.accounts.store import AccountStore
from bridle.core.errors import UsageError

ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
OAUTH_TOKEN_PREFIX = "sk-ant-oat01-"
OAUTH_TOKEN_FILE = "claude-oauth-token"


class Backend(Protocol):
    def get_password(self, service: str, username: str) -> str | None: ...
    def set_password(self, service: str, username: str, password: str) -> None: ...
    def delete_password(self, service: str, username: str) -> None: ...


def system_keyring(env: Mapping[str, str]) -> Backend | None:
    """The keyring backend if a real one exists (not keyring's `fail`/`null`)."""
    try:
        import keyring
        import keyring.core
        from keyring.backends import chainer, fail, null
    except ImportError:
        return None
    name = env.get("PYTHON_KEYRING_BACKEND")
    try:
        backend: Any = keyring.core.load_keyring(name) if name else keyring.get_keyring()
    except Exception:
        return None
    if isinstance(backend, fail.Keyring | null.Keyring):
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None
    found: Backend = backend
    return found


def check_env_name(name: str) -> str:
    if not ENV_NAME_RE.match(name):
        raise UsageError(
            f"{name!r} is not an environment variable name: use letters, digits and '_', "
            "not starting with a digit (e.g. ANTHROPIC_API_KEY)."
        )
    return name


class KeyStore:
    """The keys of one account. `backend=None` means the 0600 file."""

    def __init__(self, account_dir: Path, account: str, backend: Backend | None):
        self.dir = account_dir
        self.account = account
        self.backend = backend

    @property
    def index_file(self) -> Path:
        return self.dir / "keys.json"

    @property
    def service(self) -> str:
        return f"bridle:{self.account}"

    def _index(self) -> dict[str, Any]:
        data = read_json_object(self.index_file, "keys file")
        keys = data.get("keys")
        return {"keys": keys if isinstance(keys, dict) else {}}

    def names(self) -> list[str]:
        return sorted(self._index()["keys"])

    def where(self, name: str) -> str:
        value = self._index()["keys"].get(name)
        return "file" if isinstance(value, str) else "keyring"

    def set(self, name: str, value: str) -> str:
        check_env_name(name)
        if not value or "\n" in value.strip("\n"):
            raise UsageError(f"the value for {name} must be one non-empty line.")
        value = value.strip("\n")
        index = self._index()
        if self.backend is not None:
            self.backend.set_password(self.service, name, value)
            index["keys"][name] = None
            where = "keyring"
        else:
            index["keys"][name] = value
            where = "file"
        atomic_write_json(self.index_file, index, new_mode=0o600)
        os.chmod(self.index_file, 0o600)
        return where

    def remove(self, name: str) -> None:
        index = self._index()
        if name not in index["keys"]:
            raise UsageError(
                f"account {self.account!r} has no key {name}; see `bridle accounts keys list {self.account}`."
            )
        if index["keys"][name] is None and self.backend is not None:
            try:
                self.backend.delete_password(self.service, name)
            except Exception:
                pass  # already gone from the keyring: the index entry still goes
        del index["keys"][name]
        atomic_write_json(self.index_file, index, new_mode=0o600)

    def values(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, value in self._index()["keys"].items():
            if isinstance(value, str):
                out[name] = value
            elif self.backend is not None:
                found = self.backend.get_password(self.service, name)
                if found is not None:
                    out[name] = found
        return out

    def move_to(self, new_account: str) -> None:
        """After the account dir was renamed: move keyring entries to the new service."""
        if self.backend is None:
            return
        old_service = self.service
        new_service = f"bridle:{new_account}"
        for name, value in self._index()["keys"].items():
            if value is not None:
                continue
            secret = self.backend.get_password(old_service, name)
            if secret is None:
                continue
            self.backend.set_password(new_service, name, secret)
            try:
                self.backend.delete_password(old_service, name)
            except Exception:
                pass
        self.account = new_account


def key_store(store: AccountStore, account: str, env: Mapping[str, str]) -> KeyStore:
    store.load(account)  # a clear error if there is no such account
    return KeyStore(store.dir(account), account, system_keyring(env))


def account_keys(account: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The env variables stored for `account` (name -> value), for the harness.

    `env` locates `$BRIDLE_HOME` (defaults to `os.environ`). Raises UsageError with
    a fix-it message when the account does not exist.
    """
    env = os.environ if env is None else env
    return key_store(AccountStore.from_env(env), account, env).values()


# --- Claude's long-lived token (`claude setup-token`) ---------------------------


def check_oauth_token(token: str) -> str:
    token = token.strip()
    if not token.startswith(OAUTH_TOKEN_PREFIX) or len(token) <= len(OAUTH_TOKEN_PREFIX) + 8:
        raise UsageError(
            f"that is not a Claude long-lived token: it must start with {OAUTH_TOKEN_PREFIX}. "
            "Create one with `claude setup-token` and paste the whole line."
        )
    if any(c.isspace() for c in token):
        raise UsageError("the token must not contain spaces; paste it as one line.")
    return token


def save_oauth_token(account_dir: Path, token: str) -> Path:
    path = account_dir / OAUTH_TOKEN_FILE
    atomic_write_text(path, check_oauth_token(token) + "\n", new_mode=0o600)
    os.chmod(path, 0o600)
    return path


def load_oauth_token(account_dir: Path) -> str | None:
    try:
        token = (account_dir / OAUTH_TOKEN_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return token or None
