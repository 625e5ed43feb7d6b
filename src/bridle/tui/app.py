"""The interactive app: a transcript, a prompt box and a HUD line over one engine session.

`BridleApp(session, options)` drives an opened `engine.setup.OpenSession`
through ops and events only: prompts become `UserTurn` ops on the engine's
thread (`tui.runner`), events come back and are shown (streamed markdown,
one expandable line per tool call, notices), permission asks open the modal
(`tui.permission`) and go back as `ApprovalDecision` ops. Prompts typed while
a turn runs are queued (▶ N queued) and sent in order. Keys: Enter sends,
Shift+Enter/Ctrl+J add a line, ↑/↓ history, Esc interrupts the running turn
(Esc Esc when idle rewinds the conversation and/or files, `tui.rewind`),
Shift+Tab cycles the permission mode, Ctrl+O expands the last tool call (a
click expands any), Ctrl+T shows or hides the todo list (`tui.todos`), Ctrl+R
searches the prompts sent, Ctrl+G edits the prompt in `$VISUAL`/`$EDITOR`, Tab
takes a `/command` or `@path` completion, Ctrl+C twice quits. A prompt sent
again within 500 ms is dropped (a double Enter or paste). `!command` runs a
shell command (`tui.commands`); the built-in `/commands` are there too, and
`/help` lists them with the project's. A `statusLine` command replaces the HUD
(`tui.status_line`). Quitting interrupts a running turn and waits for the
engine's thread, so the session is saved on every way out. When idle the only
timer is the HUD's 1 s clock.
A pasted image file's path attaches the image (`tui.images`).
`BRIDLE_AUTO_APPROVE=1` answers every ask with yes.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import CancelledError
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from bridle.core import startup
from bridle.engine.options import SessionOptions
from bridle.tui import first_screen
from bridle.tui.completion import Completion, CompletionList, complete
from bridle.tui.gitprobe import GitProbe, git_head
from bridle.tui.hud import HudState, render_hud
from bridle.tui.prompt_input import PromptInput
from bridle.tui.themes import altergo_themes, theme_for
from bridle.tui.todos import TodoPanel, last_todos
from bridle.tui.transcript import Note, Prompt, ToolLine
from bridle.tui.welcome import greeting_text, show_greeting

if TYPE_CHECKING:
    # What the session's part of the app needs is imported when first used, so
    # the first screen does not wait for it.
    from bridle.engine.events import TurnResult
    from bridle.tui.status_line import StatusLine

MODES = ("default", "acceptEdits", "plan")
QUIT_WINDOW = 2.0  # seconds within which a second Ctrl+C quits
REWIND_WINDOW = 0.8  # seconds within which a second Esc opens rewind
DUPLICATE_WINDOW = 0.5  # seconds within which the same prompt sent again is dropped
KEYS = (
    "Enter send · Shift+Enter/Ctrl+J new line · ↑/↓ history · PgUp/PgDn scroll · "
    "Ctrl+R search history · "
    "Tab complete /command @path · !cmd shell · Ctrl+G $EDITOR · Esc interrupt · Esc Esc rewind · "
    "Shift+Tab permission mode · Ctrl+O expand tool call · Ctrl+T todos · Ctrl+C twice quit"
)


class MainScreen(Screen[None]):
    """The app's screen: it focuses the prompt box itself, so the first frame does
    not restyle a focus given to the transcript and taken back."""

    AUTO_FOCUS = "#prompt"


class BridleApp(App[int]):
    CSS = """
    Screen { layout: vertical; }
    #transcript { height: 1fr; padding: 0 1; scrollbar-size-vertical: 1; }
    #hud { height: 1; padding: 0 1; background: $boost; }
    """
    BINDINGS = [
        Binding("ctrl+c", "ctrl_c", "Quit", priority=True, show=False),
        Binding("shift+tab", "cycle_mode", "Mode", priority=True, show=False),
        Binding("ctrl+o", "expand", "Expand", priority=True, show=False),
        Binding("ctrl+r", "search_history", "Search", priority=True, show=False),
        Binding("ctrl+g", "edit_prompt", "Editor", priority=True, show=False),
        Binding("ctrl+t", "toggle_todos", "Todos", priority=True, show=False),
        Binding("escape", "interrupt", "Interrupt", show=False),
    ]

    def get_default_screen(self) -> Screen[None]:
        return MainScreen(id="_default")

    def __init__(
        self,
        session: Any | None,
        *,
        cwd: Path,
        env: Mapping[str, str],
        first_prompt: str | None = None,
        account: str = "",
        context_window: int = 200_000,
        options: SessionOptions | None = None,
        opener: Callable[[], tuple[Any, int]] | None = None,
        session_id: str = "",
        settings: Any = None,  # the merged settings, read before the first paint
        git: GitProbe | None = None,  # `git status`, started before the app loaded
    ) -> None:
        super().__init__(driver_class=first_screen.driver_class())
        for theme in altergo_themes():
            self.register_theme(theme)
        self.settings = settings if settings is not None else getattr(session, "settings", None)
        # The run's options: /resume opens another session with them.
        if options is None:
            assert session is not None, "an app without a session needs the run's options"
            options = SessionOptions(model=session.model_name, headless=False)
        self.options = options
        self.cwd = cwd
        self.first_prompt = first_prompt
        self.auto_approve = env.get("BRIDLE_AUTO_APPROVE", "") not in ("", "0")
        self.hud = HudState(
            model=self.options.model or "",
            account=account,
            project=cwd.name,
            mode=self.options.permission_mode or "default",
            context_window=context_window,
            idle_since=time.monotonic(),
        )
        # Without a session, `opener` opens one on a thread after the first paint
        # (returning it and its context window); prompts typed meanwhile queue.
        self.session: Any = None
        self.opener = opener
        self.opening: threading.Thread | None = None
        self.opened: Any = None  # what the opener's thread returned, until the app takes it
        self.open_error: BaseException | None = None
        self.session_id = session_id  # the id the opener's new session will have
        self.greeting = Note("")
        self.git = git
        self.earlier: Any = None  # tui.past.Earlier: a resumed session's messages not shown
        if session is not None:
            self.bind_session(session)
        self.queue: list[str] = []
        self.running = False
        self.answer: Any = None  # the answer streaming now (`tui.answer.Answer`)
        self.tool_lines: dict[str, ToolLine] = {}
        self.denied: dict[str, str] = {}  # denied calls' reasons, until their line shows
        self.session_tools: set[str] = set()  # `!`: asked no more this session
        self.quitting = False
        self._ctrl_c_at = 0.0
        self._esc_before = 0.0  # the last Esc when idle (a second one opens rewind)
        self.env = env
        self.last_sent = ("", 0.0)  # the duplicate guard's text and time
        self.shell: Any = None  # the running `!` command's process
        self.shell_count = 0
        self.shell_context: list[str] = []  # `!` outputs that go with the next prompt
        self.images: dict[str, Any] = {}  # label -> ImagePart, pasted for the next prompt
        self.started_at = time.monotonic()
        self.api_ms = 0
        self.status: StatusLine | None = None  # a statusLine command in place of the HUD
        self.status_text = Text("")
        self.status_padding = 0

    # ------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        # Kept as attributes: `query_one` searches the top screen, the modal included.
        self.transcript = VerticalScroll(id="transcript")
        self.hud_line = Static(id="hud")
        self.prompt = PromptInput(id="prompt")
        self.prompt.popup = CompletionList(id="completions")
        self.prompt.completer = self.completions
        self.prompt.attach = self.attach_image
        self.todo_panel = TodoPanel(id="todos")
        yield self.transcript
        yield self.todo_panel
        yield self.hud_line
        yield self.prompt.popup
        yield self.prompt

    def bind_session(self, session: Any) -> None:
        """Drive `session`: the engine's thread for it, the HUD from what it chose."""
        from bridle.tui.runner import EngineRunner

        self.session = session
        self.runner = EngineRunner(session, self.cwd, self._from_engine)
        self.hud.model = session.model_name
        self.hud.mode = session.started_event.permission_mode

    def greet(self) -> None:
        self.greeting.update(Text(greeting_text(self, KEYS)))

    async def on_mount(self) -> None:
        # The first screen (greeting, HUD, a focused prompt box) is drawn before
        # the session opens, so typing starts at once.
        self.transcript.anchor()
        self.greet()
        self.theme = theme_for(self.settings, self.available_themes)
        await show_greeting(self)  # and its launch animation, when the settings want them
        self.hud.project, self.hud.branch = git_head(self.cwd) or (self.hud.project, "")
        self.hud.dirty = bool(self.git and self.git.dirty())  # else git_info tells, later
        self.refresh_hud()
        self.set_interval(1.0, self.refresh_hud)  # the prompt box has the focus (MainScreen)
        # What was loaded to get here lives as long as the app: out of the
        # collector's sight, so a full collection mid-stream is short.
        self.call_after_refresh(startup.done)
        self.call_after_refresh(first_screen.remember, self)  # the next launch's instant screen
        if self.session is not None:
            await self.session_ready()
        elif self.opener is not None:
            self.opening = threading.Thread(target=self._open, name="bridle-open", daemon=True)
            self.call_after_refresh(self.opening.start)

    def _open(self) -> None:
        """On the opener's thread: open the session, then hand it to the app."""
        assert self.opener is not None
        try:
            from bridle.tui.mcp_approval import ask_before_open

            ask_before_open(self)  # the project's .mcp.json servers, once
            self.opened = self.opener()
        except BaseException as e:  # shown once the terminal is restored
            self.open_error = e
        try:
            self.call_from_thread(self._opened)  # type: ignore[arg-type]
        except (RuntimeError, CancelledError):
            pass  # the app has gone (or is going): run_app closes what was opened

    async def _opened(self) -> None:
        if self.open_error is not None:
            self.exit(64)
            return
        session, self.hud.context_window = self.opened
        self.opened = None
        self.bind_session(session)
        if self.quitting:
            self.exit(0)
            return
        await self.session_ready()

    async def session_ready(self) -> None:
        """The opened session's part of the screen; then the prompts typed meanwhile."""
        from bridle.engine.context import git_info

        self.greet()
        messages = self.session.engine.messages
        if self.session.started_event.resumed:
            sent = [m.text for m in messages if m.role == "user" and m.text.strip()]
            self.prompt.sent = sent + self.prompt.sent
            await self.show_history(messages)
        self.todo_panel.set_todos(last_todos(messages))
        for warning in self.session.warnings:
            await self.note(f"warning: {warning}", error=True)
        git = await asyncio.to_thread(git_info, self.cwd)
        if git.root is not None:
            self.hud.project = git.root.name
            self.hud.branch = git.branch or self.hud.branch  # an unborn branch has a name too
            self.hud.dirty = bool(git.status.strip())
        self.count_extensions()
        self.settings = self.session.settings
        self.theme = theme_for(self.settings, self.available_themes)
        from bridle.tui.status_line import StatusLine, status_command

        spec = status_command(self.session.settings)
        if spec is not None:
            self.status = StatusLine(spec[0], self.run_status_line, self.show_status_line)
            self.status_padding = spec[1]
            self.status.changed()
        self.refresh_hud()
        self.runner.start()
        typed, self.queue = self.queue, []
        for text in [self.first_prompt, *typed] if self.first_prompt else typed:
            await self.submit(text)  # a turn runs; the rest queue behind it

    def on_unmount(self) -> None:
        if self.session is not None:
            self.runner.stop()
        if self.status is not None:
            self.status.stop()
        if self.shell is not None and self.shell.returncode is None:
            self.shell.kill()

    def refresh_hud(self) -> None:
        hud = self.hud_line
        width = max(10, (hud.size.width or self.size.width) - 2)
        self.hud.queued = len(self.queue)
        if self.status is None:
            hud.update(render_hud(self.hud, width, time.monotonic()), layout=False)
        elif self.hud.notice:
            hud.update(Text(self.hud.notice, style="bold red"), layout=False)
        else:
            line = Text(" " * self.status_padding) + self.status_text
            line.truncate(width, overflow="ellipsis")
            hud.update(line, layout=False)  # one row: no layout pass over the transcript

    def count_extensions(self) -> None:
        """The HUD's counts: instruction files loaded, MCP servers, hooks."""
        from bridle.tui.views_cmds import hook_entries

        session = self.session
        self.hud.instruction_files = len(session.instruction_files)
        mcp = session.mcp
        self.hud.mcp_servers = len(mcp.statuses()) if mcp is not None else 0
        self.hud.hooks = len(hook_entries(session.hooks))

    async def run_status_line(self) -> Text:
        from bridle.tui.status_line import run_status, status_input

        assert self.status is not None
        bridge = self.session.hooks
        transcript = getattr(getattr(bridge, "transcript", None), "path", "") or ""
        style = getattr(getattr(self.session.extensions, "style", None), "name", "default")
        root = getattr(self.session.settings, "project_root", None) or self.cwd
        payload = status_input(
            session_id=self.session.record.id,
            transcript_path=str(transcript),
            cwd=self.cwd,
            project_dir=Path(root),
            model=self.hud.model,
            style=style or "default",
            hud=self.hud,
            started=self.started_at,
            api_ms=self.api_ms,
            now=time.monotonic(),
        )
        return await run_status(self.status.command, payload, self.cwd, self.env)

    def show_status_line(self, text: Text) -> None:
        self.status_text = text
        self.refresh_hud()

    async def mount_in_transcript(self, widget: Any) -> None:
        await self.transcript.mount(widget)

    async def note(self, text: str, error: bool = False) -> None:
        from bridle.tui.links import linked

        note = Note(text, error)
        note.update(linked(text, self.cwd, self.env))  # OSC 8 links on file paths
        await self.mount_in_transcript(note)

    # ----------------------------------------------------------- prompts
    async def on_prompt_input_submitted(self, message: PromptInput.Submitted) -> None:
        now = time.monotonic()
        last, at = self.last_sent
        self.last_sent = (message.text, now)
        if message.text == last and now - at < DUPLICATE_WINDOW:
            return  # the same prompt twice in a moment: a double Enter or paste
        await self.submit(message.text)

    def command_list(self) -> dict[str, str]:
        """Every `/command` with its description: the built-ins, then the project's."""
        from bridle.tui import commands

        listed = dict(commands.BUILTINS)
        ext = getattr(self.session, "extensions", None)
        project = getattr(getattr(ext, "commands", None), "by_name", None) or {}
        for name, command in sorted(project.items()):
            listed.setdefault(name, getattr(command, "description", "") or "")
        return listed

    def attach_image(self, text: str) -> str | None:
        """A pasted image file's path: its label in the prompt (`tui.images`)."""
        from bridle.tui.images import image_from_paste

        found = image_from_paste(text, self.cwd)
        if found is None:
            return None
        label = f"[image #{len(self.images) + 1}: {found[0]}]"
        self.images[label] = found[1]
        return label

    def completions(self, line: str, column: int) -> list[Completion]:
        return complete(line, column, self.command_list(), self.cwd)

    async def submit(self, text: str) -> None:
        if self.session is None:  # still opening: everything waits its turn
            self.queue.append(text)
            self.refresh_hud()
            return
        from bridle.tui import commands

        builtin = commands.parse(text)
        if builtin is not None and not (self.running and builtin[0] in commands.WAIT_FOR_IDLE):
            await commands.run_builtin(self, *builtin)
            self.refresh_hud()
            return
        if text.startswith("!") and text[1:].strip():
            await commands.run_shell(self, text[1:].strip())
            return
        if self.running:
            self.queue.append(text)
            self.refresh_hud()
            return
        await self.start_turn(text)

    async def start_turn(self, text: str) -> None:
        from bridle.tui import commands

        builtin = commands.parse(text)
        if builtin is not None:  # a queued /compact or /clear: its turn has come
            await commands.run_builtin(self, *builtin)
            self.refresh_hud()
            return
        self.running = True
        self.hud.turn_started = time.monotonic()
        self.hud.notice = ""
        await self.mount_in_transcript(Prompt(text))
        self.refresh_hud()
        context = "\n\n".join(self.shell_context)
        self.shell_context.clear()
        images = tuple(self.images.pop(label) for label in list(self.images) if label in text)
        self.runner.turn(text, context, images)

    async def show_history(self, messages: list[Any]) -> None:
        from bridle.tui.past import show_history

        await show_history(self, messages)  # the last messages; PageUp at the top, more

    async def show_help(self) -> None:
        lines = [KEYS, *(f"/{name}  {what}".rstrip() for name, what in self.command_list().items())]
        await self.note("\n".join(lines))

    # ------------------------------------------------------------ events
    def _from_engine(self, item: Any, diff: list[str]) -> None:
        """Called on the engine's thread: show `item` and wait until it is shown."""
        if not self.is_running:
            raise RuntimeError("the app has gone")
        self.call_from_thread(self.on_engine_event, item, diff)  # type: ignore[arg-type]

    async def on_engine_event(self, item: Any, diff: list[str]) -> None:
        from bridle.tui.shown import show_event

        await show_event(self, item, diff)

    async def end_answer(self) -> None:
        if self.answer is not None:
            await self.answer.finish()
            self.answer = None

    async def end_turn(self, result: TurnResult | None) -> None:
        await self.end_answer()
        if result is not None and result.is_error:
            why = "; ".join(result.errors) or result.subtype
            await self.note(f"turn ended: {why}", error=result.error_kind != "interrupted")
        self.running = False
        self.count_extensions()  # a turn may load nested CLAUDE.md files or rules
        from bridle.tui.manners import turn_ended

        turn_ended(self, self.hud.turn_started, result)  # OSC 9 when the user is away
        self.hud.turn_started = None
        self.hud.idle_since = time.monotonic()
        while self.queue and not self.quitting and not self.running:
            await self.start_turn(self.queue.pop(0))  # a queued /command runs and the next follows

    # ----------------------------------------------------------- actions
    def asking(self) -> bool:
        """Whether the permission modal is up."""
        from bridle.tui.permission import PermissionScreen

        return isinstance(self.screen, PermissionScreen)

    def action_interrupt(self) -> None:
        """Esc interrupts a turn (or a `!` command); Esc Esc when idle opens rewind."""
        now, self._esc_at = time.monotonic(), time.monotonic()
        if self.session is None:
            return
        if self.shell is not None and self.shell.returncode is None:
            self.shell.kill()
        elif self.running:
            self.runner.interrupt()
            self.hud.notice = "interrupting…"
            self.refresh_hud()
        elif now - self._esc_before <= REWIND_WINDOW and not self.quitting:
            from bridle.tui.rewind import open_rewind

            open_rewind(self)
            now = 0.0
        self._esc_before = now

    def action_cycle_mode(self) -> None:
        if self.asking() or self.session is None:
            return
        from bridle.engine.events import SetPermissionMode

        modes = list(MODES)
        if self.hud.mode not in modes:
            modes.append(self.hud.mode)  # bypassPermissions or dontAsk, when started so
        self.runner.control(SetPermissionMode(modes[(modes.index(self.hud.mode) + 1) % len(modes)]))

    async def action_search_history(self) -> None:
        from bridle.tui.history_search import HistorySearch

        if isinstance(self.screen, HistorySearch):
            self.screen.action_older()  # Ctrl+R again: the next older match
            return
        if self.asking():
            return

        def chosen(text: str | None) -> None:
            if text is not None:
                self.prompt.load_text(text)
                self.prompt.move_cursor(self.prompt.document.end)
            self.prompt.focus()

        self.push_screen(HistorySearch(self.prompt.sent), chosen)

    def action_edit_prompt(self) -> None:
        """Ctrl+G: the prompt in `$VISUAL`/`$EDITOR` (vi), the app suspended meanwhile."""
        from bridle.tui.editor import edit_text

        if self.asking():
            return
        try:
            text = edit_text(self, self.prompt.text, self.env, self.cwd)
        except OSError as e:
            self.run_worker(self.note(f"cannot run the editor: {e}", error=True))
            return
        if text is not None:
            self.prompt.load_text(text)
            self.prompt.move_cursor(self.prompt.document.end)

    def action_toggle_todos(self) -> None:
        if not self.todo_panel.todos:
            self.run_worker(self.note("no todo list yet (the model keeps one with TodoWrite)"))
            return
        self.todo_panel.toggle_shown()

    def action_expand(self) -> None:
        if self.tool_lines:
            list(self.tool_lines.values())[-1].toggle()

    async def action_ctrl_c(self) -> None:
        now = time.monotonic()
        if now - self._ctrl_c_at <= QUIT_WINDOW:
            await self.action_quit()
            return
        self._ctrl_c_at = now
        self.prompt.clear()
        self.hud.notice = "Ctrl+C again to quit"
        self.refresh_hud()
        self.set_timer(QUIT_WINDOW, self._clear_notice)

    def _clear_notice(self) -> None:
        self.hud.notice = ""
        self.refresh_hud()

    async def action_quit(self) -> None:
        """Interrupt a running turn, let the engine's thread save and end, then exit."""
        if self.quitting:
            return
        self.quitting = True
        self.queue.clear()
        if self.asking():
            from bridle.tui.permission import PermissionAnswer

            self.screen.dismiss(PermissionAnswer("deny"))
        if self.session is None:
            return  # still opening: the app exits once the session is open (`_opened`)
        self.runner.stop()
        await asyncio.to_thread(self.runner.join, 15.0)
        self.exit(0)
