"""`bridle sessions search` without Click: the fast path for the common case.

Importing Click alone takes longer than a whole search (about 40 ms of a 50 ms
budget on a small machine), so the `bridle` entry point may hand
`sessions search …` argv here first. `run` reads the same options as the Click
command (query words, `--tool`, `--account`, `--project`, `--since`, `--until`,
`--role`, `--starred`, `-n/--limit`, `--json`, in `--opt value` or `--opt=value`
form), prints exactly what the Click command prints, and returns the exit code.
A `-word` is a query word (an exclusion), as in the Click command; only `-n`
(`-n 5`, `-n5`) and `-h` are short options.
It returns None — and prints nothing — for anything it does not handle (help,
an unknown or invalid option, no index built yet), so the caller falls back to
the Click command, which owns usage errors and the first-index progress bar.
Only sqlite3 and bridle's light history modules are imported.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Mapping

from bridle.history.search import ROLES, Filters, fts_query, parse_when, search

TYPE_CHECKING = False  # `typing` itself costs 5 ms on the search path
if TYPE_CHECKING:
    from typing import TextIO

    from bridle.history.search import Hit

TOOLS = ("claude", "codex", "gemini", "copilot", "bridle")
_VALUED = {"--tool", "--account", "--project", "--since", "--until", "--role", "--limit", "-n"}
_FLAGS = {"--json", "--starred"}


def parse(argv: list[str]) -> tuple[list[str], dict[str, str], set[str]] | None:
    words: list[str] = []
    values: dict[str, str] = {}
    flags: set[str] = set()
    args = iter(argv)
    for arg in args:
        if arg == "--":
            words.extend(args)
            break
        if arg.startswith("-") and not arg.startswith("--") and arg not in ("-n", "-h"):
            if arg.startswith("-n") and arg[2:].isdigit():
                values["--limit"] = arg[2:]  # -n5
            else:
                words.append(arg)  # `-word` excludes a word; `-` alone is no word
        elif arg.startswith("-"):
            name, eq, value = arg.partition("=")
            if name in _FLAGS and not eq:
                flags.add(name)
            elif name in _VALUED:
                if not eq:
                    value = next(args, None)  # type: ignore[assignment]
                    if value is None:
                        return None
                values["--limit" if name == "-n" else name] = value
            else:
                return None
        else:
            words.append(arg)
    return words, values, flags


def run(
    argv: list[str], env: Mapping[str, str] | None = None, out: TextIO | None = None
) -> int | None:
    env = os.environ if env is None else env
    parsed = parse(argv)
    if parsed is None:
        return None
    words, values, flags = parsed
    text = " ".join(words)
    now = time.time()
    try:
        limit = int(values.get("--limit", "20"))
        since = parse_when(values.get("--since"), now)
        until = parse_when(values.get("--until"), now)
    except ValueError:
        return None
    tool, role = values.get("--tool"), values.get("--role")
    if (
        not fts_query(text)
        or not 1 <= limit <= 10000
        or tool not in (None, *TOOLS)
        or role not in (None, *ROLES)
    ):
        return None
    home = env.get("BRIDLE_HOME") or os.path.join(
        env.get("HOME") or os.path.expanduser("~"), ".bridle"
    )
    path = os.path.join(os.path.expanduser(home), "bridle.db")
    if (
        not os.path.isfile(path)
        or os.path.exists(path + ".damaged")  # found damaged before: not even read here
        or not os.access(path, os.R_OK | os.W_OK)
        or not os.access(os.path.dirname(path), os.W_OK | os.X_OK)
    ):
        return None  # Click's path names the cause and the fix
    account = values.get("--account")
    filters = Filters(
        tool=tool,
        account=None if account is None else ("" if account == "default" else account),
        project=values.get("--project"),
        since=since,
        until=until,
        role=role,
        starred="--starred" in flags,
    )
    try:
        hits = _search(path, env, text, filters, limit)
    except sqlite3.DatabaseError:
        return None  # not a database, or a schema from elsewhere: Click's path explains it
    if hits is None:
        return None
    from bridle.history.render import format_hits

    stream = out or sys.stdout
    color = stream.isatty() and not env.get("NO_COLOR")
    text_out = format_hits(
        hits, as_json="--json" in flags, now=now, home=os.path.expanduser("~"), color=color
    )
    if text_out:
        stream.write(text_out)
    elif "--json" not in flags:
        sys.stderr.write(f"No session matches {' '.join(words)!r}.\n")
    stream.flush()
    return 0


def _search(
    path: str, env: Mapping[str, str], text: str, filters: Filters, limit: int
) -> list[Hit] | None:
    db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    try:
        db.execute("PRAGMA busy_timeout = 30000")
        from bridle.store.migrations import apply_all

        apply_all(db)
        if db.execute("SELECT 1 FROM history_meta WHERE key = 'last_scan'").fetchone() is None:
            return None  # first index: the Click command shows its progress
        from bridle.history.fresh import Freshness, ensure_fresh

        ensure_fresh(db, env, Freshness.from_env(env))
        from bridle.history.state import skip_notice, take_unreported

        skipped = take_unreported(db)
        if skipped:
            sys.stderr.write(skip_notice(skipped))
        return search(db, text, filters, limit=limit)
    finally:
        db.close()


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:2] == ["sessions", "search"]:
        args = args[2:]
    code = run(args)
    if code is None:
        from bridle.cli.main import main

        main(["sessions", "search", *args])
    sys.exit(code or 0)
