"""Start-up benchmark: `bridle --version` and `bridle --help` wall time.

Each command runs N times (after one warm-up) in fresh processes; the median is
reported next to the same-run baseline of a bare `python -c pass`, as a ratio.
It also checks, in a child process, that building the CLI and rendering --help
imports none of httpx, textual, fastapi, pydantic or rich.
Run: .cache/venv/bin/python bench/startup.py [--runs 30]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HEAVY = ("httpx", "textual", "fastapi", "pydantic", "rich", "uvicorn")


def median_ms(cmd: list[str], runs: int) -> float:
    subprocess.run(cmd, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def heavy_imports() -> list[str]:
    code = (
        "import sys, io, contextlib\n"
        "from bridle.cli.main import main\n"
        "for argv in (['--version'], ['--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try: main(argv)\n"
        "        except SystemExit: pass\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().replace("'", '"'))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    bridle = str(Path(sys.executable).parent / "bridle")
    base = median_ms([sys.executable, "-c", "pass"], args.runs)
    version = median_ms([bridle, "--version"], args.runs)
    help_ = median_ms([bridle, "--help"], args.runs)
    heavy = heavy_imports()
    print(f"{'command':<22}{'median ms':>10}{'× python -c pass':>18}")
    print(f"{'python -c pass':<22}{base:>10.1f}{1.0:>18.2f}")
    print(f"{'bridle --version':<22}{version:>10.1f}{version / base:>18.2f}")
    print(f"{'bridle --help':<22}{help_:>10.1f}{help_ / base:>18.2f}")
    print(f"heavy modules imported by --version/--help: {heavy or 'none'}")
    if heavy:
        sys.exit(1)


if __name__ == "__main__":
    main()
