"""The host side of sandboxed networking: an HTTP(S) proxy that lets through
only the allowed domains.

`DomainProxy` listens on a unix socket (bound into the Linux sandbox, whose own
network namespace is empty; on macOS the Seatbelt profile lets the command reach
only this proxy) and serves two request forms: `CONNECT host:port` (HTTPS and
anything tunnelled) and absolute-URI plain HTTP (`GET http://host/...`). A host
passes when it matches `allowedDomains` (exact, or `*.example.com` for its
subdomains, or `*` for all) and no `deniedDomains` entry; otherwise the client
gets `403` and the host is recorded so the Bash tool can tell the model what was
blocked. It does not look inside TLS and keeps no connection pool: each request
is one upstream connection, relayed byte for byte until either side closes.
"""

from __future__ import annotations

import contextlib
import os
import socket
import socketserver
import threading
from collections.abc import Sequence
from urllib.parse import urlsplit

MAX_HEAD = 65536


def host_matches(host: str, patterns: Sequence[str]) -> bool:
    host = host.lower().rstrip(".")
    for p in patterns:
        p = p.lower().strip().rstrip(".")
        if p == "*" or host == p:
            return True
        if p.startswith("*.") and host.endswith(p[1:]):
            return True
    return False


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    proxy: DomainProxy


class _TcpServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    proxy: DomainProxy


class _Handler(socketserver.BaseRequestHandler):
    server: _Server | _TcpServer

    def handle(self) -> None:
        conn: socket.socket = self.request
        head = b""
        while b"\r\n\r\n" not in head and len(head) < MAX_HEAD:
            chunk = conn.recv(4096)
            if not chunk:
                return
            head += chunk
        line, _, _ = head.partition(b"\r\n")
        try:
            method, target, _version = line.decode("latin-1").split(" ", 2)
        except ValueError:
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
            return
        if method.upper() == "CONNECT":
            host, _, port_text = target.rpartition(":")
            port = int(port_text) if port_text.isdigit() else 443
            rest = head.partition(b"\r\n\r\n")[2]
        else:
            url = urlsplit(target)
            host, port = url.hostname or "", url.port or 80
            path = (url.path or "/") + (f"?{url.query}" if url.query else "")
            rest = head.replace(target.encode("latin-1"), path.encode("latin-1"), 1)
        host = host.strip("[]")
        proxy = self.server.proxy
        if not proxy.allows(host):
            proxy.record(host)
            body = f"bridle sandbox: {host} is not in sandbox.network.allowedDomains\n".encode()
            conn.sendall(
                b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n"
                + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            return
        try:
            upstream = socket.create_connection((host, port), timeout=30)
        except OSError as e:
            conn.sendall(f"HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n{e}\n".encode())
            return
        upstream.settimeout(None)
        if method.upper() == "CONNECT":
            conn.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        if rest:
            upstream.sendall(rest)
        t = threading.Thread(target=_pump, args=(upstream, conn), daemon=True)
        t.start()
        _pump(conn, upstream)
        t.join()


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


class DomainProxy:
    def __init__(
        self,
        socket_path: str,
        allowed: Sequence[str],
        denied: Sequence[str] = (),
        *,
        tcp: bool = False,
    ):
        self.socket_path = socket_path
        self.tcp = tcp  # macOS: a loopback TCP port instead of the unix socket
        self.port: int | None = None
        self.allowed = list(allowed)
        self.denied = list(denied)
        self._blocked: list[str] = []
        self._lock = threading.Lock()
        self._server: _Server | _TcpServer | None = None

    def allows(self, host: str) -> bool:
        return host_matches(host, self.allowed) and not host_matches(host, self.denied)

    def record(self, host: str) -> None:
        with self._lock:
            self._blocked.append(host)

    def mark(self) -> int:
        with self._lock:
            return len(self._blocked)

    def blocked_since(self, mark: int) -> list[str]:
        with self._lock:
            return self._blocked[mark:]

    def client_env(self) -> dict[str, str]:
        """What a sandboxed command needs to use the proxy (Linux: through the bridge)."""
        from bridle.policy.sandbox_linux import PROXY_PORT

        url = f"http://127.0.0.1:{self.port if self.tcp else PROXY_PORT}"
        names = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
        env = {n: url for n in names} | {n.lower(): url for n in names}
        env["NO_PROXY"] = env["no_proxy"] = ""
        return env

    def start(self) -> DomainProxy:
        server: _Server | _TcpServer
        if self.tcp:
            server = _TcpServer(("127.0.0.1", 0), _Handler)
            self.port = server.server_address[1]
        else:
            os.makedirs(os.path.dirname(self.socket_path), exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.socket_path)
            server = _Server(self.socket_path, _Handler)
            os.chmod(self.socket_path, 0o600)
        server.proxy = self
        threading.Thread(target=server.serve_forever, daemon=True, name="sandbox-proxy").start()
        self._server = server
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket_path)
