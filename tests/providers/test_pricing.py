"""Cost from usage: every bucket at its own rate, fallbacks, unknown prices."""

from __future__ import annotations

import pytest

from bridle.core.messages import Usage
from bridle.providers.catalog import ModelInfo, Prices
from bridle.providers.pricing import Cost, cost, cost_usd, estimate_request_usd
from bridle.providers.resolve import resolve_model

FULL = ModelInfo("m", "p", prices=Prices(3.0, 15.0, 0.30, 3.75))
NO_CACHE_PRICES = ModelInfo("m", "p", prices=Prices(2.0, 8.0))
USAGE = Usage(
    input_tokens=1_000_000,
    output_tokens=200_000,
    cache_read_tokens=500_000,
    cache_write_tokens=100_000,
    reasoning_tokens=50_000,
)

CASES = [
    ("all buckets", USAGE, FULL, Cost(3.0, 3.0, 0.15, 0.375)),
    ("cache prices fall back to input", USAGE, NO_CACHE_PRICES, Cost(2.0, 1.6, 1.0, 0.2)),
    ("zero usage", Usage(), FULL, Cost(0.0, 0.0, 0.0, 0.0)),
    ("unknown prices", USAGE, ModelInfo("m", "p"), Cost(known=False)),
    ("no model info", USAGE, None, Cost(known=False)),
    ("free model", USAGE, ModelInfo("m", "p", prices=Prices(0.0, 0.0)), Cost(0.0, 0.0, 0.0, 0.0)),
]


@pytest.mark.parametrize(
    ("usage", "info", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_cost_breakdown(usage: Usage, info: ModelInfo | None, expected: Cost) -> None:
    got = cost(usage, info)
    assert got.known == expected.known
    assert got.input == pytest.approx(expected.input)
    assert got.output == pytest.approx(expected.output)
    assert got.cache_read == pytest.approx(expected.cache_read)
    assert got.cache_write == pytest.approx(expected.cache_write)
    assert cost_usd(usage, info) == pytest.approx(expected.total)


def test_reasoning_tokens_are_not_billed_twice() -> None:
    # output_tokens already include reasoning (core.messages.Usage).
    assert cost_usd(Usage(output_tokens=1000, reasoning_tokens=900), FULL) == pytest.approx(0.015)


def test_catalog_prices_flow_into_cost() -> None:
    info = resolve_model("claude-sonnet-4-5", None, {}, require_key=False).info
    usage = Usage(
        input_tokens=10_000,
        output_tokens=2_000,
        cache_read_tokens=100_000,
        cache_write_tokens=20_000,
    )
    # 10k*3 + 2k*15 + 100k*0.30 + 20k*3.75, per million
    assert cost_usd(usage, info) == pytest.approx((30_000 + 30_000 + 30_000 + 75_000) / 1e6)


def test_unlisted_model_cost_is_flagged_unknown() -> None:
    info = resolve_model("deepseek/deepseek-v9", None, {}, require_key=False).info
    assert cost(USAGE, info) == Cost(known=False)
    assert cost_usd(USAGE, info) == 0.0


def test_estimate_assumes_uncached_input_and_full_output_budget() -> None:
    assert estimate_request_usd(100_000, 8_000, FULL) == pytest.approx(0.3 + 0.12)
