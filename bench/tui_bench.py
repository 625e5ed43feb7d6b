"""Interactive app benchmark: launch time, a 2,000-message resumed session, idle CPU.

Everything runs in real tmux panes (120×40) against the mock model, in a temp
BRIDLE_HOME and a copy of examples/buggy-project:

- launch: `bridle` until its screen is ready for input (the HUD and the
  greeting are drawn and the prompt box takes keys; the session then opens on a
  thread, and keys typed meanwhile are kept). From the second launch on, that
  screen is the instant screen (`tui.instant`): the first frame the last launch
  kept, drawn before Textual loads, echoing keys until the app takes over. Also
  timed: a key typed as soon as the screen shows, until it is on screen; and
  when the app itself has the terminal (Textual turns mouse reporting on, read
  from tmux), median of N runs. With `--peers`, the real Claude Code, Codex, Gemini CLI and
  Copilot CLI (from .cache/clis, pointed at the mock as tests/realcli does) are
  timed in the same run (with a reference that is not a peer: `textual-hello`,
  the smallest Textual app, bench/textual_hello.py, the floor a Textual app
  starts from on the machine), launched in turn with bridle run after run (so a change
  in the machine's speed hits all alike), to their first *stable* screen (non-blank and unchanged
  for 0.5 s, minus those 0.5 s); bridle is timed that way too, so the two
  columns compare like with like. Each peer's first screen line is printed, so
  an onboarding or trust screen is visible in the output.
- echo: keystroke echo while a long reply (3,000 markdown blocks with code)
  streams from a second mock server: a letter is typed, and the time until the
  prompt box shows it is read back (only keys typed while the turn runs count);
  the same keys typed before the prompt is sent, with nothing streaming, are the
  baseline (tmux's own round trips and the screen polling).
- resume: a session of 2,000 messages (1,000 prompts and markdown answers with
  code, written through the engine's own store sink) opened with `bridle -r ID`
  until its last prompt is on screen; then the app's peak RSS (VmHWM), its
  idle CPU over 3 s, and scrolling: PageUp pressed 30 times (past the top of the
  messages shown at first, so older ones load) and Ctrl+End once,
  each timed from the key to the changed screen.

Run: .cache/venv/bin/python bench/tui_bench.py [--runs 5] [--peers] [--launch-only]
(unset PYTHONDONTWRITEBYTECODE first, as users run with bytecode caches).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUGGY = REPO / "examples" / "buggy-project"
SIZE = ("120", "40")
MESSAGES = 2000
SCROLLS = 30  # PageUp presses timed in the resumed session (past its first chunk), then Ctrl+End


class Tmux:
    def __init__(self) -> None:
        self.socket = f"bridle-bench-{uuid.uuid4().hex[:8]}"

    def run(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True)
        return done.stdout

    def start(self, name: str, command: str, env: dict[str, str], cwd: Path) -> float:
        flags = [f"-e{k}={v}" for k, v in env.items()]
        self.run("new-session", "-d", "-s", name, "-x", SIZE[0], "-y", SIZE[1], "-c", str(cwd),
                 *flags, command)  # fmt: skip
        return time.perf_counter()

    def screen(self, name: str) -> str:
        return self.run("capture-pane", "-p", "-t", name)

    def pid(self, name: str) -> int:
        return int(self.run("display-message", "-p", "-t", name, "#{pane_pid}").strip())

    def kill(self, name: str) -> None:
        """End the session and wait for its program to finish saving and exit; then
        kill what it left running (the Gemini CLI re-executes itself as a child that
        outlives the pane)."""
        out = self.run("display-message", "-p", "-t", name, "#{pane_pid}").strip()
        family = descendants(int(out)) if out.isdigit() else []
        self.run("kill-session", "-t", name)
        deadline = time.monotonic() + 15
        while out.isdigit() and Path(f"/proc/{out}").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        for pid in family:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def close(self) -> None:
        self.run("kill-server")


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def wait_for(tmux: Tmux, name: str, check: object, timeout: float = 60) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if check(tmux.screen(name)):  # type: ignore[operator]
            return time.perf_counter()
        time.sleep(0.005)
    raise SystemExit(f"{name}: not ready after {timeout}s:\n{tmux.screen(name)}")


def stable(tmux: Tmux, name: str, quiet: float = 0.5, timeout: float = 60) -> tuple[float, str]:
    """When the screen first became non-blank and then did not change for `quiet` s."""
    deadline = time.perf_counter() + timeout
    last, since = "", time.perf_counter()
    while time.perf_counter() < deadline:
        now, screen = time.perf_counter(), tmux.screen(name)
        if screen != last:
            last, since = screen, now
        elif screen.strip() and now - since >= quiet:
            return since, screen
        time.sleep(0.005)
    return float("nan"), last


def bridle_env(home: Path, mock_url: str) -> dict[str, str]:
    return {
        "HOME": str(home),
        "BRIDLE_HOME": str(home / ".bridle"),
        "BRIDLE_MOCK_BASE_URL": mock_url,  # one mock server for bridle and the peers
        "PATH": os.environ.get("PATH", ""),
        "TERM": "xterm-256color",
    }


def bridle_command(args: str) -> str:
    return f"{sys.executable} -m bridle --model mock/anthropic {args}"


def launches(
    tmux: Tmux, repo: Path, env: dict[str, str], runs: int, peers: dict[str, tuple[str, dict, Path]]
) -> tuple[dict[str, float], dict[str, tuple[float, str]]]:
    """bridle and then each peer, launched in turn run after run, so a change in the
    machine's speed during the benchmark hits every client alike. bridle's medians:
    `ready` (its first screen, ready for input: from the second launch on, the
    instant screen `tui.instant` draws before Textual loads), `typed` (a key typed
    as soon as that screen shows is on it, in a launch of its own), `live` (Textual
    has the terminal: it turns mouse reporting on) and `settled` (the first stable
    screen, as the peers are timed); each peer: (first stable screen median, its
    first screen line)."""
    got: dict[str, list[float]] = {"ready": [], "typed": [], "live": [], "settled": []}
    times: dict[str, list[float]] = {name: [] for name in peers}
    first: dict[str, str] = {}

    def up(screen: str) -> bool:
        return "bridle · new session" in screen and "mock/anthropic" in screen

    def mouse(name: str) -> bool:
        return tmux.run("display-message", "-p", "-t", name, "#{mouse_any_flag}").strip() == "1"

    for i in range(runs + 1):  # the first round warms the caches and is not counted
        name = f"launch{i}"
        t0 = tmux.start(name, bridle_command(""), env, repo)
        t1 = wait_for(tmux, name, up)
        t2, t3 = settle(tmux, name, t1, functools.partial(mouse, name))
        tmux.kill(name)
        name = f"typed{i}"
        t4 = tmux.start(name, bridle_command(""), env, repo)
        wait_for(tmux, name, up)
        tmux.run("send-keys", "-t", name, "-l", "q")
        t5 = wait_for(tmux, name, lambda s: "│ q " in s)
        tmux.kill(name)
        if i:
            for what, ms in (("ready", t1 - t0), ("live", t2 - t0), ("settled", t3 - t0)):
                got[what].append(ms * 1000)
            got["typed"].append((t5 - t4) * 1000)
        for peer, (argv, peer_env, cwd) in peers.items():
            session = f"{peer}{i}"
            t0 = tmux.start(session, argv, peer_env, cwd)
            t1, screen = stable(tmux, session)
            tmux.kill(session)
            first[peer] = next((ln.strip() for ln in screen.splitlines() if ln.strip()), "")
            if i:
                times[peer].append((t1 - t0) * 1000)
    out = {peer: (statistics.median(v), first[peer][:70]) for peer, v in times.items()}
    return {what: statistics.median(v) for what, v in got.items()}, out


def settle(
    tmux: Tmux, name: str, since: float, live: object, quiet: float = 0.5
) -> tuple[float, float]:
    """From a screen first seen at `since`: when `live()` first held, and when the
    screen last changed before `quiet` s without a change (with the app live)."""
    last, live_at = tmux.screen(name), None
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline:
        now, screen = time.perf_counter(), tmux.screen(name)
        if live_at is None and live():  # type: ignore[operator]
            live_at = now
        if screen != last:
            last, since = screen, now
        elif live_at is not None and now - since >= quiet:
            return live_at, since
        time.sleep(0.005)
    raise SystemExit(f"{name}: not settled after 60 s:\n{last}")


def long_session(repo: Path, env: dict[str, str]) -> str:
    """A session of MESSAGES messages, written as the engine writes them."""
    sys.path.insert(0, str(REPO / "src"))
    from bridle.core.messages import Message, ModelResponse, StopReason, TextPart, Usage
    from bridle.engine.options import SessionOptions
    from bridle.engine.setup import open_session
    from bridle.store.conversation import response_event, user_event

    session = open_session(SessionOptions(model="mock/anthropic"), repo, {**os.environ, **env})
    sink = session.engine.sink
    answer = (
        "Here is what I found in `stats.py`:\n\n- `mean()` divides by one too many\n"
        "- `median()` is fine\n\n```python\ndef mean(values):\n"
        "    return sum(values) / len(values)\n```\n\nThe tests pass now. " * 2
    )
    for i in range(MESSAGES // 2):
        sink.save(*user_event(Message("user", [TextPart(f"prompt {i}: look at stats.py")])))
        response = ModelResponse([TextPart(f"{answer}({i})")], StopReason.END_TURN, Usage(900, 120))
        sink.save(*response_event(response))
        if i % 100 == 99:
            sink.commit()
    sink.commit()
    sid: str = session.record.id
    session.close()
    return sid


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def resume(tmux: Tmux, repo: Path, env: dict[str, str], sid: str, runs: int) -> dict[str, float]:
    opened, rss, idle, scrolls = [], [], [], []
    last = f"prompt {MESSAGES // 2 - 1}: look at stats.py"
    for i in range(runs):
        name = f"resume{i}"
        t0 = tmux.start(name, f"sh -c 'exec {bridle_command('-r ' + sid)}'", env, repo)
        t1 = wait_for(tmux, name, lambda s: last in s and "mock/anthropic" in s)
        opened.append((t1 - t0) * 1000)
        pid = tmux.pid(name)
        time.sleep(3.0)  # let the first paint settle
        before, start = cpu_seconds(pid), time.monotonic()
        time.sleep(3.0)
        idle.append((cpu_seconds(pid) - before) / (time.monotonic() - start) * 100)
        rss.append(status_kb(pid, "VmHWM") / 1024)
        for key in ["PageUp"] * SCROLLS + ["C-End"]:
            scrolls.append(repaint_ms(tmux, name, key))
        tmux.kill(name)
    return {
        "open_ms": statistics.median(opened),
        "peak_rss_mb": max(rss),
        "idle_cpu_pct": statistics.median(idle),
        "scroll_median_ms": statistics.median(scrolls),
        "scroll_max_ms": max(scrolls),
    }


def repaint_ms(tmux: Tmux, name: str, key: str) -> float:
    """Send `key`; the time until the screen shows something else."""
    before = tmux.screen(name)
    t0 = time.perf_counter()
    tmux.run("send-keys", "-t", name, key)
    t1 = wait_for(tmux, name, lambda s: s != before, timeout=10)
    return (t1 - t0) * 1000


def long_answer(blocks: int = 3000) -> str:
    """A long markdown reply with code: the stream the echo timing types over."""
    block = (
        "### Step {i}\n\nThe `mean()` helper divides by one too many, so each call is off "
        "by a little; here is the fixed version and a test:\n\n```python\n"
        "def mean(values):\n    return sum(values) / len(values)  # {i}\n```\n\n"
        "- checked `median()`\n- ran the tests\n\n"
    )
    return "".join(block.format(i=i) for i in range(blocks))


def echo(tmux: Tmux, work: Path, repo: Path, env: dict[str, str], keys: int) -> dict[str, float]:
    """Keystroke echo while a long reply streams: type a letter, time until the
    prompt box shows it (screen polled every ~2 ms), `keys` times."""
    from bridle.mock.server import MockServer

    scenario = work / "long.json"
    scenario.write_text(
        json.dumps({"name": "long", "prompt": "p", "final": long_answer(), "turns": []})
    )
    srv = MockServer(scenario, workdir=repo)
    srv.start()
    name = "echo"
    try:
        tmux.start(name, bridle_command(""), {**env, "BRIDLE_MOCK_BASE_URL": srv.base_url}, repo)
        wait_for(tmux, name, lambda s: "new session" in s and "mock/anthropic" in s)
        idle: list[float] = []  # the same keys with nothing streaming: the measure's floor
        for i in range(min(keys, 20)):
            typed = "abcdefghijklmnopqrst"[: i + 1]
            t0 = time.perf_counter()
            tmux.run("send-keys", "-t", name, "-l", typed[-1])
            t1 = wait_for(tmux, name, lambda s, typed=typed: typed in "".join(s.splitlines()[-4:]))
            idle.append((t1 - t0) * 1000)
            time.sleep(0.03)
        for _ in idle:
            tmux.run("send-keys", "-t", name, "BSpace")
        wait_for(tmux, name, lambda s: "abc" not in "".join(s.splitlines()[-4:]))
        tmux.run("send-keys", "-t", name, "-l", "explain stats.py")
        tmux.run("send-keys", "-t", name, "Enter")
        wait_for(tmux, name, lambda s: "### Step" in s or "Step 1" in s)
        delays: list[float] = []
        typed, after = "", 0
        while len(delays) < keys:
            letter = "abcdefghijklmnopqrstuvwxyz"[len(typed) % 26]
            typed += letter
            t0 = time.perf_counter()
            tmux.run("send-keys", "-t", name, "-l", letter)
            t1 = wait_for(
                tmux, name, lambda s, typed=typed: typed in "".join(s.splitlines()[-4:]), 10
            )
            if "⟳" not in tmux.screen(name):  # the reply had ended: not counted
                after += 1
                if after > 3:
                    break
                continue
            delays.append((t1 - t0) * 1000)
            time.sleep(0.03)
        tmux.kill(name)
    finally:
        srv.stop()
    if len(delays) < keys // 2:
        raise SystemExit(f"the reply ended after {len(delays)} keys: make long_answer longer")
    return {
        "keys": len(delays),
        "idle_ms": statistics.median(idle),
        "median_ms": statistics.median(delays),
        "p95_ms": sorted(delays)[int(len(delays) * 0.95) - 1],
        "max_ms": max(delays),
    }


def peers(work: Path, port: int) -> dict[str, tuple[str, dict, Path]]:
    """Each installed peer's interactive command line, environment and directory,
    pointed at the mock as tests/realcli does."""
    sys.path.insert(0, str(REPO / "tests" / "realcli"))
    from harness import CLI_NAMES, cli_bin, prepare_cli  # type: ignore[import-not-found]

    interactive = {
        "claude": ["--dangerously-skip-permissions"],
        "codex": ["--dangerously-bypass-approvals-and-sandbox"],
        "gemini": ["--yolo"],
        "copilot": ["--allow-all-tools"],
    }
    out: dict[str, tuple[str, dict, Path]] = {}
    for name in CLI_NAMES:
        try:
            cli_bin(name)
        except Exception:
            continue
        home = work / f"home-{name}"
        cli = prepare_cli(name, port=port, cwd=work / "peer-project", home=home, prompt="")
        if name == "claude":  # no first-run theme picker
            (home / ".claude.json").write_text(json.dumps({"hasCompletedOnboarding": True}))
        out[name] = (" ".join([cli.argv[0], *interactive[name]]), cli.env, cli.cwd)
    # Not a peer: the floor any Textual app starts from here (bench/textual_hello.py).
    hello = f"{sys.executable} {REPO / 'bench' / 'textual_hello.py'}"
    out["textual-hello"] = (
        hello,
        {"PATH": os.environ.get("PATH", ""), "TERM": "xterm-256color"},
        work,
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--peers", action="store_true", help="also time the real CLIs")
    parser.add_argument("--keys", type=int, default=40, help="letters typed for the echo timing")
    parser.add_argument("--launch-only", action="store_true", help="only the launch times")
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed (scripts/test installs it)")
    work = Path(tempfile.mkdtemp(prefix="bridle-tui-bench-"))
    tmux = Tmux()
    try:
        repo = work / "project"
        shutil.copytree(BUGGY, repo)
        shutil.copytree(BUGGY, work / "peer-project")
        subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
        scenario = work / "scenario.json"
        scenario.write_text(json.dumps({"name": "b", "prompt": "p", "final": "ok", "turns": []}))
        sys.path.insert(0, str(REPO / "src"))
        from bridle.mock.server import MockServer

        srv = MockServer(scenario, workdir=work / "peer-project")
        srv.start()
        env = bridle_env(work / "home", srv.base_url)
        others = peers(work, srv.port) if args.peers else {}
        got, peer_times = launches(tmux, repo, env, args.runs, others)
        ready, settled = got["ready"], got["settled"]
        print(
            f"bridle launch: ready for input {ready:.0f} ms (a key typed then shows at "
            f"{got['typed']:.0f} ms); the app itself has the terminal at {got['live']:.0f} ms; "
            f"first stable screen {settled:.0f} ms"
        )
        for name, (ms, first) in peer_times.items():
            print(f"{name}: first stable screen {ms:.0f} ms  [{first}]")
        real = {n: ms for n, (ms, _) in peer_times.items() if n != "textual-hello"}
        if real:
            fastest = min(real, key=real.__getitem__)
            print(
                f"bridle / fastest peer ({fastest}): ready {ready / real[fastest]:.2f}x, "
                f"stable screen {settled / real[fastest]:.2f}x, "
                f"the app itself {got['live'] / real[fastest]:.2f}x"
            )
        if args.launch_only:
            srv.stop()
            return
        numbers = echo(tmux, work, repo, env, args.keys)
        print(
            f"bridle keystroke echo while a long reply streams: median {numbers['median_ms']:.0f} "
            f"ms, p95 {numbers['p95_ms']:.0f} ms, max {numbers['max_ms']:.0f} ms "
            f"({numbers['keys']:.0f} keys typed while it streamed; with nothing streaming, "
            f"the same keys show in {numbers['idle_ms']:.0f} ms)"
        )
        sid = long_session(repo, env)
        numbers = resume(tmux, repo, env, sid, max(1, args.runs // 2))
        print(
            f"bridle -r (a {MESSAGES}-message session): opens in {numbers['open_ms']:.0f} ms, "
            f"peak RSS {numbers['peak_rss_mb']:.0f} MB, idle CPU {numbers['idle_cpu_pct']:.2f}%; "
            f"a page of scrolling repaints in {numbers['scroll_median_ms']:.0f} ms "
            f"(median; max {numbers['scroll_max_ms']:.0f} ms)"
        )
        srv.stop()
    finally:
        tmux.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
