"""`MockServer`: the scripted model server behind `bridle mock serve` and the tests.

Routes each request to its wire by path (Anthropic `/v1/messages`, OpenAI
`/v1/chat/completions` and `/v1/responses`, Gemini `models/<m>:generateContent`
and `:streamGenerateContent`, each with or without the version prefix), derives
the turn from the conversation (the number of tool calls it already holds), and
answers with that turn's tool call in the client's own vocabulary. It checks
request invariants, injects the turn's fault, logs every request, and can instead
proxy a real endpoint into a cassette or replay one. Requests without tools get a
short generic (or JSON) reply and do not advance the script.

The only state is a small attempt counter: a fault with `times: n` fails the first
n attempts at a turn, and identical retried requests can only be told apart by
counting them, keyed by (turn, conversation fingerprint), capped at 4096 entries.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridle.core import jsontext
from bridle.core.errors import UserError
from bridle.mock.cassette import Cassette, CassetteWriter, Interaction
from bridle.mock.encode import ENCODERS, Reply, error_body
from bridle.mock.http import HttpServer, Request, Response
from bridle.mock.requests import (
    ANTHROPIC,
    CHAT,
    COMPACTED_MARK,
    GEMINI,
    RESPONSES,
    RequestView,
    parse_request,
)
from bridle.mock.scenario import Scenario, Turn, load_scenario
from bridle.mock.structured import structured_reply
from bridle.mock.vocab import NoToolError, plan_call

_GEMINI_PATH = re.compile(r"/models/([^/:]+):(generateContent|streamGenerateContent|countTokens)$")
_ATTEMPT_CAP = 4096
_SIDE_TEXT = "OK."
_HOP_HEADERS = {
    "host",
    "content-length",
    "connection",
    "transfer-encoding",
    "accept-encoding",
    "keep-alive",
}


def route(path: str) -> tuple[str | None, str, str]:
    """(wire, kind, gemini model) for a POST path; kind is generate, stream or count."""
    m = _GEMINI_PATH.search(path)
    if m:
        kind = {"generateContent": "generate", "streamGenerateContent": "stream"}.get(
            m.group(2), "count"
        )
        return GEMINI, kind, m.group(1)
    if path.endswith("/messages/count_tokens"):
        return ANTHROPIC, "count", ""
    for suffix, wire in (
        ("/messages", ANTHROPIC),
        ("/chat/completions", CHAT),
        ("/responses", RESPONSES),
    ):
        if path.endswith(suffix):
            return wire, "generate", ""
    return None, "", ""


def sample_json(schema: Any, name: str = "value") -> Any:
    """A value that fits a JSON schema (OpenAPI/Gemini upper-case types included)."""
    if not isinstance(schema, dict):
        return {}
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return sample_json(schema[key][0], name)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    kind = str(kind).lower()
    if kind == "object":
        return {k: sample_json(v, k) for k, v in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [
            sample_json(schema.get("items") or {}, name)
            for _ in range(int(schema.get("minItems") or 0))
        ]
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    return f"mock {name}"


class MockServer:
    """A scripted multi-wire model server on loopback. Use as a context manager."""

    def __init__(
        self,
        scenario: Scenario | str | Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        workdir: str | Path | None = None,
        log_path: str | Path | None = None,
        record_url: str | None = None,
        cassette: str | Path | None = None,
        replay: Cassette | str | Path | None = None,
        stall_seconds: float = 600.0,
        report: Callable[[str], None] | None = None,
        keep_bodies: bool = False,
    ):
        """`report`, when given, is called with one line per invariant violation
        and per request the server itself failed on (`bridle mock serve` prints
        them on stderr); every request also lands in `requests` and `log_path`
        (with its parsed JSON body under "body" when `keep_bodies`, for tests)."""
        if isinstance(scenario, str | Path):
            scenario = load_scenario(scenario)
        if record_url and not cassette:
            raise ValueError("record mode needs a cassette path to write to")
        self.scenario = scenario
        self.workdir = str(workdir) if workdir else None
        self.log_path = Path(log_path) if log_path else None
        if self.log_path is not None:
            # Fail now, not once per request on a server thread.
            try:
                self.log_path.open("a", encoding="utf-8").close()
            except OSError as e:
                raise UserError(
                    f"cannot write the request log {self.log_path} ({e.strerror or e}); "
                    "pass a --log path in a writable directory"
                ) from None
        self.record_url = record_url.rstrip("/") if record_url else None
        self.recorder = CassetteWriter(cassette) if record_url and cassette else None
        self.replay = Cassette.load(replay) if isinstance(replay, str | Path) else replay
        self.stall_seconds = stall_seconds
        self._report = report
        self.requests: list[dict[str, Any]] = []
        self.keep_bodies = keep_bodies
        self.violations: list[str] = []
        self._attempts: OrderedDict[tuple[int, str], int] = OrderedDict()
        self._http = HttpServer(self._handle, host, port)
        self._client: Any = None

    @property
    def port(self) -> int:
        return self._http.port

    @property
    def base_url(self) -> str:
        return f"http://{self._http.host}:{self._http.port}"

    def start(self) -> MockServer:
        self._http.start()
        return self

    def stop(self) -> None:
        if self._client is not None and self._http.loop is not None:
            asyncio.run_coroutine_threadsafe(self._client.aclose(), self._http.loop).result(
                timeout=5
            )
            self._client = None
        self._http.stop()

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _log(self, entry: dict[str, Any]) -> None:
        self.requests.append(entry)
        if self.log_path is not None:
            with self.log_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")

    async def _handle(self, req: Request, resp: Response) -> None:
        entry: dict[str, Any] = {
            "time": time.time(),
            "method": req.method,
            "path": req.target,
            "body_bytes": len(req.body),
        }
        try:
            await self._dispatch(req, resp, entry)
        except Exception as e:  # the server must survive any request; the log says why
            entry["error"] = f"{type(e).__name__}: {e}"
            if self._report is not None:
                self._report(f"error {req.method} {req.target}: {entry['error']}")
            if not resp.started:
                await resp.send(
                    500, json.dumps({"error": {"message": f"bridle mock: {e}"}}).encode()
                )
        self._log(entry)

    async def _dispatch(self, req: Request, resp: Response, entry: dict[str, Any]) -> None:
        path = req.path
        case = self.replay.case_for(path) if self.replay else None
        if case:
            path = case[1]
        if req.method in ("GET", "HEAD"):
            entry["status"] = 200
            await resp.send(200, json.dumps(self._models(path)).encode())
            return
        wire, kind, gemini_model = route(path)
        entry["wire"] = wire
        if req.method != "POST" or wire is None:
            entry["status"] = 404
            msg = f"bridle mock: no route for {req.method} {path}; POST to a wire path such as /v1/messages"
            await resp.send(
                404, json.dumps({"error": {"message": msg, "type": "not_found_error"}}).encode()
            )
            return
        if self.record_url:
            await self._proxy(req, resp, entry)
        elif self.replay is not None:
            await self._replay(
                case[0] if case else self.replay.next_for(req.method, path), req, resp, entry
            )
        else:
            await self._play(req, resp, entry, wire, kind, gemini_model)

    def _models(self, path: str) -> dict[str, Any]:
        if not path.rstrip("/").endswith("/models"):
            return {"ok": True, "server": "bridle mock"}
        if "v1beta" in path:
            return {
                "models": [
                    {
                        "name": "models/mock",
                        "displayName": "bridle mock",
                        "supportedGenerationMethods": ["generateContent"],
                    }
                ]
            }
        item = {
            "id": "mock",
            "object": "model",
            "type": "model",
            "created": 0,
            "created_at": "1970-01-01T00:00:00Z",
            "owned_by": "bridle",
            "display_name": "bridle mock",
        }
        return {
            "object": "list",
            "data": [item],
            "has_more": False,
            "first_id": "mock",
            "last_id": "mock",
        }

    async def _play(
        self, req: Request, resp: Response, entry: dict[str, Any], wire: str, kind: str, model: str
    ) -> None:
        try:
            body = json.loads(req.body or b"{}")
            if not isinstance(body, dict):
                raise ValueError("top level is not an object")
            if self.keep_bodies:
                entry["body"] = body
        except ValueError as e:
            await self._fail(
                resp, entry, wire, 400, f"request body is not a JSON object ({e})", violation=True
            )
            return
        stream = kind == "stream" if wire == GEMINI else bool(body.get("stream"))
        view = parse_request(wire, body, model=model, stream=stream)
        entry.update(stream=stream, model=view.model, tools=sorted(view.tools))
        if view.violations:
            await self._fail(resp, entry, wire, 400, "; ".join(view.violations), violation=True)
            return
        tokens = max(1, len(req.body) // 4)
        if kind == "count":
            count = {"totalTokens": tokens} if wire == GEMINI else {"input_tokens": tokens}
            await resp.send(200, json.dumps(count).encode())
            return
        # Ids derive from the conversation, so a retried request gets the same answer.
        reply = Reply(model=view.model or "mock", input_tokens=tokens, call_id=view.fingerprint)
        if view.compaction_ask():
            entry["side"] = entry["compaction"] = True
            reply.text = compaction_summary(view)
            await self._answer(resp, wire, view, reply, req, entry)
            return
        if not view.tools or self.scenario is None:
            entry["side"] = True
            reply.text = (
                json.dumps(sample_json(view.json_schema)) if view.wants_json else _SIDE_TEXT
            )
            await self._answer(resp, wire, view, reply, req, entry)
            return
        index = view.tool_calls
        script = self.scenario.for_texts(view.text)
        turn = script.turn(index)
        entry.update(turn=index, op=turn.op)
        if script is not self.scenario:
            entry["agent"] = script.name
        if turn.fault and self._attempt(index, view.fingerprint) < turn.fault.times:
            entry["fault"] = turn.fault.kind
            reply = self._reply(script, turn, view, reply, entry)
            await self._fault(resp, wire, view, reply, turn, entry)
            return
        if turn.delay_ms:
            await asyncio.sleep(turn.delay_ms / 1000)
        reply = self._reply(script, turn, view, reply, entry)
        await self._answer(resp, wire, view, reply, req, entry)
        entry["end"] = time.time()

    def _reply(
        self, script: Scenario, turn: Turn, view: RequestView, reply: Reply, entry: dict[str, Any]
    ) -> Reply:
        if turn.op == "final":
            reply.text = script.final_text(turn)
            return structured_reply(view, reply, entry)  # --json-schema's tool, if offered
        try:
            if turn.op == "calls":
                one = turn.args["tool"]
                calls = [
                    plan_call(Turn("call", {"tool": one, "input": json.dumps(i)}), view.tools, None)
                    for i in json.loads(turn.args["inputs"])
                ]
                reply.call, reply.more = calls[0], calls[1:]
            else:
                reply.call = plan_call(turn, view.tools, view.cwd() or self.workdir)
            reply.text = turn.say or ""
            entry["tool"] = reply.call.name
        except NoToolError as e:
            entry["note"] = str(e)
            reply.text = f"bridle mock: {e}."
        return reply

    def _attempt(self, index: int, fingerprint: str) -> int:
        key = (index, fingerprint)
        seen = self._attempts.pop(key, 0)
        self._attempts[key] = seen + 1
        while len(self._attempts) > _ATTEMPT_CAP:
            self._attempts.popitem(last=False)
        return seen

    async def _fail(
        self,
        resp: Response,
        entry: dict[str, Any],
        wire: str,
        status: int,
        message: str,
        *,
        violation: bool = False,
        retry_after: float | None = None,
    ) -> None:
        entry["status"] = status
        headers = {}
        if violation:
            entry["violation"] = message
            self.violations.append(f"{wire} {entry['path']}: {message}")
            if self._report is not None:
                self._report(f"400 {wire} {entry['path']}: {message}")
        if retry_after is not None:
            headers["retry-after"] = f"{retry_after:g}"
        await resp.send(status, error_body(wire, status, message, retry_after), headers=headers)

    async def _answer(
        self,
        resp: Response,
        wire: str,
        view: RequestView,
        reply: Reply,
        req: Request,
        entry: dict[str, Any],
    ) -> None:
        entry["status"] = 200
        enc = ENCODERS[wire]
        if not view.stream:
            await resp.send(200, jsontext.dumps(enc.body(reply)).encode())
            return
        if wire == GEMINI and req.query.get("alt") != "sse":
            chunks = ",\r\n".join(json.dumps(c) for c in enc.chunks(reply))
            await resp.send(200, f"[{chunks}]".encode())
            return
        await resp.start(200, "text/event-stream")
        for event in enc.events(reply):
            await resp.write(event)
        await resp.end()

    async def _fault(
        self,
        resp: Response,
        wire: str,
        view: RequestView,
        reply: Reply,
        turn: Turn,
        entry: dict[str, Any],
    ) -> None:
        assert turn.fault is not None
        kind = turn.fault.kind
        if kind in ("429", "500", "529"):
            status = int(kind)
            if status == 529 and wire != ANTHROPIC:
                status = 503  # the other providers signal overload with 503
            message = {
                429: "rate limited by the mock scenario",
                500: "internal error injected by the mock scenario",
            }.get(status, "overloaded (injected by the mock scenario)")
            retry = (turn.fault.retry_after or 0) if status == 429 else turn.fault.retry_after
            await self._fail(resp, entry, wire, status, message, retry_after=retry)
            return
        enc = ENCODERS[wire]
        events = enc.events(reply) if view.stream else [jsontext.dumps(enc.body(reply)).encode()]
        whole = b"".join(events)
        if kind == "cut":
            if view.stream:
                await resp.start(200, "text/event-stream")
                for event in events[: max(1, len(events) // 2)]:
                    await resp.write(event)
            else:
                await resp.start(200, "application/json", length=len(whole))
                await resp.write(whole[: len(whole) // 2])
            resp.cut()
        elif kind == "stall":
            if view.stream:
                await resp.start(200, "text/event-stream")
                await resp.write(events[0])
            await resp.stall(self.stall_seconds)
        else:  # malformed: a chunk whose JSON is cut short, then a normal end of stream
            if not view.stream:
                await resp.send(200, whole[: len(whole) // 2])
                return
            await resp.start(200, "text/event-stream")
            await resp.write(events[0])
            bad = events[1] if len(events) > 1 else events[0]
            head, _, data = bad.partition(b"data: ")
            await resp.write(
                head + b"data: " + data[: max(1, len(data) // 2)].rstrip(b"\r\n") + b"\n\n"
            )
            await resp.end()

    async def _replay(
        self, found: Interaction | None, req: Request, resp: Response, entry: dict[str, Any]
    ) -> None:
        if found is None:
            entry["status"] = 404
            msg = (
                f"bridle mock: the cassette has no unserved interaction for {req.method} {req.path}"
            )
            await resp.send(
                404, json.dumps({"error": {"message": msg, "type": "not_found_error"}}).encode()
            )
            return
        entry.update(status=found.status, replay=found.path)
        headers = {
            k: v
            for k, v in found.headers.items()
            if k.lower() not in ("content-type", "content-length")
        }
        await resp.send(found.status, found.body, content_type=found.content_type, headers=headers)

    async def _proxy(self, req: Request, resp: Response, entry: dict[str, Any]) -> None:
        import httpx

        assert self.record_url is not None and self.recorder is not None
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(600.0, connect=30.0))
        headers = {k: v for k, v in req.headers.items() if k not in _HOP_HEADERS} | {
            "accept-encoding": "identity"
        }
        upstream = self._client.build_request(
            req.method, self.record_url + req.target, headers=headers, content=req.body
        )
        result = await self._client.send(upstream, stream=True)
        content_type = result.headers.get("content-type", "application/json")
        kept = {
            k: v
            for k, v in result.headers.items()
            if k in ("retry-after", "request-id", "x-request-id") or "ratelimit" in k
        }
        streaming = content_type.startswith("text/event-stream")
        await resp.start(result.status_code, content_type, headers=kept)
        parts = []
        try:
            async for chunk in result.aiter_raw():
                parts.append(chunk)
                await resp.write(chunk)
        finally:
            await result.aclose()
        await resp.end()
        entry.update(status=result.status_code, recorded=True)
        self.recorder.add(
            Interaction(
                req.method,
                req.target,
                result.status_code,
                content_type,
                b"".join(parts),
                kept,
                streaming,
                req.body,
            )
        )


def compaction_summary(view: RequestView) -> str:
    """The mock's hand-off summary: the first prompt as the goal, and the marker
    that keeps the scenario's turn count across the compaction."""
    goal = next((t for t in view.text[1:] if t.strip()), view.text[0] if view.text else "")
    goal = COMPACTED_MARK.sub("", goal)
    return (
        f"Goal: {goal.strip()[:300]}\n"
        "Instructions and constraints: as given by the user.\n"
        "Decisions: follow the scripted scenario.\n"
        f"State and next steps: continue the task. "
        f"[mock: {view.tool_calls} tool calls before this summary]"
    )
