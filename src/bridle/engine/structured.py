"""Structured output (`--json-schema`): the answer is a JSON value the schema accepts.

As Claude Code does, the session offers one more tool, `StructuredOutput`, whose
input schema is the user's schema; the model reports its final answer by calling
it. This works the same on every wire (Anthropic, OpenAI chat and responses,
Gemini), because each carries tool calls, and needs no provider feature. The
tool validates the call with the full JSON Schema language (`jsonschema`,
imported only when a schema is given); a valid call ends the turn at once, its
value becoming the result's `structured_output` (and `result` its compact JSON
text). An invalid one is an error tool result naming what failed, and the model
tries again: after `MAX_ATTEMPTS` failed calls the turn ends with Claude Code's
`error_max_structured_output_retries`. A model that answers in plain text is
reminded once; if it still does not call the tool the turn ends as usual, with
no `structured_output`, as in Claude Code. `check_schema` refuses schemas no
model could answer (exit 64, before any work). This module does not run the
loop: the loop asks `StructuredAnswer` after each batch of tool calls and when
the model stops.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from bridle.core.errors import UsageError
from bridle.core.messages import ToolResultPart, ToolUsePart
from bridle.engine import events as ev
from bridle.tools.base import Tool, ToolContext, ToolOutput

TOOL_NAME = "StructuredOutput"
MAX_ATTEMPTS = 5
REMINDER = (
    "You have not called the StructuredOutput tool. This request is complete only "
    "when you call it with your final answer: call it now."
)
ACCEPTED = "Structured output accepted."


def check_schema(schema: Any) -> dict[str, Any]:
    """The schema if a model can answer it, else a `UsageError` saying how to fix it."""
    if not isinstance(schema, Mapping):
        raise UsageError("--json-schema must be a JSON object (a JSON Schema)")
    schema = dict(schema)
    kind = schema.get("type", "object" if "properties" in schema else None)
    if kind != "object":
        raise UsageError(
            '--json-schema: the schema must describe an object ("type": "object"), since '
            "models return structured output as a tool call's arguments; wrap another "
            'value in one, e.g. {"type": "object", "properties": {"items": <schema>}, '
            '"required": ["items"]}'
        )
    import jsonschema

    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as e:
        where = "/".join(str(p) for p in e.absolute_path) or "the top level"
        raise UsageError(
            f"--json-schema is not a valid JSON Schema: at {where}: {e.message}"
        ) from e
    return schema


def schema_problems(value: Any, schema: Mapping[str, Any]) -> list[str]:
    """What is wrong with `value` for `schema`, one line per problem ([] if valid)."""
    import jsonschema

    validator = jsonschema.validators.validator_for(schema)(schema)
    problems = []
    for error in sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path)):
        where = "/" + "/".join(str(p) for p in error.absolute_path)
        problems.append(f"{where}: {error.message}")
    return problems


class StructuredOutputTool(Tool):
    """The tool the model calls with its final answer."""

    name = TOOL_NAME
    description = (
        "Return your final answer in the requested structured format. Call this tool "
        "exactly once, at the end, with the whole answer as its arguments."
    )
    input_schema: ClassVar[dict[str, Any]] = {}
    read_only = True
    concurrency_safe = False  # one answer per batch, in the order the model gave them

    def __init__(self, schema: Mapping[str, Any], answer: StructuredAnswer):
        self.input_schema = dict(schema)  # type: ignore[misc]
        self.answer = answer

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        problems = schema_problems(args, self.input_schema)
        if problems:
            return ToolOutput.text(
                "Output does not match the required schema: " + "; ".join(problems[:5]),
                is_error=True,
            )
        self.answer.value = args
        self.answer.given = True
        return ToolOutput.text(ACCEPTED)


class StructuredAnswer:
    """One session's structured-output state, reset at the end of each turn."""

    def __init__(self, schema: Mapping[str, Any]):
        self.tool = StructuredOutputTool(schema, self)
        self.value: Any = None
        self.given = False
        self.failures = 0
        self.last_error = ""
        self.reminded = False

    def after_batch(
        self, calls: list[ToolUsePart], results: list[ToolResultPart]
    ) -> tuple[str, str | None, str | None] | None:
        """After a batch of tool calls: None to go on, else the turn's ending as
        (subtype, error, error kind)."""
        for call, result in zip(calls, results, strict=False):
            if call.name == TOOL_NAME and result.is_error:
                self.failures += 1
                self.last_error = result.text
        if self.given:
            return ("success", None, None)
        if self.failures >= MAX_ATTEMPTS:
            return (
                "error_max_structured_output_retries",
                f"Failed to provide valid structured output after {self.failures} attempts; "
                f"the last error: {self.last_error}",
                "structured_output",
            )
        return None

    def reminder(self) -> str | None:
        """When the model stops without calling the tool: the reminder, once."""
        if self.given or self.reminded:
            return None
        self.reminded = True
        return REMINDER

    def finish(self, result: ev.TurnResult) -> ev.TurnResult:
        """The turn's result with the structured answer in it; resets for the next turn."""
        given, value = self.given, self.value
        self.value, self.given, self.failures, self.reminded = None, False, 0, False
        if not given or result.is_error:
            return result
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return replace(result, result=text, structured_output=value)
