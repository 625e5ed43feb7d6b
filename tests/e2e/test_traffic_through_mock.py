"""The whole recorded-traffic corpus, served by `bridle mock`'s replay mode and
read by bridle's wire layer over real HTTP: each of the 120 cases yields exactly
its expected.json. The mock's encoders and the wire decoders are independent code,
so agreement here is not a bug cancelling itself out. The mock's scripted faults
then drive `ModelClient`'s retries: 429 with retry-after, 500, 529, cut streams,
stalls (idle timeout) and malformed chunks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from wire.corpus import Case, as_expected, load_cases, normalised_expected

from bridle.core.errors import (
    ConnectionFailed,
    ProtocolError,
    ProviderHTTPError,
    QuotaExceeded,
    RateLimitError,
    StreamError,
    StreamTimeout,
)
from bridle.core.messages import Message, ModelRequest, ModelResponse, TextPart, ToolSpec
from bridle.mock.server import MockServer
from bridle.wire.client import ModelClient
from bridle.wire.endpoint import Endpoint

TRAFFIC = Path(__file__).resolve().parents[1] / "fixtures" / "provider-traffic"
CASES = load_cases()
SUFFIX = {"anthropic-messages": "", "openai-chat": "/v1", "openai-responses": "/v1", "gemini": ""}


@pytest.fixture(scope="module")
def replay_server():  # type: ignore[no-untyped-def]
    with MockServer(replay=TRAFFIC) as srv:
        yield srv


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case_replayed_by_the_mock(case: Case, replay_server: MockServer) -> None:
    model = case.meta.get("model") or "some-model"
    endpoint = Endpoint(
        provider=case.meta["provider"],
        wire=case.wire,
        base_url=f"{replay_server.base_url}/replay/{case.name}{SUFFIX[case.wire]}",
        model=model,
        api_key="k",
        max_retries=0,
    )
    req = ModelRequest(model, [Message("user", [TextPart("hi")])], stream=case.streaming)
    with ModelClient(endpoint) as client:
        try:
            resp = client.complete(req)
        except (StreamError, QuotaExceeded) as e:  # in a 200 stream; a quota keeps its class
            assert case.expected["error"] == {
                "status": e.status,
                "type": e.error_type,
                "message": e.message,
            }
        except ProviderHTTPError as e:
            error = {"status": e.status, "type": e.error_type, "message": e.message}
            assert as_expected(case.wire, ModelResponse([], None), error) == normalised_expected(
                case
            )
        else:
            assert as_expected(case.wire, resp, None) == normalised_expected(case)


WIRES = {
    "anthropic-messages": "anthropic",
    "openai-chat": "openai-chat",
    "openai-responses": "openai-responses",
    "gemini": "gemini",
}


def scenario(tmp_path: Path, fault: dict[str, object]) -> Path:
    path = tmp_path / "s.json"
    path.write_text(
        json.dumps(
            {
                "name": "faulty",
                "prompt": "p",
                "final": "done",
                "turns": [
                    {"op": "read", "path": "a.py", "fault": fault},
                    {"op": "final", "text": "done"},
                ],
            }
        )
    )
    return path


def request_for(wire: str) -> ModelRequest:
    return ModelRequest(
        "m",
        [Message("user", [TextPart("read a.py")])],
        tools=[
            ToolSpec(
                "Read",
                "read a file",
                {
                    "type": "object",
                    "properties": {"file_path": {"type": "string"}},
                    "required": ["file_path"],
                },
            )
        ],
    )


def client_for(srv: MockServer, wire: str, delays: list[float], **kw: object) -> ModelClient:
    endpoint = Endpoint(
        provider="mock",
        wire=wire,
        base_url=srv.base_url + SUFFIX[wire],
        model="mock-model",
        api_key="k",
        **kw,  # type: ignore[arg-type]
    )
    return ModelClient(endpoint, sleep=delays.append)


@pytest.mark.parametrize("wire", list(WIRES))
@pytest.mark.parametrize(
    ("fault", "attempts"),
    [
        ({"kind": "429", "times": 2, "retry_after": 3}, 3),
        ({"kind": "500", "times": 1}, 2),
        ({"kind": "529", "times": 2}, 3),
    ],
)
def test_faults_are_retried(
    tmp_path: Path, wire: str, fault: dict[str, object], attempts: int
) -> None:
    delays: list[float] = []
    with MockServer(scenario(tmp_path, fault), workdir=tmp_path) as srv:
        with client_for(srv, wire, delays) as client:
            resp = client.complete(request_for(wire))
        assert [t.name for t in resp.tool_uses] == ["Read"]
    # The failed attempts were logged before the client retried.
    assert len([r for r in srv.requests if r.get("fault")]) == attempts - 1
    assert len(delays) == attempts - 1
    if fault["kind"] == "429":
        assert delays == [3.0, 3.0]  # retry-after honoured exactly


@pytest.mark.parametrize("wire", list(WIRES))
def test_a_stall_before_content_hits_the_idle_timeout_and_is_retried(
    tmp_path: Path, wire: str
) -> None:
    delays: list[float] = []
    fault = {"kind": "stall", "times": 1}
    with MockServer(scenario(tmp_path, fault), workdir=tmp_path, stall_seconds=30) as srv:
        with client_for(srv, wire, delays, idle_timeout=0.5) as client:
            if wire == "gemini":
                # Gemini's first event already carries the call: the client must
                # not repeat content, so it raises and the engine resends.
                with pytest.raises(StreamTimeout):
                    client.complete(request_for(wire))
                return
            resp = client.complete(request_for(wire))
    assert [t.name for t in resp.tool_uses] == ["Read"] and len(delays) == 1


@pytest.mark.parametrize("wire", list(WIRES))
def test_a_cut_after_content_is_raised_not_repeated(tmp_path: Path, wire: str) -> None:
    with MockServer(scenario(tmp_path, {"kind": "cut", "times": 1}), workdir=tmp_path) as srv:
        with client_for(srv, wire, []) as client, pytest.raises(ConnectionFailed):
            client.complete(request_for(wire))


@pytest.mark.parametrize("wire", list(WIRES))
def test_rate_limit_exhausted_is_typed(tmp_path: Path, wire: str) -> None:
    delays: list[float] = []
    with MockServer(
        scenario(tmp_path, {"kind": "429", "times": 10, "retry_after": 1}), workdir=tmp_path
    ) as srv:
        with (
            client_for(srv, wire, delays, max_retries=2) as client,
            pytest.raises(RateLimitError) as info,
        ):
            client.complete(request_for(wire))
    assert info.value.status == 429 and info.value.provider == "mock"
    assert delays == [1.0, 1.0]


@pytest.mark.parametrize("wire", list(WIRES))
def test_malformed_chunk_is_a_protocol_error(tmp_path: Path, wire: str) -> None:
    with MockServer(scenario(tmp_path, {"kind": "malformed", "times": 1}), workdir=tmp_path) as srv:
        with client_for(srv, wire, []) as client, pytest.raises(ProtocolError):
            client.complete(request_for(wire))
