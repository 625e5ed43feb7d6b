"""`bridle sessions`: list, search, show, resume, star, export and reindex past sessions.

Thin Click commands over `bridle.history`. Every command first brings the index
up to date within a small time budget (`history.fresh`); the first run builds
it, with a progress bar on stderr when that takes more than a moment. The search
path imports only sqlite3, click and bridle's history modules. `resume` builds
its command line with `history.resume.plan_resume` and execs it as the last step.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import click

from bridle.history.search import ROLES, Filters
from bridle.history.search import parse_when as _parse_when

TOOL_CHOICES = ("claude", "codex", "gemini", "copilot", "bridle")


def parse_when(text: str | None, now: float) -> float | None:
    try:
        return _parse_when(text, now)
    except ValueError as e:
        raise click.UsageError(str(e)) from None


def _open(refresh: bool = True) -> Any:
    from bridle.config.paths import database_path
    from bridle.history.fresh import Freshness, ensure_fresh
    from bridle.store.db import open_db

    db = open_db(database_path())
    if refresh:
        ensure_fresh(db, os.environ, Freshness.from_env(os.environ), first_progress=_progress_bar)
        _report_skipped(db)
    return db


def _report_skipped(db: Any) -> None:
    """Name the session files the index could not read (once each, on stderr)."""
    from bridle.history.state import skip_notice, take_unreported

    rows = take_unreported(db)
    if rows:
        click.echo(skip_notice(rows), err=True, nl=False)


def _progress_bar(stream: Any = None, clock: Any = time.monotonic, delay: float = 0.5) -> Any:
    """A bar on stderr (a terminal) that appears only once the index has run `delay` seconds."""
    out = sys.stderr if stream is None else stream
    if not out.isatty():
        return None
    start = clock()

    def show(done: int, total: int) -> None:
        if clock() - start < delay or total <= 0:
            return
        width = 30
        filled = int(width * done / total)
        out.write(
            f"\rIndexing sessions [{'#' * filled}{'.' * (width - filled)}] "
            f"{done >> 20}/{total >> 20} MB"
        )
        if done >= total:
            out.write("\n")
        out.flush()

    return show


def _filters(tool: str | None, account: str | None, project: str | None, since: str | None,
             until: str | None, role: str | None = None, starred: bool = False) -> Filters:  # fmt: skip
    now = time.time()
    return Filters(
        tool=tool,
        account=None if account is None else ("" if account == "default" else account),
        project=project,
        since=parse_when(since, now),
        until=parse_when(until, now),
        role=role,
        starred=starred,
    )


def _color() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _filter_options(f: Any) -> Any:
    for opt in reversed(
        [
            click.option(
                "--tool", type=click.Choice(TOOL_CHOICES), help="Only this tool's sessions."
            ),
            click.option(
                "--account", help="Only sessions this account can see ('default' = your own setup)."
            ),
            click.option("--project", help="Only sessions whose directory contains this text."),
            click.option("--since", help="Updated since: 3d, 12h, 2w or a date."),
            click.option("--until", help="Updated before: 3d, 12h, 2w or a date."),
            click.option("--starred", is_flag=True, help="Only starred sessions."),
            click.option(
                "-n", "--limit", type=click.IntRange(1, 10000), default=20, show_default=True
            ),
            click.option("--json", "as_json", is_flag=True, help="One JSON object per line."),
        ]
    ):
        f = opt(f)
    return f


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def sessions() -> None:
    """Every session of every tool (Claude Code, Codex, Gemini CLI, Copilot CLI, bridle)."""


@sessions.command("list")
@_filter_options
@click.option(
    "--sort", type=click.Choice(("time", "project", "tool")), default="time", show_default=True
)
@click.option(
    "--role", type=click.Choice(ROLES), help="Only sessions with user, assistant or tool text."
)
def list_cmd(tool: str | None, account: str | None, project: str | None, since: str | None,
             until: str | None, starred: bool, limit: int, as_json: bool, sort: str,
             role: str | None) -> None:  # fmt: skip
    """List sessions, most recently updated first."""
    import json

    from bridle.history.render import session_line
    from bridle.history.search import list_sessions

    db = _open()
    rows = list_sessions(
        db, _filters(tool, account, project, since, until, role, starred), limit=limit, sort=sort
    )
    now, home = time.time(), os.path.expanduser("~")
    for s in rows:
        click.echo(json.dumps(s.to_json()) if as_json else session_line(s, now, home, _color()))
    if not rows and not as_json:
        from bridle.history.roots import TOOLS as ROOT_TOOLS
        from bridle.history.roots import primary_dir

        where = ", ".join(str(primary_dir(t, os.environ)) for t in ROOT_TOOLS)
        click.echo(
            f"No sessions match. Looked in {where} and the accounts under $BRIDLE_HOME.", err=True
        )


class _SearchCommand(click.Command):
    """A command whose `-word` arguments are query words (exclusions), not options.

    Click alone reads `-approach` as the short options `-a -p -p …` (and the `h` in
    it as `--help`); `ignore_unknown_options` does not help, since `-n`/`-h` are
    known. So only the command's real options (`-n 5`, `-n5`, `-h`, `--tool x`,
    `--limit=5`) stay options; every other argument is moved behind a `--`, in order.
    An unknown `--option` stays an option, so Click names it as a usage error."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        takes_value: dict[str, bool] = {}
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                for name in (*param.opts, *param.secondary_opts):
                    takes_value[name] = not (param.is_flag or param.count)
        options: list[str] = []
        words: list[str] = []
        rest = iter(args)
        for arg in rest:
            if arg == "--":
                words.extend(rest)
                break
            if arg.startswith("--") or arg in takes_value:
                options.append(arg)
                value = next(rest, None) if takes_value.get(arg) else None
                if value is not None:
                    options.append(value)
            elif takes_value.get(arg[:2]) and arg[2:].isdigit():
                options.append(arg)  # -n5
            else:
                words.append(arg)
        return super().parse_args(ctx, [*options, "--", *words] if words else options)


