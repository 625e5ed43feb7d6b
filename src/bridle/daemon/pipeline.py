"""Running one task: Lead → Implement → Review → Test in the task's worktree.

Each agent phase is an engine session (`engine.setup.open_session`) in the
worktree with the task's model, headless, or, when the task's `agents` names one
for the phase, another coding CLI under an account (`daemon.agent_cli`: same
permission modes, its output streamed into the event log, its final answer
handed on like an engine phase's), and its own permissions: Lead and
Review run in `plan` mode (they read and run read-only commands; they cannot
change files), Implement runs in `acceptEdits` (edits only inside the worktree,
the project root) with one Bash allow rule, the test command; anything else a
phase tries is denied, since nobody is there to approve it. Test runs the test
command (the task's `test_command`, else settings `test_command`) in a shell and
sends a failure back to Implement, at most `MAX_ROUNDS` rounds. Each phase ends
with a checkpoint commit on the task's branch, recorded in the backend; a
resumed task (its worker died) resets the worktree to the last checkpoint (which
workers on several machines share through a hidden ref on origin) and continues
with the next step, so no half-run phase leaves anything behind.
At the end the branch is pushed to origin and the result returned. Steer and
stop arrive from the worker's control thread (`deliver_steer`, `interrupt`).
"""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridle.daemon import gitwork
from bridle.daemon.backend import CANCELLED, FAILED, SUCCEEDED, Checkpoint, Task, TaskBackend
from bridle.daemon.events import EventLog
from bridle.engine import events as ev

MAX_ROUNDS = 3  # Implement → Test rounds before the task fails
TEST_TIMEOUT = 900.0
MAX_TEST_OUTPUT = 8000

PROMPTS = {
    "lead": (
        "You are the lead on a coding task. Study the repository (you cannot change "
        "files in this phase) and write a short plan for the implementer: which files "
        "to change and how, and how to check the change.\n\nTask:\n{task}"
    ),
    "implement": (
        "Implement this task in the repository, then check your change.\n\n"
        "Task:\n{task}{plan}{failure}"
    ),
    "review": (
        "Review the change made for this task (`git diff {base}` shows it; you cannot "
        "change files in this phase). Say whether it does what the task asks, and name "
        "any defect.\n\nTask:\n{task}{work}"
    ),
}


class Stopped(Exception):
    """A client asked the task to stop."""


class LeaseLost(Exception):
    """Another worker owns the task now (this one was too slow to renew its lease)."""


class PhaseFailed(Exception):
    """A phase ended in error (limits, model errors): the task fails with this message."""


