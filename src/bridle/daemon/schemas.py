"""The API's request and response bodies (pydantic), and the documented semantics.

Field descriptions end up in `/openapi.json`, and so do the stop, steer and
event-stream rules below, which say what each does in every task state.
Requests forbid unknown fields, so a misspelt field is a 400 naming it instead
of being ignored. `task_out` turns a backend `Task` into the response body.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bridle.daemon.backend import Task, TaskEvent

STOP_DESCRIPTION = (
    "Stop a task. **queued**: it is cancelled at once and never runs (state `cancelled`). "
    "**running**: its worker interrupts the engine (a running command is killed), runs no "
    "further phase, keeps the checkpoints made so far, does not push, and ends the task "
    "as `cancelled`; the answer shows `stop_requested: true` until then. **finished** "
    "(succeeded, failed, cancelled): 409 `task_finished`, nothing changes."
)
STEER_DESCRIPTION = (
    "Send guidance to a task. **queued**: kept and added to the first phase's prompt. "
    "**running**: injected into the running phase before its next model request (the "
    "engine's Steer op) and added to the next phase's prompt, so a phase that ends before "
    "reading it still passes it on; the event log records a `steer` event. **finished**: "
    "409 `task_finished`."
)
SSE_DESCRIPTION = (
    "The task's event log as Server-Sent Events (`text/event-stream`). Each event's `id` "
    "is its log id, `event` its kind (task_started, phase_started, assistant_message, "
    "tool_started, tool_finished, text_chunk, steer, test_finished, checkpoint, pushed, "
    "task_finished, ...) and `data` a JSON object. Send `Last-Event-ID` (or the "
    "`last_event_id` query parameter) to receive only the events after it: every event "
    "once, in order, also across daemon restarts. The stream ends after `task_finished`."
)

AGENT_DESCRIPTION = (
    "Who runs the agent phases (lead, implement, review): `bridle` (default: bridle's "
    "engine with `model`), or another coding CLI, `claude`, `codex`, `gemini` or `copilot`, "
    "optionally under a bridle account (`claude@work`: that account's isolated config and "
    "login; without @ the worker's own setup). The CLI runs headless in the task's worktree "
    "with the phase's permissions mapped onto its own flags (lead and review read-only, "
    "implement edits); its output streams into the event log (`agent_started`, "
    "`assistant_message`, `tool_finished` or `agent_output`, `agent_result`) and its final "
    "answer goes to the next phase. Its cost is what the CLI reports (Claude Code does), "
    "else 0 with a note in `agent_result`; steer text reaches it in the next phase's prompt. "
    "An unknown CLI or account is a 400 naming the fix."
)

# One Server-Sent Event as Open API 3.1 describes a `text/event-stream` item.
SSE_EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "event", "data"],
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]+$", "description": "The event log id."},
        "event": {"type": "string", "description": "The event's kind."},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {
                "type": "object",
                "required": ["id", "task_id", "kind", "at"],
                "properties": {
                    "id": {"type": "integer"}, "task_id": {"type": "string"},
                    "kind": {"type": "string"}, "at": {"type": "number"},
                },
            },
        },
    },
}  # fmt: skip


class TaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    repo_url: str = Field(
        description="A git URL (https, ssh, git, file, user@host:path) or an absolute "
        "local path of a repository."
    )
    task: str = Field(min_length=1, description="What to do, in words.")
    model: str | None = Field(None, description="provider/model; default: settings `model`.")
    account: str | None = Field(None, description="The bridle account whose keys are used.")
    branch: str | None = Field(
        None, description="The branch to work on and push; default bridle/task-<random>."
    )
    base: str | None = Field(None, description="Branch to start from; default origin's HEAD.")
    max_cost_usd: float | None = Field(None, gt=0, description="Budget for the whole task.")
    max_turns: int | None = Field(
        None, ge=1, description="Model requests for the whole task, all phases together."
    )
    pipeline: list[str] | None = Field(
        None, description="Phases in order, from lead, implement, review, test (default all)."
    )
    test_command: str | None = Field(
        None, description="Shell command the test phase runs; default settings `test_command`."
    )
    idempotency_key: str | None = Field(
        None, max_length=200, description="Submitting the same key again returns the same task."
    )
    agent: str | None = Field(None, max_length=200, description=AGENT_DESCRIPTION)
    agents: dict[str, str] | None = Field(
        None,
        description="Per phase (lead, implement, review), who runs it, as for `agent`; "
        'overrides `agent`. Example: `{"implement": "codex@personal", "review": "bridle"}`.',
    )


class SteerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, description="Guidance for the agent.")


class CheckpointOut(BaseModel):
    phase: str
    commit: str
    output: str
    cost_usd: float
    turns: int
    at: float
    round: int
    ok: bool


class TaskOut(BaseModel):
    id: str
    state: str = Field(description="queued, running, succeeded, failed or cancelled.")
    phase: str | None = Field(description="The phase running or last run.")
    repo_url: str
    task: str
    branch: str
    base: str | None
    model: str | None
    account: str | None
    pipeline: list[str]
    test_command: str | None
    agents: dict[str, str] = Field(
        description="Phases another coding CLI runs (phase → cli[@account]); others: bridle."
    )
    max_cost_usd: float | None
    max_turns: int | None
    idempotency_key: str | None
    cost_usd: float
    turns: int
    attempts: int = Field(description="How many times a worker took the task (2+: resumed).")
    queue_position: int | None = Field(description="1 = next to run; null unless queued.")
    stop_requested: bool
    worker: str | None = Field(description="host:pid of the worker holding the task.")
    created_at: float
    started_at: float | None
    finished_at: float | None
    checkpoints: list[CheckpointOut]
    result: dict[str, Any] = Field(
        description="When finished: summary, diff_stat, cost_usd, turns, branch, "
        "base_commit, head_commit, pushed, checkpoints."
    )
    error: str | None


class TaskList(BaseModel):
    tasks: list[TaskOut]
    limit: int
    offset: int


class EventPage(BaseModel):
    events: list[dict[str, Any]] = Field(
        description="Each: id, task_id, kind, at, phase and the kind's fields."
    )


def event_json(e: TaskEvent) -> dict[str, Any]:
    return {"id": e.id, "task_id": e.task_id, "kind": e.kind, "at": e.at, **e.data}


class Health(BaseModel):
    status: str
    version: str


class ErrorBody(BaseModel):
    type: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


def task_out(task: Task, queue_position: int | None) -> TaskOut:
    s = task.spec
    return TaskOut(
        id=task.id, state=task.state, phase=task.phase, repo_url=s.repo_url, task=s.task,
        branch=s.branch, base=s.base, model=s.model, account=s.account,
        pipeline=list(s.pipeline), test_command=s.test_command, agents=dict(s.agents),
        max_cost_usd=s.max_cost_usd,
        max_turns=s.max_turns, idempotency_key=s.idempotency_key, cost_usd=task.cost_usd,
        turns=task.turns, attempts=task.attempts, queue_position=queue_position,
        stop_requested=task.stop_requested, worker=task.worker, created_at=task.created_at,
        started_at=task.started_at, finished_at=task.finished_at,
        checkpoints=[CheckpointOut(**c.to_json()) for c in task.checkpoints],
        result=task.result, error=task.error,
    )  # fmt: skip
