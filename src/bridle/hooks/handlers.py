"""Running one hook handler: command, http, prompt and mcp_tool.

A command hook runs through `sh -c` (shell form) or directly with `args`
(exec form, placeholders substituted as plain strings) in its own process
group, gets the event JSON on stdin and the hook environment
(`CLAUDE_PROJECT_DIR`, `CLAUDE_PLUGIN_ROOT`, `CLAUDE_PLUGIN_DATA`,
`CLAUDE_ENV_FILE`, `BRIDLE_SESSION_ID`); at its timeout the whole group is
killed. An http hook POSTs the same JSON with urllib, expanding `$VAR`/`${VAR}`
in headers only for names in `allowedEnvVars`. A prompt hook asks the judge the
engine passes in, an mcp_tool hook calls the engine's MCP client, and a callback
hook (a Claude Agent SDK application's Python function) is asked over the SDK's
control channel, its answer read as JSON output. Every failure
(missing script, crash, garbage, time-out, refused connection, exception) comes
back as a `HandlerResult` with the reason; nothing here raises.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bridle.hooks.config import HookHandler
from bridle.hooks.outcome import HandlerResult, interpret

Judge = Callable[[str, str | None], tuple[bool, str]]
McpCall = Callable[[str, str, dict[str, Any]], Any]
# (callback_id, hook input, timeout) -> the callback's JSON output; raises when the
# callback failed, TimeoutError when it did not answer in time.
SdkCall = Callable[[str, Mapping[str, Any], float], Any]

_PLACEHOLDER = re.compile(r"\$\{(CLAUDE_PROJECT_DIR|CLAUDE_PLUGIN_ROOT|CLAUDE_PLUGIN_DATA)\}")
_ENV_REF = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_INPUT_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.]*)\}")


@dataclass
class Invocation:
    """Everything one handler run needs besides the handler itself."""

    event: str
    payload: Mapping[str, Any]
    cwd: str
    env: dict[str, str]
    timeout: float
    allowed_http_urls: Sequence[str] | None = None
    http_allowed_env_vars: Sequence[str] | None = None
    judge: Judge | None = None
    mcp_call: McpCall | None = None
    sdk_call: SdkCall | None = None
    on_spawn: Callable[[subprocess.Popen[bytes]], None] | None = None
    body: bytes = field(init=False, default=b"")

    def __post_init__(self) -> None:
        self.body = json.dumps(self.payload, ensure_ascii=False).encode("utf-8", "surrogatepass")


def run_handler(handler: HookHandler, inv: Invocation) -> HandlerResult:
    """Run one handler to completion (or its timeout); never raises."""
    start = time.monotonic()
    try:
        if handler.type == "command":
            result = _command(handler, inv)
        elif handler.type == "http":
            result = _http(handler, inv)
        elif handler.type == "prompt":
            result = _prompt(handler, inv)
        elif handler.type == "mcp_tool":
            result = _mcp(handler, inv)
        elif handler.type == "callback":
            result = _callback(handler, inv)
        else:
            result = _failed(handler, f"{handler.type} hooks are not supported")
    except Exception as exc:
        result = _failed(handler, f"could not run: {type(exc).__name__}: {exc}")
    ms = int((time.monotonic() - start) * 1000)
    return replace(result, duration_ms=ms)


def _failed(handler: HookHandler, why: str, status: str = "error", **kw: Any) -> HandlerResult:
    return HandlerResult(handler=handler, status=status, error=why, **kw)  # type: ignore[arg-type]


# -- command -----------------------------------------------------------------------


def substitute(text: str, env: Mapping[str, str]) -> str:
    """Expand the path placeholders Claude Code substitutes into exec-form hooks."""
    return _PLACEHOLDER.sub(lambda m: env.get(m.group(1), ""), text)


def _argv(handler: HookHandler, env: Mapping[str, str]) -> list[str] | str:
    """The argv to spawn, or an error message."""
    assert handler.command is not None
    if handler.args is None:
        shell = shutil.which("sh", path=env.get("PATH")) or "/bin/sh"
        return [shell, "-c", handler.command]
    command = substitute(handler.command, env)
    if "/" in command:
        if not os.path.exists(command):
            return f"{command}: No such file or directory"
        exe: str | None = command
    else:
        exe = shutil.which(command, path=env.get("PATH"))
    if exe is None:
        return f"{command}: command not found"
    return [exe, *(substitute(a, env) for a in handler.args)]


def _command(handler: HookHandler, inv: Invocation) -> HandlerResult:
    argv = _argv(handler, inv.env)
    if isinstance(argv, str):
        return _failed(handler, argv)
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=inv.cwd,
            env=inv.env,
            start_new_session=True,  # its own group, no controlling terminal
        )
    except OSError as exc:
        return _failed(handler, f"cannot start {argv[0]}: {exc.strerror or exc}")
    if inv.on_spawn is not None:
        inv.on_spawn(proc)
    try:
        out, err = proc.communicate(inv.body, timeout=inv.timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        return _failed(
            handler,
            f"timed out after {inv.timeout:g}s; its process group was killed",
            status="timeout",
        )
    stdout = out.decode("utf-8", errors="replace")
    stderr = err.decode("utf-8", errors="replace")
    return interpret(inv.event, handler, proc.returncode, stdout, stderr)


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill a hook's whole process group and reap it without waiting on stray pipes."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.communicate(timeout=2)
    except (subprocess.TimeoutExpired, ValueError, OSError):
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass


# -- http --------------------------------------------------------------------------


def expand_header(value: str, allowed: Sequence[str], env: Mapping[str, str]) -> str:
    """`$VAR`/`${VAR}` from `env` for names in `allowed`; other references become ''."""

    def one(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        return env.get(name, "") if name in allowed else ""

    return _ENV_REF.sub(one, value)


def url_allowed(url: str, patterns: Sequence[str] | None) -> bool:
    if patterns is None:
        return True
    return any(fnmatch.fnmatchcase(url, p) for p in patterns)


def _http(handler: HookHandler, inv: Invocation) -> HandlerResult:
    assert handler.url is not None
    if not url_allowed(handler.url, inv.allowed_http_urls):
        return _failed(handler, f"{handler.url} is not in allowedHttpHookUrls")
    allowed = [
        n
        for n in handler.allowed_env_vars
        if inv.http_allowed_env_vars is None or n in inv.http_allowed_env_vars
    ]
    headers = {"Content-Type": "application/json"}
    for name, value in handler.headers:
        headers[name] = expand_header(value, allowed, inv.env)
    request = urllib.request.Request(handler.url, data=inv.body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=inv.timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        return _failed(handler, f"HTTP {exc.code} from {handler.url}", exit_code=exc.code)
    except TimeoutError:
        return _failed(handler, f"timed out after {inv.timeout:g}s", status="timeout")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            return _failed(handler, f"timed out after {inv.timeout:g}s", status="timeout")
        return _failed(handler, f"cannot reach {handler.url}: {reason}")
    body = raw.decode("utf-8", errors="replace")
    if not 200 <= status < 300:
        return _failed(handler, f"HTTP {status} from {handler.url}", exit_code=status)
    stripped = body.strip()
    if stripped and not (stripped.startswith("{") and stripped.endswith("}")):
        return _failed(handler, "the HTTP hook answered with a body that is not a JSON object")
    result = interpret(inv.event, handler, 0, body, "")
    return replace(result, text=None)


# -- prompt and mcp_tool -------------------------------------------------------------


def _with_timeout(call: Callable[[], Any], timeout: float) -> tuple[bool, Any]:
    """(finished, value or exception) of `call` run on a daemon thread."""
    box: list[Any] = []

    def target() -> None:
        try:
            box.append((True, call()))
        except Exception as exc:
            box.append((False, exc))

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if not box:
        return False, None
    ok, value = box[0]
    return True, value if ok else _Raised(value)


@dataclass(frozen=True)
class _Raised:
    """The exception a call raised, carried out of the worker thread `_with_timeout` runs it in."""

    exc: BaseException


def prompt_text(template: str, payload_json: str) -> str:
    """`$ARGUMENTS` becomes the input JSON (appended when absent); `\\$` is a literal $."""
    marker = "\x00dollar\x00"
    text = template.replace("\\$", marker)
    text = (
        text.replace("$ARGUMENTS", payload_json)
        if "$ARGUMENTS" in text
        else (f"{text}\n\n{payload_json}")
    )
    return text.replace(marker, "$")


def _prompt(handler: HookHandler, inv: Invocation) -> HandlerResult:
    assert handler.prompt is not None
    if inv.judge is None:
        return _failed(handler, "no model is available to judge prompt hooks in this session")
    text = prompt_text(handler.prompt, inv.body.decode("utf-8", "replace"))
    judge = inv.judge
    done, value = _with_timeout(lambda: judge(text, handler.model), inv.timeout)
    if not done:
        return _failed(handler, f"timed out after {inv.timeout:g}s", status="timeout")
    if isinstance(value, _Raised):
        return _failed(handler, f"the judge failed: {type(value.exc).__name__}: {value.exc}")
    try:
        ok, reason = bool(value[0]), str(value[1] or "")
    except (TypeError, IndexError):
        return _failed(handler, "the judge did not answer (ok, reason)")
    if ok or inv.event in ("PermissionRequest", "PermissionDenied"):
        return HandlerResult(handler=handler, status="ok", exit_code=0)
    reason = reason or "the prompt hook said no"
    output: dict[str, Any]
    if inv.event == "PreToolUse":
        output = {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": reason,
            }
        }
    elif inv.event == "PostToolUseFailure":
        return HandlerResult(handler=handler, status="ok", exit_code=0, feedback=reason)
    else:
        output = {"decision": "block", "reason": reason}
    return HandlerResult(handler=handler, status="ok", exit_code=0, output=output)


def _lookup(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, Mapping) or part not in data:
            return None
        data = data[part]
    return data


def mcp_arguments(template: str | None, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The tool arguments: string values get `${path}` from the hook input."""
    if not template:
        return {}

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            whole = _INPUT_REF.fullmatch(value)
            if whole:
                found = _lookup(payload, whole.group(1))
                return "" if found is None else found
            return _INPUT_REF.sub(
                lambda m: "" if (v := _lookup(payload, m.group(1))) is None else str(v), value
            )
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    filled = fill(json.loads(template))
    return filled if isinstance(filled, dict) else {}


