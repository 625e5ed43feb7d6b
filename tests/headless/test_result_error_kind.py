"""The json result names what kind of error ended the run (`error_kind`), next
to Claude Code's `errors`, so a wrapper can switch account on a used-up quota
without parsing messages; a successful result carries neither."""

from __future__ import annotations

from bridle.core.messages import Usage
from bridle.engine import events as ev
from bridle.headless.render import result_dict


def result(**kw: object) -> ev.TurnResult:
    base: dict[str, object] = dict(
        subtype="success", result="", num_turns=1, usage=Usage(), cost_usd=0.0,
        duration_ms=1, duration_api_ms=1, session_id="s", stop_reason=None,
        permission_denials=[], errors=[], exit_code=0, changed_files=[],
    )  # fmt: skip
    base.update(kw)
    return ev.TurnResult(**base)  # type: ignore[arg-type]


def test_error_kind_sits_next_to_the_errors() -> None:
    quota = result(
        subtype="error_during_execution", errors=["HTTP 429 insufficient_quota: ..."],
        exit_code=75, error_kind="quota",
    )  # fmt: skip
    out = result_dict(quota)
    assert (out["errors"], out["error_kind"], out["is_error"]) == (
        ["HTTP 429 insufficient_quota: ..."],
        "quota",
        True,
    )
    ok = result_dict(result())
    assert "errors" not in ok and "error_kind" not in ok
