"""Other coding CLIs as subagents: `claude`, `codex`, `gemini`, `copilot`, `NAME@ACCOUNT`.

`run_cli` runs the real CLI headless in the project under the account's isolated
config (the same plan `bridle exec`/`launch` use: `accounts.runner`), with the
permission mode mapped onto the CLI's own flags (plan → its read-only mode;
default/acceptEdits → its matching mode; its bypass flag only when bridle itself
runs in bypass), plus settings `agents.external.<cli>.args` and `.model`. It
returns the CLI's final answer. The session the CLI writes is its own (recorded
as `bridle launch` records it), so the history index finds it and it resumes in
that CLI. bridle never reads or forwards the CLI's tokens. A CLI that is not
installed, an unknown account, or an account without that CLI or its login is a
`ToolError` naming the fix.
"""

from __future__ import annotations

import json
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
    """The CLI's headless arguments (after the binary) for `prompt` in `mode`."""
    flags = list(_MODE_FLAGS[tool].get(mode, _MODE_FLAGS[tool]["default"]))
    flags += ["--model", model] if model else []
    if tool == "claude":
        return ["-p", prompt, "--output-format", "json", *flags, *extra]
    if tool == "codex":
        return ["exec", "--skip-git-repo-check", *flags, *extra, prompt]
    return ["-p", prompt, *flags, *extra]


def final_answer(tool: str, stdout: str) -> str:
    """The CLI's final answer from its headless output."""
    if tool == "claude":
        try:
            doc = json.loads(stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return stdout.strip()
        if isinstance(doc, dict) and isinstance(doc.get("result"), str):
            return str(doc["result"])
    return stdout.strip()


def run_cli(host: Any, tool: str, account: str | None, prompt: str, cwd: Path) -> tuple[str, bool]:
    """Run `tool` under `account` (None: the real, native setup); (answer, failed)."""
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
    if not logged_in(tool, prep, host.env):
        raise ToolError(
            f"{spec.display} under account {name!r} is not logged in: run "
            f"`bridle launch {name} {tool}` once and log in, then call the agent again"
        )
    plan = prep.plan
    try:
        done = subprocess.run(
            plan.argv, env=plan.env, cwd=plan.cwd, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, errors="replace",
            timeout=float(conf.get("timeout") or 1800),
        )  # fmt: skip
    except subprocess.TimeoutExpired as e:
        raise ToolError(f"{spec.display} did not finish within {e.timeout:g} s") from e
    finally:
        accounts.finish_launch(prep)
    answer = final_answer(tool, done.stdout)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip()[-2000:]
        return f"{spec.display} exited with code {done.returncode}:\n{tail}", True
    return f"{answer}\n\n({spec.display} under account {name})", False


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
