"""Cassettes: recorded request/response pairs the mock can save and serve again.

A cassette is a JSON file `{"version": 1, "interactions": [...]}` written by record
mode (the mock proxying a real endpoint), or a directory in the provider-traffic
layout (`response.body` + `meta.json` per case, possibly many cases below it).
Replay serves bodies byte for byte with the recorded status, content type and
headers. Request headers are never written, so no credential reaches a cassette.
This module does file I/O only; the proxying and serving happen in `mock.server`.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridle.core.errors import ConfigError


@dataclass(slots=True)
class Interaction:
    """One recorded exchange: the request that was sent and the response to serve again."""

    method: str
    path: str
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str]
    streaming: bool = False
    request_body: bytes | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "request": {
                "method": self.method,
                "path": self.path,
                **_encode_body(self.request_body or b""),
            },
            "response": {
                "status": self.status,
                "content_type": self.content_type,
                "headers": self.headers,
                "streaming": self.streaming,
                **_encode_body(self.body),
            },
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Interaction:
        req, resp = raw.get("request") or {}, raw["response"]
        return cls(
            method=req.get("method", "POST"),
            path=req.get("path", ""),
            status=int(resp.get("status", 200)),
            content_type=resp.get("content_type", "application/json"),
            body=_decode_body(resp),
            headers=dict(resp.get("headers") or {}),
            streaming=bool(resp.get("streaming")),
            request_body=_decode_body(req) if req else None,
        )


def _encode_body(body: bytes) -> dict[str, str]:
    try:
        return {"body": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"body_base64": base64.b64encode(body).decode()}


def _decode_body(raw: dict[str, Any]) -> bytes:
    if "body_base64" in raw:
        return base64.b64decode(raw["body_base64"])
    return str(raw.get("body", "")).encode("utf-8")


def load_case(case_dir: Path) -> Interaction:
    """One provider-traffic case: `response.body` served as recorded per `meta.json`."""
    meta = json.loads((case_dir / "meta.json").read_text(encoding="utf-8"))
    headers = dict(meta.get("response_headers") or {})
    if meta.get("retry_after") is not None:
        headers.setdefault("retry-after", str(meta["retry_after"]))
    request = case_dir / "request.json"
    return Interaction(
        method="POST",
        path=meta.get("request_path") or meta.get("canonical_request_path") or "",
        status=int(meta.get("status", 200)),
        content_type=meta.get("content_type") or "application/json",
        body=(case_dir / "response.body").read_bytes(),
        headers=headers,
        streaming=bool(meta.get("streaming")),
        request_body=request.read_bytes() if request.exists() else None,
    )


class Cassette:
    """Interactions served in order, plus named cases addressed by `/replay/<name>/`."""

    def __init__(
        self,
        interactions: list[Interaction] | None = None,
        cases: dict[str, Interaction] | None = None,
    ):
        self.interactions = interactions or []
        self.cases = cases or {}
        self._served: set[int] = set()
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | Path) -> Cassette:
        """A cassette JSON file, one case directory, or a directory tree of cases."""
        p = Path(path)
        if p.is_file():
            try:
                raw = json.loads(p.read_text(encoding="utf-8"))
                return cls([Interaction.from_json(i) for i in raw["interactions"]])
            except (ValueError, KeyError, TypeError) as e:
                raise ConfigError(
                    f"not a cassette file ({e}); record one with `bridle mock serve --record`",
                    path=str(p),
                ) from e
        if (p / "response.body").is_file():
            case = load_case(p)
            return cls([case], {p.name: case})
        cases: dict[str, Interaction] = {}
        for body in sorted(p.rglob("response.body")):
            case = load_case(body.parent)
            rel = body.parent.relative_to(p).as_posix()
            cases[rel] = case
            cases.setdefault(body.parent.name, case)
        if not cases:
            raise ConfigError(
                "no cassette here: expected a JSON cassette or dirs with response.body + meta.json",
                path=str(p),
            )
        return cls([], cases)

    def case_for(self, path: str) -> tuple[Interaction, str] | None:
        """For `/replay/<name>/rest`, the named case and the rest of the path."""
        if not path.startswith("/replay/"):
            return None
        segments = path[len("/replay/") :].split("/")
        for n in (2, 1):
            name = "/".join(segments[:n])
            if name in self.cases:
                return self.cases[name], "/" + "/".join(segments[n:])
        return None

    def next_for(self, method: str, path: str) -> Interaction | None:
        """The next unserved interaction, preferring one recorded on the same path."""
        with self._lock:
            order = [i for i in range(len(self.interactions)) if i not in self._served]
            match = [i for i in order if self.interactions[i].path.split("?")[0] == path]
            if not (match or order):
                return self.interactions[0] if len(self.interactions) == 1 else None
            pick = (match or order)[0]
            self._served.add(pick)
            return self.interactions[pick]


class CassetteWriter:
    """Appends interactions to a cassette file, rewriting it atomically each time."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.interactions: list[Interaction] = []
        self._lock = threading.Lock()

    def add(self, interaction: Interaction) -> None:
        with self._lock:
            self.interactions.append(interaction)
            data = {"version": 1, "interactions": [i.to_json() for i in self.interactions]}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(data, f, ensure_ascii=False, indent=1)
                    f.flush()
                    os.fsync(f.fileno())
                if self.path.exists():
                    os.chmod(tmp, self.path.stat().st_mode & 0o777)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
