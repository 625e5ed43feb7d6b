"""Structured output in the loop (`engine.structured`), with an in-process model:
a model that never calls StructuredOutput is reminded once and the turn ends
without an answer (as in Claude Code); the state is per turn, so the next turn
of the same session gets its own answer; the tool checks the whole JSON Schema
language, beyond the dispatcher's quick argument check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_loop_exit import make

from bridle.core.messages import ModelRequest, ModelResponse, TextPart
from bridle.engine import events as ev
from bridle.engine.structured import REMINDER, StructuredAnswer, check_schema
from bridle.mock.function_model import FunctionModel, final, tool_call
from bridle.tools.base import ToolContext

SCHEMA = {
    "type": "object",
    "properties": {"tag": {"type": "string", "pattern": "^v[0-9]+$"}},
    "required": ["tag"],
}


def structured_engine(tmp_path: Path, fn: Any) -> Any:
    cwd = tmp_path / "work"
    cwd.mkdir()
    engine, _ = make(cwd, FunctionModel(fn))
    answer = StructuredAnswer(check_schema(SCHEMA))
    engine.dispatcher.tools[answer.tool.name] = answer.tool
    engine.tool_specs.append(answer.tool.spec())
    engine.structured = answer
    return engine


def last_text(request: ModelRequest) -> str:
    return " ".join(p.text for p in request.messages[-1].parts if isinstance(p, TextPart))


def test_a_model_that_never_calls_the_tool_is_reminded_once(tmp_path: Path) -> None:
    asked: list[str] = []

    def fn(request: ModelRequest) -> ModelResponse:
        asked.append(last_text(request))
        if asked[-1].startswith("turn two"):
            return tool_call("StructuredOutput", {"tag": "v2"}, "t2")
        return final("the tag is v1")

    engine = structured_engine(tmp_path, fn)
    (result,) = [e for e in engine.send(ev.UserTurn("turn one")) if isinstance(e, ev.TurnResult)]
    assert asked == ["turn one", REMINDER]
    assert (result.subtype, result.result, result.structured_output) == (
        "success", "the tag is v1", None,
    )  # fmt: skip
    # A new turn starts afresh: it may be reminded again, and its answer is its own.
    (second,) = [e for e in engine.send(ev.UserTurn("turn two")) if isinstance(e, ev.TurnResult)]
    assert (second.subtype, second.structured_output, second.result) == (
        "success", {"tag": "v2"}, '{"tag":"v2"}',
    )  # fmt: skip
    assert second.num_turns == 1  # the valid call ends the turn: no request after it


def test_the_whole_schema_language_is_checked(tmp_path: Path) -> None:
    answer = StructuredAnswer(check_schema(SCHEMA))
    ctx = ToolContext(cwd=tmp_path)
    out = answer.tool.run({"tag": "2.0"}, ctx)
    assert out.is_error
    assert out.content[0].text == (  # type: ignore[union-attr]
        "Output does not match the required schema: /tag: '2.0' does not match '^v[0-9]+$'"
    )
    assert not answer.given
    assert not answer.tool.run({"tag": "v3"}, ctx).is_error and answer.value == {"tag": "v3"}
