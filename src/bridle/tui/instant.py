"""The app's first screen drawn before Python has loaded the app: an instant screen.

Loading Textual and the app takes most of a launch (about 200 ms), and the
first frame it draws is, launch after launch, the same picture: the greeting,
the HUD and an empty prompt box. When the app draws that frame, it keeps it
(`tui.first_screen.remember`) under a key made of everything that shapes it
(bridle's version and interpreter, the arguments, the folder, the terminal's
size and the environment that picks colours), with the size and modification
time of every file that could change it (the settings layers, `.git/HEAD`, the
modules that draw it). `begin`, called by the CLI before Click is imported,
looks that entry up; when the key matches and no file changed, it puts the
terminal in the mode Textual would (no echo, no line editing, no signal keys),
enters the alternate screen and draws the kept frame, with this launch's new
session id in place of the old one (`session_id` hands it to the app). A thread
then echoes printable keys into the prompt box and keeps every byte typed; when
Textual starts (`tui.first_screen`'s driver) it takes the terminal over with
`hand_over`: the thread stops, the bytes typed are fed to Textual as keys, in
order, and Textual's first frame (the same picture) replaces this one in place.
A launch that ends before Textual starts (an error, a signal) gets the
terminal back as it found it (`release`, also at exit). Nothing is drawn when
any of stdin, stdout and stderr is not a terminal, on a first launch, or when
anything in the key changed; `BRIDLE_NO_INSTANT=1` turns it off. This module
imports only small standard modules (no pathlib, json or uuid; termios and a
thread only on a hit), so a miss costs a `stat` or two.
"""

from __future__ import annotations

import marshal
import os
import sys
from typing import Any

FORMAT = 1  # the entry's layout; a different one is a miss
ENV = ("TERM", "COLORTERM", "NO_COLOR", "FORCE_COLOR", "TERM_PROGRAM", "COLUMNS", "LINES", "HOME")
ENV_PREFIXES = ("BRIDLE_", "TEXTUAL")
ENTER = "\x1b[?1049h\x1b[?25l\x1b[?7l"  # alternate screen, no cursor, no line wrap
LEAVE = "\x1b[?7h\x1b[?1049l\x1b[?25h"
SID = "\x00sid\x00"  # where the kept frame has the session id (each launch has its own)
KEPT = 64  # entries kept (a project and a terminal size each); the oldest go first

_key: tuple[Any, ...] | None = None
_shown: Shown | None = None


def cache_dir(env: Any = None) -> str:
    """`$BRIDLE_HOME/cache/first-screen` (`config.paths.bridle_home`, without pathlib)."""
    env = os.environ if env is None else env
    home = env.get("BRIDLE_HOME")
    if home:
        home = os.path.expanduser(home)
    else:
        home = os.path.join(env.get("HOME") or os.path.expanduser("~"), ".bridle")
    return os.path.join(home, "cache", "first-screen")


def make_key(args: list[str], cwd: str, size: tuple[int, int], env: Any) -> tuple[Any, ...]:
    from bridle import __version__

    picked = tuple(
        sorted(
            (k, v)
            for k, v in env.items()
            if (k in ENV or k.startswith(ENV_PREFIXES)) and k != "BRIDLE_NO_INSTANT"
        )
    )
    return (__version__, sys.executable, tuple(args), cwd, size, picked)


def entry_path(key: tuple[Any, ...]) -> str:
    import zlib

    return os.path.join(cache_dir(), f"{zlib.crc32(marshal.dumps(key)):08x}.screen")


def stamp(path: str) -> tuple[str, int, int]:
    """A file's (path, mtime_ns, size); (path, -1, -1) when it does not exist."""
    try:
        st = os.stat(path)
    except OSError:
        return (path, -1, -1)
    return (path, st.st_mtime_ns, st.st_size)


def key() -> tuple[Any, ...] | None:
    """This launch's key (set by `begin` when all three streams are terminals)."""
    return _key


def session_id() -> str | None:
    """The new session's id the instant screen shows, for the app to use."""
    return _shown.session_id if _shown is not None else None


def shown() -> bool:
    """Whether the instant screen is on the terminal, waiting for Textual."""
    return _shown is not None and not _shown.handed


def begin(args: list[str]) -> None:
    """Draw the kept first screen for this launch, if there is one and it still holds."""
    global _key, _shown
    env = os.environ
    if env.get("BRIDLE_NO_INSTANT", "") not in ("", "0"):
        return
    try:
        if not all(os.isatty(fd) for fd in (0, 1, 2)):
            return
        cols, rows = os.get_terminal_size(2)
        _key = make_key(args, os.getcwd(), (cols, rows), env)
        with open(entry_path(_key), "rb") as f:
            entry = marshal.loads(f.read())
    except (OSError, ValueError, EOFError, TypeError):
        return
    if not _holds(entry, _key):
        return
    try:
        _shown = Shown(entry)
    except Exception:  # no termios, a terminal that refuses the mode: nothing drawn
        _shown = None


def _holds(entry: Any, key: tuple[Any, ...]) -> bool:
    try:
        form, kept_key, files = entry[0], entry[1], entry[2]
        return form == FORMAT and kept_key == key and all(stamp(f[0]) == tuple(f) for f in files)
    except (TypeError, IndexError, ValueError):  # ValueError: a path with a NUL byte
        return False


