"""What every wire module provides, and how to find one by wire name.

A `WireAdapter` is four plain functions: build the `HTTPRequest` for a
`ModelRequest` at an `Endpoint`; decode SSE events into `core.stream` events;
decode a whole JSON body into the same events; and map an HTTP error answer to
the `core.errors` tree. `adapter_for` imports the wire module only when asked,
so naming a wire costs nothing until it is used. This module holds no HTTP
client and no retry policy (see `client.py`), and no provider catalog.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bridle.core import jsontext
from bridle.core.errors import ProtocolError, ProviderHTTPError
from bridle.core.messages import ModelRequest
from bridle.core.stream import StreamEvent
from bridle.wire._sse import SSEEvent
from bridle.wire.endpoint import WIRES, Endpoint


@dataclass(slots=True)
class HTTPRequest:
    """One POST: absolute URL, headers, and the JSON body as a dict."""

    url: str
    headers: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WireAdapter:
    """One wire's functions: build a request, decode its answers, map its HTTP errors."""

    name: str
    build_request: Callable[[ModelRequest, Endpoint], HTTPRequest]
    # (sse events, provider name) -> events; emits MessageEnd only after the
    # provider's own end marker, so a cut stream is recognisable.
    decode_stream: Callable[[Iterable[SSEEvent], str | None], Iterator[StreamEvent]]
    # (decoded JSON document, provider name) -> the same events as a stream.
    parse_response: Callable[[Any, str | None], Iterator[StreamEvent]]
    # (status, body bytes, provider name) -> the typed error to raise.
    http_error: Callable[[int, bytes, str | None], ProviderHTTPError]


_MODULES = {
    "anthropic-messages": "anthropic_messages",
    "openai-chat": "openai_chat",
    "openai-responses": "openai_responses",
    "gemini": "gemini",
}


def adapter_for(wire: str) -> WireAdapter:
    """The adapter for a wire name (one of `endpoint.WIRES`)."""
    module = _MODULES.get(wire)
    if module is None:
        raise ValueError(f"unknown wire {wire!r}; expected one of: {', '.join(WIRES)}")
    adapter: WireAdapter = importlib.import_module(f"bridle.wire.{module}").ADAPTER
    return adapter


@contextmanager
def protocol_errors(wire: str, provider: str | None) -> Iterator[None]:
    """Bytes that do not have the shape the wire promises become `ProtocolError`.
    Each wire module wraps its decoders in this, its one parsing boundary."""
    try:
        yield
    except json.JSONDecodeError as e:
        snippet = e.doc[max(0, e.pos - 40) : e.pos + 40]
        raise ProtocolError(
            f"malformed JSON from the {wire} endpoint near {snippet!r}: {e.msg}",
            provider=provider,
        ) from e
    except (TypeError, KeyError, AttributeError, IndexError, ValueError) as e:
        raise ProtocolError(
            f"unexpected {wire} response shape ({type(e).__name__}: {e})", provider=provider
        ) from e


def load_error_body(body: bytes) -> dict[str, Any]:
    """The JSON object of an error answer, or {} when it is not JSON (HTML from a
    proxy, an empty body)."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    if isinstance(doc, list) and doc and isinstance(doc[0], dict):
        doc = doc[0]  # Gemini's JSON-array stream wraps its error in a list
    return doc if isinstance(doc, dict) else {}


def error_text(body: bytes, fallback_status: int) -> str:
    """A short human message for an error body that carries no parsed message."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return f"HTTP {fallback_status} with an empty body"
    return text[:300]


def int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def join_url(base: str, path: str) -> str:
    return base.rstrip("/") + path


def dumps(obj: Any) -> str:
    # A lone surrogate (a file name that is not UTF-8) is sent as its `\udcXX` escape.
    return jsontext.dumps(obj)
