"""Cost of a model call from its token usage and the catalog's prices.

Prices are USD per million tokens. `Usage.input_tokens` already excludes cache
reads and writes (core.messages normalises every wire to Anthropic's
convention), so each bucket is billed once at its own rate. A missing cache
price bills that bucket at the input rate, which is what OpenAI, DeepSeek and
Gemini implicit caching do for writes. Unknown prices give a cost of 0 with
`known=False`, so a budget check can say "cost unknown" instead of "free".
Tiered prices (long-context surcharges, off-peak discounts) use the base tier.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridle.core.messages import Usage
from bridle.providers.catalog import ModelInfo

PER = 1_000_000


@dataclass(frozen=True, slots=True)
class Cost:
    """USD for one call, per token bucket; `known` is False when the model has no prices."""

    input: float = 0.0
    output: float = 0.0
    cache_read: float = 0.0
    cache_write: float = 0.0
    known: bool = True

    @property
    def total(self) -> float:
        return self.input + self.output + self.cache_read + self.cache_write


def cost(usage: Usage, info: ModelInfo | None) -> Cost:
    """The cost of `usage`, per bucket; `known` is False when prices are not."""
    prices = info.prices if info is not None else None
    if prices is None:
        return Cost(known=False)
    read = prices.input if prices.cache_read is None else prices.cache_read
    write = prices.input if prices.cache_write is None else prices.cache_write
    return Cost(
        input=usage.input_tokens * prices.input / PER,
        output=usage.output_tokens * prices.output / PER,
        cache_read=usage.cache_read_tokens * read / PER,
        cache_write=usage.cache_write_tokens * write / PER,
    )


def cost_usd(usage: Usage, info: ModelInfo | None) -> float:
    """Total USD for `usage`; 0.0 when prices are unknown (see `cost().known`)."""
    return cost(usage, info).total


def estimate_request_usd(
    input_tokens: int, max_output_tokens: int, info: ModelInfo | None
) -> float:
    """An upper-bound estimate before a request: every input token uncached and
    the full output budget spent. Used by `--max-cost` before sending."""
    return cost_usd(Usage(input_tokens=input_tokens, output_tokens=max_output_tokens), info)
