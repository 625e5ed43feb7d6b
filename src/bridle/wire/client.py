"""`ModelClient`: one model endpoint over HTTP, with retries, as `core.stream`
events or a finished `ModelResponse`.

It builds the request with the endpoint's wire adapter and sends it synchronously
(the engine runs tools in threads; a sync client keeps the hot path plain) through
one of two transports behind the `_Sender` seam: by default the lean stdlib client
in `_http.py`, which keeps httpx (and the ~110 ms and ~20 MB it costs a process)
out entirely; `httpx.Client` when a test injects a transport, when a proxy applies
(HTTP_PROXY/HTTPS_PROXY/ALL_PROXY, which httpx honours along with NO_PROXY), when
the URL carries credentials, or when BRIDLE_HTTP_CLIENT=httpx asks for it
(`stdlib` forces the other). Both raise the same typed errors with the same
messages, mapped at one boundary. The answer is decoded as SSE or, whatever was
asked for, as a whole JSON body when the server answers `application/json`.
Transient failures are retried with exponential backoff and jitter, honouring
`retry-after-ms`, `retry-after` (seconds or an HTTP date) and Gemini's
`RetryInfo`: connection errors, idle timeouts, 408/429/5xx/529, in-stream errors,
and streams that break before their first content event. Once content has been
yielded a break is raised instead, so output is never duplicated. Clock, sleep,
randomness, the environment and the HTTP transport are passed in; nothing here
reads a catalog.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import AbstractContextManager, closing, contextmanager
from typing import TYPE_CHECKING, NamedTuple, Protocol

from bridle.core.errors import (
    ConfigError,
    ConnectionFailed,
    ProviderError,
    ProviderHTTPError,
    StreamError,
    StreamTimeout,
)
from bridle.core.messages import ModelRequest, ModelResponse
from bridle.core.stream import (
    MessageEnd,
    StopUpdate,
    StreamErrorEvent,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
)
from bridle.wire._assembler import Assembler
from bridle.wire._sse import iter_sse
from bridle.wire.adapter import HTTPRequest, adapter_for, dumps, protocol_errors
from bridle.wire.endpoint import Endpoint

if TYPE_CHECKING:
    import httpx

RetryObserver = Callable[[int, float, ProviderError], None]
# What a transport hands back: status, headers (case-insensitive), body chunks.
Reply = tuple[int, Mapping[str, str], Iterator[bytes]]

# Events that show the user something: once one is out, a retry would repeat it.
_CONTENT = frozenset(
    {TextDelta, ThinkingDelta, ToolCallStart, ToolCallDelta, ToolCallEnd, StopUpdate}
)
BACKOFF_BASE = 0.5  # seconds before the first retry, doubled each time
BACKOFF_CAP = 30.0


class ModelClient:
    """Calls one `Endpoint`. `stream(req)` yields events; `complete(req)` folds
    them into a `ModelResponse`. Close it (or use `with`) to release connections."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.time,
        retry_observer: RetryObserver | None = None,
        max_retry_wait: float = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.adapter = adapter_for(endpoint.wire)
        self._transport = transport
        self._sleep = sleep
        self._rng = rng
        self._clock = clock
        self._observer = retry_observer
        # A server asking for a longer wait than this is not waited for: the
        # error goes to the user, who can switch account or model instead.
        self.max_retry_wait = max_retry_wait
        # Proxy and CA variables, as httpx would read them (it reads os.environ).
        self._env = os.environ if env is None else env
        self._http: _Sender | None = None
        self._failures: _Failures | None = None

    def __enter__(self) -> ModelClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = self._failures = None

    def complete(self, req: ModelRequest) -> ModelResponse:
        """The whole response: streamed when `req.stream`, else one JSON answer.
        Raises a `ProviderError` subclass when the call finally fails."""
        asm = Assembler(self.endpoint.wire, self.endpoint.provider)
        for ev in self.stream(req):
            asm.feed(ev)
        return asm.result()

    def stream(self, req: ModelRequest) -> Iterator[StreamEvent]:
        """Events as they arrive. An in-stream error after content is yielded as
        `StreamErrorEvent` (fold with `Assembler` to raise it); before content it
        is retried like any transient failure."""
        http_req = self.adapter.build_request(req, self.endpoint)
        content = dumps(http_req.body).encode()
        attempt = 0
        while True:
            committed = False
            try:
                pending: list[StreamEvent] = []
                with closing(self._attempt(http_req, content)) as events:
                    for ev in events:
                        if committed:
                            yield ev
                        elif type(ev) in _CONTENT:
                            committed = True
                            yield from pending
                            yield ev
                        elif type(ev) is StreamErrorEvent:
                            assert isinstance(ev, StreamErrorEvent)
                            raise StreamError(
                                ev.message,
                                provider=self.endpoint.provider,
                                status=ev.status,
                                error_type=ev.error_type,
                            )
                        else:
                            pending.append(ev)
                if not committed:
                    yield from pending
                return
            except ProviderError as e:
                delay = None
                if not committed and e.retryable and attempt < self.endpoint.max_retries:
                    delay = self._delay(attempt, e)
                if delay is None:
                    final = _gave_up(e, attempt + 1)
                    if final is e:
                        raise
                    raise final from e
                attempt += 1
                if self._observer is not None:
                    self._observer(attempt, delay, e)
                self._sleep(delay)

    def _delay(self, attempt: int, err: ProviderError) -> float | None:
        hint = err.retry_after if isinstance(err, ProviderHTTPError) else None
        if hint is not None:
            return max(0.0, hint) if hint <= self.max_retry_wait else None
        backoff = min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)
        return backoff * (0.5 + 0.5 * self._rng())

    def _sender(self) -> tuple[_Sender, _Failures]:
        if self._http is None or self._failures is None:
            ep = self.endpoint
            if self._wants_httpx():
                self._http, self._failures = _httpx_sender(ep, self._transport)
            else:
                from bridle.wire import _http

                self._http = _http.HTTPClient(
                    connect_timeout=ep.connect_timeout, read_timeout=ep.idle_timeout, env=self._env
                )
                self._failures = _Failures(
                    _http.ReadTimeout,
                    _http.TimeoutException,
                    (_http.UnsupportedProtocol, _http.InvalidURL),
                    _http.TransportError,
                )
        return self._http, self._failures

    def _wants_httpx(self) -> bool:
        if self._transport is not None:
            return True
        choice = self._env.get("BRIDLE_HTTP_CLIENT", "").strip().lower()
        if choice in ("httpx", "stdlib"):
            return choice == "httpx"
        if choice:
            raise ConfigError(
                f"{choice!r} is not an HTTP client bridle has; use 'stdlib' (the default) "
                "or 'httpx', or unset it",
                key="BRIDLE_HTTP_CLIENT",
            )
        from bridle.wire._http import proxy_applies

        scheme, _, rest = self.endpoint.base_url.partition("://")
        credentials = "@" in rest.split("/", 1)[0]  # httpx turns them into basic auth
        return credentials or proxy_applies(scheme.lower(), self._env)

    def _attempt(self, http_req: HTTPRequest, content: bytes) -> Generator[StreamEvent, None, None]:
        """One HTTP exchange. Raises typed errors; checks the stream really ended."""
        ep, adapter = self.endpoint, self.adapter
        sender, failures = self._sender()
        with (
            _transport_errors(ep, http_req.url, failures),
            sender.send(http_req.url, http_req.headers, content) as (status, headers, body),
        ):
            if status >= 400:
                err = adapter.http_error(status, b"".join(body), ep.provider)
                hint = retry_after(headers, self._clock())
                if hint is not None:
                    err.retry_after = hint
                raise err
            if "json" in headers.get("content-type", "").lower():
                whole = b"".join(body)
                with protocol_errors(ep.wire, ep.provider):
                    doc = json.loads(whole)
                events = adapter.parse_response(doc, ep.provider)
            else:
                events = adapter.decode_stream(iter_sse(body), ep.provider)
            ended = False
            for ev in events:
                if type(ev) is MessageEnd or type(ev) is StreamErrorEvent:
                    ended = True
                yield ev
            if not ended:
                raise ConnectionFailed(
                    f"the answer from {http_req.url} ended before the response was complete "
                    "(connection cut); it is retried when nothing had been shown yet",
                    provider=ep.provider,
                )