def new_uuid() -> str:
    """A random (version 4) UUID, as `uuid.uuid4()` gives, without importing `uuid`."""
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _write(text: str) -> None:
    data = text.encode("utf-8", "backslashreplace")  # as Textual's stream writes it
    while data:
        data = data[os.write(2, data) :]


class Shown:
    """The instant screen on the terminal: its saved terminal mode, its echo thread
    and the bytes typed so far."""

    def __init__(self, entry: Any) -> None:
        import termios

        frame, cursor, text_sgr, cursor_sgr, room = entry[3:8]
        self.session_id = new_uuid()
        self.saved = termios.tcgetattr(0)
        mode = termios.tcgetattr(0)
        signals = 0 if os.environ.get("TEXTUAL_ALLOW_SIGNALS") else termios.ISIG
        mode[3] &= ~(termios.ECHO | termios.ICANON | termios.IEXTEN | signals)
        mode[0] &= ~(termios.IXON | termios.IXOFF | termios.ICRNL | termios.INLCR | termios.IGNCR)
        mode[6][termios.VMIN] = 1
        self.handed = False
        self.typed = bytearray()
        self.echoed = ""
        self.echoing = True
        self.cursor, self.text_sgr, self.cursor_sgr, self.room = cursor, text_sgr, cursor_sgr, room
        import threading

        self.wake_r, self.wake_w = os.pipe()
        self.thread = threading.Thread(target=self._read, name="bridle-instant", daemon=True)
        termios.tcsetattr(0, termios.TCSANOW, mode)
        try:
            _write(ENTER + frame.replace(SID, self.session_id[:8]))
            self.thread.start()
        except BaseException:
            _restore(self.saved)
            os.close(self.wake_r)
            os.close(self.wake_w)
            raise
        _watch_exit()

    def _read(self) -> None:
        """Keep every byte typed; echo printable ones while the line is plain text."""
        import select

        while True:
            ready, _, _ = select.select([0, self.wake_r], [], [])
            if self.wake_r in ready:
                return
            try:
                data = os.read(0, 4096)
            except OSError:
                return
            if not data:
                return
            self.typed += data
            if self.echoing:
                self._echo(data)

    def _echo(self, data: bytes) -> None:
        x, y = self.cursor
        out = []
        for byte in data:
            n = len(self.echoed)
            if 0x20 <= byte < 0x7F and n + 1 < self.room:
                ch = chr(byte)
                out.append(f"\x1b[{y + 1};{x + n + 1}H" + self.text_sgr.replace("\x00", ch))
                out.append(self.cursor_sgr)
                self.echoed += ch
            elif byte in (0x7F, 0x08) and n:
                self.echoed = self.echoed[:-1]
                out.append(f"\x1b[{y + 1};{x + n}H" + self.cursor_sgr)
                out.append(self.text_sgr.replace("\x00", " "))
            else:  # a key Textual must interpret (Enter, an arrow, Ctrl+…): it redraws
                self.echoing = False
                break
        if out:
            _write("".join(out))

    def stop(self) -> None:
        """Stop the echo thread (idempotent); every byte it read is in `typed`."""
        if self.wake_w < 0:
            return
        if self.thread.is_alive():
            os.write(self.wake_w, b"x")
            self.thread.join()
        for fd in (self.wake_r, self.wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self.wake_r = self.wake_w = -1


def hand_over() -> tuple[list[Any], bytes] | None:
    """Textual takes the terminal: the terminal mode to restore when it is done, and
    the bytes typed meanwhile (None when no instant screen is up)."""
    shown = _take()
    return None if shown is None else (shown.saved, bytes(shown.typed))


def release() -> None:
    """Give the terminal back as it was, if Textual never took it (an error, a
    signal, the end of the process). Harmless to call more than once."""
    shown = _take()
    if shown is not None:
        _restore(shown.saved)


def _take() -> Shown | None:
    """The instant screen still up, its echo thread stopped and marked handed (once)."""
    shown = _shown
    if shown is None or shown.handed:
        return None
    shown.stop()
    shown.handed = True
    return shown


def _restore(saved: list[Any]) -> None:
    """The terminal mode `saved` back, and the user's own screen."""
    import termios

    try:
        termios.tcsetattr(0, termios.TCSADRAIN, saved)
        _write(LEAVE)
    except (OSError, termios.error):
        pass


def _watch_exit() -> None:
    """`release` at exit and on SIGTERM/SIGHUP until Textual has the terminal (the
    app installs its own handlers before that)."""
    import atexit
    import signal

    atexit.register(release)

    def on_signal(signum: int, frame: Any) -> None:
        release()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, on_signal)


def save(entry: tuple[Any, ...]) -> None:
    """Keep `entry` (written whole, then renamed into place); keep the newest `KEPT`."""
    folder = cache_dir()
    path = entry_path(entry[1])
    data = marshal.dumps(entry)
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return
    except OSError:
        pass
    os.makedirs(folder, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    kept = sorted(
        (e for e in os.scandir(folder) if e.name.endswith(".screen")),
        key=lambda e: e.stat().st_mtime_ns,
    )
    for old in kept[:-KEPT]:
        try:
            os.unlink(old.path)
        except OSError:
            pass
