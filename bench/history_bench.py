"""Benchmark the history index on a generated corpus and record the results.

    python bench/history_bench.py                 # 10,000 sessions, about 1 GB
    python bench/history_bench.py --sessions 1000 --mb 100   # a quick run

Steps, all through the real `bridle` command in subprocesses (process start-up
included), in a throwaway HOME/BRIDLE_HOME under --workdir:
1. write the corpus (`history_corpus.py`) in the four tools' formats;
2. first full index (`bridle sessions reindex`): MB/s and the child's peak RSS;
3. warm search: median wall time of `bridle sessions search` over several
   queries and runs, next to `rg -l` over the same files (the venv's ripgrep)
   for the same words;
4. incremental update: append one turn to one session, then time the next
   `bridle sessions search` for a word only that turn holds (it must be found),
   and a full `bridle sessions reindex` stat walk.
Results go to docs/benchmarks.md, section "History" (other sections untouched).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from history_corpus import Corpus

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def run(argv: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    return time.perf_counter() - start, proc


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sessions", type=int, default=10_000)
    ap.add_argument("--mb", type=int, default=1000, help="corpus size in MB")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/bridle-history-bench"))
    ap.add_argument("--keep", action="store_true", help="reuse an existing corpus in --workdir")
    ap.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    args = ap.parse_args()

    home = args.workdir / "home"
    if not (args.keep and home.exists()):
        shutil.rmtree(args.workdir, ignore_errors=True)
        home.mkdir(parents=True)
        t = time.perf_counter()
        written = Corpus(home).write(args.sessions, args.mb << 20)
        print(
            f"corpus: {args.sessions} sessions, {written / 1e6:.0f} MB in {time.perf_counter() - t:.1f}s"
        )
    corpus_bytes = sum(p.stat().st_size for p in home.rglob("*") if p.is_file())
    bridle_home = args.workdir / "bridle"
    shutil.rmtree(bridle_home, ignore_errors=True)
    env = {
        **os.environ,
        "HOME": str(home),
        "BRIDLE_HOME": str(bridle_home),
        "NO_COLOR": "1",
    }
    for var in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_CLI_HOME", "COPILOT_HOME"):
        env.pop(var, None)
    bridle = str(VENV_BIN / "bridle")
    rg = str(VENV_BIN / "rg")
    results: dict[str, object] = {
        "sessions": args.sessions,
        "corpus_mb": round(corpus_bytes / 1e6),
        "load_before": round(os.getloadavg()[0], 1),
        "runs": args.runs,
    }

    # 2. First full index, from a cold page cache.
    evict(home)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    elapsed, proc = run([bridle, "sessions", "reindex"], env)
    if proc.returncode:
        sys.exit(f"reindex failed: {proc.stderr}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    results["index_s"] = round(elapsed, 1)
    results["index_mb_s"] = round(corpus_bytes / 1e6 / elapsed, 1)
    results["index_peak_rss_mb"] = round(max(peak_kb, before) / 1024)
    results["db_mb"] = round((bridle_home / "bridle.db").stat().st_size / 1e6)
    print(
        f"index: {elapsed:.1f}s, {results['index_mb_s']} MB/s, peak RSS {results['index_peak_rss_mb']} MB"
    )

    # 3. Warm search vs rg -l. Queries a user types: two exact rare words, a
    # mid-frequency word, an error message, and one very common word (worst case).
    n = args.sessions
    vocab = Corpus(args.workdir / "unused").words.words
    queries = [
        f"zq{n // 2}marker",
        f"zq{n // 7}marker",
        vocab[500],
        '"connection refused on port 5416"',
        "Traceback",
    ]
    fast = [
        sys.executable,
        "-c",
        "import sys; from bridle.cli.history_quick import run; sys.exit(run(sys.argv[1:]))",
    ]
    rg_args = [rg, "-l", "--hidden", "--no-ignore", "-F"]
    for q in queries:  # warm the page cache for all three
        run([bridle, "sessions", "search", q], env)
        run([*rg_args, q.strip('"'), str(home)], env)
    timings: dict[str, list[float]] = {"click": [], "fast": [], "rg": []}
    per_query: dict[str, list[float]] = {}
    for _ in range(args.runs):
        for q in queries:
            elapsed, proc = run([bridle, "sessions", "search", q, "--limit", "20"], env)
            assert proc.returncode == 0 and proc.stdout, (q, proc.stderr)
            timings["click"].append(elapsed)
            elapsed, proc = run([*fast, q, "--limit", "20"], env)
            assert proc.returncode == 0 and proc.stdout, (q, proc.stderr)
            timings["fast"].append(elapsed)
            per_query.setdefault(q, []).append(elapsed)
            elapsed, _ = run([*rg_args, q.strip('"'), str(home)], env)
            timings["rg"].append(elapsed)
    results["search_median_ms"] = median_ms(timings["click"])
    results["fast_median_ms"] = median_ms(timings["fast"])
    results["rg_median_ms"] = median_ms(timings["rg"])
    for name in ("click", "fast", "rg"):
        results[f"{name}_min_ms"] = round(min(timings[name]) * 1000, 1)
    results["per_query_ms"] = {q: median_ms(v) for q, v in per_query.items()}
    print(
        f"search median {results['search_median_ms']} ms (fast path {results['fast_median_ms']} ms);"
        f" rg -l median {results['rg_median_ms']} ms"
    )

    # 3b. Cold cache: evict the corpus and the index from the page cache
    # (posix_fadvise DONTNEED, no root needed), then one rare-word query each.
    cold_q = f"zq{n // 3}marker"
    evict(home, bridle_home)
    elapsed, proc = run([*fast, cold_q], env)
    assert cold_q in proc.stdout or proc.returncode == 0, proc.stderr
    results["cold_fast_ms"] = round(elapsed * 1000, 1)
    evict(home, bridle_home)
    elapsed, _ = run([*rg_args, cold_q, str(home)], env)
    results["cold_rg_ms"] = round(elapsed * 1000, 1)
    print(f"cold cache: search {results['cold_fast_ms']} ms, rg -l {results['cold_rg_ms']} ms")

    # 4a. A session the user just left (its file was written a minute ago) gets a new
    # turn: the next plain search stats the recent files and finds the new text.
    hot = sorted((home / ".codex" / "sessions").rglob("*.jsonl"))[-1]
    os.utime(hot, (time.time() - 60, time.time() - 60))
    run([bridle, "sessions", "reindex"], env)
    hot_word = "hotneedle" + str(int(time.time()))
    meta = json.loads(hot.read_text().splitlines()[0])
    with open(hot, "a") as f:
        f.write(
            json.dumps(
                {
                    "timestamp": meta["timestamp"],
                    "type": "response_item",
                    "payload": {
                        "type": "message",
                        "role": "user",
                        "content": [{"type": "input_text", "text": hot_word}],
                    },
                }
            )
            + "\n"
        )
    elapsed, proc = run([bridle, "sessions", "search", hot_word], env)
    assert hot_word in proc.stdout, proc.stdout + proc.stderr
    results["hot_append_search_ms"] = round(elapsed * 1000, 1)

    # 4b. Incremental: append one turn to an old session.
    target = next(iter(sorted((home / ".claude" / "projects").rglob("*.jsonl"))))
    first = json.loads(target.read_text().splitlines()[1])
    word = "appendedneedle" + str(int(time.time()))
    line = dict(
        first, type="user", message={"role": "user", "content": f"new turn mentions {word}"}
    )
    with open(target, "a") as f:
        f.write(json.dumps(line) + "\n")
    # Scan interval 0: this query stats every file first, as if its interval had run out.
    elapsed, proc = run(
        [bridle, "sessions", "search", word], {**env, "BRIDLE_HISTORY_SCAN_INTERVAL": "0"}
    )
    assert word in proc.stdout, proc.stdout + proc.stderr
    results["incremental_search_ms"] = round(elapsed * 1000, 1)
    elapsed, proc = run([bridle, "sessions", "reindex"], {**env})
    results["incremental_reindex_ms"] = round(elapsed * 1000, 1)
    print(
        f"after append: search finds it in {results['incremental_search_ms']} ms; full stat walk {results['incremental_reindex_ms']} ms"
    )
    results["load_after"] = round(os.getloadavg()[0], 1)
    print(json.dumps(results, indent=2))
    if not args.no_write:
        write_section(results)


def evict(*dirs: Path) -> None:
    """Drop these files' clean pages from the page cache."""
    for d in dirs:
        for p in d.rglob("*"):
            if p.is_file():
                fd = os.open(p, os.O_RDONLY)
                try:
                    os.fdatasync(fd)
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)


