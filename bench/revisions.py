"""Before/after benchmark: this working tree against an earlier git revision, in one run.

    .cache/venv/bin/python bench/revisions.py --base 054bb7a            # writes docs/benchmarks.md
    .cache/venv/bin/python bench/revisions.py --base HEAD~5 --no-docs --reps 5

The base revision is checked out as a git worktree under .cache/bench-base/<sha>
and run with the same interpreter and virtualenv, its `src/` put first on
PYTHONPATH, so only bridle's own code differs. Four measures, each interleaved
(base, new, base, new, ...) so background load hits both alike:

- start-up: `python -m bridle --version` wall time (median of --runs);
- a one-turn session (`bench/scenarios/one_turn.json`): the CPU and peak RSS of bridle's
  own process, children excluded (getrusage at exit), median of 2 × --reps runs;
- the 20-turn session of bench/harness_bench.py (`bench/scenarios/twenty_turns.json`
  on a fresh git copy of examples/buggy-project, its own `bridle mock serve`), per
  wire: wall, CPU and peak RSS medians over --reps runs that completed;
- history search: `bridle sessions search` over a generated corpus of --sessions
  sessions, indexed once by each revision into its own BRIDLE_HOME.

Results are ratios new/base; a ratio above 1.10 on a median is flagged. The table
goes to docs/benchmarks.md, section "Before/after", other sections untouched.
It asserts nothing; it is not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from harness_bench import SCENARIOS, check, measure  # noqa: E402
from history_corpus import Corpus  # noqa: E402
from realcli.harness import MockProcess, _base_env, project_copy  # noqa: E402

SECTION = "## Before/after"
WIRES = ("anthropic", "openai-chat", "openai-responses", "gemini")


def worktree(rev: str) -> tuple[str, Path]:
    sha = subprocess.run(
        ["git", "rev-parse", "--short=12", rev],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    dest = ROOT / ".cache" / "bench-base" / sha
    if not (dest / "src" / "bridle").is_dir():
        shutil.rmtree(dest, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, check=True)
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(dest), sha],
            cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip
    return sha, dest / "src"


def with_src(env: dict[str, str], src: Path) -> dict[str, str]:
    out = dict(env)
    out["PYTHONPATH"] = str(src)
    return out


def startup(srcs: dict[str, Path], runs: int) -> dict[str, float]:
    times: dict[str, list[float]] = {k: [] for k in srcs}
    for _ in range(runs):
        for label, src in srcs.items():
            env = with_src(dict(os.environ), src)
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "bridle", "--version"], env=env, check=True,
                           capture_output=True)  # fmt: skip
            times[label].append((time.perf_counter() - t0) * 1000)
    return {k: statistics.median(v) for k, v in times.items()}


def client(tmp: Path, port: int, src: Path, wire: str, prompt: str) -> tuple[dict, list[str]]:
    """The environment (a fresh HOME under `tmp`, the mock at `port`, `src` first on
    the path) and the headless flags of one measured bridle run."""
    env = _base_env(tmp / "home")
    env.update(
        BRIDLE_HOME=str(tmp / "home" / ".bridle"),
        BRIDLE_MOCK_BASE_URL=f"http://127.0.0.1:{port}",
        PYTHONPATH=str(src),
    )
    flags = ["-p", prompt, "--model", f"mock/{wire}", "--dangerously-skip-permissions",
             "--output-format", "json"]  # fmt: skip
    return env, flags


def session(src: Path, wire: str, workdir: Path) -> dict | None:
    scenario_path = SCENARIOS["twenty"]
    scenario = json.loads(scenario_path.read_text())
    tmp = Path(tempfile.mkdtemp(prefix=f"rev-{wire}-", dir=workdir))
    repo = project_copy(tmp / "repo")
    log_path = tmp / "mock.jsonl"
    with MockProcess(scenario_path, log=log_path, workdir=repo) as mock:
        env, flags = client(tmp, mock.port, src, wire, scenario["prompt"])
        result = measure([sys.executable, "-m", "bridle", *flags], env, repo, tmp / "client", 120)
    log = [json.loads(line) for line in log_path.read_text().splitlines() if line]

    class _Run:
        scenario = "twenty"

    reason = check(_Run(), result, repo, scenario, log)  # type: ignore[arg-type]
    if reason:
        print(f"  run failed ({src}): {reason}", file=sys.stderr)
        return None
    return result


def sessions(srcs: dict[str, Path], reps: int, workdir: Path) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for wire in WIRES:
        samples: dict[str, list[dict]] = {k: [] for k in srcs}
        for _ in range(reps):
            for label, src in srcs.items():
                r = session(src, wire, workdir)
                if r is not None:
                    samples[label].append(r)
        out[wire] = {
            label: {
                key: statistics.median(s[key] for s in runs) if runs else None
                for key in ("wall_s", "cpu_s", "max_rss_mb")
            }
            | {"ok": len(runs)}
            for label, runs in samples.items()
        }
    return out


# Runs bridle in-process and reports its own CPU and peak RSS at exit, children excluded.
OWN = (
    "import atexit, resource, runpy, sys\n"
    "def report():\n"
    "    u = resource.getrusage(resource.RUSAGE_SELF)\n"
    "    sys.stderr.write(f'OWN {u.ru_utime + u.ru_stime} {u.ru_maxrss}\\n')\n"
    "atexit.register(report)\n"
    "sys.argv = ['bridle', *sys.argv[1:]]\n"
    "runpy.run_module('bridle', run_name='__main__')\n"
)


def own(srcs: dict[str, Path], reps: int, workdir: Path) -> dict[str, dict[str, float]]:
    """A one-turn session (start-up and one round trip): bridle's own process only."""
    scenario_path = SCENARIOS["one"]
    prompt = json.loads(scenario_path.read_text())["prompt"]
    samples: dict[str, list[tuple[float, float]]] = {k: [] for k in srcs}
    for i in range(reps + 1):  # the first round fills caches and is not counted
        for label, src in srcs.items():
            tmp = Path(tempfile.mkdtemp(prefix="own-", dir=workdir))
            repo = project_copy(tmp / "repo")
            with MockProcess(scenario_path, log=tmp / "mock.jsonl", workdir=repo) as mock:
                env, flags = client(tmp, mock.port, src, "anthropic", prompt)
                done = subprocess.run([sys.executable, "-c", OWN, *flags], env=env, cwd=repo,
                                      capture_output=True, text=True)  # fmt: skip
            lines = [x.split() for x in done.stderr.splitlines() if x.startswith("OWN ")]
            if done.returncode == 0 and lines and i:
                samples[label].append((float(lines[-1][1]) * 1000, int(lines[-1][2]) / 1024))
    return {
        label: {
            "cpu_ms": statistics.median(x[0] for x in v) if v else 0.0,
            "rss_mb": statistics.median(x[1] for x in v) if v else 0.0,
        }
        for label, v in samples.items()
    }


