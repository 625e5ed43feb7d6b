"""Record mode proxies a second mock into a cassette; replay serves it back byte for
byte. Replay also serves the provider-traffic case layout, every case addressed by
`/replay/<wire>/<case>/...` on one server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from bridle.mock import MockServer, load_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = load_scenario(ROOT / "examples" / "buggy-project" / "scenario.json")
TRAFFIC = ROOT / "tests" / "fixtures" / "provider-traffic"

REQUESTS = [
    (
        "/v1/messages",
        {
            "messages": [{"role": "user", "content": "go"}],
            "tools": [{"name": "Glob", "input_schema": {}}],
            "stream": True,
        },
    ),
    (
        "/v1/chat/completions",
        {
            "messages": [{"role": "user", "content": "go"}],
            "tools": [{"type": "function", "function": {"name": "glob"}}],
        },
    ),
    (
        "/v1beta/models/g:streamGenerateContent?alt=sse",
        {
            "contents": [{"role": "user", "parts": [{"text": "go"}]}],
            "tools": [{"functionDeclarations": [{"name": "glob"}]}],
        },
    ),
    (
        "/v1/responses",
        {
            "input": [
                {"role": "user", "content": "go"},
                {"type": "function_call_output", "call_id": "nope", "output": "x"},
            ],
            "tools": [{"type": "function", "name": "glob"}],
        },
    ),
]


def test_record_then_replay_round_trip(tmp_path: Path) -> None:
    cassette = tmp_path / "session.cassette.json"
    headers = {"authorization": "Bearer sk-secret", "x-api-key": "sk-secret"}
    with (
        MockServer(SCENARIO) as upstream,
        MockServer(record_url=upstream.base_url, cassette=cassette) as recorder,
    ):
        recorded = [httpx.post(recorder.base_url + p, json=b, headers=headers) for p, b in REQUESTS]
        direct = [httpx.post(upstream.base_url + p, json=b) for p, b in REQUESTS]
    assert [r.status_code for r in recorded] == [200, 200, 200, 400]
    # Ids derive from the conversation, so proxied answers equal direct ones (bar the clock).
    created = re.compile(rb'"created": ?\d+')
    assert [created.sub(b"", r.content) for r in recorded] == [
        created.sub(b"", r.content) for r in direct
    ]
    assert "sk-secret" not in cassette.read_text()
    assert [e.get("recorded") for e in recorder.requests] == [True] * 4

    with MockServer(replay=cassette) as replay, httpx.Client(base_url=replay.base_url) as client:
        replayed = [client.post(p, json=b) for p, b in REQUESTS]
        exhausted = client.post("/v1/messages", json={})
    assert [(r.status_code, r.headers["content-type"], r.content) for r in replayed] == [
        (r.status_code, r.headers["content-type"], r.content) for r in recorded
    ]
    assert exhausted.status_code == 404
    assert "no unserved interaction" in exhausted.json()["error"]["message"]


def test_replay_prefers_the_interaction_recorded_on_the_same_path(tmp_path: Path) -> None:
    cassette = tmp_path / "c.json"
    with (
        MockServer(SCENARIO) as upstream,
        MockServer(record_url=upstream.base_url, cassette=cassette) as recorder,
    ):
        first = httpx.post(recorder.base_url + REQUESTS[0][0], json=REQUESTS[0][1])
        second = httpx.post(recorder.base_url + REQUESTS[1][0], json=REQUESTS[1][1])
    with MockServer(replay=cassette) as replay:
        chat = httpx.post(replay.base_url + "/v1/chat/completions", json={})
        messages = httpx.post(replay.base_url + "/v1/messages?beta=true", json={})
    assert (chat.content, messages.content) == (second.content, first.content)


def _cases() -> list[Path]:
    return sorted(p.parent for p in TRAFFIC.glob("*/*/response.body"))


def test_replays_every_provider_traffic_case_byte_for_byte() -> None:
    cases = _cases()
    assert len(cases) == 120
    with MockServer(replay=TRAFFIC) as srv, httpx.Client(base_url=srv.base_url) as client:
        for case in cases:
            meta = json.loads((case / "meta.json").read_text())
            path = meta["request_path"] or meta["canonical_request_path"]
            name = case.relative_to(TRAFFIC).as_posix()
            resp = client.post(f"/replay/{name}{path}", json={})
            got = (
                resp.status_code,
                resp.headers["content-type"],
                resp.headers.get("retry-after"),
                resp.content,
            )
            want = (
                meta["status"],
                meta["content_type"],
                meta["retry_after"],
                (case / "response.body").read_bytes(),
            )
            assert got == want, name
            for header, value in (meta.get("response_headers") or {}).items():
                assert resp.headers[header] == value, (name, header)


def test_replays_a_single_case_directory_for_every_request(tmp_path: Path) -> None:
    case = tmp_path / "gemini-case"
    case.mkdir()
    body = b'data: {"candidates": [{"content": {"parts": [{"text": "hi"}]}}]}\r\n\r\n'
    (case / "response.body").write_bytes(body)
    meta = {
        "status": 200,
        "content_type": "text/event-stream",
        "retry_after": None,
        "streaming": True,
        "request_path": None,
    }
    (case / "meta.json").write_text(
        json.dumps(
            meta | {"canonical_request_path": "/v1beta/models/g:streamGenerateContent?alt=sse"}
        )
    )
    with MockServer(replay=case) as srv:
        got = [
            httpx.post(
                srv.base_url + "/v1beta/models/g:streamGenerateContent?alt=sse", json={}
            ).content
            for _ in range(2)
        ]
    assert got == [body, body]
