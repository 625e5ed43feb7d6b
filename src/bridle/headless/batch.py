"""Batches: `--prompt-each FILE` runs the prompt once per input line, each item
in a fresh session, `--parallel N` at a time, with `--retry N` and `--bail`.

Each item's output is printed whole when it finishes (one json object per line
for json). SIGINT and SIGTERM stop a batch the way they stop a single run: no
new item starts, every running item's engine gets an `Interrupt` (a running
Bash is killed, the turn ends after the current model response), and the batch
waits up to `GRACE_S` for the running items to end their turns; an item still
waiting for the model then is left as it is, its session holding every step
that completed, exactly as a single run's would. A second signal stops the wait.
Every item cut short still prints its json or stream-json result, a summary on
stderr says what finished, what was stopped (with the session to resume) and
what never started, and the exit code is 130 or 143. Running one item is the
caller's `run_one`; this module only schedules, stops and reports.
"""

from __future__ import annotations

import io
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from bridle.core.errors import BridleError
from bridle.headless.progress import SIGNALS, NotStarted, RunProgress

# How long a stopped batch waits for running items to end their turns.
GRACE_S = 3.0
POLL_S = 0.05

RunOne = Callable[[Any, dict[str, str], str, IO[str], IO[str], RunProgress], int]


@dataclass(eq=False)
class Item:
    """One input line of a batch, its run's state, and the output held until it finishes."""

    number: int  # 1-based, among the non-empty input lines
    text: str
    # waiting → running → done | stopped (ended by the stop) | left (still running)
    state: str = "waiting"
    code: int | None = None
    out: io.StringIO = field(default_factory=io.StringIO)
    err: io.StringIO = field(default_factory=io.StringIO)
    progress: RunProgress | None = None


