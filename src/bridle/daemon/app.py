"""The daemon's HTTP API (FastAPI): tasks, their event streams, steer and stop.

`build_app(backend, token)` returns the ASGI app. Every route except `/health`
needs `Authorization: Bearer <token>` (compared in constant time). JSON is
snake_case; every error is `{"error": {"type", "message"}}`: a bad field is 400
naming it, an unknown task 404, a busy branch or a finished task 409, a missing
or wrong token 401. Event streams are Server-Sent Events whose ids are the
event log's ids, so `Last-Event-ID` (header, or the `last_event_id` query
parameter) resumes exactly after the last event a client saw, also after a
daemon restart; a stream ends after the task's `task_finished` event. The API
never runs tasks itself: it writes to the backend and the workers read it.
"""

from __future__ import annotations

import hmac
import json
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal, get_args

import anyio
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from bridle import __version__
from bridle.daemon import dashboard, validate
from bridle.daemon.backend import STATES, BackendError, NewTask, TaskBackend
from bridle.daemon.schemas import (
    SSE_DESCRIPTION,
    SSE_EVENT_SCHEMA,
    STEER_DESCRIPTION,
    STOP_DESCRIPTION,
    CheckpointOut,
    ErrorOut,
    EventPage,
    Health,
    SteerIn,
    TaskIn,
    TaskList,
    TaskOut,
    event_json,
    task_out,
)
from bridle.daemon.webhooks import router as github_router

POLL_SECONDS = 0.2
MAX_INT = 2**63 - 1  # SQLite's integers
ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorOut} for s in (400, 401, 404, 409)}
StateName = Literal["queued", "running", "succeeded", "failed", "cancelled"]
assert set(get_args(StateName)) == set(STATES)


class EventStream(Response):
    media_type = "text/event-stream"


def _query_names(dependant: Any) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def known_query(request: Request) -> None:
    """A misspelt or repeated query parameter is a 400 naming it, as a misspelt body
    field is."""
    route = request.scope.get("route")
    allowed = _query_names(route.dependant) if route is not None else set()
    for name in request.query_params:
        if name not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise validate.InvalidField(name, f"is not a query parameter here (known: {known})")
        if len(request.query_params.getlist(name)) > 1:  # all of them take one value
            raise validate.InvalidField(name, "is given more than once; give it once")


class Unauthorized(BackendError):
    status = 401
    type = "unauthorized"


def _error(status: int, type_: str, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        {"error": {"type": type_, "message": message}}, status_code=status, headers=headers
    )


