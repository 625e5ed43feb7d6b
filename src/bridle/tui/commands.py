"""The app's own `/commands` and its `!` shell commands.

`BUILTINS` names each finished built-in with its description (what `/help` and
the `/` completion list show); `run_builtin(app, name, argument)` runs one and
returns False for a name that is not a built-in (the engine expands the
project's commands and skills). `/model` switches through the engine's
`SetModel` op, fuzzy over the catalog (`model_choices`); `/compact [focus]` and
`/clear` are the engine's `Compact` and `Clear` ops and wait for a running turn
to end (they are queued like prompts); `/anchor TEXT` is the `Anchor` op (a fact
in every request, through compactions and `-c`); `/memory` shows the memory
folder and what its MEMORY.md loads; `/cost` the session's tokens and cost;
`/queue` lists, drops and takes back the prompts waiting for the running turn;
`/resume [ID]` switches sessions (`tui.resume`); `/copy` puts the last answer on the clipboard with OSC 52 (Textual's writer);
`/permissions`, `/mcp`, `/agents` and `/tasks` are in `tui.views_cmds`; `/steer`,
`/account`, `/rename`, `/export`, `/share`, `/fork`, `/diff` and `/init` in
`tui.commands_session`; `/status`, `/tools`, `/skills`, `/context`, `/doctor`
and `/theme` in `tui.views_info`.
`run_shell` is `!command`: it runs in the project's directory without a turn,
shows as a Bash line, and its output goes with the next prompt (as Claude Code
does). Nothing here blocks the app's loop: the shell command is awaited.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bridle.core.messages import TextPart, ToolResultPart, ToolUsePart
from bridle.engine import events as ev
from bridle.tui.commands_session import SESSION_COMMANDS, run_session_command
from bridle.tui.hud import tokens_text
from bridle.tui.transcript import ToolLine
from bridle.tui.views_cmds import VIEWS, run_view
from bridle.tui.views_info import INFO_COMMANDS, run_info

if TYPE_CHECKING:
    from bridle.tui.app import BridleApp

BUILTINS = {
    "help": "keys and commands",
    "model": "switch the model: /model NAME (fuzzy: /model haiku); alone, what is in use",
    "compact": "summarise the conversation now: /compact [what to focus on]",
    "clear": "start again from an empty conversation",
    "resume": "switch to another session of this project: /resume [ID]",
    "anchor": "pin a fact through compactions: /anchor TEXT; alone, list them",
    "memory": "the project's memory folder and its MEMORY.md",
    "cost": "tokens and cost of this session",
    "copy": "copy the last answer to the clipboard (OSC 52)",
    "queue": "the prompts waiting for the turn: /queue, /queue drop N, /queue edit N, /queue clear",
    **VIEWS,
    **SESSION_COMMANDS,
    **INFO_COMMANDS,
    "quit": "quit (also /exit, Ctrl+C twice)",
}
WAIT_FOR_IDLE = ("compact", "clear")  # queued while a turn runs
SHELL_TIMEOUT = 600.0
SHELL_OUTPUT_MAX = 30_000  # characters of a `!` command's output sent with the next prompt


def parse(text: str) -> tuple[str, str] | None:
    """(`name`, `argument`) of a built-in `/name argument`, else None."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        return None
    name, _, argument = stripped[1:].partition(" ")
    name = "quit" if name == "exit" else name
    return (name, argument.strip()) if name in BUILTINS else None


def model_choices(query: str, settings: Any) -> list[str]:
    """Catalog models for `/model QUERY`: the alias or `provider/model` it names
    (as typed when the provider is known), else every model whose reference
    holds all the query's words, else the aliases that do."""
    from bridle.providers.resolve import catalog_for

    catalog = catalog_for(settings)
    low = query.strip().lower()
    if low in catalog.aliases:
        return [low]
    refs = [m.ref for m in catalog.models()]
    for ref in refs:
        if ref.lower() == low:
            return [ref]
    head, slash, tail = query.strip().partition("/")
    if slash and tail and catalog.provider(head) is not None:
        return [query.strip()]  # `provider/model`, as typed (the catalog need not list it)
    words = low.replace("/", " ").split()
    found = [r for r in refs if all(w in r.lower() for w in words)]
    if not found:
        found = [a for a in catalog.aliases if all(w in a for w in words)]
    return found


async def run_builtin(app: BridleApp, name: str, argument: str) -> None:
    if name == "help":
        await app.show_help()
    elif name == "quit":
        await app.action_quit()
    elif name == "model":
        await switch_model(app, argument)
    elif name == "compact":
        app.hud.notice = "compacting…"
        app.runner.control(ev.Compact(argument))
    elif name == "clear":
        app.runner.control(ev.Clear())
    elif name == "anchor":
        await anchor(app, argument)
    elif name == "memory":
        await show_memory(app)
    elif name == "cost":
        await show_cost(app)
    elif name == "queue":
        await edit_queue(app, argument)
    elif name == "copy":
        await copy_answer(app)
    elif name == "resume":
        from bridle.tui.resume import resume_command

        await resume_command(app, argument)
    elif name in VIEWS:
        await run_view(app, name, argument)
    elif name in SESSION_COMMANDS:
        await run_session_command(app, name, argument)
    elif name in INFO_COMMANDS:
        await run_info(app, name, argument)