@sessions.command("search", cls=_SearchCommand)
@click.argument("query", nargs=-1, required=True, type=click.UNPROCESSED)
@_filter_options
@click.option("--role", type=click.Choice(ROLES), help="Match only user, assistant or tool text.")
def search_cmd(query: tuple[str, ...], tool: str | None, account: str | None, project: str | None,
               since: str | None, until: str | None, starred: bool, limit: int, as_json: bool,
               role: str | None) -> None:  # fmt: skip
    """Full-text search: words, "exact phrases", prefix*, OR, -excluded."""
    from bridle.history.render import format_hits
    from bridle.history.search import fts_query, search

    text = " ".join(query)
    if not fts_query(text):
        raise click.UsageError(f"nothing to search for in {text!r}: give at least one word.")
    db = _open()
    hits = search(
        db, text, _filters(tool, account, project, since, until, role, starred), limit=limit
    )
    out = format_hits(
        hits, as_json=as_json, now=time.time(), home=os.path.expanduser("~"), color=_color()
    )
    if out:
        click.echo(out, nl=False)
    elif not as_json:
        click.echo(f"No session matches {text!r}.", err=True)


def _one(db: Any, ref: str) -> Any:
    from bridle.history.search import find_session

    found = find_session(db, ref)
    if not found:
        raise click.UsageError(
            f"no session {ref!r}: see `bridle sessions list` or `bridle sessions search`."
        )
    if len(found) > 1:
        names = ", ".join(f"{s.tool}:{s.id}" for s in found[:5])
        raise click.UsageError(
            f"{ref!r} names several sessions ({names}); give more of the id or tool:id."
        )
    return found[0]


def _entries(db: Any, s: Any) -> list[Any]:
    from pathlib import Path

    from bridle.history.index import read_entries
    from bridle.history.search import session_files

    if s.tool == "bridle":
        from bridle.history.bridle import session_entries

        return session_entries(db, s.id)
    out: list[Any] = []
    for tool, path, _ in session_files(db, s.key):
        out.extend(read_entries(tool, Path(path)))
    out.sort(key=lambda e: e.ts or 0.0)
    return out


