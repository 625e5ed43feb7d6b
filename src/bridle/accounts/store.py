"""Named accounts on disk: `$BRIDLE_HOME/accounts/<name>/account.json`, versioned.

`Account` is the in-memory value; `AccountStore` reads and writes it. Loading is
tolerant: an older `version` is migrated forward by named, append-only steps (the
history reads as code), unknown keys are kept, and a corrupt file raises a clear
error while the file stays exactly as it was. Writes are atomic and keep the mode.
Names are checked (`^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$`, no reserved words, no two
differing only in case) with a suggested fix. The default account lives in `$BRIDLE_HOME/accounts/default.json`
(so a dir named `default` can never be an account). This module lays out no CLI
directories and creates no symlinks; `layout.py` does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bridle.accounts.files import atomic_write_json, read_json_object
from bridle.accounts.specs import CATALOG_IDS, TOOL_NAMES
from bridle.config.paths import bridle_home
from bridle.core.errors import UsageError, UserError

SCHEMA_VERSION = 2
ISOLATIONS = ("config-dir", "home")
NATIVE = "native"

NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$")
RESERVED = frozenset(
    {
        "native", "default", "all", "list", "add", "rm", "remove", "show", "use",
        "rename", "keys", "help", "shell", "exec", "launch", "teardown", "import",
        "current", "none", "new", "config", "version", "main",
    }
)  # fmt: skip


def suggest_name(name: str) -> str:
    cleaned = re.sub(r"[^a-zA-Z0-9_-]+", "-", name).strip("-_")[:64] or "work"
    if cleaned.lower() in RESERVED:
        cleaned = f"{cleaned}-1"
    return cleaned


def validate_name(name: str) -> str:
    """Return `name` if it can name an account, else raise a fix-it UsageError."""
    if name.lower() in RESERVED:
        raise UsageError(
            f"{name!r} is reserved and cannot name an account "
            f"(reserved: {', '.join(sorted(RESERVED))}); try {suggest_name(name)!r}."
        )
    if not NAME_RE.match(name):
        raise UsageError(
            f"invalid account name {name!r}: use 1-64 letters, digits, '-' or '_', "
            f"starting with a letter or digit; try {suggest_name(name)!r}."
        )
    return name


@dataclass
class Account:
    """One named account as stored in `account.json`; keys bridle does not know stay in
    `extra` so a write keeps them."""

    name: str
    providers: list[str] = field(default_factory=lambda: ["claude"])
    default_provider: str = "claude"
    isolation: str = "config-dir"
    # Catalog id -> shared?; only entries differing from the catalog default.
    shared: dict[str, bool] = field(default_factory=dict)
    created: str = ""
    last_used: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.extra,
            "version": SCHEMA_VERSION,
            "name": self.name,
            "providers": list(self.providers),
            "default_provider": self.default_provider,
            "isolation": self.isolation,
            "shared": dict(self.shared),
            "created": self.created,
            "last_used": dict(self.last_used),
        }


# --- migrations: version N -> N+1, never edited once shipped -------------------

Migration = Callable[[dict[str, Any]], dict[str, Any]]


def m001_providers_list(data: dict[str, Any]) -> dict[str, Any]:
    """v1 named one `provider`; v2 keeps a list, a default, isolation and sharing."""
    out = {k: v for k, v in data.items() if k != "provider"}
    provider = data.get("provider") if data.get("provider") in TOOL_NAMES else "claude"
    out.setdefault("providers", [provider])
    out.setdefault("default_provider", provider)
    out.setdefault("isolation", "config-dir")
    out.setdefault("shared", {})
    out.setdefault("last_used", {})
    out["version"] = 2
    return out


MIGRATIONS: dict[int, Migration] = {1: m001_providers_list}


def migrate(data: dict[str, Any], path: Path) -> dict[str, Any]:
    version = data.get("version", 1)
    if not isinstance(version, int) or version < 1:
        raise UserError(f"{path}: 'version' must be a positive integer, found {version!r}.")
    if version > SCHEMA_VERSION:
        raise UserError(
            f"{path} was written by a newer bridle (schema {version}, this one reads up to "
            f"{SCHEMA_VERSION}); upgrade bridle. The file was left untouched."
        )
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)
        version = data["version"]
    return data


def _account_from(data: dict[str, Any], name: str, path: Path) -> Account:
    known = {"version", "name", "providers", "default_provider", "isolation", "shared"}
    known |= {"created", "last_used"}
    providers = [p for p in data.get("providers") or [] if p in TOOL_NAMES]
    providers = list(dict.fromkeys(providers)) or ["claude"]
    default = data.get("default_provider")
    if not (isinstance(default, str) and default in providers):
        default = providers[0]
    isolation = data.get("isolation", "config-dir")
    if isolation not in ISOLATIONS:
        raise UserError(
            f"{path}: 'isolation' is {isolation!r}; set it to one of {', '.join(ISOLATIONS)}."
        )
    shared = data.get("shared") or {}
    return Account(
        name=name,
        providers=providers,
        default_provider=default,
        isolation=isolation,
        shared={k: bool(v) for k, v in shared.items() if k in CATALOG_IDS},
        created=str(data.get("created") or ""),
        last_used={k: str(v) for k, v in (data.get("last_used") or {}).items()},
        extra={k: v for k, v in data.items() if k not in known},
    )


class AccountStore:
    """The accounts under one `$BRIDLE_HOME`."""

    def __init__(self, root: Path, *, now: Callable[[], datetime] = datetime.now):
        self.root = root
        self.now = now

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AccountStore:
        return cls(bridle_home(env) / "accounts")

    def dir(self, name: str) -> Path:
        return self.root / name

    def exists(self, name: str) -> bool:
        return (self.dir(name) / "account.json").is_file()

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.iterdir() if p.is_dir() and (p / "account.json").is_file()
        )

    def case_variant(self, name: str, *, besides: str | None = None) -> str | None:
        """An existing account (other than `name` itself and `besides`) whose name
        differs from `name` only in case."""
        for other in self.names():
            if other.lower() == name.lower() and other not in (name, besides):
                return other
        return None

    def refuse_case_variant(self, name: str, *, besides: str | None = None) -> None:
        """Names differing only in case would share one directory on a
        case-insensitive filesystem (macOS, Windows), so only one may exist."""
        other = self.case_variant(name, besides=besides)
        if other is not None:
            raise UsageError(
                f"account {other!r} already exists, and names that differ only in case "
                "would share one directory on macOS and Windows; choose another name, "
                f"or use {other!r}."
            )

    def load(self, name: str) -> Account:
        if name == NATIVE:
            raise UsageError("'native' is your real setup, not a stored account.")
        path = self.dir(name) / "account.json"
        if not path.is_file():
            other = self.case_variant(name)
            if other is not None:
                raise UsageError(f"no account named {name!r}; did you mean {other!r}?")
            have = ", ".join(self.names()) or "none yet"
            raise UsageError(
                f"no account named {name!r} (accounts: {have}); "
                f"create it with `bridle accounts add {name}`."
            )
        data = read_json_object(path, "account file")
        return _account_from(migrate(data, path), name, path)

    def save(self, account: Account) -> None:
        if not account.created:
            account.created = self.now().isoformat(timespec="seconds")
        atomic_write_json(self.dir(account.name) / "account.json", account.to_json())

    def create(self, name: str, providers: list[str], isolation: str) -> Account:
        validate_name(name)
        self.refuse_case_variant(name)
        if self.exists(name):
            raise UsageError(f"account {name!r} already exists; see `bridle accounts show {name}`.")
        if isolation not in ISOLATIONS:
            raise UsageError(f"isolation must be one of {', '.join(ISOLATIONS)}.")
        providers = list(dict.fromkeys(providers)) or ["claude"]
        account = Account(name=name, providers=providers, default_provider=providers[0])
        account.isolation = isolation
        self.save(account)
        return account

    def touch(self, name: str, provider: str) -> None:
        account = self.load(name)
        account.last_used[provider] = self.now().isoformat(timespec="seconds")
        self.save(account)

    # --- the default account ---------------------------------------------------

    @property
    def default_file(self) -> Path:
        return self.root / "default.json"

    def default(self) -> str | None:
        name = read_json_object(self.default_file, "default-account file").get("default")
        if isinstance(name, str) and (name == NATIVE or self.exists(name)):
            return name
        return None

    def set_default(self, name: str | None) -> None:
        if name is not None and name != NATIVE:
            self.load(name)  # exists and is readable
        atomic_write_json(self.default_file, {"default": name})

    def resolve(self, name: str | None, shell_account: str | None = None) -> str:
        """An explicit name (`default` meaning the default account), else the
        account of the surrounding `bridle shell` (`shell_account`, from
        BRIDLE_ACCOUNT) while it exists, else the default account, else a fix-it
        error."""
        if name and name != "default":
            return name
        if (
            name is None
            and shell_account
            and (shell_account == NATIVE or self.exists(shell_account))
        ):
            return shell_account
        found = self.default()
        if found:
            return found
        raise UsageError(
            "no account given and no default set: name one, or set a default with "
            "`bridle accounts use NAME`."
        )