class _Sender(Protocol):
    """The seam between the two transports: one POST, streamed."""

    def send(
        self, url: str, headers: Mapping[str, str], content: bytes
    ) -> AbstractContextManager[Reply]: ...

    def close(self) -> None: ...


class _Failures(NamedTuple):
    """A transport's exception classes, by what they mean to the user."""

    read_timeout: type[Exception]
    timeout: type[Exception]
    bad_url: tuple[type[Exception], ...]
    request: type[Exception]


class _HttpxSender:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    @contextmanager
    def send(self, url: str, headers: Mapping[str, str], content: bytes) -> Iterator[Reply]:
        with self.client.stream("POST", url, content=content, headers=headers) as resp:
            yield resp.status_code, resp.headers, resp.iter_bytes()

    def close(self) -> None:
        self.client.close()


def _httpx_sender(ep: Endpoint, transport: httpx.BaseTransport | None) -> tuple[_Sender, _Failures]:
    import httpx

    from bridle.wire._http import USER_AGENT

    timeout = httpx.Timeout(
        connect=ep.connect_timeout,
        read=ep.idle_timeout,
        write=ep.idle_timeout,
        pool=ep.connect_timeout,
    )
    # Loading the CA bundle costs ~25 ms per process; plain-http endpoints
    # (local servers, the mock) never use it.
    tls = not ep.base_url.startswith("http://")
    client = httpx.Client(
        transport=transport, timeout=timeout, verify=tls, headers={"user-agent": USER_AGENT}
    )
    failures = _Failures(
        httpx.ReadTimeout,
        httpx.TimeoutException,
        (httpx.UnsupportedProtocol, httpx.InvalidURL),
        httpx.RequestError,
    )
    return _HttpxSender(client), failures


