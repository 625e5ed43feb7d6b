"""`Profile`: how one provider (or one of its models) bends its wire format.

A wire module knows the format (OpenAI chat, Anthropic messages, ...); an
`Endpoint` says where and who; a `Profile` holds the provider's deviations as
named, typed fields, never as free strings. `providers/` builds one per provider
from `catalog.toml` (a `[providers.<name>.profile]` table, with model-level
`profile = {...}` fields merged on top) and from settings `providers.<name>.profile`;
the wire modules and `providers.resolve` read it. The defaults are the plain
wire: a provider's profile lists only where it differs. `FIELDS` says which
values each field accepts, so the catalog parser can reject anything else with
the file, provider and key. Pure values, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

ReasoningRoundtrip = Literal["reasoning_content", "reasoning", "reasoning_details"]
MaxTokensField = Literal["max_tokens", "max_completion_tokens"]


@dataclass(frozen=True, slots=True)
class Profile:
    """One provider's (or model's) deviations from its wire, as named fields; the defaults
    describe the plain wire."""

    # --- What requests carry (read by the wire modules) ---------------------
    # openai-chat: how the model's own reasoning goes back on assistant turns.
    # DeepSeek, Kimi and GLM reject a thinking tool loop without
    # `reasoning_content`; Ollama takes `reasoning`; `reasoning_details` sends
    # OpenRouter-style encrypted reasoning. None: reasoning is not sent back.
    reasoning_roundtrip: ReasoningRoundtrip | None = None
    # openai-chat: OpenAI's reasoning models refuse `max_tokens`.
    max_tokens_field: MaxTokensField = "max_tokens"
    # Every wire: False drops `temperature` (the provider rejects it).
    supports_temperature: bool = True
    # anthropic-messages: mark `cache_control` breakpoints (tools, system, the
    # last message and the previous user turn).
    prompt_caching: bool = True
    # openai-responses: ask for `reasoning.encrypted_content` and replay it, the
    # only way reasoning survives a stateless (`store: false`) tool loop.
    encrypted_reasoning: bool = True

    # --- Where requests go (read by providers.resolve) ----------------------
    # The base URL is the server root: OpenAI wires get `/v1` appended.
    root_base_url: bool = False
    # The bundled scripted server: every model is free, its name picks the wire.
    is_mock: bool = False

    # --- What answers look like ---------------------------------------------
    # Every decoder tolerates these on every provider; they record what the
    # provider's recorded traffic shows, and tests hold the two together.
    usage_on_finish_chunk: bool = False  # usage rides on the finish_reason chunk
    empty_tool_delta_ids: bool = False  # follow-up tool-call deltas carry id ""
    sse_comments: bool = False  # ": PROCESSING" comment lines between events
    stream_returns_json: bool = False  # may answer a stream request with one JSON body
    reasoning_field: bool = False  # reasoning arrives as `reasoning`, not `reasoning_content`
    repeated_role: bool = False  # every stream delta repeats `role: assistant`
    # Reasoning inline as <think>...</think> in the content; kept in the text
    # so it goes back verbatim, as the provider asks.
    think_tags: bool = False
    thought_signatures: bool = False  # Gemini thought signatures on parts

    # --- Prices (the catalog lists the base tier) ----------------------------
    tiered_long_context: bool = False  # long prompts bill at a higher tier
    off_peak_discount: bool = False  # cheaper outside the provider's peak hours


# Fields that take one of several values; every other field is true/false.
# Config files spell None as "none" (TOML has no null).
CHOICES: dict[str, dict[str, str | None]] = {
    "reasoning_roundtrip": {
        "none": None,
        "reasoning_content": "reasoning_content",
        "reasoning": "reasoning",
        "reasoning_details": "reasoning_details",
    },
    "max_tokens_field": {
        "max_tokens": "max_tokens",
        "max_completion_tokens": "max_completion_tokens",
    },
}
FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Profile))
DEFAULT = Profile()
