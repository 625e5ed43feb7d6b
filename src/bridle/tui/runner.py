"""The engine's thread in the app: ops go in through queues, events come out to the app.

The app never runs the engine on its own event loop: `EngineRunner` owns one
thread that takes ops in order (a user turn, a permission mode or model switch)
and hands every event to the app with `App.call_from_thread`, which waits until
the app has shown it, so a fast stream cannot run ahead of the screen. Mode and
model switches sent while a turn runs are applied between two of its events
(the engine is only ever touched from this thread, except `Interrupt`, which is
safe from any thread). A `PermissionRequest` blocks the thread until the app
answers with an `ApprovalDecision`; once the runner is stopping, asks are
denied without asking. Before a tool call is shown, its diff is computed here
(a Write's diff reads the file it replaces) so the app's thread does no file
I/O; the files a call will change are copied then too (`tui.rewind`). After
each turn the git branch and dirty state are read again for the HUD.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridle.core.errors import BridleError
from bridle.core.messages import ImagePart
from bridle.engine import events as ev
from bridle.tui.rewind import Checkpoints
from bridle.tui.views import diff_lines


@dataclass(frozen=True)
class TurnFailed:
    """A prompt that did not become a turn (a bad `/command`), or a turn that
    raised: the app shows the message and takes the next prompt."""

    message: str


@dataclass(frozen=True)
class GitState:
    """The branch and whether the work tree has changes, posted for the HUD after each turn."""

    branch: str
    dirty: bool


@dataclass(frozen=True)
class _Prompt:
    """A prompt queued for the engine thread, with the `!` command output to put before it."""

    text: str
    context: str = ""
    images: tuple[ImagePart, ...] = ()


_WAKE = object()
_STOP = object()

# (event or runner message, diff lines of the call it shows)
Post = Callable[[Any, list[str]], Any]


def _nowhere(item: Any, diff: list[str]) -> None:
    """Where events go once the app has gone."""


class EngineRunner:
    def __init__(self, session: Any, cwd: Path, post: Post) -> None:
        self.session = session
        self.cwd = cwd
        self.post = post
        self.ops: queue.Queue[Any] = queue.Queue()
        self.controls: queue.Queue[ev.Op] = queue.Queue()
        # None: the app is going away; the pending ask is denied.
        self.answers: queue.Queue[ev.ApprovalDecision | None] = queue.Queue()
        self.stopping = False
        self.checkpoints = Checkpoints()  # files as they were before each turn (Esc Esc)
        self.thread = threading.Thread(target=self._run, name="bridle-engine", daemon=True)

    # ------------------------------------------------------------- app side
    def start(self) -> None:
        self.thread.start()

    def turn(self, text: str, context: str = "", images: tuple[ImagePart, ...] = ()) -> None:
        """A prompt; `context` (the output of `!` commands) goes before it."""
        self.ops.put(_Prompt(text, context, images))

    def control(self, op: ev.Op) -> None:
        """A mode or model switch: applied now when idle, between events in a turn."""
        self.controls.put(op)
        self.ops.put(_WAKE)

    def answer(self, decision: ev.ApprovalDecision) -> None:
        self.answers.put(decision)

    def interrupt(self) -> None:
        self.session.engine.send(ev.Interrupt())

    def stop(self) -> None:
        """Interrupt what runs and let the thread end (join it to wait)."""
        self.stopping = True
        self.interrupt()
        self.answers.put(None)
        self.ops.put(_STOP)

    def join(self, timeout: float) -> bool:
        if self.thread.is_alive():
            self.thread.join(timeout)
        return not self.thread.is_alive()

    # ---------------------------------------------------------- engine side
    def _run(self) -> None:
        while True:
            op = self.ops.get()
            if op is _STOP:
                return
            self._controls()
            if isinstance(op, _Prompt):
                try:
                    self._turn(op)
                except BridleError as e:
                    self._post(TurnFailed(str(e)))
                except Exception as e:  # the app must keep running; the turn is saved
                    self._post(TurnFailed(f"the turn failed: {type(e).__name__}: {e}"))
                self._post_git()

    def _controls(self) -> None:
        while True:
            try:
                op = self.controls.get_nowait()
            except queue.Empty:
                return
            try:
                for event in self.session.engine.send(op):
                    self._post(event)
            except BridleError as e:
                self._post(ev.Notice(str(e), "error"))

    def _turn(self, op: _Prompt) -> None:
        text = self.session.expand_prompt(op.text)  # `/command args`: the command's prompt
        if op.context:
            text = f"{op.context}\n\n{text}"
        engine = self.session.engine
        self.checkpoints.start(len(engine.messages))  # the index the prompt will have
        for event in engine.send(ev.UserTurn(text, list(op.images))):
            self._controls()
            if isinstance(event, ev.PermissionRequest):
                if self.stopping:
                    engine.send(ev.ApprovalDecision(event.call.id, allow=False))
                    continue
                self._post(event, diff_lines(event.call, self.cwd))
                answer = self.answers.get()
                engine.send(answer or ev.ApprovalDecision(event.call.id, allow=False))
            elif isinstance(event, ev.ToolStarted):
                self.checkpoints.record(event.call, self.cwd)  # before it runs
                self._post(event, diff_lines(event.call, self.cwd))
            else:
                self._post(event)

    def _post(self, item: Any, diff: list[str] | None = None) -> None:
        try:
            self.post(item, diff or [])
        except RuntimeError:  # the app has gone: stop posting, keep saving
            self.stopping = True
            self.post = _nowhere

    def _post_git(self) -> None:
        from bridle.engine.context import git_info

        git = git_info(self.cwd)
        if git.root is not None:
            self._post(GitState(git.branch or "", bool(git.status.strip())))