def _mcp_text(value: Any) -> tuple[str, bool]:
    """(text, is_error) from what the MCP client returned."""
    if isinstance(value, str):
        return value, False
    if isinstance(value, tuple) and len(value) == 2:
        return str(value[0]), bool(value[1])
    if isinstance(value, Mapping):
        parts = value.get("content") or []
        text = "".join(
            str(p.get("text", ""))
            for p in parts
            if isinstance(p, Mapping) and p.get("type") == "text"
        )
        return text, bool(value.get("isError"))
    return str(value), False


def _mcp(handler: HookHandler, inv: Invocation) -> HandlerResult:
    assert handler.server is not None and handler.tool is not None
    if inv.mcp_call is None:
        return _failed(
            handler, f"no MCP client in this session; cannot call {handler.server}/{handler.tool}"
        )
    args = mcp_arguments(handler.input, inv.payload)
    call = inv.mcp_call
    server, tool = handler.server, handler.tool
    done, value = _with_timeout(lambda: call(server, tool, args), inv.timeout)
    if not done:
        return _failed(handler, f"timed out after {inv.timeout:g}s", status="timeout")
    if isinstance(value, _Raised):
        return _failed(handler, f"{server}/{tool} failed: {type(value.exc).__name__}: {value.exc}")
    text, is_error = _mcp_text(value)
    if is_error:
        return _failed(handler, f"{server}/{tool} returned an error: {text[:200]}")
    return interpret(inv.event, handler, 0, text, "")


# -- Agent SDK callbacks -------------------------------------------------------------


def _callback(handler: HookHandler, inv: Invocation) -> HandlerResult:
    assert handler.callback_id is not None
    if inv.sdk_call is None:
        return _failed(handler, "no Agent SDK connection in this session to call it back")
    try:
        output = inv.sdk_call(handler.callback_id, inv.payload, inv.timeout)
    except TimeoutError:
        return _failed(handler, f"timed out after {inv.timeout:g}s", status="timeout")
    except Exception as exc:
        return _failed(handler, f"the SDK callback failed: {exc}")
    if not isinstance(output, Mapping):
        return _failed(handler, "the SDK callback did not answer with a JSON object")
    return interpret(inv.event, handler, 0, json.dumps(output, ensure_ascii=False), "")