@sessions.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Metadata and messages as one JSON object.")
@click.option("--tree", is_flag=True, help="The session's subagents and forks, nested.")
def show_cmd(ref: str, as_json: bool, tree: bool) -> None:
    """Show a session's metadata and conversation (by id, id prefix or tool:id)."""
    import json

    from bridle.history.render import ago

    db = _open()
    s = _one(db, ref)
    if tree:
        if s.tool != "bridle":
            raise click.UsageError(
                f"--tree shows the subagents of bridle sessions; {s.tool}:{s.id} is not one"
            )
        from bridle.store.sessions import SessionStore

        for line in _tree(SessionStore(db), s.id):
            click.echo(line)
        return
    if s.tool == "bridle":
        marks, entries = _bridle_entries(db, s.id)
    else:
        marks, entries = [], [(None, e) for e in _entries(db, s)]
    if as_json:
        doc = s.to_json()
        doc["entries"] = [{"role": e.role, "text": e.text, "ts": e.ts} for _, e in entries if e]
        if s.tool == "bridle":
            doc["compactions"] = marks
        click.echo(json.dumps(doc))
        return
    now = time.time()
    click.echo(f"{s.title or '(untitled)'}\n{s.tool}:{s.id}  updated {ago(s.updated, now)}")
    click.echo(f"cwd: {s.cwd or '-'}  branch: {s.branch or '-'}  model: {s.model or '-'}")
    click.echo(f"accounts: {', '.join(a or 'default' for a in s.accounts) or '-'}\n")
    for mark, e in entries:
        click.echo(f"{mark['line']}\n" if mark else f"[{e.role}] {e.text}\n")


def _bridle_entries(db: Any, session_id: str) -> tuple[list[dict[str, Any]], list[Any]]:
    """A bridle session's compactions (`compaction` and `cleared` events: number,
    type, trigger, step, tokens, the line shown) and its entries in order, each
    `(mark, None)` or `(None, entry)`."""
    import json

    from bridle.history.bridle import event_entries
    from bridle.store.export import compaction_mark

    marks: list[dict[str, Any]] = []
    out: list[Any] = []
    rows = db.execute(
        "SELECT seq, kind, payload, ts FROM events WHERE session_id = ? ORDER BY seq",
        (session_id,),
    )
    for seq, kind, payload, ts in rows:
        if kind != "system":
            out.extend((None, e) for e in event_entries(kind, payload, ts))
            continue
        data = json.loads(payload)
        line = compaction_mark(session_id, seq, data) if isinstance(data, dict) else None
        if line is not None:
            keys = ("type", "trigger", "step", "pre_tokens", "post_tokens")
            mark = {"seq": seq, "ts": ts, **{k: data.get(k) for k in keys}, "line": line}
            marks.append(mark)
            out.append((mark, None))
    return marks, out


def _tree(store: Any, root: str) -> list[str]:
    """One line per session, children indented under their parent (subagents
    marked), with each session's model, turns and cost."""

    def line(r: Any, depth: int) -> str:
        kind = "subagent " if r.status == "subagent" else ("fork " if depth else "")
        title = " ".join((r.title or "(untitled)").split())[:70]
        return (
            f"{'  ' * depth}{'└ ' if depth else ''}{kind}{r.id}  {title}  "
            f"[{r.model}, {r.turns} turns, ${r.cost_usd:.4f}]"
        )

    out: list[str] = []

    def walk(r: Any, depth: int) -> None:
        out.append(line(r, depth))
        for child in store.children(r.id):
            walk(child, depth + 1)

    walk(store.get(root), 0)
    return out


