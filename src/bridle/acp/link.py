"""The ACP agent's line back to its client from the engine's worker thread.

Tools run in the engine's worker thread while the JSON-RPC connection lives on
the agent's event loop: `EditorLink` runs each client call (`fs/*`,
`terminal/*`, `session/update`, `session/request_permission`) as a coroutine on
that loop and waits for it here. It also keeps what the session last saw of
each editor buffer (`seen`, a digest per path), so the file tools can tell a
buffer that changed since it was read. `client_error` words a failed client
call as the tool error the model sees.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
from collections.abc import Callable, Coroutine
from typing import Any

from bridle.core.errors import ToolError


class EditorLink:
    """Calls into the client from the engine's worker thread: each call is a
    coroutine run on the connection's event loop, waited for here."""

    def __init__(self, conn: Any, loop: asyncio.AbstractEventLoop, session_id: str):
        self.conn = conn
        self.loop = loop
        self.session_id = session_id
        # The non-concurrent call running now (set by the agent on ToolStarted), so
        # a terminal can be attached to it.
        self.current_call: str | None = None
        # Absolute path -> `digest` of the editor's text when the session last read
        # or wrote it through the editor.
        self.seen: dict[str, str] = {}

    def submit(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, make: Callable[..., Coroutine[Any, Any, Any]], **kw: Any) -> Any:
        return self.submit(make(session_id=self.session_id, **kw)).result()


def digest(text: str) -> str:
    """A buffer's fingerprint, blind to what editors change on their own: line
    endings (buffers hold `\\n`) and the newlines at the end of the file."""
    norm = text.replace("\r\n", "\n").rstrip("\n")
    return hashlib.sha256(norm.encode("utf-8", "surrogatepass")).hexdigest()


def client_error(e: Exception, what: str) -> ToolError:
    from acp import RequestError

    if isinstance(e, RequestError):
        return ToolError(f"the editor could not {what}: {e}")
    return ToolError(f"the editor could not {what}: {type(e).__name__}: {e}")
