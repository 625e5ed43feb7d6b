"""Other coding CLIs as subagents: `claude`, `codex`, `gemini`, `copilot`, `NAME@ACCOUNT`.

`run_cli` runs the real CLI headless in the project under the account's isolated
config (the same plan `bridle exec`/`launch` use: `accounts.runner`), with the
permission mode mapped onto the CLI's own flags (plan → its read-only mode;
default/acceptEdits → its matching mode; its bypass flag only when bridle itself
runs in bypass), plus settings `agents.external.<cli>.args` and `.model`. The CLI
runs in its streaming JSON mode, read by `engine.cli_stream`: each tool call it
starts is told to the parent's front end as a one-line notice (the `Relay` bridle's
own subagents use), its reported cost and tokens are charged to the parent, and
its final answer is returned. Its process group is ended when a background agent
is stopped (`Tasks` op), the parent's turn is interrupted, or it times out
(`agents.external.<cli>.timeout`, 1800 s). The session the CLI writes is its own (recorded
as `bridle launch` records it), so the history index finds it and it resumes in
that CLI. bridle never reads or forwards the CLI's tokens. A CLI that is not
installed, an unknown account, or an account without that CLI or its login is a
`ToolError` naming the fix.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

from bridle.core.errors import ToolError, UserError

# Permission mode → the CLI's flags. Codex `exec` and the others never prompt in
# headless runs, so "default" means the CLI's own non-bypassing default.
_MODE_FLAGS: dict[str, dict[str, list[str]]] = {
    "claude": {
        "plan": ["--permission-mode", "plan"],
        "default": ["--permission-mode", "default"],
        "acceptEdits": ["--permission-mode", "acceptEdits"],
        "dontAsk": ["--permission-mode", "dontAsk"],
        "bypassPermissions": ["--dangerously-skip-permissions"],
    },
    "codex": {
        "plan": ["--sandbox", "read-only"],
        "default": ["--sandbox", "workspace-write"],
        "acceptEdits": ["--sandbox", "workspace-write"],
        "dontAsk": ["--sandbox", "workspace-write"],
        "bypassPermissions": ["--dangerously-bypass-approvals-and-sandbox"],
    },
    "gemini": {
        "plan": ["--approval-mode", "plan"],
        "default": ["--approval-mode", "default"],
        "acceptEdits": ["--approval-mode", "auto_edit"],
        "dontAsk": ["--approval-mode", "default"],
        "bypassPermissions": ["--yolo"],
    },
    "copilot": {
        "plan": ["--deny-tool", "write", "--deny-tool", "shell"],
        "default": [],
        "acceptEdits": ["--allow-tool", "write"],
        "dontAsk": [],
        "bypassPermissions": ["--allow-all-tools"],
    },
}
# Environment variables that log a CLI in without a credential file.
_KEY_VARS = {
    "claude": ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"),
    "codex": ("OPENAI_API_KEY", "CODEX_API_KEY"),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI"),
    "copilot": ("COPILOT_PROVIDER_API_KEY", "GH_TOKEN", "GITHUB_TOKEN", "COPILOT_GITHUB_TOKEN"),
}


def cli_argv(tool: str, prompt: str, mode: str, extra: list[str], model: str | None) -> list[str]:
    """The CLI's headless arguments (after the binary) for `prompt` in `mode`, in its
    streaming JSON mode (`engine.cli_stream.STREAM_FLAGS`)."""
    from bridle.engine.cli_stream import STREAM_FLAGS

    flags = list(_MODE_FLAGS[tool].get(mode, _MODE_FLAGS[tool]["default"]))
    flags += ["--model", model] if model else []
    stream = STREAM_FLAGS[tool]
    if tool == "codex":
        return ["exec", "--skip-git-repo-check", *stream, *flags, *extra, prompt]
    return ["-p", prompt, *stream, *flags, *extra]


def final_answer(tool: str, stdout: str) -> str:
    """The CLI's final answer from its whole headless output."""
    from bridle.engine.cli_stream import CliStream

    stream = CliStream(tool, lambda *_a, **_k: None)
    for line in stdout.splitlines():
        stream.line(line)
    return stream.answer()


