"""Read the complete lines appended to a session file since a byte offset.

A session file may be appended while we read it, so only bytes up to the last
newline are consumed; a half-written last line is left for the next read and the
returned offset points just past the last newline. Reads stream in bounded
chunks so a 100 MB transcript never sits in memory whole. Codex's `.jsonl.zst`
rollouts are decompressed as a stream; their offset counts decompressed bytes.
This module does not parse JSON: importers do, line by line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

CHUNK = 4 << 20


def read_batches(path: Path, offset: int, chunk: int = CHUNK) -> Iterator[tuple[list[str], int]]:
    """Yield `(complete lines, byte offset after them)` from `offset` on, a chunk at a
    time. Lines are decoded once per chunk (invalid UTF-8 becomes U+FFFD), which is
    much cheaper than letting `json.loads` sniff and decode each line."""
    if path.name.endswith(".zst"):
        yield from _zst_batches(path, offset, chunk)
        return
    with open(path, "rb") as f:
        f.seek(offset)
        yield from _batches(f, offset, chunk)


def _batches(f: BinaryIO, offset: int, chunk: int) -> Iterator[tuple[list[str], int]]:
    carry = b""
    while True:
        data = f.read(chunk)
        if not data:
            return
        data = carry + data
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
            continue
        carry = data[cut + 1 :]
        block = data[: cut + 1]
        offset += len(block)
        lines = block.decode("utf-8", "replace").split("\n")
        lines.pop()  # the empty string after the last newline
        yield lines, offset


def _zst_batches(path: Path, offset: int, chunk: int) -> Iterator[tuple[list[str], int]]:
    import zstandard

    with open(path, "rb") as raw:
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        skip = offset
        while skip > 0:
            got = reader.read(min(skip, chunk))
            if not got:
                return
            skip -= len(got)
        try:
            yield from _batches(reader, offset, chunk)
        except zstandard.ZstdError:
            # A frame still being written: what was read so far stands.
            return