class Batch:
    def __init__(
        self,
        req: Any,
        env: dict[str, str],
        run_one: RunOne,
        out: IO[str] | None = None,
        err: IO[str] | None = None,
    ) -> None:
        self.req = req
        self.env = env
        self.run_one = run_one
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.items = [Item(n, text) for n, text in enumerate(req.batch_inputs, 1)]
        self.lock = threading.Lock()
        self.signals: list[int] = []
        self.stopped_by: int | None = None
        self.bailed = False

    def run(self) -> int:
        from bridle.config.paths import database_path
        from bridle.store.db import open_db

        # Create and migrate the database once, before the workers race to.
        open_db(database_path(self.env)).close()
        previous = {s: signal.signal(s, self._on_signal) for s in SIGNALS}
        try:
            self._supervise()
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
        return self._finish()

    # ------------------------------------------------------------ main thread
    def _on_signal(self, signum: int, frame: Any) -> None:
        # Only note it: a handler runs between two bytecodes of the main thread,
        # which may hold the lock at that moment.
        self.signals.append(signum)

    def _supervise(self) -> None:
        workers = [
            threading.Thread(target=self._work, name=f"bridle-batch-{n}", daemon=True)
            for n in range(self.req.opts["parallel"] or 1)
        ]
        for w in workers:
            w.start()
        deadline: float | None = None
        while True:
            alive = [w for w in workers if w.is_alive()]
            if not alive:
                return
            alive[0].join(POLL_S)
            if self.signals and self.stopped_by is None:
                self._stop(self.signals[0])
                deadline = time.monotonic() + GRACE_S
            if deadline is not None and (len(self.signals) > 1 or time.monotonic() > deadline):
                self._leave_running()
                return

    def _stop(self, signum: int) -> None:
        with self.lock:
            self.stopped_by = signum
            running = [i for i in self.items if i.state == "running"]
        again = " (Ctrl-C again to stop waiting)" if signum == signal.SIGINT else ""
        self.err.write(
            f"bridle: {_word(signum)}; stopping the batch: waiting up to {GRACE_S:.0f}s for "
            f"{len(running)} running item(s) to end their turn{again}\n"
        )
        self.err.flush()
        for item in running:
            if item.progress is not None:
                item.progress.interrupt()

    def _leave_running(self) -> None:
        """Items still waiting for the model: report them as they stand (their
        sessions hold every completed step) and let the process exit."""
        from bridle.headless.render import make_renderer

        assert self.stopped_by is not None
        o = self.req.opts
        with self.lock:
            for item in self.items:
                if item.state != "running":
                    continue
                item.state = "left"
                p = item.progress
                if (
                    p is not None
                    and p.session_id
                    and p.result is None
                    and o["output_format"] in ("json", "stream-json")
                ):
                    renderer = make_renderer(o["output_format"], item.out, item.err)
                    renderer.handle(p.cut_short(self.stopped_by))
                self._emit(item)

    def _finish(self) -> int:
        waiting = [i for i in self.items if i.state == "waiting"]
        if self.stopped_by is None:
            if waiting:
                self.err.write(
                    f"bridle: --bail: stopped after a failure; {len(waiting)} items not run\n"
                )
            failed = [i for i in self.items if i.state != "waiting" and i.code != 0]
            if not failed and not waiting:
                return 0
            return 75 if any(i.code == 75 for i in failed) else 1
        done = [i for i in self.items if i.state == "done"]
        stopped = [i for i in self.items if i.state in ("stopped", "left", "running")]
        self.err.write(
            f"bridle: {_word(self.stopped_by)}; the batch stopped: {len(done)} finished, "
            f"{len(stopped)} stopped, {len(waiting)} not started\n"
        )
        for item in stopped:
            sid = item.progress.session_id if item.progress is not None else ""
            what = f"item {item.number} ({_short(item.text)})"
            if sid:
                self.err.write(
                    f"bridle:   {what} stopped; its session is saved, resume it with "
                    f"`bridle -r {sid}`\n"
                )
            else:
                self.err.write(f"bridle:   {what} stopped before its session opened\n")
        if waiting:
            self.err.write(f"bridle:   not started: {_numbers([i.number for i in waiting])}\n")
        self.err.flush()
        return SIGNALS[signal.Signals(self.stopped_by)][1]

    # --------------------------------------------------------------- workers
    def _work(self) -> None:
        while True:
            with self.lock:
                if self.stopped_by is not None or self.bailed:
                    return
                item = next((i for i in self.items if i.state == "waiting"), None)
                if item is None:
                    return
                item.state = "running"
            self._run(item)

    def _run(self, item: Item) -> None:
        assert self.req.prompt is not None
        prompt = self.req.prompt.replace("{{input}}", item.text)
        code = 1
        for attempt in range(self.req.opts["retry"] + 1):
            out, err = io.StringIO(), io.StringIO()
            progress = RunProgress(on_attach=self._attach, stopped=lambda: self.stopped_by)
            with self.lock:
                before = (item.out, item.err, item.progress)
                item.out, item.err, item.progress = out, err, progress
            try:
                code = self.run_one(self.req, self.env, prompt, out, err, progress)
            except NotStarted:
                with self.lock:
                    # An earlier attempt ran and failed: that is what it did.
                    item.out, item.err, item.progress = before
                    item.state = "waiting" if attempt == 0 else "stopped"
                return
            except BridleError as e:
                err.write(f"bridle: {e}\n")
                code = e.exit_code
            if code == 0 or self.stopped_by is not None:
                break
        with self.lock:
            if item.state == "left":
                return  # already reported by the main thread
            item.code = code
            item.state = "stopped" if self.stopped_by is not None and code != 0 else "done"
            self._emit(item)
            if code != 0 and self.req.opts["bail"]:
                self.bailed = True

    def _attach(self, progress: RunProgress, session: Any) -> None:
        """Called with the item's session open, just before its turn: after a
        stop, the item does not start, and its empty session goes."""
        with self.lock:
            if self.stopped_by is None:
                return
        session.store.delete(session.started_event.session_id)
        raise NotStarted()

    def _emit(self, item: Item) -> None:
        self.out.write(item.out.getvalue())
        self.out.flush()
        self.err.write(item.err.getvalue())
        self.err.flush()


def _word(signum: int) -> str:
    return "interrupted" if signum == signal.SIGINT else "terminated"


def _short(text: str, limit: int = 60) -> str:
    return f'"{text}"' if len(text) <= limit else f'"{text[: limit - 1]}…"'


def _numbers(numbers: list[int]) -> str:
    """`items 2, 5-9` for a sorted list of item numbers."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    parts = [str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs]
    return ("item " if len(numbers) == 1 else "items ") + ", ".join(parts)
