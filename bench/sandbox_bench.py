"""What the OS sandbox costs per shell command.

Runs the Bash tool `--runs` times per command in a temp project, in three
setups: no sandbox, the sandbox with no network (bubblewrap, the default), and
the sandbox with allowed domains (adds the in-sandbox bridge to the host proxy).
Commands: `true` (pure start-up cost) and `python3 -c pass` plus a small
`git status` (what agents run most). Prints a markdown table of the median and
90th-percentile wall time per command and the median overhead against no
sandbox, plus the sandbox's one-off start-up (probe, temp dir, cgroup). Needs
bubblewrap; run with PYTHONDONTWRITEBYTECODE unset for stable numbers.

    python bench/sandbox_bench.py [--runs 40]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from bridle.policy.sandbox import open_sandbox  # noqa: E402
from bridle.tools.base import ToolContext  # noqa: E402
from bridle.tools.bash import Bash  # noqa: E402

COMMANDS = ["true", "python3 -c pass", "git status --short"]


def getter(data: dict[str, Any]) -> Any:
    def get(dotted: str, default: Any = None) -> Any:
        node: Any = data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    return get


def timings(ctx: ToolContext, command: str, runs: int) -> list[float]:
    tool = Bash()
    tool.run({"command": command}, ctx)  # warm the page cache
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        tool.run({"command": command}, ctx)
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=40)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proj = Path(tmp) / "proj"
        proj.mkdir()
        subprocess.run(["git", "init", "-q", str(proj)], check=True)
        (proj / "a.py").write_text("print(1)\n")
        setups: dict[str, dict[str, Any]] = {
            "no sandbox": {},
            "sandbox, no network": {"sandbox": {"enabled": True}},
            "sandbox, allowed domains": {
                "sandbox": {"enabled": True, "network": {"allowedDomains": ["pypi.org"]}}
            },
        }
        results: dict[str, dict[str, list[float]]] = {}
        startup: dict[str, float] = {}
        for name, conf in setups.items():
            t = time.perf_counter()
            setup = open_sandbox(getter(conf), [proj], home=Path(tmp), bridle_home=Path(tmp) / "bh")
            startup[name] = (time.perf_counter() - t) * 1000
            if conf and setup.sandbox is None:
                print(f"no sandbox here: {setup.warnings}", file=sys.stderr)
                return 1
            ctx = ToolContext(cwd=proj, sandbox=setup.sandbox, output_dir=Path(tmp) / "out")
            try:
                results[name] = {c: timings(ctx, c, args.runs) for c in COMMANDS}
            finally:
                if setup.sandbox is not None:
                    setup.sandbox.close()
    print(f"Bash tool wall time per command, {args.runs} runs each (ms)\n")
    print("| setup | command | median | p90 | overhead (median) |")
    print("|---|---|---|---|---|")
    for name, per in results.items():
        for command, ts in per.items():
            base = statistics.median(results["no sandbox"][command])
            med = statistics.median(ts)
            p90 = sorted(ts)[int(len(ts) * 0.9) - 1]
            extra = "" if name == "no sandbox" else f"+{med - base:.1f}"
            print(f"| {name} | `{command}` | {med:.1f} | {p90:.1f} | {extra} |")
    print("\nOne-off sandbox start-up per session (ms): "
          + ", ".join(f"{k}: {v:.1f}" for k, v in startup.items()))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
