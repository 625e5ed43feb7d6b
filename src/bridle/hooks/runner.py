"""Fire an event: pick the matching handlers, run them in parallel, fold the answers.

`HookRunner.run(event, payload)` selects the handlers whose matcher fits the
event's matcher field and whose `if` rule fits the tool call, runs identical
ones once, runs the rest on threads (each with its own timeout: the handler's
`timeout` or Claude Code's default for its type and event) and returns one
`HookOutcome`. `async: true` command hooks start in the background and their
outcome is picked up later with `collect_async()`. `onFailure: "block"` turns a
crash or time-out into a block on events that can block. SessionStart (and the
other env-file events) get a fresh `CLAUDE_ENV_FILE`; the variables the hooks
export there come back in `outcome.env` for later Bash calls. The engine owns
when events fire and what the outcome changes; this module never raises for a
hook's sake.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from bridle.hooks.config import HookConfig, HookEntry, HookHandler
from bridle.hooks.events import (
    BLOCKING_EVENTS,
    ENV_FILE_EVENTS,
    TOOL_EVENTS,
    default_timeout,
    matcher_value,
)
from bridle.hooks.handlers import Invocation, Judge, McpCall, SdkCall, kill_group, run_handler
from bridle.hooks.matchers import if_matches
from bridle.hooks.outcome import HandlerResult, HookOutcome, aggregate

_MAX_WORKERS = 8


class HookRunner:
    """Runs a session's hooks. Thread-safe; one per session."""

    def __init__(
        self,
        config: HookConfig,
        *,
        project_dir: str | os.PathLike[str],
        session_id: str,
        spill_dir: str | os.PathLike[str] | None = None,
        judge: Judge | None = None,
        mcp_call: McpCall | None = None,
        base_env: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.project_dir = str(project_dir)
        self.session_id = session_id
        self.spill_dir = str(spill_dir) if spill_dir is not None else None
        self.judge = judge
        self.mcp_call = mcp_call
        # Answers `callback` hooks (an Agent SDK application's), set by the front end.
        self.sdk_call: SdkCall | None = None
        self.base_env = dict(os.environ if base_env is None else base_env)
        self._done_once: set[tuple[Any, ...]] = set()
        self._async: queue.Queue[HookOutcome] = queue.Queue()
        self._procs: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._async_threads: list[threading.Thread] = []

    # -- selection ---------------------------------------------------------------------

    def add(self, entries: Sequence[HookEntry]) -> None:
        """More hooks from now on (a loaded skill's, an SDK application's)."""
        self.config = replace(self.config, entries=(*self.config.entries, *entries))

    def has(self, event: str) -> bool:
        """Whether any hook is configured for `event` (cheap; lets callers skip payloads)."""
        return any(e.event == event for e in self.config.entries)

    def select(self, event: str, payload: Mapping[str, Any]) -> list[HookEntry]:
        """The entries that fire for this payload, identical handlers once."""
        value = matcher_value(event, payload)
        chosen: list[HookEntry] = []
        seen: set[tuple[Any, ...]] = set()
        for entry in self.config.for_event(event):
            if value is not None and not entry.matcher.matches(value):
                continue
            handler = entry.handler
            ident = handler.identity()
            if ident in seen or (handler.once and ident in self._done_once):
                continue
            if handler.if_ is not None and not self._if_matches(event, handler.if_, payload):
                continue
            seen.add(ident)
            chosen.append(entry)
        return chosen

    def _if_matches(self, event: str, rule: str, payload: Mapping[str, Any]) -> bool:
        if event not in TOOL_EVENTS:
            return False
        tool_input = payload.get("tool_input")
        try:
            return if_matches(
                rule,
                str(payload.get("tool_name", "")),
                tool_input if isinstance(tool_input, Mapping) else {},
                cwd=str(payload.get("cwd") or self.project_dir),
                project_root=self.project_dir,
            )
        except Exception:
            return True

    # -- running -------------------------------------------------------------------------

    def run(self, event: str, payload: Mapping[str, Any]) -> HookOutcome:
        """Run every matching hook for one event and return the combined outcome."""
        entries = self.select(event, payload)
        if not entries:
            return HookOutcome(event=event)
        env_file = self._env_file(event)
        try:
            sync = [
                e.handler for e in entries if not (e.handler.async_ and e.handler.type == "command")
            ]
            for entry in entries:
                if entry.handler not in sync:
                    self._start_async(event, entry.handler, payload)
            results = self._run_all(event, sync, payload, env_file)
            env = _read_env_file(env_file, self._env()) if env_file else {}
        finally:
            if env_file:
                shutil.rmtree(os.path.dirname(env_file), ignore_errors=True)
        for r in results:
            if r.handler.once and r.status == "ok":
                self._done_once.add(r.handler.identity())
        return aggregate(event, results, spill_dir=self.spill_dir, env=env)

    def _run_all(
        self,
        event: str,
        handlers: Sequence[HookHandler],
        payload: Mapping[str, Any],
        env_file: str | None,
    ) -> list[HandlerResult]:
        if not handlers:
            return []
        if len(handlers) == 1:
            return [self._run_one(event, handlers[0], payload, env_file)]
        with ThreadPoolExecutor(max_workers=min(_MAX_WORKERS, len(handlers))) as pool:
            futures = [pool.submit(self._run_one, event, h, payload, env_file) for h in handlers]
            return [f.result() for f in futures]

    def _run_one(
        self,
        event: str,
        handler: HookHandler,
        payload: Mapping[str, Any],
        env_file: str | None,
        *,
        background: bool = False,
    ) -> HandlerResult:
        timeout = handler.timeout or default_timeout(handler.type, event)
        if background:
            timeout = handler.timeout if handler.async_rewake and handler.timeout else 24 * 3600.0
        inv = Invocation(
            event=event,
            payload=payload,
            cwd=self._cwd(payload),
            env=self._env(handler, env_file),
            timeout=timeout,
            allowed_http_urls=self.config.allowed_http_urls,
            http_allowed_env_vars=self.config.http_allowed_env_vars,
            judge=self.judge,
            mcp_call=self.mcp_call,
            sdk_call=self.sdk_call,
            on_spawn=self._track,
        )
        try:
            result = run_handler(handler, inv)
        finally:
            self._untrack()
        if (
            handler.on_failure == "block"
            and result.status in ("error", "timeout")
            and event in BLOCKING_EVENTS
        ):
            why = f'{handler.label} failed and has onFailure "block": {result.error}'
            result = replace(result, status="blocked", block_reason=why)
        return result

    def _start_async(self, event: str, handler: HookHandler, payload: Mapping[str, Any]) -> None:
        def work() -> None:
            result = self._run_one(event, handler, payload, None, background=True)
            # Async hooks cannot block or decide: keep only what is delivered later.
            result = replace(result, status="ok" if result.status == "blocked" else result.status)
            outcome = aggregate(event, [result], spill_dir=self.spill_dir)
            self._async.put(
                replace(
                    outcome,
                    blocked=False,
                    block_reasons=(),
                    permission_decision=None,
                    continue_=True,
                    updated_input=None,
                )
            )

        thread = threading.Thread(target=work, name=f"hook-async-{event}", daemon=True)
        with self._lock:
            self._async_threads.append(thread)
        thread.start()

    def collect_async(self, wait: float = 0.0) -> list[HookOutcome]:
        """Outcomes of background hooks that finished (waiting up to `wait` seconds)."""
        if wait > 0:
            with self._lock:
                threads = list(self._async_threads)
            for t in threads:
                t.join(wait)
        out: list[HookOutcome] = []
        while True:
            try:
                out.append(self._async.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        """Kill hooks still running (async ones at the end of a headless run)."""
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            if proc.poll() is None:
                kill_group(proc)

    # -- environment -------------------------------------------------------------------

    _local = threading.local()

    def _track(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.add(proc)
        self._local.proc = proc

    def _untrack(self) -> None:
        proc = getattr(self._local, "proc", None)
        if proc is not None:
            with self._lock:
                self._procs.discard(proc)
            self._local.proc = None

    def _cwd(self, payload: Mapping[str, Any]) -> str:
        for candidate in (
            payload.get("cwd"),
            self.project_dir,
            self.base_env.get("HOME"),
            tempfile.gettempdir(),
        ):
            if isinstance(candidate, str) and candidate and os.path.isdir(candidate):
                return candidate
        return "/"

    def _env(
        self, handler: HookHandler | None = None, env_file: str | None = None
    ) -> dict[str, str]:
        env = dict(self.base_env)
        env["CLAUDE_PROJECT_DIR"] = self.project_dir
        env["BRIDLE_SESSION_ID"] = self.session_id
        for name in ("CLAUDE_PLUGIN_ROOT", "CLAUDE_PLUGIN_DATA", "CLAUDE_ENV_FILE"):
            env.pop(name, None)
        if handler is not None and handler.source.plugin_root:
            env["CLAUDE_PLUGIN_ROOT"] = handler.source.plugin_root
            if handler.source.plugin_data:
                Path(handler.source.plugin_data).mkdir(parents=True, exist_ok=True)
                env["CLAUDE_PLUGIN_DATA"] = handler.source.plugin_data
        if env_file:
            env["CLAUDE_ENV_FILE"] = env_file
        return env

    def _env_file(self, event: str) -> str | None:
        if event not in ENV_FILE_EVENTS:
            return None
        directory = tempfile.mkdtemp(prefix="bridle-hook-env-")
        path = os.path.join(directory, "env.sh")
        Path(path).touch()
        return path


def _read_env_file(path: str, base: Mapping[str, str]) -> dict[str, str]:
    """The variables an env file exports, evaluated by a shell against `base`."""
    try:
        if not Path(path).read_text(encoding="utf-8", errors="replace").strip():
            return {}
    except OSError:
        return {}
    shell = shutil.which("bash", path=base.get("PATH")) or shutil.which("sh") or "/bin/sh"
    script = '. "$1" >/dev/null 2>&1; env -0'
    try:
        done = subprocess.run(
            [shell, "-c", script, "hook-env", path],
            env=dict(base),
            capture_output=True,
            timeout=10,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return {}
    after: dict[str, str] = {}
    for item in done.stdout.split(b"\0"):
        name, sep, value = item.partition(b"=")
        if sep and name:
            after[name.decode("utf-8", "surrogateescape")] = value.decode(
                "utf-8", "surrogateescape"
            )
    ignored = {"_", "SHLVL", "PWD", "OLDPWD"}
    return {k: v for k, v in after.items() if k not in ignored and base.get(k) != v}
