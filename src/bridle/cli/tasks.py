"""`bridle tasks`: submit, list, show, follow, steer and stop the daemon's tasks.

Thin Click commands over `daemon.client.DaemonClient` (httpx, imported when a
command runs). `--json` prints the daemon's answer as it is; otherwise a short
table or summary. `logs -f` follows the live event stream to the task's end.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click


def _client(ctx: click.Context) -> Any:
    from bridle.daemon.client import DEFAULT_URL, DaemonClient, find_token

    o = ctx.obj
    url = o["url"] or os.environ.get("BRIDLE_DAEMON_URL") or DEFAULT_URL
    return DaemonClient(url, find_token(os.environ, o["data_dir"]))


def _show(task: dict[str, Any]) -> str:
    lines = [
        f"{task['id']}  {task['state']}  phase {task['phase'] or '-'}  "
        f"${task['cost_usd']:.4f}  {task['turns']} turn(s)",
        f"  repo {task['repo_url']}  branch {task['branch']}",
        f"  task {task['task']}",
    ]
    if task.get("agents"):
        lines.append("  agents " + ", ".join(f"{p}={a}" for p, a in task["agents"].items()))
    if task.get("queue_position"):
        lines.append(f"  queue position {task['queue_position']}")
    for c in task.get("checkpoints", []):
        lines.append(f"  checkpoint {c['phase']:<9} {c['commit'][:10]}  ok={c['ok']}")
    if task.get("error"):
        lines.append(f"  error {task['error']}")
    result = task.get("result") or {}
    if result.get("summary"):
        lines.append(f"  summary {result['summary']}")
    if result.get("diff_stat"):
        lines.append("  " + result["diff_stat"].replace("\n", "\n  "))
    return "\n".join(lines)


def _event_line(e: dict[str, Any]) -> str:
    kind, phase = e["kind"], e.get("phase") or "-"
    if kind in ("text_chunk", "thinking_chunk"):
        detail = e.get("text", "")
    elif kind == "assistant_message":
        detail = e.get("text") or ", ".join(c["name"] for c in e.get("tool_calls", []))
    elif kind in ("tool_started", "tool_finished", "permission_denied"):
        call = e["call"]
        detail = f"{call['name']} {json.dumps(call['input'])[:120]}"
        if kind == "tool_finished" and e.get("is_error"):
            detail += " (error)"
    elif kind == "task_finished":
        detail = e["state"] + (f": {e['error']}" if e.get("error") else "")
    else:
        detail = json.dumps(
            {k: v for k, v in e.items() if k not in ("id", "task_id", "kind", "at", "phase")}
        )[:200]
    return f"[{e['id']}] {phase:<9} {kind}: {detail}"


@click.group()
@click.option("--url", help="The daemon (default BRIDLE_DAEMON_URL, else http://127.0.0.1:9200).")
@click.option("--data-dir", type=click.Path(path_type=Path), help="The daemon's data dir (token).")
@click.pass_context
def tasks(ctx: click.Context, url: str | None, data_dir: Path | None) -> None:
    """Coding tasks on a running `bridle daemon`."""
    ctx.obj = {"url": url, "data_dir": data_dir}


@tasks.command()
@click.argument("task_text")
@click.option("--repo", "repo_url", required=True, help="Git URL or absolute path of the repo.")
@click.option("--model", help="provider/model.")
@click.option("--account", help="Account whose keys are used.")
@click.option("--branch", help="Branch to work on and push.")
@click.option("--base", help="Branch to start from.")
@click.option("--max-cost", "max_cost_usd", type=float, help="Budget in USD for the whole task.")
@click.option("--max-turns", type=int, help="Model requests for the whole task.")
@click.option("--pipeline", help="Comma-separated phases (lead,implement,review,test).")
@click.option("--test-command", help="Shell command the test phase runs.")
@click.option("--idempotency-key", help="Submitting the same key again returns the same task.")
@click.option(
    "--agent", "agent_specs", multiple=True, metavar="[PHASE=]CLI[@ACCOUNT]",
    help="Who runs the agent phases: bridle (default), claude, codex, gemini or copilot, "
    "optionally @ACCOUNT (claude@work); PHASE= for one phase (implement=codex@personal). "
    "Repeatable.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the daemon's JSON answer.")
@click.pass_context
def submit(ctx: click.Context, task_text: str, as_json: bool, pipeline: str | None,
           agent_specs: tuple[str, ...], **fields: Any) -> None:  # fmt: skip
    """Queue TASK_TEXT on the daemon."""
    body = {k: v for k, v in fields.items() if v is not None}
    body["task"] = task_text
    if pipeline:
        body["pipeline"] = [p.strip() for p in pipeline.split(",") if p.strip()]
    for spec in agent_specs:
        phase, eq, name = spec.rpartition("=")
        if eq:
            body.setdefault("agents", {})[phase.strip()] = name.strip()
        else:
            body["agent"] = name.strip()
    task = _client(ctx).request("POST", "/tasks", json=body)
    click.echo(json.dumps(task, indent=2) if as_json else f"{task['id']} {task['state']}")


@tasks.command("list")
@click.option("--state", help="queued, running, succeeded, failed or cancelled.")
@click.option("--limit", default=50, show_default=True, type=int)
@click.option("--offset", default=0, type=int)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_(ctx: click.Context, state: str | None, limit: int, offset: int, as_json: bool) -> None:
    """Tasks, newest first."""
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if state:
        params["state"] = state
    page = _client(ctx).request("GET", "/tasks", params=params)
    if as_json:
        click.echo(json.dumps(page, indent=2))
        return
    if not page["tasks"]:
        click.echo("No tasks.")
    for t in page["tasks"]:
        click.echo(
            f"{t['id']}  {t['state']:<9}  {t['phase'] or '-':<9}  ${t['cost_usd']:.4f}  "
            f"{t['branch']}  {t['task'][:60]}"
        )


@tasks.command()
@click.argument("task_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show(ctx: click.Context, task_id: str, as_json: bool) -> None:
    """One task: state, phase, cost, checkpoints and result."""
    task = _client(ctx).request("GET", f"/tasks/{task_id}")
    click.echo(json.dumps(task, indent=2) if as_json else _show(task))


@tasks.command()
@click.argument("task_id")
@click.option("-f", "--follow", is_flag=True, help="Keep streaming until the task ends.")
@click.option("--after", default=0, type=int, help="Only events after this id.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def logs(ctx: click.Context, task_id: str, follow: bool, after: int, as_json: bool) -> None:
    """The task's event log (with -f, live until the task ends)."""
    client = _client(ctx)
    events = client.follow(task_id, after) if follow else _snapshot(client, task_id, after)
    for e in events:
        click.echo(json.dumps(e) if as_json else _event_line(e))


def _snapshot(client: Any, task_id: str, after: int) -> Any:
    """The events logged so far, page by page (the stream would wait for more)."""
    while True:
        page = client.request(
            "GET", f"/tasks/{task_id}/events", params={"after": after, "limit": 500}
        )
        yield from page["events"]
        if len(page["events"]) < 500:
            return
        after = page["events"][-1]["id"]


@tasks.command()
@click.argument("task_id")
@click.argument("text")
@click.pass_context
def steer(ctx: click.Context, task_id: str, text: str) -> None:
    """Send guidance to a queued or running task."""
    task = _client(ctx).request("POST", f"/tasks/{task_id}/steer", json={"text": text})
    click.echo(f"{task['id']} {task['state']}: guidance sent")


@tasks.command()
@click.argument("task_id")
@click.pass_context
def stop(ctx: click.Context, task_id: str) -> None:
    """Stop a task (queued: cancelled now; running: interrupted)."""
    task = _client(ctx).request("POST", f"/tasks/{task_id}/stop")
    state = "stopping" if task["stop_requested"] and task["state"] == "running" else task["state"]
    click.echo(f"{task['id']} {state}")
