"""The app's informational `/commands`: status, tools, skills, context, doctor, theme.

`/status` shows the version, session, model, account, permission mode, project
and what the session loaded; `/tools` the tools offered to the model (MCP tools
by server); `/skills` the skills found with where they came from; `/context`
what fills the context window as a grid of cells (system prompt, tool
definitions, instruction files and memory, messages, free), each part counted
with the estimate the engine's budget check uses and the last request's real
input when the provider reported one; `/doctor` runs `bridle --doctor`'s checks
(`headless.info.doctor`) on a worker thread and shows them; `/theme [NAME]`
lists or switches the app's themes (`tui.themes`). They change nothing but the
theme.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from bridle.tui.app import BridleApp

INFO_COMMANDS = {
    "status": "version, session, model, account, mode and what this session loaded",
    "tools": "the tools offered to the model",
    "skills": "the skills found, with where they came from",
    "context": "what fills the context window, as a grid",
    "doctor": "check the install, model, hooks, MCP servers and extension files",
    "theme": "the app's colours: /theme NAME (dark, light, ...); alone, list them",
}
GRID_COLUMNS = 20
GRID_ROWS = 5
PARTS = (  # name, cell, style
    ("system prompt", "■", "magenta"),
    ("tools", "■", "yellow"),
    ("instructions", "■", "blue"),
    ("messages", "■", "green"),
    ("free", "□", "dim"),
)


async def run_info(app: BridleApp, name: str, argument: str) -> None:
    if name == "status":
        await app.note(status_text(app))
    elif name == "tools":
        await app.note(tools_text(app.session.engine.tool_specs))
    elif name == "skills":
        await app.note(skills_text(app.session.extensions))
    elif name == "context":
        grid = context_grid(context_parts(app), app.hud.context_window, app.hud.context_used)
        await app.mount_in_transcript(Static(grid, classes="context"))
    elif name == "doctor":
        await doctor(app)
    elif name == "theme":
        from bridle.tui.themes import theme_command

        await theme_command(app, argument)


def status_text(app: BridleApp) -> str:
    from bridle import __version__

    session, hud = app.session, app.hud
    record = session.record
    branch = f" · {hud.branch}{'*' if hud.dirty else ''}" if hud.branch else ""
    lines = [
        f"bridle {__version__}",
        f"session: {record.id} · {record.title or '(untitled)'}",
        f"directory: {app.cwd}{branch}",
        f"model: {hud.model} (context window {hud.context_window:,} tokens)",
        f"account: {hud.account or '(the environment keys)'}",
        f"permission mode: {hud.mode}",
        f"instruction files: {hud.instruction_files} · MCP servers: {hud.mcp_servers} · "
        f"hooks: {hud.hooks} · tools: {len(session.engine.tool_specs)}",
    ]
    return "\n".join(lines)


def tools_text(specs: list[Any]) -> str:
    if not specs:
        return "no tools in this session (--tools, --disallowedTools)"
    own = [s for s in specs if not s.name.startswith("mcp__")]
    mcp = [s for s in specs if s.name.startswith("mcp__")]
    lines = [f"tools ({len(specs)}):"]
    for spec in own:
        first = (spec.description.strip().splitlines() or [""])[0]
        lines.append(f"- {spec.name}: {first[:100]}")
    servers: dict[str, list[str]] = {}
    for spec in mcp:
        server, _, tool = spec.name[5:].partition("__")
        servers.setdefault(server, []).append(tool)
    for server, names in sorted(servers.items()):
        lines.append(f"- MCP {server}: {', '.join(names)}")
    return "\n".join(lines)


def skills_text(extensions: Any) -> str:
    skills = getattr(extensions, "skills", None) or {}
    if not skills:
        return "no skills (.claude/skills/NAME/SKILL.md, ~/.claude/skills, plugins)"
    lines = ["skills (/NAME runs one; the model can use them too):"]
    for name, skill in sorted(skills.items()):
        who = "" if skill.model_invocable else " [only you]"
        if skill.paths and skill.model_invocable:
            who = f" [offered for {', '.join(skill.paths)}]"
        lines.append(f"- {name}: {skill.description[:100]}{who} ({skill.scope}, {skill.path})")
    return "\n".join(lines)


def _tokens(chars: int) -> int:
    return (chars + 3) // 4  # the usual ~4 characters a token


def context_parts(app: BridleApp) -> dict[str, int]:
    """Estimated tokens of each part of the next request."""
    from bridle.core.messages import TextPart, ToolResultPart

    engine = app.session.engine
    instructions = engine.dispatcher.instructions
    rendered = instructions.render() if instructions is not None else ""
    system = max(0, len(engine.system) - len(rendered))
    tools = sum(
        len(s.name) + len(s.description) + len(json.dumps(s.input_schema))
        for s in engine.tool_specs
    )
    messages = 0
    for message in engine.messages:
        for part in message.parts:
            if isinstance(part, TextPart):
                messages += len(part.text)
            elif isinstance(part, ToolResultPart):
                messages += sum(len(getattr(p, "text", "")) or 1000 for p in part.content)
            else:  # a tool call's input, an image
                messages += len(json.dumps(getattr(part, "input", None) or {})) + 20
    return {
        "system prompt": _tokens(system),
        "tools": _tokens(tools),
        "instructions": _tokens(len(rendered)),
        "messages": _tokens(messages),
    }


def context_grid(parts: dict[str, int], window: int, reported: int) -> Text:
    """A grid of cells, each a share of the window, coloured by what fills it."""
    window = max(1, window)
    used = sum(parts.values())
    cells = GRID_COLUMNS * GRID_ROWS
    counts = {name: round(tokens * cells / window) for name, tokens in parts.items()}
    for name, tokens in parts.items():
        if tokens and not counts[name]:
            counts[name] = 1  # a part that is there shows
    counts["free"] = max(0, cells - sum(counts.values()))
    sequence = [(cell, style) for name, cell, style in PARTS for _ in range(counts.get(name, 0))]
    sequence = sequence[:cells]
    out = Text()
    for row in range(GRID_ROWS):
        for cell, style in sequence[row * GRID_COLUMNS : (row + 1) * GRID_COLUMNS]:
            out.append(cell + " ", style)
        out.append("\n")
    out.append(f"context: ~{used:,} of {window:,} tokens ({used * 100 / window:.0f}%)\n", "bold")
    free = max(0, window - used)
    for name, cell, style in PARTS:
        tokens = free if name == "free" else parts[name]
        out.append(f"{cell} ", style)
        out.append(f"{name}: ~{tokens:,} tokens ({tokens * 100 / window:.1f}%)\n")
    if reported:
        out.append(f"the last request used {reported:,} tokens (as the provider counted)\n")
    out.rstrip()
    return out


async def doctor(app: BridleApp) -> None:
    """`bridle --doctor` for this session's project, model and settings, run as its
    own process (the checks belong to the headless front end, a sibling of the app)."""
    import json
    import sys

    await app.note("running the checks…")
    argv = [sys.executable, "-m", "bridle", "--doctor"]
    if app.options.model:
        argv += ["--model", app.options.model]
    if app.options.settings:
        argv += ["--settings", json.dumps(dict(app.options.settings))]
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, cwd=str(app.cwd), env=dict(app.env),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        raw, _ = await proc.communicate()
    except OSError as e:  # the checks could not start: say so, the app goes on
        await app.note(f"doctor: {e.strerror or e}", error=True)
        return
    code = proc.returncode
    text = raw.decode("utf-8", "replace").rstrip()
    verdict = "all checks passed" if code == 0 else "some checks FAILED (the fix follows ->)"
    await app.note(f"doctor: {verdict}\n{text}", error=code != 0)