@contextmanager
def _transport_errors(ep: Endpoint, url: str, failures: _Failures) -> Iterator[None]:
    """The one place a transport's exceptions become bridle's, the same for both."""
    try:
        yield
    except failures.read_timeout as e:
        raise StreamTimeout(
            f"no data from {url} for {ep.idle_timeout:g}s (the provider stalled; "
            "a model that thinks silently for longer needs a larger idle_timeout)",
            provider=ep.provider,
        ) from e
    except failures.timeout as e:
        raise ConnectionFailed(
            f"timed out connecting to {url} ({type(e).__name__}); check base_url and the network",
            provider=ep.provider,
        ) from e
    except failures.bad_url as e:
        raise ConfigError(
            f"base_url {ep.base_url!r} for {ep.provider} is not a usable http(s) URL ({e})",
            key=f"providers.{ep.provider}.base_url",
        ) from e
    except failures.request as e:
        raise ConnectionFailed(
            f"cannot talk to {url}: {e or type(e).__name__} (check base_url, e.g. "
            f"{ep.provider.upper().replace('-', '_')}_BASE_URL, and the network)",
            provider=ep.provider,
        ) from e


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds the server asked us to wait: `retry-after-ms`, else `retry-after`
    as seconds or as an HTTP date."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        import email.utils  # only for HTTP-date retry-after values

        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def _gave_up(e: ProviderError, attempts: int) -> ProviderError:
    """The final error, saying how many attempts were made when it was retried."""
    if attempts <= 1:
        return e
    note = f" (gave up after {attempts} attempts)"
    if isinstance(e, ProviderHTTPError):
        return type(e)(
            e.message + note,
            provider=e.provider,
            status=e.status,
            error_type=e.error_type,
            retry_after=e.retry_after,
            body=e.body,
        )
    return type(e)(e.message + note, provider=e.provider)
