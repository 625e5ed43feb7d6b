"""Headless runs: `bridle -p`, batches (`--prompt-each`), and stream-json input.

`RunRequest.from_cli` validates every flag combination before any work starts
(usage errors exit 64). `run_headless` opens the session through
`engine.setup`, drives the engine with the prompt, renders events in the chosen
output format, and then does the after-run chores: transcript, cost and diff
files, `--commit`. Exit codes: 0 success, 1 failure, 64 usage, 75 rate limit or
quota exhausted after retries, 130/143 on SIGINT/SIGTERM (the session is saved
first: every turn is committed as it happens).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bridle.core.errors import UsageError
from bridle.engine import events as ev
from bridle.engine.options import SessionOptions
from bridle.headless.progress import RunProgress
from bridle.tools.interrupts import deliver


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so the run unwinds and saves."""


@dataclass
class RunRequest:
    """A headless run as the flags ask for it, checked by `from_cli` before any work starts."""

    prompt: str | None
    opts: dict[str, Any]
    cwd: Path
    batch_inputs: list[str] = field(default_factory=list)
    # What the engine is opened with, built from the flags (headless.flags).
    options: SessionOptions = field(default_factory=SessionOptions)

    @classmethod
    def from_cli(
        cls, prompt: str | None, o: dict[str, Any], stdin: IO[str] | None = None
    ) -> RunRequest:
        stdin = stdin if stdin is not None else sys.stdin

        def conflict(a: str, b: str) -> UsageError:
            return UsageError(f"{a} cannot be combined with {b}")

        if o["continue_"] and o["resume"]:
            raise conflict("--continue", "--resume")
        if o["fork_session"] and not (o["continue_"] or o["resume"]):
            raise UsageError("--fork-session needs --continue or --resume ID")
        if not o["prompt_each"]:
            for flag, value in (
                ("--parallel", o["parallel"]),
                ("--retry", o["retry"]),
                ("--bail", o["bail"]),
            ):
                if value:
                    raise UsageError(f"{flag} only applies to batches: add --prompt-each FILE")
        else:
            if o["input_format"] == "stream-json":
                raise conflict("--prompt-each", "--input-format stream-json")
            if o["continue_"] or o["resume"]:
                raise conflict(
                    "--prompt-each", "--continue/--resume (each batch item is a new session)"
                )
            if o["commit"] or o["commit_dirty"]:
                raise conflict("--prompt-each", "--commit")
        if o["input_format"] == "stream-json" and (prompt or o["prompt_file"]):
            raise conflict(
                "a PROMPT argument", "--input-format stream-json (prompts come on stdin)"
            )
        if o["input_format"] == "stream-json" and o["output_format"] != "stream-json":
            raise UsageError("--input-format stream-json needs --output-format stream-json")
        mode = o["permission_mode"]
        if o["dry_run"] and mode not in (None, "plan"):
            raise conflict("--dry-run", f"--permission-mode {mode}")
        if o["dangerously_skip_permissions"] and mode not in (None, "bypassPermissions", "bypass"):
            raise conflict("--dangerously-skip-permissions", f"--permission-mode {mode}")
        if o["dry_run"] and o["dangerously_skip_permissions"]:
            raise conflict("--dry-run", "--dangerously-skip-permissions")
        if o["system_prompt"] is not None and o["system_file"]:
            raise conflict("--system-prompt", "--system-file")
        if prompt and o["prompt_file"]:
            raise conflict("a PROMPT argument", "--prompt-file")
        if (o["commit"] or o["commit_dirty"]) and o["dry_run"]:
            raise conflict("--commit", "--dry-run")
        from bridle.headless.flags import session_options
        from bridle.headless.sdk import check_sdk_flags

        # Bad rules in --allowedTools & co., a bad --settings: exit 64 here.
        options = session_options(o, Path(o["cwd"]).resolve() if o["cwd"] else Path.cwd())
        check_sdk_flags(o)
        if o.get("session_id") or o.get("json_schema") or o.get("include_partial_messages"):
            from bridle.headless.sdk_flags import with_sdk_flags

            options = with_sdk_flags(options, o)  # --session-id, --json-schema

        from bridle.headless.inputs import check_attachments, read_stdin, read_text_file

        if o["prompt_file"]:
            prompt = read_text_file("--prompt-file", o["prompt_file"])
        info_only = o["print_config"] or o["print_tools_list"] or o["doctor"]
        if (
            not prompt
            and not info_only
            and o["input_format"] == "text"
            and stdin is not None
            and not stdin.isatty()
        ):
            prompt = read_stdin(stdin)
        if not info_only and o["input_format"] == "text" and not (prompt and prompt.strip()):
            raise UsageError(
                "no prompt: pass PROMPT, --prompt-file FILE, or pipe the prompt on stdin"
            )

        batch: list[str] = []
        if o["prompt_each"]:
            batch = [
                ln.strip()
                for ln in read_text_file("--prompt-each", o["prompt_each"]).splitlines()
                if ln.strip()
            ]
            if not batch:
                raise UsageError(
                    f"--prompt-each {o['prompt_each']}: the file has no non-empty lines"
                )
            if prompt and "{{input}}" not in prompt:
                raise UsageError("with --prompt-each the prompt must contain {{input}}")
            if not prompt:
                prompt = "{{input}}"
        check_attachments(list(o["files"]), list(o["images"]))
        cwd = Path(o["cwd"]).resolve() if o["cwd"] else Path.cwd()
        return cls(prompt, o, cwd, batch, options)


