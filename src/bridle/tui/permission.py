"""The permission modal ("Allow Edit to stats.py?") and the rules its `a` key saves.

`PermissionScreen` shows the question, why the policy asks, and the call (the
coloured diff for file changes, the command for Bash), and is dismissed with a
`PermissionAnswer`: `y` once, `a` always (the rule is saved, see below), `!`
this tool for the rest of the session, `n` deny with an optional line of
feedback for the model (Enter sends it, an empty line just denies), Esc denies.
`save_allow_rule` merges one allow rule into the project's
`.bridle/settings.local.json` through the one atomic writer: other keys and
rules stay, a file with comments is kept beside it as `.bak` first (JSON cannot
keep them), and a file that is not a settings object is refused untouched. The
app turns answers into `ApprovalDecision` ops; this module sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from bridle.core.errors import ConfigError
from bridle.core.messages import ToolUsePart
from bridle.tui.views import call_input_text, colour_diff, subject

KEYS_HINT = (
    "y yes once · a always (saved) · ! this tool for the session · n no (tell the model why)"
)


@dataclass(frozen=True)
class PermissionAnswer:
    """How the user answered the permission modal, and any feedback for the model with a denial."""

    choice: str  # "once", "always", "session", "deny"
    feedback: str = ""

    @property
    def allow(self) -> bool:
        return self.choice != "deny"


def question(call: ToolUsePart, subject: str) -> str:
    if call.name == "Bash" and subject:
        return f"Allow Bash to run `{subject}`?"
    return f"Allow {call.name} to {subject}?" if subject else f"Allow {call.name}?"


class PermissionScreen(ModalScreen[PermissionAnswer]):
    DEFAULT_CSS = """
    PermissionScreen { align: center middle; }
    #box { width: 90%; max-width: 110; height: auto; max-height: 90%;
           border: thick $warning; background: $surface; padding: 0 1; }
    #question { text-style: bold; }
    #reason { color: $text-muted; }
    #call { height: auto; max-height: 20; margin: 1 0; }
    #keys { color: $text-accent; }
    #feedback { display: none; }
    #feedback.shown { display: block; }
    """

    BINDINGS = [
        Binding("y", "answer('once')", "Yes", show=False),
        Binding("a", "answer('always')", "Always", show=False),
        Binding("exclamation_mark", "answer('session')", "Session", show=False),
        Binding("n", "deny", "No", show=False),
        Binding("escape", "answer('deny')", "Deny", show=False),
    ]

    def __init__(self, call: ToolUsePart, subject: str, reason: str, diff: list[str]) -> None:
        super().__init__()
        self.call = call
        self.subject = subject
        self.reason = reason
        self.diff = diff

    def compose(self) -> ComposeResult:
        with Vertical(id="box"):
            yield Static(Text(question(self.call, self.subject)), id="question")
            if self.reason:
                yield Static(Text(self.reason), id="reason")
            body = colour_diff(self.diff) if self.diff else Text(call_input_text(self.call))
            with VerticalScroll(id="call"):
                yield Static(body)
            yield Static(Text(KEYS_HINT), id="keys")
            yield Input(placeholder="what should the model do instead? (Enter)", id="feedback")

    def on_mount(self) -> None:
        self.query_one("#box").focus()

    def _feedback_shown(self) -> bool:
        return self.query_one("#feedback", Input).has_class("shown")

    def action_answer(self, choice: str) -> None:
        if self._feedback_shown() and choice != "deny":
            return
        self.dismiss(PermissionAnswer(choice))

    def action_deny(self) -> None:
        if self._feedback_shown():
            return
        box = self.query_one("#feedback", Input)
        box.add_class("shown")
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(PermissionAnswer("deny", event.value.strip()))


def save_allow_rule(project_root: Path, rule: str) -> Path:
    """Add `rule` to `permissions.allow` of `<project>/.bridle/settings.local.json`."""
    from bridle.store.settings_file import edit_settings

    path = project_root / ".bridle" / "settings.local.json"

    def change(perms: dict[str, Any]) -> None:
        allow = perms.get("allow", [])
        if not isinstance(allow, list):
            raise ConfigError("permissions.allow is not a list; fix it by hand", path=str(path))
        if rule not in allow:
            perms["allow"] = [*allow, rule]

    edit_settings(path, "permissions", change)
    return path


def ask(app: Any, request: Any, diff: list[str]) -> None:
    """A permission request from the engine (`events.PermissionRequest`): answered at
    once when quitting, auto-approving or allowed for the session (`!`), else the
    modal asks."""
    from bridle.engine.events import ApprovalDecision

    call = request.call
    if app.quitting:
        app.runner.answer(ApprovalDecision(call.id, allow=False))
    elif app.auto_approve or call.name in app.session_tools:
        app.runner.answer(ApprovalDecision(call.id, allow=True))
    else:
        screen = PermissionScreen(call, subject(call, app.cwd), request.reason, diff)
        app.push_screen(screen, lambda answer: answered(app, call, answer))


def answered(app: Any, call: Any, answer: PermissionAnswer | None) -> None:
    """Tell the engine the modal's answer; `!` and `a` also remember it."""
    from bridle.engine.dispatch import session_rule
    from bridle.engine.events import ApprovalDecision

    answer = answer or PermissionAnswer("deny")
    app.runner.answer(
        ApprovalDecision(
            call.id, allow=answer.allow, always=answer.choice == "always", message=answer.feedback
        )
    )
    if answer.choice == "session":
        app.session_tools.add(call.name)
        app.run_worker(app.note(f"{call.name} is allowed for the rest of this session"))
    elif answer.choice == "always":
        rule = session_rule(call)
        root = getattr(app.session.settings, "project_root", None) or app.cwd
        try:
            path = save_allow_rule(Path(root), rule)
            text, error = f"always allowed: {rule} (saved in {path})", False
        except (OSError, ValueError) as e:
            text, error = f"allowed {rule} for this session; not saved: {e}", True
        app.run_worker(app.note(text, error))
    elif answer.choice == "deny" and answer.feedback:
        app.run_worker(app.note(f"denied; told the model: {answer.feedback}"))
