"""A small HTTP client for the daemon's API (httpx), used by `bridle tasks`.

The daemon is found at `BRIDLE_DAEMON_URL` (default http://127.0.0.1:9200) and
the token is `BRIDLE_DAEMON_TOKEN`, else the `token` file of the data dir
(`$BRIDLE_HOME/daemon` unless given). An error answer becomes a `UserError`
with the daemon's own message; a daemon that is not running gets one naming the
URL and `bridle daemon`. `follow` reads a task's event stream and reconnects
with `Last-Event-ID` when the connection drops, so no event is shown twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from bridle.core.errors import UserError

DEFAULT_URL = "http://127.0.0.1:9200"


def find_token(env: Mapping[str, str], data_dir: Path | None) -> str | None:
    if env.get("BRIDLE_DAEMON_TOKEN"):
        return env["BRIDLE_DAEMON_TOKEN"]
    if data_dir is None:
        from bridle.daemon.server import default_data_dir

        data_dir = default_data_dir(env)
    path = data_dir / "token"
    return path.read_text().strip() if path.exists() else None


class DaemonClient:
    def __init__(self, url: str, token: str | None, timeout: float = 30.0):
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def request(self, method: str, path: str, **kw: Any) -> Any:
        try:
            r = self.http.request(method, path, **kw)
        except httpx.TransportError as e:
            raise UserError(
                f"cannot reach the daemon at {self.url} ({e}); start it with `bridle daemon` "
                "or set BRIDLE_DAEMON_URL"
            ) from e
        if r.status_code >= 400:
            try:
                err = r.json()["error"]
                msg = f"{err['message']} ({err['type']}, HTTP {r.status_code})"
            except (ValueError, KeyError, TypeError):
                msg = f"HTTP {r.status_code}: {r.text[:200]}"
            if r.status_code == 401:
                msg += "; set BRIDLE_DAEMON_TOKEN or pass --data-dir of the daemon"
            raise UserError(msg)
        return r.json()

    def follow(self, task_id: str, after: int = 0, retries: int = 30) -> Iterator[dict[str, Any]]:
        """The task's events from `after` on, until `task_finished`."""
        from httpx_sse import connect_sse

        failures = 0
        while True:
            headers = {"Last-Event-ID": str(after)} if after else {}
            try:
                with connect_sse(
                    self.http, "GET", f"/tasks/{task_id}/sse", headers=headers,
                    timeout=httpx.Timeout(30.0, read=None),
                ) as source:  # fmt: skip
                    if source.response.status_code >= 400:
                        source.response.read()
                        self.request("GET", f"/tasks/{task_id}")  # raises the daemon's error
                        raise UserError(f"HTTP {source.response.status_code} from the daemon")
                    for sse in source.iter_sse():
                        if not sse.id:
                            continue
                        after = int(sse.id)
                        failures = 0
                        data = json.loads(sse.data)
                        yield data
                        if data.get("kind") == "task_finished":
                            return
                return
            except (httpx.TransportError, httpx.RemoteProtocolError) as e:
                failures += 1
                if failures > retries:
                    raise UserError(f"lost the daemon at {self.url}: {e}") from e
                time.sleep(min(2.0, 0.2 * failures))

    def close(self) -> None:
        self.http.close()