@dataclass
class TaskRun:
    """One claimed task being run by a worker, with the controls (stop, steer, lost lease)
    its control thread uses while the phases run."""

    backend: TaskBackend
    task: Task
    worker: str
    data_dir: Path
    env: dict[str, str]
    log: EventLog = field(init=False)
    stop: threading.Event = field(default_factory=threading.Event)
    lease_lost: threading.Event = field(default_factory=threading.Event)
    engine: Any = None
    cli: Any = None  # agent_cli.PhaseProcess of a phase another CLI runs
    steers: list[str] = field(default_factory=list)
    # Workers on several machines: checkpoints go to origin too (see gitwork).
    share_checkpoints: bool = False

    def __post_init__(self) -> None:
        self.log = EventLog(self.backend, self.task.id)
        self._lock = threading.Lock()
        self.cost = self.task.cost_usd
        self.turns = self.task.turns

    # ------------------------------------------------------ control thread
    def interrupt(self, lease_lost: bool = False) -> None:
        (self.lease_lost if lease_lost else self.stop).set()
        with self._lock:
            if self.engine is not None:
                self.engine.send(ev.Interrupt())
            if self.cli is not None:
                self.cli.stop()

    def deliver_steer(self, text: str) -> None:
        with self._lock:
            self.steers.append(text)
            running = self.engine is not None
            if running:
                self.engine.send(ev.Steer(text))
        # Delivered to a running phase, or else added to the next phase's prompt.
        self.log.emit("steer", text=text, delivered=running)

    # ---------------------------------------------------------------- run
    def run(self) -> tuple[str, dict[str, Any], str | None]:
        """(final state, result, error)."""
        spec = self.task.spec
        tree, base_commit = gitwork.prepare_worktree(
            self.data_dir, spec.repo_url, self.task.id, spec.branch, spec.base
        )
        outcome = self._run(tree, base_commit)
        if self.share_checkpoints:
            gitwork.drop_shared(tree, self.task.id)
        return outcome

    def _run(self, tree: Path, base_commit: str) -> tuple[str, dict[str, Any], str | None]:
        spec = self.task.spec
        points = list(self.task.checkpoints)
        if points:
            resume_at = points[-1].commit
            gitwork.ensure_commit(self.data_dir, spec.repo_url, self.task.id, resume_at)
            gitwork.reset_to(tree, resume_at)
            self.log.emit(
                "task_resumed", attempt=self.task.attempts, checkpoint=points[-1].phase,
                commit=points[-1].commit,
            )  # fmt: skip
        else:
            if self.task.attempts > 1:  # killed before its first checkpoint
                gitwork.reset_to(tree, base_commit)
            start = Checkpoint("start", base_commit, "", 0.0, 0, time.time())
            self._record(start, "start")
            points.append(start)
            self.log.emit("task_started", attempt=self.task.attempts, branch=spec.branch,
                          base_commit=base_commit, worktree=str(tree))  # fmt: skip
        for text in self.backend.take_steers(self.task.id):  # sent while it was queued
            self.deliver_steer(text)
        try:
            while (step := next_step(spec.pipeline, points)) is not None:
                if self.stop.is_set():
                    raise Stopped
                phase, rnd = step
                self.log.phase = phase
                if not self.backend.progress(self.task.id, self.worker, phase=phase):
                    raise LeaseLost
                self.log.emit("phase_started", round=rnd)
                if phase == "test":
                    ok, output, cost, turns = self._test(tree)
                else:
                    ok, output, cost, turns = True, *self._agent(phase, rnd, tree, points)
                commit = gitwork.checkpoint(tree, f"bridle: {phase} (task {self.task.id})")
                if self.share_checkpoints:
                    gitwork.share_checkpoint(tree, self.task.id, commit)
                point = Checkpoint(phase, commit, output, cost, turns, time.time(), rnd, ok)
                self._record(point, phase)
                points.append(point)
                self.log.emit("checkpoint", commit=commit, ok=ok, round=rnd)
        except Stopped:
            self.log.phase = None
            return CANCELLED, self._result(tree, base_commit, points, False), "stopped by request"
        except PhaseFailed as e:
            self.log.phase = None
            return FAILED, self._result(tree, base_commit, points, False), str(e)
        self.log.phase = None
        last = points[-1]
        if last.phase == "test" and not last.ok:
            msg = f"tests still fail after {last.round + 1} round(s)"
            return FAILED, self._result(tree, base_commit, points, False), msg
        gitwork.push(tree, spec.branch)
        self.log.emit("pushed", branch=spec.branch, commit=last.commit)
        return SUCCEEDED, self._result(tree, base_commit, points, True), None

    def _record(self, point: Checkpoint, phase: str) -> None:
        ok = self.backend.progress(
            self.task.id, self.worker, phase=phase, cost_usd=point.cost_usd, turns=point.turns,
            checkpoint=point,
        )  # fmt: skip
        if not ok:
            raise LeaseLost

    def _result(
        self, tree: Path, base_commit: str, points: list[Checkpoint], pushed: bool
    ) -> dict[str, Any]:
        outputs = {p.phase: p.output for p in points}
        summary = outputs.get("review") or outputs.get("implement") or outputs.get("lead", "")
        return {
            "summary": summary,
            "diff_stat": gitwork.diff_stat(tree, base_commit),
            "cost_usd": self.cost,
            "turns": self.turns,
            "branch": self.task.spec.branch,
            "base_commit": base_commit,
            "head_commit": points[-1].commit,
            "pushed": pushed,
            "checkpoints": [p.to_json() for p in points],
        }

    # ------------------------------------------------------------- phases
    def _agent(
        self, phase: str, rnd: int, tree: Path, points: list[Checkpoint]
    ) -> tuple[str, float, int]:
        from bridle.engine.options import SessionOptions
        from bridle.engine.setup import open_session

        spec = self.task.spec
        turns_left = None if spec.max_turns is None else spec.max_turns - self.turns
        cost_left = None if spec.max_cost_usd is None else spec.max_cost_usd - self.cost
        if turns_left is not None and turns_left < 1:
            raise PhaseFailed(f"max_turns ({spec.max_turns}) used up before the {phase} phase")
        if cost_left is not None and cost_left <= 0:
            raise PhaseFailed(f"max_cost_usd (${spec.max_cost_usd}) used up before {phase}")
        prompt = self._prompt(phase, rnd, points)
        agent = spec.agents.get(phase)
        if agent:
            return self._external(agent, phase, prompt, tree, cost_left)
        test_cmd = self._test_command(tree)
        options = SessionOptions(
            model=spec.model,
            accounts=(spec.account,) if spec.account else (),
            permission_mode="acceptEdits" if phase == "implement" else "plan",
            allow_rules=(f"Bash({test_cmd})",) if test_cmd and phase == "implement" else (),
            max_turns=turns_left,
            max_cost_usd=cost_left,
            headless=True,
        )
        session = open_session(options, tree, self.env)
        result: ev.TurnResult | None = None
        try:
            for warning in session.warnings:
                self.log.emit("notice", text=warning, code="settings")
            self.log.engine(session.started_event)
            with self._lock:
                self.engine = session.engine
            if self.stop.is_set() or self.lease_lost.is_set():
                session.engine.send(ev.Interrupt())
            for event in session.engine.send(ev.UserTurn(prompt)):
                self.log.engine(event)
                if isinstance(event, ev.TurnResult):
                    result = event
        finally:
            with self._lock:
                self.engine = None
            self.log.flush()
            session.close()
        if self.lease_lost.is_set():
            raise LeaseLost
        if result is None:
            raise PhaseFailed(f"the {phase} phase ended without a result")
        self.cost += result.cost_usd
        self.turns += result.num_turns
        if self.stop.is_set():
            raise Stopped
        if result.is_error:
            raise PhaseFailed(f"{phase}: {'; '.join(result.errors) or result.subtype}")
        return result.result, result.cost_usd, result.num_turns

    def _external(
        self, agent: str, phase: str, prompt: str, tree: Path, cost_left: float | None
    ) -> tuple[str, float, int]:
        from bridle.daemon import agent_cli

        handle = agent_cli.PhaseProcess()
        with self._lock:
            self.cli = handle
        if self.stop.is_set() or self.lease_lost.is_set():
            handle.stop()
        mode = "acceptEdits" if phase == "implement" else "plan"
        try:
            out = agent_cli.run_phase(agent, prompt, mode, tree, self.env, self.log.emit, handle)
        except agent_cli.AgentError as e:
            raise PhaseFailed(f"{phase}: {e}") from e
        finally:
            with self._lock:
                self.cli = None
        if self.lease_lost.is_set():
            raise LeaseLost
        self.cost += out.cost_usd
        self.turns += out.turns
        if self.stop.is_set():
            raise Stopped
        if out.failed:
            raise PhaseFailed(f"{phase} ({agent}): {out.answer[-1000:]}")
        if cost_left is not None and out.cost_usd > cost_left:
            raise PhaseFailed(
                f"{phase} ({agent}) cost ${out.cost_usd:.4f}, over what was left of "
                f"max_cost_usd (${cost_left:.4f})"
            )
        return out.answer, out.cost_usd, out.turns

    def _prompt(self, phase: str, rnd: int, points: list[Checkpoint]) -> str:
        spec = self.task.spec
        latest = {p.phase: p for p in points}
        plan = f"\n\nPlan from the lead:\n{latest['lead'].output}" if "lead" in latest else ""
        failure = ""
        if rnd > 0 and "test" in latest:
            failure = (
                f"\n\nThe tests failed after the last change (round {rnd}); fix the code so "
                f"they pass:\n{latest['test'].output}"
            )
        work = f"\n\nThe implementer said:\n{latest['implement'].output}" if (
            "implement" in latest
        ) else ""  # fmt: skip
        text = PROMPTS[phase].format(
            task=spec.task, plan=plan, failure=failure, work=work, base=points[0].commit
        )
        with self._lock:
            for extra in self.steers:
                text += f"\n\nGuidance from the user:\n{extra}"
            self.steers.clear()
        return text

    def _test_command(self, tree: Path) -> str | None:
        if self.task.spec.test_command:
            return self.task.spec.test_command
        from bridle.config.settings import load_settings

        value = load_settings(tree, self.env).get("test_command")
        return value if isinstance(value, str) and value.strip() else None

    def _test(self, tree: Path) -> tuple[bool, str, float, int]:
        cmd = self._test_command(tree)
        if cmd is None:
            text = "no test command (task field test_command or settings test_command): skipped"
            self.log.emit("notice", text=text, code="test_skipped")
            return True, text, 0.0, 0
        try:
            proc = subprocess.run(
                ["bash", "-c", cmd], cwd=tree, env=self.env, capture_output=True, text=True,
                errors="replace", timeout=TEST_TIMEOUT,
            )  # fmt: skip
            output, code = (proc.stdout + proc.stderr), proc.returncode
        except subprocess.TimeoutExpired:
            output, code = f"the test command timed out after {TEST_TIMEOUT:g}s", -1
        output = output[-MAX_TEST_OUTPUT:]
        self.log.emit("test_finished", command=cmd, exit_code=code, output=output)
        return code == 0, output, 0.0, 0


def next_step(pipeline: tuple[str, ...], points: list[Checkpoint]) -> tuple[str, int] | None:
    """The phase to run after the last checkpoint, and its round; None when done."""
    last = points[-1]
    if last.phase == "start":
        return pipeline[0], 0
    if last.phase == "test" and not last.ok:
        if "implement" in pipeline and last.round + 1 < MAX_ROUNDS:
            return "implement", last.round + 1
        return None
    i = pipeline.index(last.phase) + 1
    return (pipeline[i], last.round) if i < len(pipeline) else None
