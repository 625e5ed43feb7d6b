"""WebFetch: GET a web page and return it as readable text.

Only http and https are fetched. Unless `ctx.allow_private_network`, the host is
resolved first and the fetch is refused if any address is loopback, private,
link-local, shared (CGNAT), multicast, reserved or unspecified; every redirect
hop is checked the same way (redirects are followed by hand, at most 5). The
body is read up to 2 MB; HTML becomes text (`_html`), other text types pass
through, binary types are refused. Long pages are capped with the full text
saved; when a `prompt` is given, the visible part favours the paragraphs that
mention its words. httpx is imported lazily. There is no model call here: the
calling model reads the text itself.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Any
from urllib.parse import urljoin, urlsplit

from bridle.core.errors import ToolError
from bridle.tools.base import Tool, ToolContext, ToolOutput
from bridle.tools.output import MAX_CHARS, cap_text, save_full

MAX_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 5
TIMEOUT_SECONDS = 30.0
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
SHARED_NET = ipaddress.ip_network("100.64.0.0/10")


def blocked_address(ip: str) -> bool:
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return (
        addr.is_loopback
        or addr.is_private
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
        or (isinstance(addr, ipaddress.IPv4Address) and addr in SHARED_NET)
    )


def check_url(url: str, allow_private: bool) -> None:
    """Raise a ToolError unless `url` is http(s) and (if required) public."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ToolError(f"only http and https URLs can be fetched, not {url!r}.")
    host = parts.hostname
    if not host:
        raise ToolError(f"{url!r} has no host.")
    if allow_private:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise ToolError(f"cannot resolve {host}: {e}") from e
    for info in infos:
        ip = str(info[4][0])
        if blocked_address(ip):
            raise ToolError(
                f"refusing to fetch {url}: {host} resolves to {ip}, a loopback or private "
                "address. Local services are off-limits to WebFetch unless the user allows "
                "private network access in settings."
            )


class WebFetch(Tool):
    name = "WebFetch"
    description = (
        "Fetch a public http(s) URL and return its text (HTML converted). Give prompt "
        "to say what you are looking for in a long page."
    )
    input_schema = {
        "type": "object",
        "properties": {
            "url": {"type": "string"},
            "prompt": {"type": "string"},
        },
        "required": ["url"],
        "additionalProperties": False,
    }
    read_only = True
    concurrency_safe = True

    def __init__(self, transport: Any = None) -> None:
        self.transport = transport  # an httpx transport, for tests and proxies

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        import httpx

        url = args["url"].strip()
        try:
            with httpx.Client(timeout=TIMEOUT_SECONDS, transport=self.transport) as client:
                for _ in range(MAX_REDIRECTS + 1):
                    check_url(url, ctx.allow_private_network)
                    with client.stream("GET", url, headers={"User-Agent": "bridle"}) as resp:
                        if resp.is_redirect and "location" in resp.headers:
                            url = urljoin(url, resp.headers["location"])
                            continue
                        body, truncated = _read_capped(resp)
                        return self._result(url, resp, body, truncated, args, ctx)
        except httpx.HTTPError as e:
            raise ToolError(f"fetching {url} failed: {e}") from e
        raise ToolError(f"too many redirects (more than {MAX_REDIRECTS}) from {args['url']}.")

    def _result(
        self,
        url: str,
        resp: Any,
        body: bytes,
        truncated: bool,
        args: dict[str, Any],
        ctx: ToolContext,
    ) -> ToolOutput:
        ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
        text = body.decode(resp.encoding or "utf-8", "replace")
        title = ""
        if ctype in ("text/html", "application/xhtml+xml") or (
            not ctype and text.lstrip()[:15].lower().startswith(("<!doctype html", "<html"))
        ):
            from bridle.tools._html import html_to_text  # html.parser only when needed

            title, text = html_to_text(text, url)
        elif ctype and not ctype.startswith(TEXT_TYPES) and not ctype.endswith(("+json", "+xml")):
            raise ToolError(f"{url} returned {ctype}, which is not text.")
        if resp.status_code >= 400:
            raise ToolError(f"HTTP {resp.status_code} from {url}: {text[:500]}")
        head = f"URL: {url}\n" + (f"Title: {title}\n" if title else "")
        if truncated:
            head += f"[body cut at {MAX_BYTES} bytes]\n"
        prompt = (args.get("prompt") or "").strip()
        if prompt and len(text) > MAX_CHARS:
            return ToolOutput.text(head + "\n" + _focus(text, prompt, ctx))
        return ToolOutput.text(cap_text(head + "\n" + text, ctx, label="webfetch"))


def _read_capped(resp: Any) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BYTES:
            return b"".join(chunks)[:MAX_BYTES], True
    return b"".join(chunks), False


def _focus(text: str, prompt: str, ctx: ToolContext) -> str:
    """The paragraphs that mention the prompt's words, in page order, within the cap."""
    path = save_full(text, ctx, "webfetch")
    words = {w for w in re.findall(r"\w{4,}", prompt.lower())}
    paras = [p for p in text.split("\n\n") if p.strip()]
    ranked = sorted(
        range(len(paras)),
        key=lambda i: -sum(paras[i].lower().count(w) for w in words),
    )
    budget = MAX_CHARS * 4 // 5
    keep: set[int] = set()
    for i in ranked:
        if len(paras[i]) <= budget:
            keep.add(i)
            budget -= len(paras[i]) + 2
    shown = "\n\n".join(paras[i] for i in sorted(keep))
    return (
        f"[long page: showing the {len(keep)} of {len(paras)} paragraphs most relevant to the "
        f"prompt, in page order; full text ({len(text)} characters) saved to {path}]\n\n{shown}"
    )
