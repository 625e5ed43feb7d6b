"""Long sessions on a small window: the compaction benchmark.

Runs one scripted session of `--turns` tool turns (each a Bash command printing
~14 KB, with a paragraph of the model's notes) through `bridle -p` against the
mock server on every wire, once with the model declared with a
`--window`-token context window and once with compaction off. Reports, per run:
whether it completed, the number of requests, the total and largest request
size (tokens estimated at 4 characters each, from the bodies the mock
received), the compactions by step, wall time, and whether the mock saw any
tool-pairing violation. Writes a "## Compaction" section to docs/benchmarks.md
unless `--no-docs`.

    python bench/compaction_bench.py [--turns 300] [--window 32000] [--wires all]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from bridle.mock.server import MockServer  # noqa: E402

WIRES = ("anthropic", "openai-chat", "openai-responses", "gemini")
SECTION = "## Compaction"


def scenario(path: Path, turns: int) -> Path:
    note = "Checking where the sequence breaks before the next step. " * 12
    steps: list[dict[str, Any]] = [
        {"op": "bash", "command": f"seq {i} {i + 2999}", "say": f"Step {i}. {note}"}
        for i in range(turns)
    ]
    steps.append({"op": "final", "text": "all done"})
    path.write_text(json.dumps({"name": "long", "prompt": "walk the logs", "turns": steps}))
    return path


def run(wire: str, turns: int, window: int, compaction: bool, work: Path) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix=f"compact-{wire}-", dir=work))
    repo = tmp / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "CLAUDE.md").write_text("# Project\nAlways say which step you are on.\n")
    settings: dict[str, Any] = {"context_window": window}
    if not compaction:
        settings["autoCompactEnabled"] = False
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDLE_")}
    env.update(BRIDLE_HOME=str(tmp / "bridle"), HOME=str(tmp), PYTHONDONTWRITEBYTECODE="")
    with MockServer(scenario(tmp / "s.json", turns), workdir=repo, keep_bodies=True) as srv:
        env["BRIDLE_MOCK_BASE_URL"] = srv.base_url
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "bridle", "-p", "walk the logs", "--model", f"mock/{wire}",
             "--dangerously-skip-permissions", "--settings", json.dumps(settings),
             "--output-format", "stream-json", "--verbose", "--max-turns", str(turns + 10)],
            cwd=repo, env=env, capture_output=True, text=True, timeout=1800,
        )  # fmt: skip
        wall = time.perf_counter() - t0
        bodies = [r["body"] for r in srv.requests if "body" in r and not r.get("compaction")]
        violations = list(srv.violations)
    lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    steps = [x["compact_metadata"]["step"] for x in lines if x.get("subtype") == "compact_boundary"]
    result = lines[-1] if lines and lines[-1].get("type") == "result" else {}
    sizes = [len(json.dumps(b)) // 4 for b in bodies]
    claude_md = sum("Always say which step you are on" in json.dumps(b) for b in bodies)
    return {
        "wire": wire,
        "turns": turns,
        "compaction": compaction,
        "ok": proc.returncode == 0 and result.get("result") == "all done",
        "requests": len(bodies),
        "total_tokens": sum(sizes),
        "largest": max(sizes, default=0),
        "clear": steps.count("clear"),
        "summary": steps.count("summary"),
        "wall": wall,
        "violations": len(violations),
        "claude_md_everywhere": claude_md == len(bodies),
        "error": "" if proc.returncode == 0 else _last_error(proc.stderr),
    }


def _last_error(stderr: str) -> str:
    lines = [x for x in stderr.splitlines() if x.strip()]
    return re.sub(r"\s+", " ", lines[-1])[:120] if lines else ""


def report(rows: list[dict[str, Any]], args: argparse.Namespace, took: float) -> str:
    out = [
        SECTION,
        "",
        f"`python bench/compaction_bench.py --turns {args.turns} --window {args.window}`, "
        f"{time.strftime('%Y-%m-%d')}, took {took:.0f} s. One scripted session of "
        f"{args.turns} tool turns (each prints ~14 KB and the model writes a paragraph) on a "
        f"model declared with a {args.window:,}-token window, against the mock server with its "
        "tool-pairing checks on; tokens are request bytes / 4 as the mock received them. "
        '"CLAUDE.md" says whether the project\'s CLAUDE.md was in every request.',
        "",
        "| wire | compaction | tool turns | completed | requests | total input tokens | largest request "
        "| compactions (clear + summary) | pairing violations | CLAUDE.md | wall s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        done = "yes" if r["ok"] else f"no: {r['error']}"
        out.append(
            f"| {r['wire']} | {'on' if r['compaction'] else 'off'} | {r['turns']} | {done} "
            f"| {r['requests']} "
            f"| {r['total_tokens']:,} | {r['largest']:,} | {r['clear']} + {r['summary']} "
            f"| {r['violations']} | {'yes' if r['claude_md_everywhere'] else 'no'} "
            f"| {r['wall']:.1f} |"
        )
    out += [
        "",
        "With compaction off the same session sends every earlier output again in every "
        "request: the largest request is far beyond the declared window (a real provider "
        "would refuse it), and the total grows quadratically with the turns.",
        "",
    ]
    return "\n".join(out)


def write_docs(body: str) -> None:
    doc = ROOT / "docs" / "benchmarks.md"
    text = doc.read_text()
    if SECTION in text:
        start = text.index(SECTION)
        nxt = text.find("\n## ", start + len(SECTION))
        text = text[:start] + body + (text[nxt + 1 :] if nxt != -1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + body
    doc.write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--turns", type=int, default=300)
    ap.add_argument("--window", type=int, default=32000)
    ap.add_argument("--wires", default="all", help="comma-separated, or all")
    ap.add_argument("--off-turns", type=int, default=60, help="turns for the compaction-off runs")
    ap.add_argument("--no-docs", action="store_true")
    args = ap.parse_args()
    wires = WIRES if args.wires == "all" else tuple(args.wires.split(","))
    started = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bridle-compact-") as tmp:
        for wire in wires:
            rows.append(run(wire, args.turns, args.window, True, Path(tmp)))
            print(rows[-1], file=sys.stderr)
        # Without compaction the requests grow with every turn: a shorter run shows it.
        rows.append(run(wires[0], args.off_turns, args.window, False, Path(tmp)))
        print(rows[-1], file=sys.stderr)
    body = report(rows, args, time.perf_counter() - started)
    print(body)
    if not args.no_docs:
        write_docs(body)


if __name__ == "__main__":
    main()
