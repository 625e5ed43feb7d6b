"""WebFetch against a real loopback HTTP server: HTML to text, redirects, size
cap, and refusal of loopback/private addresses unless allowed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bridle.core.errors import ToolError
from bridle.tools.base import ToolContext
from bridle.tools.web_fetch import WebFetch, blocked_address

PAGE = b"""<!doctype html><html><head><title>Demo  page</title>
<style>body { color: red }</style><script>var secret = 1;</script></head>
<body><h1>Welcome</h1><p>First   paragraph with a <a href="/docs">link</a>.</p>
<ul><li>one</li><li>two</li></ul><pre>  indented
    code</pre></body></html>"""

ROUTES: dict[str, tuple[int, str, bytes]] = {
    "/page": (200, "text/html; charset=utf-8", PAGE),
    "/data": (200, "application/json", b'{"ok": true}'),
    "/bin": (200, "application/octet-stream", b"\x00\x01"),
    "/missing": (404, "text/plain", b"no such page"),
    "/big": (
        200,
        "text/plain",
        b"\n\n".join(b"paragraph %d filler text" % i for i in range(3000))
        + b"\n\nthe needle is here",
    ),
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/page")
            self.end_headers()
            return
        status, ctype, body = ROUTES.get(self.path, (404, "text/plain", b"?"))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def open_ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(cwd=tmp_path, output_dir=tmp_path / "out", allow_private_network=True)


def fetch(ctx: ToolContext, url: str, **kw: str) -> str:
    return WebFetch().run({"url": url, **kw}, ctx).content[0].text


def test_html_becomes_text(server: str, open_ctx: ToolContext) -> None:
    assert fetch(open_ctx, server + "/redirect") == (
        f"URL: {server}/page\nTitle: Demo page\n\n"
        f"# Welcome\n\nFirst paragraph with a link ({server}/docs).\n\n- one\n- two\n\n"
        "  indented\n    code"
    )
    assert fetch(open_ctx, server + "/data") == f'URL: {server}/data\n\n{{"ok": true}}'


def test_errors_and_binary_types_are_reported(server: str, open_ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match=r"HTTP 404 from .*/missing: no such page"):
        fetch(open_ctx, server + "/missing")
    with pytest.raises(ToolError, match=r"returned application/octet-stream, which is not text"):
        fetch(open_ctx, server + "/bin")
    with pytest.raises(ToolError, match=r"only http and https"):
        fetch(open_ctx, "file:///etc/passwd")


def test_long_pages_are_capped_and_saved_with_prompt_focus(
    server: str, open_ctx: ToolContext
) -> None:
    plain = fetch(open_ctx, server + "/big")
    assert "saved to" in plain and plain.endswith("the needle is here")
    focused = fetch(open_ctx, server + "/big", prompt="where is the needle?")
    assert focused.startswith(f"URL: {server}/big\n\n[long page: showing ")
    assert "the needle is here" in focused and "paragraph 0 filler" in focused
    saved = Path(focused.split("saved to ", 1)[1].split("]", 1)[0])
    assert saved.read_text().endswith("the needle is here")


def test_private_addresses_are_refused_unless_allowed(server: str, tmp_path: Path) -> None:
    ctx = ToolContext(cwd=tmp_path)
    port = server.rsplit(":", 1)[1]
    for url in (
        server + "/page",
        f"http://localhost:{port}/page",
        "http://10.1.2.3/",
        "http://[::1]:1/",
        "http://169.254.169.254/latest",
    ):
        with pytest.raises(ToolError, match=r"refusing to fetch .*loopback or private address"):
            fetch(ctx, url)


@pytest.mark.parametrize(
    ("ip", "blocked"),
    [
        ("127.0.0.1", True), ("10.0.0.8", True), ("172.16.5.4", True), ("192.168.1.1", True),
        ("169.254.169.254", True), ("100.64.0.1", True), ("0.0.0.0", True), ("224.0.0.1", True),
        ("::1", True), ("fe80::1%eth0", True), ("fd00::1", True), ("::ffff:127.0.0.1", True),
        ("93.184.216.34", False), ("2606:2800:220:1:248:1893:25c8:1946", False), ("8.8.8.8", False),
    ],
)  # fmt: skip
def test_blocked_address_table(ip: str, blocked: bool) -> None:
    assert blocked_address(ip) is blocked
