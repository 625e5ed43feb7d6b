"""Request bodies per wire, compared whole against golden dicts: system, tools,
images, tool results with is_error, prompt-cache marks (where the planner puts
them, only when the profile asks),
and reasoning sent back the way each provider needs it. The round-trip tests
take a recorded response, turn it into history, and check the next request
carries its signatures / encrypted reasoning byte for byte."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bridle.core.messages import (
    ImagePart,
    Message,
    ModelRequest,
    TextPart,
    ThinkingPart,
    ToolResultPart,
    ToolSpec,
    ToolUsePart,
)
from bridle.wire._assembler import Assembler
from bridle.wire._sse import iter_sse
from bridle.wire.adapter import adapter_for
from bridle.wire.endpoint import Endpoint
from bridle.wire.gemini import SYNTHETIC_ID_PREFIX
from bridle.wire.profile import Profile

from .corpus import CORPUS

SCHEMA = {
    "type": "object",
    "properties": {"file_path": {"type": "string"}},
    "required": ["file_path"],
}
EPHEMERAL = {"type": "ephemeral"}


def conversation(wire: str, **kw: Any) -> ModelRequest:
    return ModelRequest(
        model="m1",
        system="Be brief.",
        tools=[ToolSpec("Read", "Read a file", SCHEMA)],
        messages=[
            Message("user", [TextPart("Fix the bug"), ImagePart("image/png", "iVBOR")]),
            Message(
                "assistant",
                [
                    ThinkingPart("Let me look.", signature="sig-1", wire=wire),
                    TextPart("Reading."),
                    ToolUsePart("call_1", "Read", {"file_path": "a.py"}),
                ],
            ),
            Message(
                "user",
                [ToolResultPart("call_1", [TextPart("no such file")], is_error=True)],
            ),
        ],
        max_tokens=1000,
        **kw,
    )


def endpoint(wire: str, base: str, **kw: Any) -> Endpoint:
    return Endpoint("acme", wire, base, "ignored", api_key="sk-1", **kw)


def build(wire: str, req: ModelRequest, base: str = "https://api.example.com", **kw: Any) -> Any:
    return adapter_for(wire).build_request(req, endpoint(wire, base, **kw))


def count_cache_marks(obj: Any) -> int:
    return json.dumps(obj).count('"cache_control"')


def test_anthropic_request() -> None:
    r = build("anthropic-messages", conversation("anthropic-messages"))
    assert r.url == "https://api.example.com/v1/messages"
    assert r.headers == {
        "content-type": "application/json",
        "anthropic-version": "2023-06-01",
        "x-api-key": "sk-1",
        "accept": "text/event-stream",
    }
    assert r.body == {
        "model": "m1",
        "max_tokens": 1000,
        "stream": True,
        "system": [{"type": "text", "text": "Be brief.", "cache_control": EPHEMERAL}],
        "tools": [
            {
                "name": "Read",
                "description": "Read a file",
                "input_schema": SCHEMA,
                "cache_control": EPHEMERAL,
            }
        ],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Fix the bug", "cache_control": EPHEMERAL},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"},
                    },
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "Let me look.", "signature": "sig-1"},
                    {"type": "text", "text": "Reading."},
                    {
                        "type": "tool_use",
                        "id": "call_1",
                        "name": "Read",
                        "input": {"file_path": "a.py"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "call_1",
                        "content": [{"type": "text", "text": "no such file"}],
                        "is_error": True,
                        "cache_control": EPHEMERAL,
                    }
                ],
            },
        ],
    }


def test_anthropic_sets_no_cache_marks_unless_the_profile_asks() -> None:
    req = conversation("anthropic-messages")
    r = build("anthropic-messages", req, profile=Profile(prompt_caching=False))
    assert count_cache_marks(r.body) == 0
    assert r.body["system"] == "Be brief."
    # Two user turns, plus system and tools: exactly four.
    assert count_cache_marks(build("anthropic-messages", req).body) == 4


def test_anthropic_thinking_config_redacted_thinking_and_foreign_reasoning() -> None:
    req = ModelRequest(
        "m1",
        [
            Message("user", [TextPart("hi")]),
            Message(
                "assistant",
                [
                    ThinkingPart("", redacted=True, data="opaque==", wire="anthropic-messages"),
                    ThinkingPart("from another model", wire="openai-chat"),
                    TextPart(""),
                    TextPart("Hello"),
                ],
            ),
            Message("user", [TextPart("more"), ToolResultPart("t1", [TextPart("ok")])]),
        ],
        reasoning="high",
        temperature=0.3,
        stream=False,
        max_tokens=4000,
    )
    body = build("anthropic-messages", req, profile=Profile(prompt_caching=False)).body
    assert body == {
        "model": "m1",
        "max_tokens": 4000,
        "thinking": {"type": "enabled", "budget_tokens": 3999},
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {
                "role": "assistant",
                "content": [
                    {"type": "redacted_thinking", "data": "opaque=="},
                    {"type": "text", "text": "Hello"},
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "t1",
                        "content": [{"type": "text", "text": "ok"}],
                    },
                    {"type": "text", "text": "more"},
                ],
            },
        ],
    }


def test_openai_chat_request() -> None:
    r = build("openai-chat", conversation("openai-chat"), "https://api.example.com/v1/")
    assert r.url == "https://api.example.com/v1/chat/completions"
    assert r.headers["authorization"] == "Bearer sk-1"
    assert r.body == {
        "model": "m1",
        "max_tokens": 1000,
        "stream": True,
        "stream_options": {"include_usage": True},
        "tools": [
            {
                "type": "function",
                "function": {"name": "Read", "description": "Read a file", "parameters": SCHEMA},
            }
        ],
        "messages": [
            {"role": "system", "content": "Be brief."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Fix the bug"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR"}},
                ],
            },
            {
                "role": "assistant",
                "content": "Reading.",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "Read", "arguments": '{"file_path":"a.py"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "Error: no such file"},
        ],
    }


def test_openai_chat_reasoning_roundtrip_only_when_the_profile_asks() -> None:
    req = conversation("openai-chat", reasoning="low")
    plain = build("openai-chat", req).body
    assert "reasoning_content" not in plain["messages"][2]
    assert plain["reasoning_effort"] == "low"
    assert plain["max_tokens"] == 1000
    back = build("openai-chat", req, profile=Profile(reasoning_roundtrip="reasoning_content")).body
    assert back["messages"][2]["reasoning_content"] == "Let me look."
    official = adapter_for("openai-chat").build_request(
        req,
        Endpoint(
            "any-name",
            "openai-chat",
            "https://api.openai.com/v1",
            "gpt",
            profile=Profile(max_tokens_field="max_completion_tokens"),
        ),
    )
    assert official.body["max_completion_tokens"] == 1000
    assert "max_tokens" not in official.body
    assert "authorization" not in official.headers


def test_openai_responses_request() -> None:
    req = conversation("openai-responses")
    req.messages[1].parts[0] = ThinkingPart(
        "Let me look.", data="enc-1", item_id="rs_1", wire="openai-responses"
    )
    r = build("openai-responses", req, "https://api.example.com/v1")
    assert r.url == "https://api.example.com/v1/responses"
    assert r.body == {
        "model": "m1",
        "instructions": "Be brief.",
        "max_output_tokens": 1000,
        "store": False,
        "include": ["reasoning.encrypted_content"],
        "stream": True,
        "tools": [
            {"type": "function", "name": "Read", "description": "Read a file", "parameters": SCHEMA}
        ],
        "input": [
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "Fix the bug"},
                    {"type": "input_image", "image_url": "data:image/png;base64,iVBOR"},
                ],
            },
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "Let me look."}],
                "encrypted_content": "enc-1",
            },
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Reading.", "annotations": []}],
            },
            {
                "type": "function_call",
                "call_id": "call_1",
                "name": "Read",
                "arguments": '{"file_path":"a.py"}',
            },
            {"type": "function_call_output", "call_id": "call_1", "output": "Error: no such file"},
        ],
    }


def test_gemini_request() -> None:
    req = conversation("gemini", stop_sequences=["END"], reasoning="low")
    req.messages[1].parts.insert(2, ThinkingPart("", signature="sig-2", wire="gemini"))
    req.messages[1].parts[3] = ToolUsePart(
        "call_1", "Read", {"file_path": "a.py"}, signature="sig-3"
    )
    r = build("gemini", req, "https://generativelanguage.googleapis.com/")
    assert r.url == (
        "https://generativelanguage.googleapis.com/v1beta/models/m1:streamGenerateContent?alt=sse"
    )
    assert r.headers == {"content-type": "application/json", "x-goog-api-key": "sk-1"}
    assert r.body == {
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "tools": [
            {
                "functionDeclarations": [
                    {"name": "Read", "description": "Read a file", "parametersJsonSchema": SCHEMA}
                ]
            }
        ],
        "generationConfig": {
            "maxOutputTokens": 1000,
            "stopSequences": ["END"],
            "thinkingConfig": {"includeThoughts": True, "thinkingBudget": 1024},
        },
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"text": "Fix the bug"},
                    {"inlineData": {"mimeType": "image/png", "data": "iVBOR"}},
                ],
            },
            {
                "role": "model",
                "parts": [
                    {"text": "Let me look.", "thought": True, "thoughtSignature": "sig-1"},
                    {"text": "Reading."},
                    {
                        "functionCall": {
                            "name": "Read",
                            "args": {"file_path": "a.py"},
                            "id": "call_1",
                        },
                        "thoughtSignature": "sig-3",
                    },
                ],
            },
            {
                "role": "user",
                "parts": [
                    {
                        "functionResponse": {
                            "name": "Read",
                            "response": {"error": "no such file"},
                            "id": "call_1",
                        }
                    }
                ],
            },
        ],
    }


def test_gemini_non_streaming_url_and_synthetic_ids_stay_home() -> None:
    call_id = SYNTHETIC_ID_PREFIX + "abc"
    req = ModelRequest(
        "gemini-2.5-pro",
        [
            Message("user", [TextPart("go")]),
            Message(
                "assistant",
                [
                    ToolUsePart(call_id, "Bash", {"command": "ls"}),
                    ThinkingPart("", signature="tail", wire="gemini"),
                ],
            ),
            Message("user", [ToolResultPart(call_id, [TextPart("a.py")])]),
        ],
        stream=False,
    )
    r = build("gemini", req, "http://127.0.0.1:9")
    assert r.url == "http://127.0.0.1:9/v1beta/models/gemini-2.5-pro:generateContent"
    assert r.body["contents"][1:] == [
        {
            "role": "model",
            "parts": [
                {"functionCall": {"name": "Bash", "args": {"command": "ls"}}},
                {"text": "", "thoughtSignature": "tail"},
            ],
        },
        {
            "role": "user",
            "parts": [{"functionResponse": {"name": "Bash", "response": {"output": "a.py"}}}],
        },
    ]


# ---------------------------------------------------------------------------
# Round trips from recorded responses


def parse_case(wire: str, name: str) -> Message:
    case = CORPUS / wire / name
    meta = json.loads((case / "meta.json").read_text())
    adapter = adapter_for(wire)
    body = (case / "response.body").read_bytes()
    events = (
        adapter.decode_stream(iter_sse([body]), None)
        if meta["streaming"]
        else adapter.parse_response(json.loads(body), None)
    )
    return Assembler(wire).feed_all(events).result().to_message()


def next_request(wire: str, reply: Message, **kw: Any) -> Any:
    results = [ToolResultPart(t.id, [TextPart("done")]) for t in reply.tool_uses]
    req = ModelRequest(
        "m1", [Message("user", [TextPart("go")]), reply, Message("user", list(results))]
    )
    return build(wire, req, **kw).body


def test_anthropic_thinking_signature_round_trip() -> None:
    case = CORPUS / "anthropic-messages" / "pai-anthropic-tool-with-thinking.1"
    recorded = json.loads((case / "response.body").read_text())["content"]
    reply = parse_case("anthropic-messages", "pai-anthropic-tool-with-thinking.1")
    body = next_request("anthropic-messages", reply)
    assert body["messages"][1] == {"role": "assistant", "content": recorded}


def test_anthropic_redacted_thinking_round_trip() -> None:
    reply = parse_case("anthropic-messages", "pai-anthropic-thinking-part-redacted-stream")
    sent = next_request("anthropic-messages", reply)["messages"][1]["content"]
    assert [b["type"] for b in sent] == ["redacted_thinking", "redacted_thinking", "text"]
    assert sent[0]["data"].startswith("EqkECkYIBxgCKkA8AZ4noDfV5VcOJe")


def test_responses_encrypted_reasoning_round_trip() -> None:
    name = "vai-openai-reasoning-encrypted-content.1"
    body = (CORPUS / "openai-responses" / name / "response.body").read_text()
    done = [
        json.loads(line[6:])["item"]
        for line in body.splitlines()
        if line.startswith("data: ") and '"response.output_item.done"' in line
    ]
    reply = parse_case("openai-responses", name)
    sent = next_request("openai-responses", reply, base="https://api.openai.com/v1")["input"]
    reasoning = [i for i in sent if i.get("type") == "reasoning"]
    assert [r["encrypted_content"] for r in reasoning] == [
        i["encrypted_content"] for i in done if i["type"] == "reasoning"
    ]
    calls = [i for i in sent if i.get("type") == "function_call"]
    assert calls == [
        {
            "type": "function_call",
            "call_id": i["call_id"],
            "name": i["name"],
            "arguments": i["arguments"],
        }
        for i in done
        if i["type"] == "function_call"
    ]
    assert [i["call_id"] for i in sent if i.get("type") == "function_call_output"] == [
        c["call_id"] for c in calls
    ]


def test_gemini_thought_signature_round_trip() -> None:
    name = "pai-google-streaming-tool-call-thought-signature.1"
    body = (CORPUS / "gemini" / name / "response.body").read_text()
    first = json.loads(re.split(r"\r?\n\r?\n", body)[0][6:])
    recorded = first["candidates"][0]["content"]["parts"][0]
    reply = parse_case("gemini", name)
    sent = next_request("gemini", reply, base="https://generativelanguage.googleapis.com")
    model_parts = sent["contents"][1]["parts"]
    assert model_parts[0] == {
        "functionCall": {"name": recorded["functionCall"]["name"], "args": {}},
        "thoughtSignature": recorded["thoughtSignature"],
    }
    assert sent["contents"][2]["parts"][0]["functionResponse"] == {
        "name": "get_country",
        "response": {"output": "done"},
    }


def test_gemini_text_signature_goes_back_on_its_text_part() -> None:
    reply = parse_case("gemini", "vai-google-text")
    sent = next_request("gemini", reply, base="https://g.example")["contents"][1]["parts"]
    body = (CORPUS / "gemini" / "vai-google-text" / "response.body").read_text()
    signed = [
        p
        for chunk in re.split(r"\r?\n\r?\n", body)
        if chunk.startswith("data: ")
        for p in json.loads(chunk[6:])["candidates"][0]["content"]["parts"]
        if "thoughtSignature" in p
    ]
    [recorded] = signed
    assert [p.get("thoughtSignature") for p in sent if "thoughtSignature" in p] == [
        recorded["thoughtSignature"]
    ]
    assert "".join(p["text"] for p in sent) == reply.text


@pytest.mark.parametrize(
    "name", ["pai-deepseek-deferred-capability-with-thinking.1", "vai-deepseek-tool-call"]
)
def test_deepseek_reasoning_content_round_trip(name: str) -> None:
    reply = parse_case("openai-chat", name)
    body = next_request(
        "openai-chat", reply, profile=Profile(reasoning_roundtrip="reasoning_content")
    )
    assistant = body["messages"][1]
    assert assistant["reasoning_content"] == "".join(
        p.text for p in reply.parts if isinstance(p, ThinkingPart)
    )
    assert assistant["reasoning_content"]
    assert [c["id"] for c in assistant["tool_calls"]] == [t.id for t in reply.tool_uses]
    assert [m["tool_call_id"] for m in body["messages"][2:]] == [t.id for t in reply.tool_uses]
