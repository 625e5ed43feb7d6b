"""Shared helpers for the recorded-traffic tests: load the 120 cases under
tests/fixtures/provider-traffic and express a parsed `ModelResponse` in the
corpus' own `expected.json` vocabulary, so the comparison is whole-object."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridle.core.messages import ModelResponse
from bridle.wire.gemini import SYNTHETIC_ID_PREFIX

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "provider-traffic"
WIRES = ("anthropic-messages", "openai-chat", "openai-responses", "gemini")


@dataclass(frozen=True)
class Case:
    name: str
    wire: str
    meta: dict[str, Any]
    body: bytes
    expected: dict[str, Any]

    @property
    def streaming(self) -> bool:
        return bool(self.meta["streaming"])


def load_cases() -> list[Case]:
    cases = []
    for wire in WIRES:
        for d in sorted((CORPUS / wire).iterdir()):
            meta = json.loads((d / "meta.json").read_text("utf-8"))
            cases.append(
                Case(
                    f"{wire}/{d.name}",
                    wire,
                    meta,
                    (d / "response.body").read_bytes(),
                    json.loads((d / "expected.json").read_text("utf-8")),
                )
            )
    return cases


def as_expected(wire: str, resp: ModelResponse, error: dict[str, Any] | None) -> dict[str, Any]:
    """`resp` in expected.json terms. Usage is mapped back to each wire's own
    convention: chat/responses/gemini prompt counts include cached tokens, and
    Gemini's output count is candidates + thoughts (already our output_tokens)."""
    u = resp.usage
    prompt = u.input_tokens
    if wire != "anthropic-messages":
        prompt += u.cache_read_tokens + u.cache_write_tokens
    calls = []
    for t in resp.tool_uses:
        tool_id: str | None = t.id
        if wire == "gemini" and t.id.startswith(SYNTHETIC_ID_PREFIX):
            tool_id = None  # Gemini sent no id; we made one up for pairing results
        calls.append({"id": tool_id, "name": t.name, "input": t.input})
    return {
        "text": resp.text,
        "thinking": resp.thinking,
        "tool_calls": calls,
        "stop_reason": resp.raw_stop_reason,
        "usage": {
            "input_tokens": prompt,
            "output_tokens": u.output_tokens,
            "cache_read_tokens": u.cache_read_tokens,
            "cache_write_tokens": u.cache_write_tokens,
        },
        "error": error,
    }


def normalised_expected(case: Case) -> dict[str, Any]:
    """expected.json with usage fields the provider did not send (null) read as
    0: bridle's `Usage` is all integers, so "not reported" and 0 are the same."""
    exp = json.loads(json.dumps(case.expected))
    exp["usage"] = {k: v or 0 for k, v in exp["usage"].items()}
    return exp
