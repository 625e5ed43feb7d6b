"""Server-sent events, parsed per the WHATWG "event stream interpretation" rules.

`SSEParser.feed` takes byte chunks cut anywhere (inside a line, a `\\r\\n` pair or a
UTF-8 multibyte character) and returns the events completed so far as
`(event_name, data)` tuples; `iter_sse` does the same over an iterable of chunks.
Lines end in `\\r\\n`, `\\r` or `\\n`; `:` lines are comments; `data:` with or
without its one optional space; several `data` lines join with `\\n`; an event is
dispatched by a blank line only, so an unterminated tail is dropped, as the spec
says. `id` and `retry` are ignored: no wire here resumes streams. It does not
decode JSON or know any provider: the wire modules do that with the tuples.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

SSEEvent = tuple[str | None, str]


class SSEParser:
    __slots__ = ("_buf", "_data", "_event", "_started")

    def __init__(self) -> None:
        self._buf = b""
        self._data: list[str] = []
        self._event: str | None = None
        self._started = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        held = len(self._buf)
        buf = self._buf + chunk if held else chunk
        # A trailing \r may be the first half of \r\n; keep it until the next byte.
        end = len(buf) - 1 if buf.endswith(b"\r") else len(buf)
        # Only the new bytes (and a held-back \r) can hold a line end: a long
        # line arriving in many chunks is scanned once, not once per chunk.
        start = max(0, held - 1)
        cut = max(buf.rfind(b"\n", start, end), buf.rfind(b"\r", start, end))
        if cut < 0:
            self._buf = buf
            return []
        self._buf = buf[cut + 1 :]
        return self._lines(buf[: cut + 1])

    def close(self) -> list[SSEEvent]:
        """End of stream: a held-back lone `\\r` still ends its line; an event not
        followed by a blank line is never dispatched."""
        rest, self._buf = self._buf, b""
        if rest.endswith(b"\r"):
            return self._lines(rest)
        return []

    def _lines(self, block: bytes) -> list[SSEEvent]:
        # Cut at line ends only, so every multibyte character is whole here.
        text = block.decode("utf-8", "replace")
        if not self._started:
            self._started = True
            if text.startswith("\ufeff"):
                text = text[1:]
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        out: list[SSEEvent] = []
        data = self._data
        # The block ends with a line end, so the last split element is always "".
        for line in text.split("\n")[:-1]:
            if not line:
                if data:
                    out.append((self._event, "\n".join(data)))
                    data.clear()
                self._event = None
                continue
            if line.startswith("data:"):
                value = line[5:]
                data.append(value[1:] if value.startswith(" ") else value)
                continue
            if line[0] == ":":
                continue
            name, sep, value = line.partition(":")
            if sep and value.startswith(" "):
                value = value[1:]
            if name == "event":
                self._event = value
            elif name == "data":  # a bare "data" line appends an empty line
                data.append(value)
        return out


def iter_sse(chunks: Iterable[bytes]) -> Iterator[SSEEvent]:
    parser = SSEParser()
    for chunk in chunks:
        if chunk:
            yield from parser.feed(chunk)
    yield from parser.close()