@sessions.command("rm")
@click.argument("refs", nargs=-1, required=True)
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def rm_cmd(refs: tuple[str, ...], yes: bool) -> None:
    """Delete bridle sessions (by id or unique prefix) with everything bridle stored
    for them: events, saved tool outputs, lock file. Other tools' sessions are
    their files: bridle lists and resumes them but never deletes them."""
    import sys

    from bridle.config.paths import bridle_home
    from bridle.history.writer import IndexWriter
    from bridle.store.purge import purge_session
    from bridle.store.sessions import SessionStore

    db = _open()
    store = SessionStore(db)
    targets = []
    for ref in refs:
        s = _one(db, ref)
        if s.tool != "bridle":
            raise click.UsageError(
                f"{s.tool}:{s.id} is a {s.tool} session: bridle does not delete other tools' "
                "files. Remove it with that tool, or delete the file yourself."
            )
        targets.append(store.get(s.id))
    for record in targets:
        if not yes:
            if not sys.stdin.isatty():
                raise click.UsageError("not on a terminal: pass --yes to delete without asking")
            click.confirm(f"Delete session {record.id} ({record.title or 'untitled'})?", abort=True)
        # Its rows, spilled tool outputs and lock file; refused while a run writes it.
        purged = purge_session(db, bridle_home(), record.id)
        IndexWriter(db).drop_session("bridle", record.id)
        click.echo(purged.describe(), err=True)


@sessions.command("export")
@click.argument("ref")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("md", "json", "jsonl")),
    default="md",
    show_default=True,
    help="md and jsonl of a bridle session carry every tool call and result.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write to this file (not overwritten)."
)
def export_cmd(ref: str, fmt: str, output: str | None) -> None:
    """Export a session as Markdown, JSON or JSONL."""
    import json

    db = _open()
    s = _one(db, ref)
    entries = _entries(db, s)
    if s.tool == "bridle" and fmt in ("md", "jsonl"):
        from bridle.store.export import render
        from bridle.store.sessions import SessionStore

        text = render(SessionStore(db), s.id, "markdown" if fmt == "md" else "jsonl")
    elif fmt == "jsonl":
        text = "".join(
            json.dumps({"role": e.role, "text": e.text, "ts": e.ts}) + "\n" for e in entries
        )
    elif fmt == "json":
        doc = s.to_json()
        doc["entries"] = [{"role": e.role, "text": e.text, "ts": e.ts} for e in entries]
        text = json.dumps(doc, indent=2) + "\n"
    else:
        lines = [
            f"# {s.title or s.id}",
            "",
            f"- tool: {s.tool}",
            f"- id: {s.id}",
            f"- cwd: {s.cwd or '-'}",
            "",
        ]
        for e in entries:
            lines += [
                f"## {e.role}",
                "",
                e.text if e.role != "tool" else "```\n" + e.text + "\n```",
                "",
            ]
        text = "\n".join(lines)
    if output is None:
        click.echo(text, nl=False)
        return
    if os.path.exists(output):
        raise click.UsageError(
            f"{output} exists; choose another file name (bridle never overwrites it)."
        )
    from pathlib import Path

    from bridle.store.atomic import atomic_write

    try:
        atomic_write(Path(output), text.encode("utf-8"))
    except OSError as e:
        raise click.UsageError(
            f"cannot write {output}: {e.strerror or e}. Choose a file in a directory you can "
            f"write to with -o, or leave out -o to print the export."
        ) from None
    click.echo(f"wrote {output}", err=True)


@sessions.command("resume")
@click.argument("ref")
@click.option("--account", help="Resume under this account (it must be able to see the session).")
@click.option("--dry-run", is_flag=True, help="Print the command line instead of running it.")
def resume_cmd(ref: str, account: str | None, dry_run: bool) -> None:
    """Continue a session in its own tool, directory and account."""
    db = _open()
    run_resume(db, _one(db, ref), account, dry_run)


