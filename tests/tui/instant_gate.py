"""`python tests/tui/instant_gate.py ARGS`: `bridle ARGS`, with Textual's import held
until the file `$GATE_FILE` exists (a test then sees the instant screen for as
long as it needs); when that file says `fail`, importing Textual fails instead,
as a launch that breaks before the app takes the terminal. `GATE_FILE` is not a
`BRIDLE_` variable, so the launch's instant-screen key is `bridle ARGS`'s."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


class Gate:
    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name != "textual":
            return None
        gate = Path(os.environ["GATE_FILE"])
        while not gate.exists():
            time.sleep(0.01)
        if gate.read_text().strip() == "fail":
            raise ImportError("textual is broken (tests/tui/instant_gate.py)")
        return None


sys.meta_path.insert(0, Gate())
from bridle.cli.main import main  # noqa: E402

main()