def write_section(r: dict[str, object]) -> None:
    doc = ROOT / "docs" / "benchmarks.md"
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    body = f"""## History

`python bench/history_bench.py --sessions {r["sessions"]}` on this machine class (2 cores), {time.strftime("%Y-%m-%d")}.
Corpus: {r["sessions"]} sessions, {r["corpus_mb"]} MB, mixed Claude Code / Codex / Gemini CLI / Copilot CLI formats.
Load average at start / end of the run: {r["load_before"]} / {r["load_after"]} (other work shared the 2 cores).

| measure | result |
| --- | --- |
| first full index (cold page cache) | {r["index_s"]} s, {r["index_mb_s"]} MB/s, peak RSS {r["index_peak_rss_mb"]} MB (index {r["db_mb"]} MB) |
| search, Click-free fast path (`bridle.cli.history_quick`), median (fastest) | {r["fast_median_ms"]} ms ({r["fast_min_ms"]} ms) |
| `bridle sessions search` (the command as users run it), median (fastest) | {r["search_median_ms"]} ms ({r["click_min_ms"]} ms) |
| `rg -l` over the same files (warm), median (fastest) | {r["rg_median_ms"]} ms ({r["rg_min_ms"]} ms) |
| cold cache (corpus and index evicted), one rare word: fast-path search / `rg -l` | {r["cold_fast_ms"]} ms / {r["cold_rg_ms"]} ms |
| search right after a new turn in a recently active session (finds it) | {r["hot_append_search_ms"]} ms |
| search after appending to an old session, full stat walk first (finds it) | {r["incremental_search_ms"]} ms |
| `bridle sessions reindex` after that append (full stat walk) | {r["incremental_reindex_ms"]} ms |

Fast path per query (median ms): {json.dumps(r["per_query_ms"], ensure_ascii=False)}

Every timing is a whole process (interpreter start-up included), run as a subprocess
with output to a pipe, {r["runs"]} rounds over the 5 queries, the three commands
interleaved so background load hits them alike. The fast path is what
`bridle sessions search` runs: `bridle.cli.main` hands `sessions search` argv to
`bridle.cli.history_quick.run` before importing Click, whose import alone costs about
40 ms here (anything the fast path does not handle falls through to Click). Search ranks chunks with FTS5 `bm25()`; a word in more than 2,000 chunks
(`Traceback` is in every session) is ranked among its newest 2,000, and a phrase of
common words still pays for their position lists. `rg -l` must read every byte for a
rare word and stops at the first hit per file for a common one. With other work on
both cores, every number here, `rg`'s included, is slower than on an idle machine.
"""
    start = text.find("## History")
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + body + (text[end + 1 :] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + body
    doc.parent.mkdir(parents=True, exist_ok=True)
    tmp = doc.with_suffix(".md.tmp")
    tmp.write_text(text)
    os.replace(tmp, doc)


if __name__ == "__main__":
    main()