def run_resume(db: Any, s: Any, account: str | None, dry_run: bool) -> None:
    """Plan, report and exec the resume of `s` (shared with `bridle recall`)."""
    import json

    from bridle.history.resume import exec_plan, plan_for_session

    plan = plan_for_session(
        db, s, None if account is None else ("" if account == "default" else account), os.environ
    )
    if plan.notice:
        click.echo(f"bridle: {plan.notice}", err=True)
    if dry_run:
        click.echo(
            json.dumps(
                {"argv": plan.argv, "cwd": plan.cwd, "account": plan.account, "env": plan.env}
            )
        )
        return
    binary: str | None
    if s.tool == "bridle":
        import dataclasses
        import sys

        # This very interpreter runs bridle, whether or not `bridle` is on PATH.
        plan = dataclasses.replace(plan, argv=[sys.executable, "-m", *plan.argv])
        binary = sys.executable
    else:
        from bridle.accounts.specs import TOOLS, find_binary

        binary = find_binary(TOOLS[s.tool], os.environ)
        if binary is None:
            raise click.UsageError(
                f"{plan.argv[0]} is not on PATH: install it, or set BRIDLE_CLI_PATH to its directory."
            )
    db.close()
    exec_plan(plan, os.environ, binary=binary)


@sessions.command("import")
@click.argument("ref")
@click.option(
    "--model", help="Model to record for the new session (default: the one the session used)."
)
@click.option("--account", help="Account to record for the new session.")
def import_cmd(ref: str, model: str | None, account: str | None) -> None:
    """Copy a Claude Code, Codex, Gemini CLI or Copilot CLI session into bridle,
    to continue it with any model: `bridle -r NEW_ID --model provider/model`."""
    from bridle.history.convert import import_session

    db = _open()
    source = _one(db, ref)
    if source.tool == "bridle":
        raise click.UsageError(
            f"{ref!r} is already a bridle session: continue it with "
            f'`bridle -r {source.id} -p "what next"`.'
        )
    chosen = model or source.model or source.tool
    provider = chosen.split("/", 1)[0] if "/" in chosen else source.tool
    new_id = import_session(
        db, f"{source.tool}:{source.id}", model=chosen, provider=provider, account=account
    )
    click.echo(new_id)
    click.echo(
        f'imported {source.tool}:{source.id}; continue with: bridle -r {new_id[:8]} -p "what next"',
        err=True,
    )


def _star(ref: str | None, on: bool) -> None:
    from bridle.history.last_exited import last_exited
    from bridle.history.search import set_star

    db = _open()
    ref = ref or last_exited(db, os.environ)
    if ref is None:
        raise click.UsageError("no session has exited yet: give one, `bridle sessions star ID`.")
    s = _one(db, ref)
    set_star(db, s.tool, s.id, on, time.time())
    click.echo(f"{'starred' if on else 'unstarred'} {s.tool}:{s.id}")


@sessions.command("star")
@click.argument("ref", required=False)
def star_cmd(ref: str | None) -> None:
    """Star a session, or without REF the one that exited last (`--starred` and
    the picker's `*` show only starred ones)."""
    _star(ref, True)


@sessions.command("unstar")
@click.argument("ref")
def unstar_cmd(ref: str) -> None:
    """Remove a session's star."""
    _star(ref, False)


@sessions.command("reindex")
@click.option(
    "--full", is_flag=True, help="Forget the index and read every file again (stars are kept)."
)
def reindex_cmd(full: bool) -> None:
    """Bring the index up to date now (or rebuild it with --full)."""
    from bridle.history.index import SessionIndex
    from bridle.history.roots import all_roots

    db = _open(refresh=False)
    index = SessionIndex(db)
    if full:
        index.clear()
    started = time.monotonic()
    stats = index.refresh(all_roots(os.environ), progress=_progress_bar())
    click.echo(
        f"{stats.files} files, {stats.read} read ({stats.bytes / 1e6:.1f} MB), {stats.removed} removed"
        f" in {time.monotonic() - started:.2f}s",
        err=True,
    )
    from bridle.history.state import skip_notice, skipped, take_unreported

    take_unreported(db)
    rows = skipped(db)
    if rows:
        click.echo(skip_notice(rows), err=True, nl=False)
