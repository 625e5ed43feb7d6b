"""Pasted images: a pasted image file's path attaches the image to the next prompt.

Terminals paste a dragged or copied file as its path (quoted, backslash-escaped
or as a `file://` URL). `image_from_paste(text, cwd)` reads such a path when it
names a PNG, JPEG, GIF or WebP file of at most `MAX_BYTES` and returns its name
and an `ImagePart`, else None (the paste is then plain text). The prompt box
shows `[image #N: name]` in place of the path; the images whose labels are
still in the prompt when it is sent go with it (`UserTurn.images`).
"""

from __future__ import annotations

import base64
import shlex
from pathlib import Path
from urllib.parse import unquote, urlparse

from bridle.core.messages import ImagePart

MEDIA = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
         ".gif": "image/gif", ".webp": "image/webp"}  # fmt: skip
MAX_BYTES = 5 * 1024 * 1024


def pasted_path(text: str, cwd: Path) -> Path | None:
    raw = text.strip()
    if not raw or "\n" in raw:
        return None
    if raw.startswith("file://"):
        raw = unquote(urlparse(raw).path)
    else:
        try:
            words = shlex.split(raw)
        except ValueError:
            return None
        if len(words) != 1:
            return None
        raw = words[0]
    path = Path(raw).expanduser()
    return path if path.is_absolute() else cwd / path


def image_from_paste(text: str, cwd: Path) -> tuple[str, ImagePart] | None:
    path = pasted_path(text, cwd)
    if path is None or path.suffix.lower() not in MEDIA:
        return None
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    return path.name, ImagePart(MEDIA[path.suffix.lower()], base64.b64encode(data).decode())
