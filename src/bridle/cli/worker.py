"""`bridle worker`: run daemon workers on this machine against a shared PostgreSQL database.

Thin: parses flags into a `daemon.server.DaemonConfig` and hands over to
`daemon.server.run_workers`. Workers claim tasks that any daemon queued in the
database, clone repositories into the local data dir, and stop (releasing their
tasks for others to resume) on SIGINT/SIGTERM.
"""

from __future__ import annotations

import os
from pathlib import Path

import click


@click.command()
@click.option(
    "--database", required=True, metavar="URL",
    help="The daemons' PostgreSQL database (postgresql://USER:PASSWORD@HOST:PORT/DBNAME).",
)  # fmt: skip
@click.option(
    "--data-dir", type=click.Path(path_type=Path), help="Clones and worktrees on this machine "
    "(default $BRIDLE_HOME/daemon).",
)  # fmt: skip
@click.option("--workers", default=2, show_default=True, type=int, help="Worker processes.")
@click.option(
    "--lease", default=30.0, show_default=True, type=float,
    help="Seconds without a heartbeat before another worker resumes a task.",
)  # fmt: skip
def worker(database: str, data_dir: Path | None, workers: int, lease: float) -> int:
    """Run tasks queued by `bridle daemon --database URL` on this machine."""
    from bridle.daemon.server import DaemonConfig, default_data_dir, run_workers

    env = dict(os.environ)
    config = DaemonConfig(
        data_dir=(data_dir or default_data_dir(env)).absolute(), workers=workers, lease=lease,
        database=database,
    )  # fmt: skip
    return run_workers(config, env, lambda m: click.echo(f"bridle: {m}", err=True))
