"""The instant screen in a real terminal (tmux): the second launch draws the first
frame the first one kept before Textual is even imported (`tests/tui/instant_gate.py`
holds that import), echoes keys typed meanwhile, and hands over to the app without a
cell changing; typed keys reach the app in order (Enter included); a launch that
breaks before the app gives the terminal back as it was; `BRIDLE_NO_INSTANT=1` and a
changed settings file draw nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

GATE = Path(__file__).with_name("instant_gate.py")
ARGS = "--model mock/anthropic"


class Term:
    """A tmux server of its own, with one shell window per launch."""

    def __init__(self, tmp: Path) -> None:
        self.socket = f"bridle-instant-{uuid.uuid4().hex[:8]}"
        self.repo = tmp / "proj"
        self.repo.mkdir()
        (self.repo / "calc.py").write_text("def add(a, b):\n    return a - b\n")
        subprocess.run(["git", "init", "-q", "-b", "main", str(self.repo)], check=True)
        scenario = tmp / "scenario.json"
        turns = [{"op": "final", "text": "I read it."}]
        scenario.write_text(json.dumps({"name": "x", "prompt": "p", "turns": turns}))
        home = tmp / "home"
        self.env = {
            "HOME": str(home),
            "BRIDLE_HOME": str(home / ".bridle"),
            "BRIDLE_MOCK_SCENARIO": str(scenario),
            "TERM": "xterm-256color",
        }
        self.gate = tmp / "gate"

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True)
        return done.stdout

    def launch(self, name: str, script: str, extra: dict[str, str] | None = None) -> None:
        env = {**self.env, "GATE_FILE": str(self.gate), **(extra or {})}
        flags = [f"-e{k}={v}" for k, v in env.items()]
        command = f"{sys.executable} {script} {ARGS}; echo exited=$?; exec sh"
        self.tmux("new-session", "-d", "-s", name, "-x", "80", "-y", "24", "-c", str(self.repo),
                  *flags, command)  # fmt: skip

    def screen(self, name: str, colours: bool = False) -> str:
        return self.tmux("capture-pane", "-p", *(["-e"] if colours else []), "-t", name)

    def flag(self, name: str, which: str) -> str:
        return self.tmux("display-message", "-p", "-t", name, f"#{{{which}}}").strip()

    def live(self, name: str) -> bool:
        """Textual has the terminal: it turns mouse reporting on, the instant screen does not."""
        return self.flag(name, "mouse_any_flag") == "1"

    def quit(self, name: str) -> None:
        self.tmux("send-keys", "-t", name, "C-c")
        time.sleep(0.3)
        self.tmux("send-keys", "-t", name, "C-c")
        until(lambda: "exited=0" in self.screen(name), f"{name} quits")

    def close(self) -> None:
        self.tmux("kill-server")


def until(check: Callable[[], object], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting until {what}")


@pytest.fixture
def term(tmp_path: Path):  # type: ignore[no-untyped-def]
    t = Term(tmp_path)
    try:
        yield t
    finally:
        t.close()


def first_launch(term: Term) -> None:
    """A plain launch: the app draws its first frame and keeps it."""
    term.gate.write_text("open")
    term.launch("first", "-m bridle")
    folder = Path(term.env["BRIDLE_HOME"], "cache", "first-screen")
    until(lambda: list(folder.glob("*.screen")), "the app keeps its first frame")
    term.quit("first")
    term.gate.unlink()
    assert len(list(folder.glob("*.screen"))) == 1


def test_the_kept_frame_is_drawn_before_textual_loads_and_the_app_takes_over_cell_for_cell(
    term: Term,
) -> None:
    first_launch(term)
    term.launch("second", str(GATE))
    until(lambda: "new session" in term.screen("second"), "the instant screen shows")
    instant = term.screen("second", colours=True)
    assert not term.live("second")  # Textual is not even imported: the gate holds it
    assert term.flag("second", "alternate_on") == "1"
    assert "mock/anthropic · proj (main*)" in term.screen("second")
    sid = instant.split("new session ", 1)[1][:8]
    term.gate.write_text("open")
    until(lambda: term.live("second"), "the app takes the terminal")
    time.sleep(0.2)
    after = term.screen("second", colours=True)
    assert after.splitlines() == instant.splitlines()  # no cell changed on the hand-over
    term.quit("second")
    saved = term.screen("second")
    assert f"session {sid} saved" in saved  # the id shown first is the session's
    assert term.flag("second", "alternate_on") == "0"


def test_keys_typed_on_the_instant_screen_echo_and_reach_the_app_in_order(term: Term) -> None:
    first_launch(term)
    term.launch("typing", str(GATE))
    until(lambda: "new session" in term.screen("typing"), "the instant screen shows")
    term.tmux("send-keys", "-t", "typing", "-l", "read calc.pyy")
    term.tmux("send-keys", "-t", "typing", "BSpace")
    until(lambda: "│ read calc.py " in term.screen("typing"), "the keys echo in the prompt box")
    assert not term.live("typing")
    term.tmux("send-keys", "-t", "typing", "Enter")  # not echoed: the app sends it
    term.gate.write_text("open")
    until(lambda: "I read it." in term.screen("typing"), "the prompt is sent once the app is up")
    assert term.screen("typing").count("› read calc.py") == 1  # sent once, as typed
    term.quit("typing")


def test_a_launch_that_breaks_before_the_app_gives_the_terminal_back(term: Term) -> None:
    first_launch(term)
    term.launch("broken", str(GATE))
    until(lambda: "new session" in term.screen("broken"), "the instant screen shows")
    term.gate.write_text("fail")
    until(lambda: "exited=1" in term.screen("broken"), "the launch ends")
    screen = term.screen("broken")
    assert "textual is broken" in screen  # the error is on the user's screen, not lost
    assert term.flag("broken", "alternate_on") == "0"
    probe = "echo modes=$(stty -a | tr ' ' '\\n' | grep -c -x -e echo -e icanon)"
    term.tmux("send-keys", "-t", "broken", probe, "Enter")
    until(lambda: "modes=" in term.screen("broken").split(probe)[-1], "stty answers")
    assert "modes=2" in term.screen("broken").split(probe)[-1]  # echo and line editing are back


def test_nothing_is_drawn_when_turned_off_or_when_a_settings_file_changed(term: Term) -> None:
    first_launch(term)
    term.launch("off", str(GATE), {"BRIDLE_NO_INSTANT": "1"})
    time.sleep(1.0)
    assert "new session" not in term.screen("off")  # held before Textual: a blank screen
    term.gate.write_text("open")
    until(lambda: term.live("off"), "the app is up")
    term.quit("off")
    term.gate.unlink()
    (term.repo / ".bridle").mkdir()
    (term.repo / ".bridle" / "settings.json").write_text('{"theme": "light"}')
    term.launch("changed", str(GATE))
    time.sleep(1.0)
    assert "new session" not in term.screen("changed")  # the kept frame has the old theme
    term.gate.write_text("open")
    until(lambda: term.live("changed"), "the app is up")
    term.quit("changed")
