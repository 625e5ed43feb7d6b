"""Starting the daemon: data dir, token, bind checks, worker processes, uvicorn.

`DaemonConfig.check()` refuses a non-loopback address unless TLS is configured
(`--tls-cert`/`--tls-key`) or `--insecure-bind` is given, and `resolve_token`
takes the token from the flag, `BRIDLE_DAEMON_TOKEN`, or `<data dir>/token`
(generated on first start with mode 0600). `run_daemon` binds the socket first
(so port 0 works and `PORT=<n>` can be printed before anything else), starts
`workers` worker processes (`daemon.worker`) and restarts any that die, then
serves the API until SIGINT/SIGTERM, when workers get SIGTERM (each releases
its task's lease, so the next start resumes it from its last checkpoint).
With `database` (a PostgreSQL URL) the tasks live there, shared with other
daemons, and `run_workers` (`bridle worker`) runs worker processes alone on
another machine against the same database.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bridle.core import startup
from bridle.core.errors import UsageError


@dataclass
class DaemonConfig:
    """How `bridle daemon` or `bridle worker` was asked to run; `check` refuses unsafe or
    invalid settings."""

    host: str = "127.0.0.1"
    port: int = 9200
    data_dir: Path = Path(".")
    workers: int = 2
    lease: float = 30.0
    tls_cert: Path | None = None
    tls_key: Path | None = None
    insecure_bind: bool = False
    database: str | None = None

    def check(self) -> None:
        from bridle.daemon.backends import check_database

        check_database(self.database)
        if self.workers < 0:
            raise UsageError(f"--workers must be 0 or more, not {self.workers}")
        if self.lease <= 0:
            raise UsageError(f"--lease must be more than 0 seconds, not {self.lease}")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise UsageError("TLS needs both --tls-cert and --tls-key")
        if not is_loopback(self.host) and not self.tls_cert and not self.insecure_bind:
            raise UsageError(
                f"refusing to listen on {self.host}, which is reachable from other machines, "
                "without TLS: add --tls-cert FILE --tls-key FILE, put the daemon behind a TLS "
                "proxy and pass --insecure-bind, or keep the default --host 127.0.0.1"
            )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def default_data_dir(env: Mapping[str, str]) -> Path:
    from bridle.config.paths import bridle_home

    return bridle_home(env) / "daemon"


def resolve_token(flag: str | None, env: Mapping[str, str], data_dir: Path) -> tuple[str, str]:
    """(token, where it came from)."""
    if flag:
        return flag, "--auth-token"
    if env.get("BRIDLE_DAEMON_TOKEN"):
        return env["BRIDLE_DAEMON_TOKEN"], "BRIDLE_DAEMON_TOKEN"
    path = data_dir / "token"
    if path.exists():
        return path.read_text().strip(), str(path)
    data_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token, f"{path} (new)"


class Workers:
    """The worker processes; one that dies is started again."""

    def __init__(self, config: DaemonConfig, env: Mapping[str, str], say: Callable[[str], None]):
        self.config = config
        self.env = dict(env)
        self.say = say
        self.procs: list[subprocess.Popen[bytes]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True, name="workers")

    def _spawn(self) -> subprocess.Popen[bytes]:
        cmd = [
            sys.executable, "-m", "bridle.daemon.worker", "--data-dir", str(self.config.data_dir),
            "--lease", str(self.config.lease),
        ]  # fmt: skip
        env = dict(self.env)
        env.pop("BRIDLE_DAEMON_DATABASE", None)
        if self.config.database:
            env["BRIDLE_DAEMON_DATABASE"] = self.config.database
        return subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL)

    def start(self) -> None:
        self.procs = [self._spawn() for _ in range(self.config.workers)]
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            for i, proc in enumerate(self.procs):
                if proc.poll() is not None and not self._stop.is_set():
                    self.say(f"worker {proc.pid} exited ({proc.returncode}); starting another")
                    self.procs[i] = self._spawn()

    def stop(self) -> None:
        self._stop.set()
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def run_daemon(
    config: DaemonConfig, token: str, token_source: str, env: Mapping[str, str],
    say: Callable[[str], None],
) -> int:  # fmt: skip
    import uvicorn

    from bridle.daemon.app import build_app
    from bridle.daemon.backends import describe, open_backend
    from bridle.daemon.webhooks import load_secret

    config.check()
    github_secret, daemon_settings = load_secret(env)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    backend = open_backend(config.database, config.data_dir)
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((config.host, config.port))
    except OSError as e:
        raise UsageError(
            f"cannot listen on {config.host}:{config.port} ({e.strerror}); choose another --port"
        ) from e
    port = sock.getsockname()[1]
    print(f"PORT={port}", flush=True)
    scheme = "https" if config.tls_cert else "http"
    say(f"bridle daemon on {scheme}://{config.host}:{port} with {config.workers} worker(s)")
    say(f"tasks in {describe(config.database, config.data_dir)}; data in {config.data_dir}; "
        f"bearer token from {token_source}")  # fmt: skip
    if github_secret:
        say("GitHub webhooks on /webhooks/github (secret from settings)")
    workers = Workers(config, env, say)
    workers.start()
    startup.done()
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(backend, token, github_secret, daemon_settings), log_level="warning",
            access_log=False,
            ssl_certfile=str(config.tls_cert) if config.tls_cert else None,
            ssl_keyfile=str(config.tls_key) if config.tls_key else None,
        )
    )  # fmt: skip
    # uvicorn re-raises the signal that stopped it once it has shut down; with the
    # default SIGTERM action that would kill this process before the workers are
    # told to release their tasks.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        server.run(sockets=[sock])
    finally:
        workers.stop()
        backend.close()
    return 0


def run_workers(config: DaemonConfig, env: Mapping[str, str], say: Callable[[str], None]) -> int:
    """`bridle worker`: worker processes against a shared PostgreSQL database, until
    SIGINT/SIGTERM (each worker then releases its task for another to resume)."""
    from bridle.daemon.backends import describe, open_backend

    config.check()
    if not config.database:
        raise UsageError(
            "bridle worker needs --database postgresql://… (the database the daemons use); "
            "with the embedded SQLite store, workers run inside `bridle daemon --workers N`"
        )
    if config.workers < 1:
        raise UsageError(f"--workers must be 1 or more, not {config.workers}")
    config.data_dir.mkdir(parents=True, exist_ok=True)
    open_backend(config.database, config.data_dir).close()  # reachable, schema in place
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: stop.set())
    workers = Workers(config, env, say)
    workers.start()
    say(f"{config.workers} worker(s) on tasks in {describe(config.database, config.data_dir)}; "
        f"clones and worktrees in {config.data_dir}")  # fmt: skip
    try:
        while not stop.wait(0.5):
            pass
    finally:
        workers.stop()
    return 0
