"""Every recorded provider answer in tests/fixtures/provider-traffic (120 cases
across the four wires) parses to exactly its `expected.json`: text, thinking,
tool calls, raw stop reason, usage and error; streaming bodies parse the same
when cut at random byte boundaries."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridle.core.errors import ProviderHTTPError
from bridle.core.messages import ModelResponse
from bridle.wire._assembler import Assembler
from bridle.wire._sse import iter_sse
from bridle.wire.adapter import adapter_for

from .corpus import Case, as_expected, load_cases, normalised_expected

CASES = load_cases()
STREAMING = [c for c in CASES if c.streaming]


def parse(case: Case, chunks: list[bytes]) -> dict[str, Any]:
    """What bridle extracts from one recorded answer, in expected.json terms."""
    adapter = adapter_for(case.wire)
    provider = case.meta["provider"]
    status = case.meta["status"]
    if status >= 400:
        err = adapter.http_error(status, b"".join(chunks), provider)
        assert isinstance(err, ProviderHTTPError)
        error = {"status": err.status, "type": err.error_type, "message": err.message}
        return as_expected(case.wire, ModelResponse([], None), error)
    asm = Assembler(case.wire, provider)
    if case.streaming:
        asm.feed_all(adapter.decode_stream(iter_sse(chunks), provider))
    else:
        asm.feed_all(adapter.parse_response(json.loads(b"".join(chunks)), provider))
    error = None
    if asm.error is not None:
        e = asm.error
        error = {"status": e.status, "type": e.error_type, "message": e.message}
    return as_expected(case.wire, asm.partial(), error)


def test_corpus_is_complete() -> None:
    assert len(CASES) == 120
    assert len(STREAMING) == 79


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case_parses_to_expected(case: Case) -> None:
    assert parse(case, [case.body]) == normalised_expected(case)


@pytest.mark.parametrize("case", STREAMING, ids=lambda c: c.name)
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_rechunked_stream_parses_the_same(case: Case, data: st.DataObject) -> None:
    body = case.body
    cuts = data.draw(
        st.lists(
            st.integers(min_value=1, max_value=max(1, len(body) - 1)), max_size=40, unique=True
        )
    )
    bounds = [0, *sorted(cuts), len(body)]
    chunks = [body[a:b] for a, b in itertools.pairwise(bounds)]
    assert parse(case, chunks) == normalised_expected(case)


@pytest.mark.parametrize("case", STREAMING, ids=lambda c: c.name)
def test_byte_at_a_time_stream_parses_the_same(case: Case) -> None:
    chunks = [case.body[i : i + 1] for i in range(len(case.body))]
    assert parse(case, chunks) == normalised_expected(case)
