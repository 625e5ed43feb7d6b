"""schemathesis against a live daemon's `/openapi.json`: every operation, with
generated valid (positive) and invalid (negative) requests, gets no server error
and every answer matches the document (status code, content type, headers, body
schema); invalid input is refused with a 4xx and the API checks auth.

The daemon runs on a free loopback port with no workers (tasks stay queued, so
no agent or git work runs), and the examples per operation are bounded so the
whole run stays well under a minute (BRIDLE_SCHEMA_EXAMPLES raises the bound for a
longer hunt). A task is created first so that the task-scoped operations also run
against a real id, not only unknown ones. Auth is given to schemathesis as the
document's HTTPBearer scheme, so its negative cases also drop or spoil the token.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import schemathesis

from tests.daemon.conftest import TOKEN, Daemon, submit

EXAMPLES = int(os.environ.get("BRIDLE_SCHEMA_EXAMPLES", "25"))


def _run_operation(op: Any, mode: Any, fixed: dict[str, Any]) -> list[str]:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis.checks import positive_data_acceptance

    failures: list[str] = []

    @given(case=op.as_strategy(generation_mode=mode, path_parameters=fixed or None))
    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    def check(case: Any) -> None:
        # POST /tasks checks more than JSON Schema can say (the repository must exist,
        # a branch name must pass `git check-ref-format`): a schema-valid body may get
        # 400 naming the field, so only that operation skips positive_data_acceptance.
        excluded = [positive_data_acceptance] if op.label == "POST /tasks" else []
        case.call_and_validate(excluded_checks=excluded)

    try:
        check()
    except Unsatisfiable:  # nothing to make invalid (e.g. GET /health has no inputs)
        assert mode.value == "negative", op.label
    except (Exception, BaseExceptionGroup) as e:  # every operation runs; all reported below
        failures.append(f"{op.label} [{mode.value}, {fixed or 'generated ids'}]: {e}")
    return failures


def test_openapi_document_holds_for_generated_requests(daemon_factory: Any, origin: Path) -> None:
    from schemathesis import GenerationMode

    d: Daemon = daemon_factory(workers=0).start()
    task = submit(d.client(), origin, branch="schema/a")
    # Stopped while queued: it is finished, so its event stream ends (a queued task's
    # stream would stay open), and steer and stop answer their documented 409.
    assert d.client().post(f"/tasks/{task['id']}/stop").json()["state"] == "cancelled"
    config = schemathesis.config.SchemathesisConfig.from_str(
        f'base-url = "{d.url}"\n[auth.openapi.HTTPBearer]\nbearer = "{TOKEN}"\n'
    )
    schema = schemathesis.openapi.from_url(d.url + "/openapi.json", config=config)
    failures: list[str] = []
    labels = []
    for result in schema.get_all_operations():
        op = result.ok()
        labels.append(op.label)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures += _run_operation(op, mode, {})
            if "{task_id}" in op.path:
                failures += _run_operation(op, mode, {"task_id": task["id"]})
    assert "POST /tasks" in labels and "GET /tasks/{task_id}/sse" in labels
    assert not failures, "\n\n".join(failures[:10])
