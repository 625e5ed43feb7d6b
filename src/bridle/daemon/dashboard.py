"""The daemon's web dashboard: one HTML page, a stylesheet and a vanilla JS file.

`mount(app)` serves the page at `/` and its assets under `/dashboard/`, all
without a token (they hold no data) and left out of the OpenAPI document. The
page asks for the bearer token once and keeps it in the tab's `sessionStorage`
(gone when the tab closes); every API call sends it as `Authorization: Bearer`.
The live log reads `GET /tasks/{id}/sse` with `fetch` streaming rather than
`EventSource`, which cannot send headers: so the token never appears in a URL,
where it would end up in access logs, browser history and `Referer` headers.
When the stream drops before `task_finished`, the page reconnects with
`Last-Event-ID` and sees every event once. The files are read from the package
(`daemon/static/`) with no build step and nothing fetched from elsewhere; a
strict Content-Security-Policy allows only these same-origin files and API
calls, and the script writes event text as text, never as HTML.
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, FastAPI
from fastapi.responses import Response

from bridle.daemon.backend import BackendError

ASSETS = {"app.js": "text/javascript", "style.css": "text/css", "favicon.svg": "image/svg+xml"}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class NoSuchAsset(BackendError):
    status = 404
    type = "not_found"


def _read(name: str) -> bytes:
    return (resources.files("bridle.daemon") / "static" / name).read_bytes()


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/")
    def index() -> Response:
        return Response(
            _read("index.html"), media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS
        )

    @r.get("/dashboard/{name}")
    def asset(name: str) -> Response:
        if name not in ASSETS:  # a fixed list: no path from the request reaches the disk
            raise NoSuchAsset(f"no dashboard file {name!r}; the page is at /")
        return Response(
            _read(name), media_type=f"{ASSETS[name]}; charset=utf-8", headers=SECURITY_HEADERS
        )

    return r


def mount(app: FastAPI) -> None:
    app.include_router(router())
