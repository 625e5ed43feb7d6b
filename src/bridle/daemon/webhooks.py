"""GitHub webhooks: `POST /webhooks/github` turns a labelled issue or an `@bridle` comment into a task.

GitHub cannot send the daemon's bearer token, so this route is verified instead
by HMAC-SHA256 of the raw body with the shared secret (`X-Hub-Signature-256:
sha256=<hex>`, compared in constant time). The secret comes from settings
(`daemon.github_webhook_secret`, which may be `"$SOME_ENV_VAR"`) or
`BRIDLE_GITHUB_WEBHOOK_SECRET`; without one, or with a missing or wrong
signature, the answer is 401 and nothing is created. Accepted events:
`issues` (`opened` with the `bridle` label, or `labeled` with it) and
`issue_comment` (`created`, the body starting with `@bridle`, the rest of the
body being the instruction). The task's repository is the payload's
`repository.clone_url` (or the path settings `daemon.github_repos` maps the
repository's full name to, e.g. a local mirror), its branch
`bridle/issue-<number>` (a comment adds `-comment-<id>`), its idempotency key the
delivery id (`X-GitHub-Delivery`), so a replayed delivery is answered 200
`ignored` and creates nothing. `ping` and every other event are answered 200
`ignored` with the reason.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from bridle.daemon import validate
from bridle.daemon.backend import BackendError, NewTask, Task

LABEL = "bridle"
MENTION = "@bridle"
MAX_BODY = 20000


class WebhookUnauthorized(BackendError):
    status = 401
    type = "unauthorized"


def load_secret(
    env: Mapping[str, str], cwd: Path | None = None
) -> tuple[str | None, dict[str, Any]]:
    """(secret, the `daemon` settings object) for the daemon started in `cwd`."""
    from bridle.config.settings import load_settings

    daemon = load_settings(cwd or Path.cwd(), env).get("daemon", {})
    daemon = daemon if isinstance(daemon, dict) else {}
    secret = daemon.get("github_webhook_secret") or env.get("BRIDLE_GITHUB_WEBHOOK_SECRET")
    return (str(secret) if secret else None), daemon


def verify(secret: str | None, body: bytes, signature: str | None) -> None:
    if not secret:
        raise WebhookUnauthorized(
            "GitHub webhooks are off: set settings daemon.github_webhook_secret (or "
            "BRIDLE_GITHUB_WEBHOOK_SECRET) to the webhook's secret and restart the daemon"
        )
    if not signature or not signature.startswith("sha256="):
        raise WebhookUnauthorized(
            "missing X-Hub-Signature-256: give the GitHub webhook the daemon's secret"
        )
    want = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want.encode(), signature.strip().encode()):
        raise WebhookUnauthorized(
            "X-Hub-Signature-256 does not match: the webhook's secret differs from the daemon's"
        )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _obj(payload: dict[str, Any], key: str) -> dict[str, Any]:
    value = payload.get(key)
    return value if isinstance(value, dict) else {}


def task_from_event(
    event: str, payload: dict[str, Any], delivery: str, settings: Mapping[str, Any]
) -> tuple[NewTask | None, str]:
    """The task a delivery asks for, or None and why it is ignored."""
    action = payload.get("action")
    issue, repo = _obj(payload, "issue"), _obj(payload, "repository")
    if event == "ping":
        return None, "ping"
    if not issue or not repo or event not in ("issues", "issue_comment"):
        return None, f"event {event!r} (action {action!r}) does not start tasks"
    number = issue.get("number")
    title, body = _text(issue.get("title")), _text(issue.get("body"))
    where = _text(issue.get("html_url")) or f"issue #{number}"
    if event == "issues":
        labels = [lab.get("name") for lab in issue.get("labels") or [] if isinstance(lab, dict)]
        label = _obj(payload, "label")
        if action == "labeled" and label.get("name") != LABEL:
            return None, f"label {label.get('name')!r} is not {LABEL!r}"
        if action not in ("opened", "labeled") or LABEL not in [*labels, label.get("name")]:
            return None, f"issues/{action} without the {LABEL!r} label does not start tasks"
        instruction = f"{title}\n\n{body}".strip()
        branch = f"bridle/issue-{number}"
    else:
        comment = _obj(payload, "comment")
        text = _text(comment.get("body")).lstrip()
        if action != "created" or not text.startswith(MENTION):
            return None, f"a comment that does not start with {MENTION} does not start tasks"
        asked = text[len(MENTION) :].strip()
        instruction = f"{asked}\n\nOn issue: {title}\n\n{body}".strip()
        branch = f"bridle/issue-{number}-comment-{comment.get('id')}"
    full_name = _text(repo.get("full_name"))
    repos = settings.get("github_repos")
    mapped = repos.get(full_name) if isinstance(repos, dict) else None
    repo_url = mapped if isinstance(mapped, str) and mapped else _text(repo.get("clone_url"))
    model = settings.get("github_model")
    spec = NewTask(
        repo_url=validate.repo_url(repo_url),
        task=f"{instruction[:MAX_BODY]}\n\n(GitHub {full_name} {where})",
        branch=validate.branch(branch),
        model=model if isinstance(model, str) else None,
        idempotency_key=f"github-delivery:{delivery}",
    )
    return spec, "created"


def router(backend: Any, secret: str | None, settings: Mapping[str, Any]) -> APIRouter:
    from bridle.daemon.schemas import ErrorOut, task_out

    api = APIRouter()
    responses: dict[int | str, dict[str, Any]] = {
        200: {"description": "Ignored: not a task event, or a delivery seen before"},
        201: {"description": "The task was created"},
        400: {"model": ErrorOut, "description": "Not a GitHub delivery"},
        401: {"model": ErrorOut, "description": "Unsigned or mis-signed; nothing created"},
        409: {"model": ErrorOut, "description": "A task already works on the issue's branch"},
    }

    @api.post("/webhooks/github", tags=["webhooks"], status_code=201, responses=responses)
    async def github(
        request: Request,
        x_hub_signature_256: str | None = Header(None),
        x_github_event: str | None = Header(None),
        x_github_delivery: str | None = Header(None),
    ) -> Any:
        """A GitHub webhook delivery (HMAC-SHA256 signed with the shared secret, no
        bearer token). 201 with the task for an issue labelled `bridle` or a comment
        starting `@bridle`; 200 `ignored` for any other event and for a delivery id
        seen before; 401 unsigned or mis-signed (nothing is created)."""
        body = await request.body()
        verify(secret, body, x_hub_signature_256)
        if not x_github_delivery or not x_github_event:
            raise validate.InvalidField(
                "X-GitHub-Delivery", "GitHub sends X-GitHub-Event and X-GitHub-Delivery"
            )
        try:
            payload = json.loads(body)
        except ValueError:
            raise validate.InvalidField("body", "must be the JSON payload") from None
        if not isinstance(payload, dict):
            raise validate.InvalidField("body", "must be a JSON object")
        spec, why = task_from_event(x_github_event, payload, x_github_delivery, settings)
        if spec is None:
            return JSONResponse({"status": "ignored", "reason": why}, status_code=200)
        task: Task
        task, created = await anyio.to_thread.run_sync(backend.create, spec)
        if not created:
            return JSONResponse(
                {"status": "ignored", "reason": "delivery already handled", "task_id": task.id},
                status_code=200,
            )
        out = task_out(task, await anyio.to_thread.run_sync(backend.queue_position, task.id))
        return JSONResponse({"status": "created", "task": out.model_dump()}, status_code=201)

    return api
