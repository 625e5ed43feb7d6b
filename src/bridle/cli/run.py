"""The root `bridle` command: runs an agent session, or dispatches a subcommand.

`bridle -p "fix the failing tests" --model deepseek/deepseek-chat` runs one
headless session. The prompt is positional (as in `claude -p PROMPT`), and options
may come before or after it; when the first positional word names a subcommand
(`bridle models`), the subcommand runs instead, unless `-p` came first (`bridle -p
sessions` asks the model). A one- or two-word prompt that is a near miss of a
subcommand (`bridle sesions list`) is asked about on a terminal and refused
headless, so a typo never becomes a paid run; `-c`/`-r` without a prompt say what
to type (`headless.flags.resume_prompt`). Without `-p`, on a terminal (stdin
and stdout), `bridle [PROMPT]` opens the interactive app (`tui.launch`) with the
same run flags; without a terminal a prompt runs headless as with `-p`, and no
prompt at all is refused (exit 64). This module only parses flags, validates
their combinations (usage errors exit 64 before any work starts) and hands a
`RunRequest` to `headless.run` or the options to the app; it holds no run logic.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from bridle.config.schema import PERMISSION_MODES

OUTPUT_FORMATS = ("text", "json", "stream-json", "diff")


def _first_positional(cmd: click.Command, ctx: click.Context, args: list[str]) -> str | None:
    """The first word that is not an option or an option's value; None after `-p`,
    which says the words are a prompt (`bridle -p sessions` asks the model)."""
    takes_value: set[str] = set()
    for p in cmd.get_params(ctx):
        if isinstance(p, click.Option) and not p.is_flag and not p.count:
            takes_value.update(p.opts)
            takes_value.update(p.secondary_opts)
    skip = False
    for tok in args:
        if skip:
            skip = False
            continue
        if tok in ("--", "-p", "--print"):
            return None
        if tok.startswith("-") and len(tok) > 1:
            if "=" not in tok and tok in takes_value:
                skip = True
            continue
        return tok
    return None


def make_root(group_cls: type[click.Group], version: str) -> click.Group:
    class RootGroup(group_cls):  # type: ignore[valid-type,misc]
        def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
            first = _first_positional(self, ctx, args)
            if first is not None and first in self.list_commands(ctx):
                return super().parse_args(ctx, args)
            ctx.allow_interspersed_args = True
            rest = click.Command.parse_args(self, ctx, args)
            ctx.meta["bridle.prompt"] = rest
            ctx.args = []
            return []

    def csv(values: tuple[str, ...]) -> list[str]:
        return list(values)

    @click.group(
        cls=RootGroup,
        invoke_without_command=True,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    @click.version_option(version, "-V", "--version", prog_name="bridle")
    @click.option(
        "-p", "--print", "print_mode", is_flag=True, help="Run headless: print the result and exit."
    )
    @click.option("-m", "--model", help="provider/model, a known model name, or an alias (sonnet).")
    @click.option(
        "--output-format", type=click.Choice(OUTPUT_FORMATS), default="text", show_default=True
    )
    @click.option(
        "--input-format",
        type=click.Choice(("text", "stream-json")),
        default="text",
        show_default=True,
    )
    @click.option("--verbose", is_flag=True, help="Narrate tool calls on stderr.")
    @click.option("-q", "--quiet", is_flag=True, help="No notices on stderr.")
    @click.option("--print-cost", is_flag=True, help="Print tokens and cost on stderr at the end.")
    @click.option(
        "--save-transcript", type=click.Path(dir_okay=False), help="Write the session as markdown."
    )
    @click.option(
        "--save-cost", type=click.Path(dir_okay=False), help="Write usage and cost as JSON."
    )
    @click.option(
        "--save-diff", type=click.Path(dir_okay=False), help="Write the diff of changed files."
    )
    @click.option("--commit", is_flag=True, help="git commit the files the run changed.")
    @click.option(
        "--commit-dirty",
        is_flag=True,
        help="Like --commit, also committing files that were dirty before.",
    )
    @click.option(
        "--print-config", is_flag=True, help="Print the merged settings (secrets redacted)."
    )
    @click.option("--print-tools-list", is_flag=True, help="Print the tools offered to the model.")
    @click.option("--doctor", is_flag=True, help="Check the installation, keys and tools.")
    @click.option(
        "--prompt-each",
        type=click.Path(exists=True, dir_okay=False),
        help="Run once per line of FILE ({{input}} in the prompt).",
    )
    @click.option(
        "--parallel", type=click.IntRange(1, 64), help="Batch runs at once (with --prompt-each)."
    )
    @click.option(
        "--retry", type=click.IntRange(0, 10), default=0, help="Retry a failed batch item N times."
    )
    @click.option("--bail", is_flag=True, help="Stop the batch at the first failure.")
    @click.option(
        "--max-turns", type=click.IntRange(1, None), help="Model requests per prompt (default 50)."
    )
    @click.option(
        "--max-cost",
        "--max-budget-usd",
        "max_cost",
        type=click.FloatRange(0, None, min_open=True),
        help="Budget in USD.",
    )
    @click.option("--permission-mode", type=click.Choice(PERMISSION_MODES), help="Permission mode.")
    @click.option(
        "--dangerously-skip-permissions",
        is_flag=True,
        help="Same as --permission-mode bypassPermissions.",
    )
    @click.option("--dry-run", is_flag=True, help="Plan mode: nothing is written.")
    @click.option(
        "--allowedTools",
        "--allowed-tools",
        "allowed_tools",
        multiple=True,
        help="Allow rules (comma-separated or repeated).",
    )
    @click.option(
        "--disallowedTools",
        "--disallowed-tools",
        "disallowed_tools",
        multiple=True,
        help="Deny rules.",
    )
    @click.option("--allow-tool", "allow_tool", multiple=True, help="Allow rule (repeatable).")
    @click.option("--deny-tool", "deny_tool", multiple=True, help="Deny rule (repeatable).")
    @click.option(
        "--add-dir",
        multiple=True,
        type=click.Path(file_okay=False),
        help="Another root the agent may write in.",
    )
    @click.option(
        "--sandbox",
        type=click.Choice(("read-only", "workspace-write", "off")),
        help="Run shell commands in the OS sandbox (settings sandbox).",
    )
    @click.option("--system-prompt", help="Replace the base system prompt.")
    @click.option("--append-system-prompt", multiple=True, help="Append to the system prompt.")
    @click.option(
        "--anchor",
        multiple=True,
        metavar="TEXT",
        help="Pin a fact: in every request, through compactions, kept by -c/-r.",
    )
    @click.option(
        "--system-file",
        "--system-prompt-file",
        "system_file",
        type=click.Path(exists=True, dir_okay=False),
        help="Replace the base system prompt with FILE.",
    )
    @click.option(
        "--file",
        "files",
        multiple=True,
        type=click.Path(exists=True, dir_okay=False),
        help="Add FILE to the prompt, fenced.",
    )
    @click.option(
        "--image",
        "images",
        multiple=True,
        type=click.Path(exists=True, dir_okay=False),
        help="Attach an image.",
    )
    @click.option(
        "--prompt-file",
        type=click.Path(exists=True, dir_okay=False),
        help="Read the prompt from FILE.",
    )
    @click.option(
        "-c",
        "--continue",
        "continue_",
        is_flag=True,
        help="Continue the latest session in this project.",
    )
    @click.option("-r", "--resume", help="Resume a session by id or unique prefix.")
    @click.option(
        "--fork-session", is_flag=True, help="With -c/-r: continue in a new session (new id)."
    )
    @click.option("--account", help="Use this account's stored keys (a,b rotates on rate limits).")
    @click.option(
        "--settings", "settings_json", help="Extra settings as a JSON string or file path."
    )
    @click.option(
        "--cwd", type=click.Path(file_okay=False, exists=True), help="Run in this directory."
    )
    @click.option(
        "--permission-prompt-tool",
        help="stdio: ask the Claude Agent SDK (can_use_tool) over stream-json.",
    )
    @click.option("--tools", help='Base tool set: names, "" for none, or "default".')
    @click.option(
        "--setting-sources", help="user,project,local (a left-out source must have no file)."
    )
    @click.option(
        "--mcp-config",
        multiple=True,
        metavar="JSON|FILE",
        help='MCP servers for this run: JSON or a file with {"mcpServers": ...} (repeatable).',
    )
    @click.option("--strict-mcp-config", is_flag=True, help="Use only the --mcp-config servers.")
    @click.option(
        "--hook",
        "hooks",
        multiple=True,
        metavar="EVENT:COMMAND",
        help="Run COMMAND as a Claude Code hook on EVENT (EVENT[MATCHER]:COMMAND; repeatable).",
    )
    @click.option(
        "--plugin-dir",
        multiple=True,
        metavar="DIR",
        help="Load a Claude Code plugin from DIR for this run (repeatable).",
    )
    @click.option("--agent", metavar="NAME", help="Run as this agent definition (settings agent).")
    # Claude Agent SDK flags bridle accepts and ignores (they only tune the model
    # or extra output) or refuses with a usage error (headless.sdk.check_sdk_flags).
    @click.option(
        "--include-partial-messages",
        is_flag=True,
        help="With stream-json output: also stream the answer as stream_event lines.",
    )
    @click.option("--include-hook-events", is_flag=True, hidden=True)
    @click.option("--fallback-model", hidden=True)
    @click.option("--betas", hidden=True)
    @click.option("--task-budget", type=int, hidden=True)
    @click.option("--thinking", type=click.Choice(("adaptive", "enabled", "disabled")), hidden=True)
    @click.option("--max-thinking-tokens", type=int, hidden=True)
    @click.option("--thinking-display", hidden=True)
    @click.option("--effort", hidden=True)
    @click.option("--session-id", metavar="UUID", help="Give the new session this id.")
    @click.option(
        "--resume-session-at",
        metavar="N|MSG_ID",
        help="With --fork-session: fork only up to event N (as `bridle sessions show` "
        "numbers them, e.g. just before a compaction) or that assistant message.",
    )
    @click.option("--resume-drops-turn", hidden=True)
    @click.option("--session-mirror", is_flag=True, hidden=True)
    @click.option(
        "--json-schema",
        metavar="SCHEMA",
        help="Answer with JSON this schema accepts (structured_output in json results).",
    )
    @click.pass_context
    def root(ctx: click.Context, **opts: Any) -> int | None:
        """bridle: one open coding harness for every model and every account.

        Run `bridle` for the interactive app (`bridle "fix the tests"` starts it
        with a prompt), `bridle -p "fix the failing tests" --model
        deepseek/deepseek-chat` to run headless, or one of the commands below.
        """
        if ctx.invoked_subcommand is not None:
            return None
        words: list[str] = ctx.meta.get("bridle.prompt", [])
        meant = None if opts["print_mode"] else _mistyped_command(words, root.list_commands(ctx))
        if meant is not None:
            # Asked before anything else (the model lookup included): a typo must
            # not become a paid run. -p says the words are meant as a prompt.
            suggestion = "bridle " + " ".join(meant)
            if not sys.stdin.isatty():
                import shlex

                from bridle.core.errors import UsageError

                raise UsageError(
                    f"did you mean `{suggestion}`? To send {' '.join(words)!r} to the model "
                    f"as a prompt, add -p: `bridle -p {shlex.join(words)}`"
                )
            if click.confirm(f"did you mean `{suggestion}`?", default=False, err=True):
                return root.main(args=meant, prog_name="bridle", standalone_mode=False)
        if not _wants_run(opts) and not _headless_only(opts):
            # No -p: the interactive app, on a terminal; without one a prompt still
            # runs headless (scripts rely on it), and nothing to run is refused.
            if sys.stdin.isatty() and sys.stdout.isatty():
                return _run_app(opts, words)
            if not words and not (opts["continue_"] or opts["resume"]):
                from bridle.core.errors import UsageError

                raise UsageError(
                    "the interactive app needs a terminal (stdin and stdout); to run headless "
                    'pass a prompt with -p: `bridle -p "fix the failing tests"` (see bridle --help)'
                )
        if not words and (opts["continue_"] or opts["resume"]) and not _has_prompt_source(opts):
            from pathlib import Path

            from bridle.headless.flags import resume_prompt

            cwd = Path(opts["cwd"]).resolve() if opts["cwd"] else Path.cwd()
            words = [resume_prompt(opts, sys.stdin, cwd)]
        if not words and not _wants_run(opts):
            click.echo(ctx.get_help())
            return 0
        from bridle.headless.run import RunRequest, run_headless

        for key in (
            "allowed_tools",
            "disallowed_tools",
            "allow_tool",
            "deny_tool",
            "add_dir",
            "append_system_prompt",
            "files",
            "images",
            "plugin_dir",
        ):
            opts[key] = csv(opts[key])
        request = RunRequest.from_cli(" ".join(words) if words else None, opts)
        return run_headless(request)

    return root


def _mistyped_command(words: list[str], commands: list[str]) -> list[str] | None:
    """The command line a one- or two-word prompt most likely meant, when its first
    word is a subcommand's name or a near miss of one (`sesions list`); longer
    prompts are sentences and are never second-guessed."""
    tokens = " ".join(words).split()
    if not 1 <= len(tokens) <= 2:
        return None
    import difflib

    first = tokens[0].lower()
    # Strictly above 0.8: `hello` (0.8 against `shell`) is a greeting, not a typo.
    best = max(commands, key=lambda c: difflib.SequenceMatcher(None, first, c).ratio())
    if difflib.SequenceMatcher(None, first, best).ratio() <= 0.8:
        return None
    return [best, *tokens[1:]]


def _has_prompt_source(opts: dict[str, Any]) -> bool:
    """A prompt comes from somewhere other than PROMPT or stdin (or none is needed)."""
    return bool(
        opts["prompt_file"]
        or opts["prompt_each"]
        or opts["print_config"]
        or opts["print_tools_list"]
        or opts["doctor"]
        or opts["input_format"] == "stream-json"
    )


def _headless_only(opts: dict[str, Any]) -> bool:
    """Flags that only mean something to a headless run (its output and files)."""
    return bool(
        opts["output_format"] != "text"
        or opts["files"]
        or opts["images"]
        or opts["save_transcript"]
        or opts["save_cost"]
        or opts["save_diff"]
        or opts["commit"]
        or opts["commit_dirty"]
        or opts["print_cost"]
    )


def _run_app(opts: dict[str, Any], words: list[str]) -> int:
    """Open the interactive app with the run flags (`bridle "prompt"` sends it first)."""
    import dataclasses
    import os
    from pathlib import Path

    from bridle.headless.flags import session_options
    from bridle.tui.launch import run_app

    cwd = Path(opts["cwd"]).resolve() if opts["cwd"] else Path.cwd()
    options = dataclasses.replace(session_options(opts, cwd), headless=False)
    return run_app(options, " ".join(words) or None, cwd, os.environ)


def _wants_run(opts: dict[str, Any]) -> bool:
    return bool(
        opts["print_mode"]
        or opts["prompt_file"]
        or opts["prompt_each"]
        or opts["print_config"]
        or opts["print_tools_list"]
        or opts["doctor"]
        or opts["input_format"] == "stream-json"
    )