def _full_prompt(req: RunRequest, prompt: str) -> tuple[str, list[Any]]:
    """Fold --file (fenced) and --image into the user turn."""
    from bridle.headless.inputs import fenced_file, image_part

    parts = [prompt, *(fenced_file(f) for f in req.opts["files"])]
    return "\n\n".join(parts), [image_part(img) for img in req.opts["images"]]


def run_headless(req: RunRequest) -> int:
    env = dict(os.environ)
    if req.opts["print_config"] or req.opts["print_tools_list"] or req.opts["doctor"]:
        from bridle.headless import info

        report = (
            info.print_config
            if req.opts["print_config"]
            else info.print_tools
            if req.opts["print_tools_list"]
            else info.doctor
        )
        return report(req.options, req.cwd, env, sys.stdout)
    if req.opts.get("setting_sources") is not None:
        from bridle.config.paths import user_settings_path
        from bridle.config.settings import find_project_root
        from bridle.headless.sdk import check_setting_sources

        check_setting_sources(
            req.opts["setting_sources"], find_project_root(req.cwd), user_settings_path(env)
        )
    if req.batch_inputs:
        from bridle.headless.batch import Batch

        return Batch(req, env, _run_one).run()
    old = signal.signal(signal.SIGTERM, _raise_terminated)
    old_int = signal.signal(signal.SIGINT, _raise_interrupted)
    try:
        if req.opts["input_format"] == "stream-json":
            return _run_stream_input(req, env, sys.stdin, sys.stdout)
        assert req.prompt is not None
        return _run_one(req, env, req.prompt, sys.stdout, sys.stderr)
    except KeyboardInterrupt:
        sys.stderr.write("bridle: interrupted; the session is saved (resume with -c)\n")
        return 130
    except Terminated:
        sys.stderr.write("bridle: terminated; the session is saved (resume with -c)\n")
        return 143
    finally:
        signal.signal(signal.SIGTERM, old)
        signal.signal(signal.SIGINT, old_int)


def _raise_terminated(signum: int, frame: Any) -> None:
    deliver(Terminated())  # held back while a tool starts a child (it then kills it)


def _raise_interrupted(signum: int, frame: Any) -> None:
    deliver(KeyboardInterrupt())


def _run_one(
    req: RunRequest,
    env: dict[str, str],
    prompt: str,
    out: IO[str],
    err: IO[str],
    progress: RunProgress | None = None,
) -> int:
    from bridle.engine.setup import open_session
    from bridle.headless.gitdiff import WorkTreeSnapshot
    from bridle.headless.render import make_renderer

    o = req.opts
    text, images = _full_prompt(req, prompt)
    will_commit = bool(o["commit"] or o["commit_dirty"])
    wants_diff = o["output_format"] == "diff" or o["save_diff"] or will_commit
    snapshot = WorkTreeSnapshot.take(req.cwd, will_commit=will_commit) if wants_diff else None
    if wants_diff and snapshot is None:
        raise UsageError("--output-format diff, --save-diff and --commit need a git repository")
    session = open_session(req.options, req.cwd, env)
    if not o["quiet"]:
        for warning in session.warnings:
            err.write(f"bridle: {warning}\n")
    try:
        if text.startswith("/mcp__") or (session.mcp is not None and session.mcp.manager):
            from bridle.engine.mentions import expand_mcp

            text, images = expand_mcp(session, text, images)  # /mcp__s__prompt, @server:uri
        text = session.expand_prompt(text)  # `/command args`: the command's prompt
    except BaseException:
        session.close()
        raise
    renderer = make_renderer(
        o["output_format"], out, err, verbose=o["verbose"], quiet=o["quiet"],
        partial=bool(o.get("include_partial_messages")),
    )  # fmt: skip
    result: ev.TurnResult | None = None
    progress = progress if progress is not None else RunProgress()
    try:
        progress.attach(session)
        for event in _drive(session, ev.UserTurn(text, images)):
            event = progress.see(event)
            renderer.handle(event)
            if isinstance(event, ev.TurnResult):
                result = event
        renderer.close()
        assert result is not None
        # Inside the try: the transcript is read from the still-open store.
        _after_run(req, session, result, snapshot, prompt, out, err)
    except (KeyboardInterrupt, Terminated) as e:
        if progress.result is None and o["output_format"] in ("json", "stream-json"):
            # A reader of json still gets its result, with the session to resume.
            signum = signal.SIGTERM if isinstance(e, Terminated) else signal.SIGINT
            renderer.handle(progress.cut_short(signum))
            renderer.close()
        raise
    finally:
        session.close()
    return result.exit_code


