"""`bridle mock`: run the scripted model server, or check a scenario file.

`serve` prints `PORT=<n>` as its first stdout line (flushed) and answers until
SIGINT or SIGTERM; each invariant violation (and any request the server fails
on) is one `bridle mock: ...` line on stderr, the full log goes to `--log`. `check` validates a scenario and lists its turns. The server
itself lives in `bridle.mock`; this module only parses flags and waits.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from bridle.core import startup


@click.group()
def mock() -> None:
    """The scripted mock model server (all four wire formats)."""


@mock.command()
@click.option(
    "--scenario",
    "scenario_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Scenario JSON to play.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port to listen on (0 picks a free one).",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Client working directory, when requests do not state it.",
)
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append one JSON line per request here.",
)
@click.option(
    "--record",
    "record_url",
    metavar="BASE_URL",
    help="Proxy to this endpoint and record a cassette.",
)
@click.option(
    "--cassette",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Cassette file written by --record.",
)
@click.option(
    "--replay",
    type=click.Path(exists=True, path_type=Path),
    help="Serve a cassette file or provider-traffic case directory.",
)
@click.option(
    "--stall-seconds",
    type=float,
    default=600.0,
    show_default=True,
    help="How long a `stall` fault stays silent.",
)
def serve(
    scenario_path: Path | None,
    port: int,
    host: str,
    workdir: Path | None,
    log_path: Path | None,
    record_url: str | None,
    cassette: Path | None,
    replay: Path | None,
    stall_seconds: float,
) -> None:
    """Serve a scenario (or a recording) on loopback until interrupted."""
    from bridle.mock import MockServer, load_scenario

    modes = sum(x is not None for x in (scenario_path, record_url, replay))
    if modes != 1:
        raise click.UsageError(
            "give exactly one of --scenario FILE, --record BASE_URL or --replay CASSETTE"
        )
    if record_url and cassette is None:
        raise click.UsageError("--record needs --cassette FILE to write the recording to")
    if cassette is not None and not record_url:
        raise click.UsageError(
            "--cassette goes with --record; to serve a cassette use --replay FILE"
        )
    scenario = load_scenario(scenario_path) if scenario_path else None
    server = MockServer(
        scenario,
        host=host,
        port=port,
        workdir=workdir,
        log_path=log_path,
        record_url=record_url,
        cassette=cassette,
        replay=replay,
        stall_seconds=stall_seconds,
        report=_report,
    )
    startup.done()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    server.start()
    try:
        sys.stdout.write(f"PORT={server.port}\n")
        sys.stdout.flush()
        while not stop.wait(1.0):
            pass
    finally:
        server.stop()


def _report(line: str) -> None:
    """A request the client got wrong (or the server failed on), on stderr."""
    sys.stderr.write(f"bridle mock: {line}\n")
    sys.stderr.flush()


@mock.command()
@click.argument("scenario_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the parsed turns as JSON.")
def check(scenario_path: Path, as_json: bool) -> None:
    """Validate a scenario file and list its turns."""
    from bridle.mock import load_scenario

    scenario = load_scenario(scenario_path)
    turns = [
        {"op": t.op, **t.args, **({"fault": t.fault.kind} if t.fault else {})}
        for t in scenario.turns
    ]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "name": scenario.name,
                    "prompt": scenario.prompt,
                    "final": scenario.final,
                    "turns": turns,
                }
            )
        )
        return
    click.echo(f"{scenario.name}: {len(turns)} turns, prompt {scenario.prompt!r}")
    for i, turn in enumerate(turns):
        click.echo(f"  {i}: " + " ".join(f"{k}={v!r}" for k, v in turn.items()))
