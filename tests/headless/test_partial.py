"""`headless.partial`: engine events to Anthropic stream events, for thinking,
text and tool blocks, and a retried request whose broken stream is dropped."""

from __future__ import annotations

from bridle.core.messages import (
    ModelResponse,
    StopReason,
    TextPart,
    ThinkingPart,
    ToolUsePart,
    Usage,
)
from bridle.engine import events as ev
from bridle.headless.partial import PartialMessages


def test_thinking_text_and_a_tool_call_after_a_retry() -> None:
    p = PartialMessages()
    p.see(ev.SessionStarted("s1", "mock/anthropic", "mock", "/w", [], "default"))
    dropped = p.see(ev.TextChunk("half an ans"))
    assert [e["type"] for e in dropped][:2] == ["message_start", "content_block_start"]
    assert p.see(ev.Retrying(1, 0.0, "the stream broke")) == []
    events = []
    for chunk in (ev.ThinkingChunk("hm"), ev.ThinkingChunk("m"), ev.TextChunk("Done.")):
        events += p.see(chunk)
    response = ModelResponse(
        [
            ThinkingPart("hmm", signature="sig"),
            TextPart("Done."),
            ToolUsePart("t1", "Read", {"file_path": "a.py"}),
        ],
        StopReason.TOOL_USE,
        Usage(10, 7),
    )
    events += p.see(ev.AssistantMessage(response, 1, 0.0))
    message_id = events[0]["message"]["id"]
    assert events[0] == {
        "type": "message_start",
        "message": {
            "id": message_id, "type": "message", "role": "assistant", "model": "mock/anthropic",
            "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": 0, "cache_creation_input_tokens": 0,
                      "cache_read_input_tokens": 0, "output_tokens": 0},
        },
    }  # fmt: skip
    assert events[1:] == [
        {"type": "content_block_start", "index": 0,
         "content_block": {"type": "thinking", "thinking": "", "signature": ""}},
        {"type": "content_block_delta", "index": 0,
         "delta": {"type": "thinking_delta", "thinking": "hm"}},
        {"type": "content_block_delta", "index": 0,
         "delta": {"type": "thinking_delta", "thinking": "m"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 1,
         "delta": {"type": "text_delta", "text": "Done."}},
        {"type": "content_block_stop", "index": 1},
        {"type": "content_block_start", "index": 2,
         "content_block": {"type": "tool_use", "id": "t1", "name": "Read", "input": {}}},
        {"type": "content_block_delta", "index": 2,
         "delta": {"type": "input_json_delta", "partial_json": '{"file_path": "a.py"}'}},
        {"type": "content_block_stop", "index": 2},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None},
         "usage": {"output_tokens": 7}},
        {"type": "message_stop"},
    ]  # fmt: skip
    # The next response is a new message with its own id, counted from block 0.
    after = p.see(ev.TextChunk("next"))
    assert after[0]["message"]["id"] != message_id and after[1]["index"] == 0
