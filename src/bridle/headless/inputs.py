"""What a headless run reads besides its flags: prompt text and attachments.

The prompt comes from the PROMPT argument, `--prompt-file`, stdin or a
`--prompt-each` list; `--file` adds text files to it, fenced, and `--image`
attaches images. Everything here is read strictly, so bad input is a usage error
(exit 64) that names the file, what is wrong and how to fix it, found while the
flags are validated, before a session exists: text must be UTF-8 (a byte order
mark is dropped), a `--file` must be text, and an `--image` must be PNG, JPEG,
GIF or WebP by its content (the media types every provider accepts), whatever
its name says. Nothing here guesses an encoding or converts an image.
"""

from __future__ import annotations

import base64
import codecs
from pathlib import Path
from typing import IO

from bridle.core.errors import UsageError
from bridle.core.messages import ImagePart

BOM = "\ufeff"
# Enough to tell text from binary: `file` and git look at about as much.
SNIFF_BYTES = 8192
IMAGE_ADVICE = "models accept PNG, JPEG, GIF or WebP images"


def read_text_file(flag: str, path: str | Path) -> str:
    """A text input such as `--prompt-file FILE`, decoded strictly as UTF-8."""
    data = _read_bytes(flag, path)
    return _decode(data, f"{flag} {path}", f"`iconv -f LATIN1 -t UTF-8 {path} > {path}.utf8`")


def read_stdin(stdin: IO[str]) -> str:
    """The prompt piped on stdin. Read as bytes where possible: in the C locale
    Python would otherwise decode it with surrogate escapes and hide the problem."""
    raw = getattr(stdin, "buffer", None)
    if raw is None:
        return stdin.read().removeprefix(BOM)
    return _decode(raw.read(), "the prompt on stdin", "pipe it through `iconv -f LATIN1 -t UTF-8`")


def check_attachments(files: list[str], images: list[str]) -> None:
    """Refuse every `--file` that is not UTF-8 text and every `--image` that is
    not an image a provider accepts, before any work starts."""
    for f in files:
        fenced_file(f)
    for img in images:
        image_part(img)


def fenced_file(path: str) -> str:
    """`--file PATH` as it goes into the prompt: its name, then its text fenced."""
    body = attached_text(path)
    fence = "````" if "```" in body else "```"
    return f"{Path(path)}:\n{fence}\n{body.rstrip()}\n{fence}"


def attached_text(path: str) -> str:
    flag = f"--file {path}"
    data = _read_bytes("--file", path)
    head = data[:SNIFF_BYTES]
    if b"\0" in head or (not _decodes_as_text(head) and not _legacy_text(head)):
        advice = (
            "attach images with --image"
            if image_media_type(data)
            else "--file adds text files to the prompt"
        )
        raise UsageError(f"{flag}: not text, the file holds {describe(data)}; {advice}")
    return _decode(data, flag, f"`iconv -f LATIN1 -t UTF-8 {path} > {path}.utf8`")


def image_part(path: str) -> ImagePart:
    """`--image PATH` as an image part, its media type taken from its content."""
    data = _read_bytes("--image", path)
    media = image_media_type(data)
    if media is None:
        raise UsageError(
            f"--image {path}: the file holds {describe(data)}; {IMAGE_ADVICE} "
            f"(convert it first, e.g. `magick {path} {Path(path).stem}.png` with ImageMagick)"
        )
    return ImagePart(media, base64.b64encode(data).decode("ascii"))


def image_media_type(data: bytes) -> str | None:
    """The media type of a PNG, JPEG, GIF or WebP image, by its magic bytes."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


# Magic bytes of common files people pass by mistake, to name what was found.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF document"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"PK\x03\x04", "a ZIP archive (or a document stored as one, such as .docx)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x7fELF", "an ELF executable"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x00\x00\x01\x00", "an ICO icon"),
    (b"BM", "a BMP image"),
    (b"MZ", "a Windows executable"),
)
_IMAGE_NAMES = {
    "image/png": "a PNG image",
    "image/jpeg": "a JPEG image",
    "image/gif": "a GIF image",
    "image/webp": "a WebP image",
}
_FTYP = {b"heic": "a HEIC image", b"heix": "a HEIC image", b"mif1": "a HEIF image"}


def describe(data: bytes) -> str:
    """What a file holds, in words, for error messages."""
    media = image_media_type(data)
    if media is not None:
        return _IMAGE_NAMES[media]
    head = data[:SNIFF_BYTES]
    if not data:
        return "nothing (it is empty)"
    if b"\0" not in head and (_decodes_as_text(head) or _legacy_text(head)):
        return "an SVG image (text)" if b"<svg" in head else "text"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return _FTYP.get(brand) or ("an AVIF image" if brand == b"avif" else "a video")
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return "binary data"


def _read_bytes(flag: str, path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{flag} {path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{flag} {path}: is a directory; name a file") from None
    except OSError as e:
        raise UsageError(f"{flag} {path}: cannot read it ({e.strerror or e})") from None


def _decode(data: bytes, where: str, convert: str) -> str:
    try:
        return data.decode("utf-8").removeprefix(BOM)
    except UnicodeDecodeError as e:
        raise UsageError(
            f"{where}: not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}); "
            f"convert it to UTF-8, e.g. {convert} (name its real encoding after -f)"
        ) from None


def _decodes_as_text(head: bytes) -> bool:
    """UTF-8 up to the end of the sniffed bytes (which may cut a character)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _legacy_text(head: bytes) -> bool:
    """Text in a single-byte encoding such as Latin-1: no control bytes other
    than the whitespace and escape text files use."""
    allowed = {9, 10, 11, 12, 13, 27}
    return all(b >= 32 or b in allowed for b in head)
