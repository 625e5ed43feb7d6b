"""`ModelClient`: one model endpoint over HTTP, with retries, as `core.stream`
events or a finished `ModelResponse`.

It builds the request with the endpoint's wire adapter and sends it synchronously
(the engine runs tools in threads; a sync client keeps the hot path plain) through
a `wire.transport.Transport`: the one passed in (tests pass a `MockTransport`), else
the lean `StdlibTransport`, which keeps httpx (and the ~110 ms and ~20 MB it costs
a process) out entirely, else `HttpxTransport` when a proxy applies
(HTTP_PROXY/HTTPS_PROXY/ALL_PROXY, which httpx honours along with NO_PROXY), when
the URL carries credentials, or when BRIDLE_HTTP_CLIENT=httpx asks for it (`stdlib`
forces the default). Transport failures become typed errors at one boundary. The
answer is decoded as SSE or, whatever was asked for, as a whole JSON body when the
server answers `application/json`. Transient failures are retried with exponential
backoff and jitter, honouring `retry-after-ms`, `retry-after` (seconds or an HTTP
date) and Gemini's `RetryInfo`: connection errors, idle timeouts, 408/429/5xx/529,
in-stream errors, and streams that break before their first content event; an
error whose `retryable` is false never is. Each retry is announced by a
`RetryScheduled` event before the wait. Once content has been yielded a break is
raised instead, so output is never duplicated. Clock, sleep, randomness, the
environment and the transport are passed in; nothing here reads a catalog.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import closing, contextmanager

from bridle.core import cancel
from bridle.core.errors import (
    ConfigError,
    ConnectionFailed,
    ProviderError,
    ProviderHTTPError,
    StreamTimeout,
    stream_error_for,
)
from bridle.core.messages import ModelRequest, ModelResponse
from bridle.core.stream import (
    MessageEnd,
    RetryScheduled,
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
from bridle.wire.transport import (
    ConnectTimeout,
    InvalidURL,
    ReadTimeout,
    Timeout,
    Transport,
    TransportError,
    WriteTimeout,
    proxy_applies,
)

# Events that show the user something: once one is out, a retry would repeat it.
_CONTENT = frozenset(
    {TextDelta, ThinkingDelta, ToolCallStart, ToolCallDelta, ToolCallEnd, StopUpdate}
)
BACKOFF_BASE = 0.5  # seconds before the first retry, doubled each time
BACKOFF_CAP = 30.0


class ModelClient:
    """Calls one `Endpoint`. `stream(req)` yields events; `complete(req)` folds
    them into a `ModelResponse`. Close it (or use `with`) to release connections;
    a transport passed in is the caller's to close."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        transport: Transport | None = None,
        sleep: Callable[[float], None] = cancel.sleep,
        rng: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.time,
        max_retry_wait: float = 60.0,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.adapter = adapter_for(endpoint.wire)
        self._given = transport
        self._sleep = sleep
        self._rng = rng
        self._clock = clock
        # A server asking for a longer wait than this is not waited for: the
        # error goes to the user, who can switch account or model instead.
        self.max_retry_wait = max_retry_wait
        # Proxy and CA variables, as httpx would read them (it reads os.environ).
        self._env = os.environ if env is None else env
        self._owned: Transport | None = None

    def __enter__(self) -> ModelClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owned is not None:
            self._owned.close()
            self._owned = None

    @property
    def transport(self) -> Transport:
        """The transport requests go through, chosen (and opened) on first use."""
        if self._given is not None:
            return self._given
        if self._owned is None:
            if self._wants_httpx():
                from bridle.wire.transport import HttpxTransport

                # Loading the CA bundle costs ~25 ms per process; plain-http
                # endpoints (local servers, the mock) never use it.
                tls = not self.endpoint.base_url.startswith("http://")
                self._owned = HttpxTransport(verify=tls)
            else:
                from bridle.wire.transport import StdlibTransport

                self._owned = StdlibTransport(env=self._env)
        return self._owned

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
        is retried like any transient failure, after a `RetryScheduled` event."""
        http_req = self.adapter.build_request(req, self.endpoint)
        _check_headers(http_req.headers, self.endpoint)
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
                            raise stream_error_for(
                                ev.status,
                                ev.error_type,
                                ev.message,
                                provider=self.endpoint.provider,
                            )
                        else:
                            pending.append(ev)
                if not committed:
                    yield from pending
                return
            except ProviderError as e:
                if cancel.cancelled():  # the user interrupted the call: no retry
                    raise
                delay = None
                if not committed and e.retryable and attempt < self.endpoint.max_retries:
                    delay = self._delay(attempt, e)
                if delay is None:
                    final = _gave_up(e, attempt + 1)
                    if final is e:
                        raise
                    raise final from e
                attempt += 1
                yield RetryScheduled(attempt, delay, str(e))
                self._sleep(delay)

    def _delay(self, attempt: int, err: ProviderError) -> float | None:
        hint = err.retry_after if isinstance(err, ProviderHTTPError) else None
        if hint is not None:
            return max(0.0, hint) if hint <= self.max_retry_wait else None
        backoff = min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)
        return backoff * (0.5 + 0.5 * self._rng())

    def _wants_httpx(self) -> bool:
        choice = self._env.get("BRIDLE_HTTP_CLIENT", "").strip().lower()
        if choice in ("httpx", "stdlib"):
            return choice == "httpx"
        if choice:
            raise ConfigError(
                f"{choice!r} is not an HTTP client bridle has; use 'stdlib' (the default) "
                "or 'httpx', or unset it",
                key="BRIDLE_HTTP_CLIENT",
            )
        scheme, _, rest = self.endpoint.base_url.partition("://")
        credentials = "@" in rest.split("/", 1)[0]  # httpx turns them into basic auth
        return credentials or proxy_applies(scheme.lower(), self._env)

    def _attempt(self, http_req: HTTPRequest, content: bytes) -> Generator[StreamEvent, None, None]:
        """One HTTP exchange. Raises typed errors; checks the stream really ended."""
        ep, adapter = self.endpoint, self.adapter
        timeout = Timeout(ep.connect_timeout, ep.idle_timeout)
        with _transport_errors(ep, http_req.url):
            reply = self.transport.send("POST", http_req.url, http_req.headers, content, timeout)
            with reply:
                status, headers, body = reply.status, reply.headers, reply.chunks
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
                        f"the answer from {http_req.url} ended before the response was "
                        "complete (connection cut); it is retried when nothing had been "
                        "shown yet",
                        provider=ep.provider,
                    )


_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _check_headers(headers: Mapping[str, str], ep: Endpoint) -> None:
    """Refuse, before anything is sent, a header HTTP cannot carry: a value with a
    line break (a key pasted with its newline) or a character outside Latin-1. The
    value is never shown: it is usually a key."""
    for name, value in headers.items():
        bad = not name or not _TOKEN.issuperset(name)
        bad = bad or any(c in "\r\n\0" or ord(c) > 255 for c in value)
        if bad:
            raise ConfigError(
                f"the {name!r} header for {ep.provider} cannot be sent: it holds a line "
                "break or a character HTTP headers cannot carry. Check the API key (copied "
                "with a trailing newline?) and any headers set for the provider",
                key=f"providers.{ep.provider}",
            )


@contextmanager
def _transport_errors(ep: Endpoint, url: str) -> Iterator[None]:
    """The one place a transport's failures become bridle's, the same for all."""
    try:
        yield
    except ReadTimeout as e:
        raise StreamTimeout(
            f"no data from {url} for {ep.idle_timeout:g}s (the provider stalled; "
            "a model that thinks silently for longer needs a larger idle_timeout)",
            provider=ep.provider,
        ) from e
    except (ConnectTimeout, WriteTimeout) as e:
        raise ConnectionFailed(
            f"timed out connecting to {url} ({type(e).__name__}); check base_url and the network",
            provider=ep.provider,
        ) from e
    except InvalidURL as e:
        raise ConfigError(
            f"base_url {ep.base_url!r} for {ep.provider} is not a usable http(s) URL ({e})",
            key=f"providers.{ep.provider}.base_url",
        ) from e
    except TransportError as e:
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
