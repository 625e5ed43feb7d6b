"""`Endpoint`: where a model call goes and how it authenticates, as resolved by
`providers/` from the catalog, settings, environment and accounts.

It is a plain value: the wire client reads it, and never looks anything up itself.
How the provider bends the wire format is its `profile` (see `wire.profile`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bridle.wire.profile import DEFAULT, Profile

WIRES = ("anthropic-messages", "openai-chat", "openai-responses", "gemini")


@dataclass(slots=True)
class Endpoint:
    """Where one model's calls go, how they authenticate, and how long to wait and retry."""

    provider: str  # catalog name, e.g. "deepseek"; used in error messages
    wire: str  # one of WIRES
    base_url: (
        str  # per the wire's convention (Anthropic no /v1, OpenAI with /v1, Gemini no /v1beta)
    )
    model: str  # the provider's model id, e.g. "deepseek-chat"
    api_key: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    max_retries: int = 4
    # Seconds with no byte from the server before a stream is abandoned (and retried).
    idle_timeout: float = 120.0
    connect_timeout: float = 15.0
    # The provider's (and model's) deviations from the plain wire.
    profile: Profile = DEFAULT
