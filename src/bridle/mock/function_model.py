"""In-process fake models for the first testing ring: no HTTP, no wire format.

`FunctionModel` calls a Python function with each `ModelRequest` and streams the
`ModelResponse` it returns as `core.stream` events, exactly as a wire adapter
would, so the engine's loop, dispatcher and assembler run for real. `ScriptedModel`
is a `FunctionModel` over a fixed list of responses. The over-HTTP mock server in
`mock.server` is the second ring; these exist for loop logic that is awkward to
script over a wire (cut-off tool calls, budgets, loop guards).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from bridle.core.messages import (
    ModelRequest,
    ModelResponse,
    StopReason,
    TextPart,
    ThinkingPart,
    ToolUsePart,
    Usage,
)
from bridle.core.stream import (
    MessageEnd,
    MessageStart,
    StopUpdate,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    UsageUpdate,
)


def response_events(response: ModelResponse) -> Iterator[StreamEvent]:
    """The stream a wire adapter would emit for `response`."""
    yield MessageStart(response.id, response.model)
    for i, part in enumerate(response.parts):
        if isinstance(part, TextPart):
            yield TextDelta(i, part.text)
        elif isinstance(part, ThinkingPart):
            yield ThinkingDelta(i, part.text, part.signature, part.data if part.redacted else None)
        elif isinstance(part, ToolUsePart):
            yield ToolCallStart(i, part.id, part.name)
            raw = part.raw_arguments if part.input is None else json.dumps(part.input)
            if raw:
                yield ToolCallDelta(i, raw)
            yield ToolCallEnd(i)
    u = response.usage
    yield UsageUpdate(
        u.input_tokens,
        u.output_tokens,
        u.cache_read_tokens,
        u.cache_write_tokens,
        u.reasoning_tokens,
    )
    stop = response.stop_reason
    yield StopUpdate(
        response.raw_stop_reason or (stop.value if stop else None), stop.value if stop else None
    )
    yield MessageEnd()


@dataclass
class FunctionModel:
    """A model that answers each request by calling `fn`; `requests` keeps a copy of each."""

    fn: Callable[[ModelRequest], ModelResponse]
    requests: list[ModelRequest] = field(default_factory=list)

    def stream(self, request: ModelRequest) -> Iterator[StreamEvent]:
        # Keep a snapshot: the engine keeps appending to the same message list.
        self.requests.append(
            ModelRequest(
                request.model,
                list(request.messages),
                request.system,
                request.tools,
                request.max_tokens,
            )
        )
        yield from response_events(self.fn(request))


def ScriptedModel(responses: list[ModelResponse]) -> FunctionModel:
    """Answers the n-th request with the n-th response; the last one repeats."""
    state = {"n": 0}

    def fn(_: ModelRequest) -> ModelResponse:
        i = min(state["n"], len(responses) - 1)
        state["n"] += 1
        return responses[i]

    return FunctionModel(fn)


def tool_call(
    name: str, args: dict[str, object] | None, call_id: str = "", *, text: str = ""
) -> ModelResponse:
    """A response making one tool call (`args=None` simulates arguments cut off)."""
    parts: list[TextPart | ToolUsePart] = [TextPart(text)] if text else []
    raw = '{"file_path": "/tm' if args is None else None
    parts.append(ToolUsePart(call_id or f"call_{name}_{id(args)}", name, args, raw_arguments=raw))
    stop = StopReason.MAX_TOKENS if args is None else StopReason.TOOL_USE
    return ModelResponse(list(parts), stop, Usage(100, 20))


def final(text: str, stop: StopReason = StopReason.END_TURN) -> ModelResponse:
    return ModelResponse([TextPart(text)], stop, Usage(100, 10))