async def switch_model(app: BridleApp, query: str) -> None:
    if not query:
        await app.note(f"model: {app.hud.model} · /model NAME switches (fuzzy over the catalog)")
        return
    try:
        found = model_choices(query, app.session.settings)
    except Exception as e:  # a bad providers setting: say so, keep the model
        await app.note(f"cannot read the model catalog: {e}", error=True)
        return
    if len(found) == 1:
        app.runner.control(ev.SetModel(found[0]))
    elif not found:  # perhaps a model the catalog does not list (`provider/any-id`)
        app.runner.control(ev.SetModel(query))
    else:
        shown = ", ".join(found[:12]) + (" …" if len(found) > 12 else "")
        await app.note(f"{len(found)} models match {query!r}: {shown}; name one of them")


async def anchor(app: BridleApp, text: str) -> None:
    """`/anchor TEXT` pins a fact (alone: lists them) through the engine's op."""
    app.runner.control(ev.Anchor(text))


async def show_memory(app: BridleApp) -> None:
    from bridle.extensions.memory import enabled, load_memory, memory_dir

    settings = app.session.settings
    if not enabled(app.env, settings):
        await app.note("auto memory is off (autoMemoryEnabled, CLAUDE_CODE_DISABLE_AUTO_MEMORY)")
        return
    root = getattr(settings, "project_root", None) or app.cwd
    memory = load_memory(memory_dir(Path(root), app.env, settings))
    if not memory.exists:
        await app.note(f"memory: {memory.index_path} does not exist yet (the model writes it)")
        return
    cut = f" (first {len(memory.index.splitlines())} of {memory.lines} lines load)"
    head = f"memory: {memory.index_path}{cut if memory.truncated else ''}"
    await app.note(f"{head}\n{memory.index}")


async def edit_queue(app: BridleApp, argument: str) -> None:
    """`/queue` lists the queued prompts; `drop N` removes one, `edit N` takes it
    back into the prompt box, `clear` empties the queue."""
    verb, _, number = argument.partition(" ")
    queue = app.queue
    if verb == "clear":
        dropped = len(queue)
        queue.clear()
        await app.note(f"queue cleared ({dropped} dropped)")
        return
    if verb in ("drop", "edit"):
        if not number.strip().isdigit() or not 1 <= int(number) <= len(queue):
            await app.note(f"/queue {verb} N: N is a queued prompt's number (1-{len(queue)})", True)
            return
        text = queue.pop(int(number) - 1)
        if verb == "edit":
            app.prompt.load_text(text)
            app.prompt.move_cursor(app.prompt.document.end)
        await app.note(f"{'taken back' if verb == 'edit' else 'dropped'}: {text}")
        return
    if verb:
        await app.note("/queue takes drop N, edit N or clear", error=True)
    elif queue:
        await app.note("queued:\n" + "\n".join(f"{i}. {t}" for i, t in enumerate(queue, 1)))
    else:
        await app.note("the queue is empty")


async def copy_answer(app: BridleApp) -> None:
    """`/copy`: the newest answer (streamed or resumed) to the terminal's clipboard."""
    from bridle.tui.transcript import Answer, PastAnswer

    answers = [w for w in app.transcript.children if isinstance(w, (Answer, PastAnswer))]
    text = answers[-1].text if answers else ""
    if not text.strip():
        await app.note("no answer to copy yet", error=True)
        return
    app.copy_to_clipboard(text)
    await app.note(f"copied the last answer ({len(text):,} characters) to the clipboard")


async def show_cost(app: BridleApp) -> None:
    hud = app.hud
    await app.note(
        f"this session: ↑{tokens_text(hud.tokens_in)} input · ↓{tokens_text(hud.tokens_out)} "
        f"output tokens · ${hud.cost_usd:.4f}"
    )


async def run_shell(app: BridleApp, command: str) -> None:
    """`!command`: run it, show it as a Bash line, keep its output for the next prompt."""
    app.shell_count += 1
    call = ToolUsePart(f"shell-{app.shell_count}", "Bash", {"command": command})
    line = ToolLine(call, f"! {command}", [])
    await app.mount_in_transcript(line)
    try:
        process = await asyncio.create_subprocess_shell(
            command,
            cwd=app.cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as e:
        line.finish(ToolResultPart(call.id, [TextPart(f"cannot run it: {e}")], is_error=True))
        return
    app.shell = process
    try:
        out, _ = await asyncio.wait_for(process.communicate(), SHELL_TIMEOUT)
    except TimeoutError:
        process.kill()
        out = f"timed out after {SHELL_TIMEOUT:.0f}s".encode()
        await process.wait()
    finally:
        app.shell = None
    text = out.decode("utf-8", "replace").rstrip("\n")
    code = process.returncode or 0
    shown = f"{text}\n[exit code {code}]" if code else text
    line.finish(ToolResultPart(call.id, [TextPart(shown)], is_error=code != 0))
    line.toggle()  # the user asked for this output: show it
    kept = text if len(text) <= SHELL_OUTPUT_MAX else text[:SHELL_OUTPUT_MAX] + "\n…(cut)"
    app.shell_context.append(
        f"<bash-input>{command}</bash-input>\n<bash-stdout>{kept}</bash-stdout>"
        + (f"\n<bash-exit-code>{code}</bash-exit-code>" if code else "")
    )
