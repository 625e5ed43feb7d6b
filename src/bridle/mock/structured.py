"""The scripted model's answer when a client asks for structured output.

Claude Code and bridle (`--json-schema`) offer a `StructuredOutput` tool whose
input schema is the wanted shape, and expect the model to finish by calling it.
On a scenario's final turn, when that tool is offered, the mock calls it: with
the final text when the text is a JSON object (so a scenario scripts a valid or
an invalid answer), else, once the client has reminded it to call the tool, with
a value built from the schema (`sample_json`). Before a reminder a plain-text
final answer stays text, as a model that forgot the tool would answer. This
module only decides the call; the encoders write it.
"""

from __future__ import annotations

import json
from typing import Any

from bridle.mock.encode import Reply
from bridle.mock.requests import RequestView
from bridle.mock.vocab import ToolCall

TOOL = "StructuredOutput"


def structured_reply(view: RequestView, reply: Reply, entry: dict[str, Any]) -> Reply:
    """`reply` (a final turn's text) as a StructuredOutput call when one is wanted."""
    if TOOL not in view.tools:
        return reply
    try:
        value = json.loads(reply.text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        reminded = bool(view.text) and f"{TOOL} tool" in view.text[-1]
        if not reminded:
            return reply
        from bridle.mock.server import sample_json

        value = sample_json(view.tools[TOOL])
    reply.text, reply.call = "", ToolCall(TOOL, value)
    entry["tool"] = TOOL
    return reply