def _drive(session: Any, op: ev.Op) -> Iterator[ev.Event]:
    yield session.started_event
    yield from session.engine.send(op)


def _after_run(
    req: RunRequest,
    session: Any,
    result: ev.TurnResult,
    snapshot: Any,
    prompt: str,
    out: IO[str],
    err: IO[str],
) -> None:
    o = req.opts
    if o["print_cost"]:
        u = result.usage
        err.write(
            f"bridle: {result.num_turns} turns, tokens in {u.input_tokens} "
            f"(cache read {u.cache_read_tokens}, write {u.cache_write_tokens}), "
            f"out {u.output_tokens}; cost ${result.cost_usd:.4f}\n"
        )
    if snapshot is not None:
        diff = snapshot.diff()
        if o["output_format"] == "diff":
            out.write(diff)
        if o["save_diff"]:
            _write(o["save_diff"], diff)
    if o["save_cost"]:
        from bridle.headless.render import usage_dict

        _write(
            o["save_cost"],
            json.dumps(
                {
                    "session_id": result.session_id,
                    "model": session.model_name,
                    "num_turns": result.num_turns,
                    "total_cost_usd": round(result.cost_usd, 8),
                    "usage": usage_dict(result.usage),
                },
                indent=2,
            )
            + "\n",
        )
    if o["save_transcript"]:
        _write(o["save_transcript"], session.transcript_markdown())
    # Last: a failed commit must not cost the user the other files.
    if snapshot is not None and (o["commit"] or o["commit_dirty"]):
        title = " ".join(prompt.split())[:60]
        written = [Path(o[k]) for k in ("save_diff", "save_cost", "save_transcript") if o[k]]
        sha, skipped = snapshot.commit(
            f"bridle: {title}", include_dirty=bool(o["commit_dirty"]), exclude=written
        )
        if skipped:
            err.write(
                "bridle: not committed (they had uncommitted changes before the run; "
                "use --commit-dirty to include them): " + ", ".join(skipped) + "\n"
            )
        if sha and not o["quiet"]:
            err.write(f"bridle: committed {sha[:12]}\n")


def _write(path: str, text: str) -> None:
    from bridle.store.atomic import atomic_write_text

    atomic_write_text(Path(path), text)


def _run_stream_input(req: RunRequest, env: dict[str, str], stdin: IO[str], out: IO[str]) -> int:
    """`--input-format stream-json`: NDJSON user messages on stdin, one turn each,
    and the Claude Agent SDK's control protocol (`headless.sdk`). With
    `--permission-prompt-tool stdio` permission asks go to the SDK; without it a
    run has nobody to ask, and asks are denied."""
    from typing import cast

    from bridle.engine.setup import open_session
    from bridle.headless.render import StreamJsonRenderer
    from bridle.headless.sdk import LineWriter, StreamSession

    ask = req.opts.get("permission_prompt_tool") == "stdio"
    session = open_session(req.options, req.cwd, env)  # options.headless: not ask
    try:
        writer = LineWriter(out)
        renderer = StreamJsonRenderer(
            cast(IO[str], writer), sys.stderr, verbose=req.opts["verbose"], quiet=req.opts["quiet"],
            partial=bool(req.opts.get("include_partial_messages")),
        )  # fmt: skip
        renderer.handle(session.started_event)
        return StreamSession(session, renderer, writer, stdin, ask=ask).serve()
    finally:
        session.close()