def run_cli(
    host: Any, tool: str, account: str | None, prompt: str, cwd: Path, description: str = ""
) -> tuple[str, bool]:
    """Run `tool` under `account` (None: the real, native setup); (answer, failed).
    Each tool call it makes is told to the parent's front end as it starts; its
    reported cost and tokens are charged to the parent."""
    from bridle.accounts.runner import Accounts, Request
    from bridle.accounts.specs import TOOLS
    from bridle.accounts.store import NATIVE

    spec = TOOLS[tool]
    name = account or NATIVE
    accounts = Accounts(host.env, cwd)
    conf = host.settings.get(f"agents.external.{tool}") if host.settings else None
    conf = conf if isinstance(conf, dict) else {}
    extra = [str(a) for a in conf.get("args") or []]
    mode = str(host.policy.mode)
    argv = cli_argv(tool, prompt, mode, extra, conf.get("model"))
    try:
        prep = accounts.prepare_launch(Request(account=name, tool=tool, args=argv))
    except UserError as e:
        fix = f"`bridle accounts add {name} --provider {tool}`" if account else "install it"
        raise ToolError(f"cannot run {spec.display} as an agent: {e} ({fix})") from e
    try:
        if not logged_in(tool, prep, host.env):
            raise ToolError(
                f"{spec.display} under account {name!r} is not logged in: run "
                f"`bridle launch {name} {tool}` once and log in, then call the agent again"
            )
        label = f"{description or tool} agent ({tool})"
        run = _Run(tool, label, host, float(conf.get("timeout") or 1800))
        code, stderr, stream = run.start(prep.plan)
    finally:
        accounts.finish_launch(prep)
    from bridle.core.messages import Usage

    tokens = stream.tokens
    usage = Usage(input_tokens=tokens[0], output_tokens=tokens[1],
                  cache_read_tokens=tokens[2], cache_write_tokens=tokens[3])  # fmt: skip
    host.charge(usage, stream.cost or 0.0)
    if run.why is not None:
        return f"{spec.display} {run.why}; it was ended (its whole process group).", True
    if code != 0 or stream.is_error:
        tail = (stderr or "\n".join([*stream.errors, *stream.lines])).strip()[-2000:]
        return f"{spec.display} exited with code {code}:\n{tail}", True
    return f"{stream.answer()}\n\n({spec.display} under account {name})", False


class _Run:
    """The CLI's process: its stdout read as it streams (each tool call told to the
    parent's front end), ended with its process group on a stop, the parent's
    interrupt or the timeout."""

    def __init__(self, tool: str, label: str, host: Any, timeout: float) -> None:
        self.tool, self.label, self.host, self.timeout = tool, label, host, timeout
        self.why: str | None = None  # why it was ended early

    def emit(self, kind: str, **fields: Any) -> None:
        relay = self.host.relay
        if relay is None or kind != "assistant_message":
            return
        from bridle.engine import events as ev
        from bridle.engine.cli_stream import call_line

        for call in fields.get("tool_calls") or []:
            relay.tell(ev.Notice(f"{self.label}: {call_line(call)}", "subagent"))

    def start(self, plan: Any) -> tuple[int, str, Any]:
        """Run `plan` to its end; (exit code, stderr, the `CliStream`)."""
        import tempfile
        import threading

        from bridle.engine.cli_stream import CliStream

        stream = CliStream(self.tool, self.emit)
        with tempfile.TemporaryFile("w+", errors="replace") as err:
            proc = subprocess.Popen(
                plan.argv, env=plan.env, cwd=plan.cwd, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=err, text=True, errors="replace",
                start_new_session=True,  # its own process group, ended as one
            )  # fmt: skip
            done = threading.Event()
            watcher = threading.Thread(target=self._watch, args=(proc, done), daemon=True)
            watcher.start()
            try:
                assert proc.stdout is not None
                for line in proc.stdout:
                    stream.line(line)
                code = proc.wait()
            finally:
                done.set()
                if proc.poll() is None:
                    _kill(proc, signal.SIGKILL)
                    proc.wait()
                watcher.join()
            err.seek(0)
            return code, err.read(), stream

    def _watch(self, proc: subprocess.Popen[str], done: Any) -> None:
        """End the CLI when its background job is stopped, the parent's turn is
        interrupted (a foreground agent) or it runs past the timeout."""
        import time

        stop = self.host.stop["stop"] if self.host.stop is not None else None
        engine = self.host.engine if self.host.relay is not None else None
        cancel = engine.dispatcher.ctx.cancel if engine is not None else None
        deadline = time.monotonic() + self.timeout
        while not done.wait(0.05):
            if stop is not None and stop.is_set():
                self.why = "was stopped"
            elif cancel is not None and cancel.is_set():
                self.why = "was interrupted"
            elif time.monotonic() > deadline:
                self.why = f"did not finish within {self.timeout:g} s"
            else:
                continue
            _kill(proc, signal.SIGTERM)
            if not done.wait(3):  # it ignored SIGTERM
                _kill(proc, signal.SIGKILL)
            return


def _kill(proc: subprocess.Popen[str], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except OSError:
        pass


def logged_in(tool: str, prep: Any, env: dict[str, str]) -> bool:
    """A credential file in the account's config, a key in the environment, or
    (Codex) a config that names its own provider."""
    if any(prep.plan.env.get(v) for v in _KEY_VARS[tool]):
        return True
    from bridle.accounts.specs import TOOLS

    spec = TOOLS[tool]
    folder = prep.paths.tool_dir(spec) if prep.account else prep.paths.primary_dir(spec)
    if any((Path(folder) / f).is_file() for f in spec.credential_files if f != ".claude.json"):
        return True
    if tool == "claude":
        data = Path(folder) / ".claude.json"
        try:
            return bool(json.loads(data.read_text()).get("oauthAccount"))
        except (OSError, ValueError):
            return False
    if tool == "codex":
        config = Path(folder) / "config.toml"
        return config.is_file() and "model_provider" in config.read_text(errors="replace")
    return False
