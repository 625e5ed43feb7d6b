"""`bridle exec` and `bridle shell` finish like a launch: a shared file that a CLI
inside rewrote by renaming over its link goes back to the shared store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def bridle(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridle", *args], capture_output=True, text=True, timeout=60
    )


def test_exec_carries_a_replaced_shared_file_back(tmp_path: Path) -> None:
    home = Path(os.environ["HOME"])
    primary = home / ".copilot"
    primary.mkdir()
    (primary / "mcp-config.json").write_text(json.dumps({"mcpServers": {"old": {}}}))
    assert bridle("accounts", "add", "work", "--provider", "copilot").returncode == 0
    # Like Copilot: write a temp file, then rename it over the (linked) config.
    script = (
        'printf \'{"mcpServers": {"new": {}}}\' > "$COPILOT_HOME/mcp-config.json.tmp" && '
        'mv "$COPILOT_HOME/mcp-config.json.tmp" "$COPILOT_HOME/mcp-config.json"'
    )
    proc = bridle("exec", "work", "--", "sh", "-c", script)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((primary / "mcp-config.json").read_text()) == {"mcpServers": {"new": {}}}
