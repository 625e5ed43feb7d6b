"""Stands in for a running Claude Code: rewrites `~/.claude.json` N times the way
Claude Code does (take `<file>.lock` with an atomic mkdir, re-read, change its own
keys, write a temp file and rename it over), adding `tick<i>` each time, until
STOPFILE exists (and at least MIN times); prints how many rewrites it made. Usage:
`python claude_json_rewriter.py FILE STOPFILE MIN`."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main(path: Path, stop: Path, minimum: int) -> None:
    lock = Path(f"{path}.lock")
    i = 0
    while i < minimum or not stop.exists():
        while True:
            try:
                os.mkdir(lock)
                break
            except FileExistsError:
                time.sleep(0.001)
        try:
            data = json.loads(path.read_text())
            data[f"tick{i}"] = i
            data["numStartups"] = data.get("numStartups", 0) + 1
            tmp = path.with_name(f".claude.json.tmp.{os.getpid()}")
            tmp.write_text(json.dumps(data, indent=2))
            os.replace(tmp, path)
        finally:
            os.rmdir(lock)
        i += 1
    print(i)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