def search(srcs: dict[str, Path], n: int, runs: int, workdir: Path) -> dict[str, float]:
    home = workdir / "history-home"
    Corpus(home).write(n, 40 << 20)
    queries = [f"zq{n // 2}marker", f"zq{n // 7}marker", '"connection refused on port 5416"']
    envs = {}
    for label, src in srcs.items():
        env = with_src(dict(os.environ), src)
        env.update(HOME=str(home), BRIDLE_HOME=str(workdir / f"bridle-{label}"), NO_COLOR="1")
        for var in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_CLI_HOME", "COPILOT_HOME"):
            env.pop(var, None)
        subprocess.run([sys.executable, "-m", "bridle", "sessions", "reindex"], env=env,
                       check=True, capture_output=True)  # fmt: skip
        envs[label] = env
    times: dict[str, list[float]] = {k: [] for k in srcs}
    for _ in range(runs):
        for q in queries:
            for label, env in envs.items():
                t0 = time.perf_counter()
                proc = subprocess.run([sys.executable, "-m", "bridle", "sessions", "search", q,
                                       "--limit", "20"], env=env, capture_output=True, text=True)  # fmt: skip
                times[label].append((time.perf_counter() - t0) * 1000)
                if proc.returncode != 0 or not proc.stdout:
                    sys.exit(f"search {q!r} failed under {label}: {proc.stderr}")
    return {k: statistics.median(v) for k, v in times.items()}


def ratio(new: float | None, base: float | None, worse: str = "slower") -> str:
    if not new or not base:
        return "n/a"
    r = new / base
    return f"{r:.2f}×" + (f" ({worse})" if r > 1.10 else "")


