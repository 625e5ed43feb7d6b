"""`bridle daemon`: serve coding tasks over HTTP (see `bridle.daemon`).

Thin: parses flags into a `DaemonConfig`, resolves the token, and hands over to
`daemon.server.run_daemon`. FastAPI and uvicorn are imported only here, when the
command runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=9200, show_default=True, type=int, help="0: any free port.")
@click.option(
    "--data-dir", type=click.Path(path_type=Path), help="Tasks, clones, worktrees and the "
    "token (default $BRIDLE_HOME/daemon).",
)  # fmt: skip
@click.option("--workers", default=2, show_default=True, type=int, help="Worker processes.")
@click.option("--auth-token", help="Bearer token (default BRIDLE_DAEMON_TOKEN, else generated).")
@click.option(
    "--lease", default=30.0, show_default=True, type=float,
    help="Seconds without a heartbeat before another worker resumes a task.",
)  # fmt: skip
@click.option("--tls-cert", type=click.Path(path_type=Path, exists=True), help="TLS certificate.")
@click.option("--tls-key", type=click.Path(path_type=Path, exists=True), help="TLS private key.")
@click.option(
    "--insecure-bind", is_flag=True,
    help="Allow a non-loopback --host without TLS (e.g. behind a TLS proxy).",
)  # fmt: skip
@click.option(
    "--database", metavar="URL", help="postgresql://… to share tasks with other daemons and "
    "`bridle worker` machines (default: SQLite in the data dir).",
)  # fmt: skip
def daemon(
    host: str, port: int, data_dir: Path | None, workers: int, auth_token: str | None,
    lease: float, tls_cert: Path | None, tls_key: Path | None, insecure_bind: bool,
    database: str | None,
) -> int:  # fmt: skip
    """Run coding tasks from an HTTP queue (bearer token required)."""
    from bridle.daemon.server import DaemonConfig, default_data_dir, resolve_token, run_daemon

    env = dict(os.environ)
    config = DaemonConfig(
        host=host, port=port, data_dir=(data_dir or default_data_dir(env)).absolute(),
        workers=workers, lease=lease, tls_cert=tls_cert, tls_key=tls_key,
        insecure_bind=insecure_bind, database=database,
    )  # fmt: skip
    config.check()
    token, source = resolve_token(auth_token, env, config.data_dir)
    return run_daemon(config, token, source, env, lambda m: click.echo(f"bridle: {m}", err=True))