def build_app(
    backend: TaskBackend, token: str, github_secret: str | None = None,
    daemon_settings: dict[str, Any] | None = None,
) -> FastAPI:  # fmt: skip
    app = FastAPI(
        title="bridle daemon", version=__version__,
        description="Coding tasks over HTTP: submit, watch, steer and stop agent pipelines.",
        dependencies=[Depends(known_query)],
    )  # fmt: skip
    bearer = HTTPBearer(auto_error=False)

    def authorized(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        given = creds.credentials if creds is not None else ""
        if not given or not hmac.compare_digest(given.encode(), token.encode()):
            raise Unauthorized(
                "missing or wrong bearer token: send `Authorization: Bearer <token>` "
                "(the daemon printed where its token is stored when it started)"
            )

    @app.exception_handler(BackendError)
    async def _backend_error(request: Request, exc: BackendError) -> JSONResponse:
        return _error(exc.status, exc.type, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(
            str(p) for p in first.get("loc", ()) if p not in ("body", "query", "header", "path")
        )
        msg = first.get("msg", "invalid request")
        return _error(400, "invalid_request", f"{where or 'body'}: {msg}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, "http_error", str(exc.detail))

    @app.get("/health", response_model=Health, tags=["daemon"])
    def health() -> Health:
        """Liveness; the only route without a token."""
        return Health(status="ok", version=__version__)

    guard = [Depends(authorized)]

    again: dict[int | str, dict[str, Any]] = {
        200: {"model": TaskOut, "description": "The task this idempotency_key made"}
    }

    @app.post("/tasks", status_code=201, response_model=TaskOut, responses={**ERRORS, **again},
              dependencies=guard, tags=["tasks"])  # fmt: skip
    def create_task(body: TaskIn) -> Any:
        """Queue a task. 201 with the new task; 200 with the existing task when
        `idempotency_key` was used before; 409 when an unfinished task already
        works on the same repository and branch."""
        phases = validate.pipeline(body.pipeline)
        spec = NewTask(
            repo_url=validate.repo_url(body.repo_url),
            task=body.task,
            branch=validate.branch(body.branch or f"bridle/task-{uuid.uuid4().hex[:8]}"),
            model=body.model,
            account=body.account,
            base=validate.branch(body.base, "base") if body.base else None,
            max_cost_usd=body.max_cost_usd,
            max_turns=body.max_turns,
            pipeline=phases,
            test_command=body.test_command,
            idempotency_key=body.idempotency_key,
            agents=validate.agents(body.agent, body.agents, phases, os.environ),
        )
        task, created = backend.create(spec)
        out = task_out(task, backend.queue_position(task.id))
        if created:
            return out
        return JSONResponse(out.model_dump(), status_code=200)

    @app.get("/tasks", response_model=TaskList, responses=ERRORS, dependencies=guard,
             tags=["tasks"])  # fmt: skip
    def list_tasks(
        state: StateName | None = Query(None, description="Only tasks in this state."),
        repo_url: str | None = None,
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0, le=MAX_INT),
    ) -> TaskList:
        """Tasks, newest first, `limit` at a time from `offset`."""
        tasks = backend.list_tasks(state=state, repo_url=repo_url, limit=limit, offset=offset)
        return TaskList(
            tasks=[task_out(t, backend.queue_position(t.id)) for t in tasks],
            limit=limit, offset=offset,
        )  # fmt: skip

    @app.get("/tasks/{task_id}", response_model=TaskOut, responses=ERRORS, dependencies=guard,
             tags=["tasks"])  # fmt: skip
    def get_task(task_id: str) -> TaskOut:
        """A task: state, phase, cost, queue position, checkpoints and result."""
        return task_out(backend.get(task_id), backend.queue_position(task_id))

    @app.get("/tasks/{task_id}/checkpoints", response_model=list[CheckpointOut],
             responses=ERRORS, dependencies=guard, tags=["tasks"])  # fmt: skip
    def checkpoints(task_id: str) -> list[CheckpointOut]:
        """The task's phase snapshots: commits on its branch, oldest first."""
        return task_out(backend.get(task_id), None).checkpoints

    @app.get("/tasks/{task_id}/events", response_model=EventPage, responses=ERRORS,
             dependencies=guard, tags=["tasks"])  # fmt: skip
    def event_page(
        task_id: str,
        after: int = Query(0, ge=0, le=MAX_INT),
        limit: int = Query(500, ge=1, le=5000),
    ) -> EventPage:
        """The event log as JSON, `limit` events with id > `after` (the SSE stream's
        events, for clients that poll)."""
        backend.get(task_id)
        return EventPage(events=[event_json(e) for e in backend.events(task_id, after, limit)])

    @app.post("/tasks/{task_id}/steer", response_model=TaskOut, responses=ERRORS,
              dependencies=guard, tags=["tasks"], description=STEER_DESCRIPTION)  # fmt: skip
    def steer(task_id: str, body: SteerIn) -> TaskOut:
        return task_out(backend.steer(task_id, body.text), backend.queue_position(task_id))

    @app.post("/tasks/{task_id}/stop", response_model=TaskOut, responses=ERRORS,
              dependencies=guard, tags=["tasks"], description=STOP_DESCRIPTION)  # fmt: skip
    def stop(task_id: str) -> TaskOut:
        return task_out(backend.request_stop(task_id), backend.queue_position(task_id))

    error_json = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    json_errors: dict[int | str, dict[str, Any]] = {
        s: {"description": d, "content": error_json}
        for s, d in ((400, "Bad Request"), (401, "Unauthorized"), (404, "Not Found"))
    }
    stream: dict[int | str, dict[str, Any]] = {
        200: {"content": {"text/event-stream": {"schema": SSE_EVENT_SCHEMA}},
              "description": "The event stream"}, **json_errors,
    }  # fmt: skip

    @app.get("/tasks/{task_id}/sse", responses=stream, dependencies=guard,
             tags=["tasks"], description=SSE_DESCRIPTION, response_class=EventStream)  # fmt: skip
    async def events(
        task_id: str,
        last_event_id: str = Header("", alias="Last-Event-ID", pattern="^[0-9]{0,18}$"),
        after: int | None = Query(None, ge=0, le=MAX_INT, alias="last_event_id"),
    ) -> Any:
        from sse_starlette import EventSourceResponse

        await anyio.to_thread.run_sync(backend.get, task_id)  # 404 before streaming
        start = int(last_event_id) if last_event_id else (after or 0)
        return EventSourceResponse(_stream(backend, task_id, start), ping=15)

    # GitHub signs its deliveries (HMAC) instead of sending the bearer token.
    app.include_router(github_router(backend, github_secret, daemon_settings or {}))

    dashboard.mount(app)  # the web page at /; its files need no token, its API calls do

    def openapi() -> dict[str, Any]:
        # Bad input is answered 400 (see _invalid), never FastAPI's default 422.
        if app.openapi_schema is None:
            spec = FastAPI.openapi(app)
            for item in spec["paths"].values():
                for operation in item.values():
                    operation["responses"].pop("422", None)
            for name in ("HTTPValidationError", "ValidationError"):
                spec["components"]["schemas"].pop(name, None)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
    return app


async def _stream(backend: TaskBackend, task_id: str, after: int) -> AsyncIterator[dict[str, str]]:
    while True:
        batch = await anyio.to_thread.run_sync(backend.events, task_id, after)
        for e in batch:
            after = e.id
            data = json.dumps(event_json(e), default=str)
            yield {"id": str(e.id), "event": e.kind, "data": data}
            if e.kind == "task_finished":
                return
        if not batch:
            task = await anyio.to_thread.run_sync(backend.get, task_id)
            if task.finished:
                # Finished between the two reads, or its task_finished was already seen.
                if not await anyio.to_thread.run_sync(backend.events, task_id, after, 1):
                    return
                continue
            await anyio.sleep(POLL_SECONDS)