def report(base_sha: str, head: str, r: dict, args: argparse.Namespace, took: float) -> str:
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        SECTION,
        "",
        f"`python bench/revisions.py --base {args.base}"
        + (f" --new {args.new}" if args.new else "")
        + f" --reps {args.reps} --runs {args.runs} "
        f"--sessions {args.sessions}`, {time.strftime('%Y-%m-%d')}, took {took:.0f} s, "
        f"load average at the end {load} (2 cores).",
        f"Base {base_sha} against {'revision' if args.new else 'the working tree at'} {head}; "
        "same interpreter and virtualenv, "
        "runs interleaved. Ratios are new/base (below 1 is faster).",
        "",
        "| measure | base | new | new/base |",
        "| --- | --- | --- | --- |",
        f"| `bridle --version` wall ms (median of {args.runs}) | {r['startup']['base']:.1f} | "
        f"{r['startup']['new']:.1f} | {ratio(r['startup']['new'], r['startup']['base'])} |",
    ]
    o = r["own"]
    for key, label in (("cpu_ms", "own CPU ms"), ("rss_mb", "own peak RSS MB")):
        b, n = o["base"][key], o["new"][key]
        lines.append(
            f"| 1-turn session, mock/anthropic, {label} (median of {args.reps * 2}) | {b:.1f} | "
            f"{n:.1f} | {ratio(n, b, 'larger' if key == 'rss_mb' else 'slower')} |"
        )
    for wire, by in r["sessions"].items():
        for key, label in (("wall_s", "wall s"), ("cpu_s", "CPU s"), ("max_rss_mb", "peak RSS MB")):
            b, n = by["base"][key], by["new"][key]
            lines.append(
                f"| 20-turn session, mock/{wire}, {label} | {b and round(b, 3)} | "
                f"{n and round(n, 3)} | {ratio(n, b, 'larger' if key == 'max_rss_mb' else 'slower')} |"
            )
    s = r["search"]
    lines.append(
        f"| `bridle sessions search`, {args.sessions} sessions, median ms | {s['base']:.1f} | "
        f"{s['new']:.1f} | {ratio(s['new'], s['base'])} |"
    )
    return "\n".join(lines) + "\n"


def write_docs(body: str) -> None:
    doc = ROOT / "docs" / "benchmarks.md"
    text = doc.read_text()
    if SECTION in text:
        start = text.index(SECTION)
        nxt = text.find("\n## ", start + len(SECTION))
        old = text[start : nxt if nxt != -1 else len(text)].splitlines()
        # Prose written under the table (the analysis) stays.
        last = max((i for i, line in enumerate(old) if line.startswith("|")), default=len(old))
        notes = "\n".join(old[last + 1 :]).strip()
        body = body + ("\n" + notes + "\n" if notes else "") + "\n"
        text = text[:start] + body + (text[nxt + 1 :] if nxt != -1 else "")
    else:
        text = text.rstrip() + "\n" + body
    doc.write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--base", required=True, help="git revision to compare against")
    ap.add_argument("--reps", type=int, default=3, help="20-turn runs per wire and revision")
    ap.add_argument("--runs", type=int, default=21, help="start-up runs per revision")
    ap.add_argument("--sessions", type=int, default=2000, help="history corpus size")
    ap.add_argument(
        "--new", help="git revision to measure instead of the working tree (also a worktree)"
    )
    ap.add_argument("--no-docs", action="store_true")
    args = ap.parse_args()
    started = time.perf_counter()
    base_sha, base_src = worktree(args.base)
    if args.new:
        head, new_src = worktree(args.new)
    else:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True).stdout.strip()  # fmt: skip
        new_src = ROOT / "src"
    srcs = {"base": base_src, "new": new_src}
    with tempfile.TemporaryDirectory(prefix="bridle-rev-") as tmp:
        work = Path(tmp)
        results = {
            "startup": startup(srcs, args.runs),
            "own": own(srcs, args.reps * 2, work),
            "sessions": sessions(srcs, args.reps, work),
            "search": search(srcs, args.sessions, 11, work),
        }
    body = report(base_sha, head, results, args, time.perf_counter() - started)
    print(body)
    if not args.no_docs:
        write_docs(body)


if __name__ == "__main__":
    main()
