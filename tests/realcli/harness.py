"""Run the real coding CLIs (Claude Code, Codex, Gemini CLI, Copilot CLI) against a
local mock model server, each in a throwaway HOME, for any test that needs them.

    from tests.realcli.harness import MockProcess, prepare_cli, run_cli, project_copy

    with MockProcess(scenario_file, log=tmp / "mock.jsonl") as mock:
        cli = prepare_cli("codex", port=mock.port, cwd=repo, home=tmp / "home", prompt="fix it")
        done = run_cli(cli)              # subprocess.CompletedProcess, never raises on exit code

`prepare_cli` writes the per-CLI config files into the temp HOME (Codex
`config.toml`, Gemini `settings.json`) and returns the argv and env; it does not
start anything. The settings follow REAL-CLIS.md. `cli_bin` finds the installed
binaries via `BRIDLE_TEST_CLIS` (default: the repo's `.cache/clis/node_modules/.bin`)
and skips the test with a clear reason if they are missing. This module does not
assert anything about what the CLIs did; tests compare files and exit codes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CLIS = REPO / ".cache" / "clis" / "node_modules" / ".bin"
BUGGY_PROJECT = REPO / "examples" / "buggy-project"
CLI_NAMES = ("claude", "codex", "gemini", "copilot")
# Which wire each CLI speaks by default against the mock.
CLI_WIRES = {
    "claude": "anthropic-messages",
    "codex": "openai-responses",
    "gemini": "gemini",
    "copilot": "openai-chat",
}


def clis_dir() -> Path:
    return Path(os.environ.get("BRIDLE_TEST_CLIS") or DEFAULT_CLIS)


def cli_bin(name: str) -> Path:
    """The installed CLI binary, or skip the test saying how to install it."""
    path = clis_dir() / name
    if not path.exists():
        if os.environ.get("BRIDLE_TEST_CLIS"):
            # scripts/test installed them: a missing binary is a broken setup.
            pytest.fail(f"real CLI {name!r} missing at {path} although BRIDLE_TEST_CLIS is set")
        pytest.skip(
            f"real CLI {name!r} not installed at {path}: run scripts/test (it installs "
            "tests/clis/package.json) or set BRIDLE_TEST_CLIS to the node_modules/.bin dir"
        )
    return path


def shared_xdg_cache() -> Path:
    """Copilot unpacks ~235 MB on first run; share that cache between runs."""
    path = Path(os.environ.get("XDG_CACHE_HOME_SHARED") or REPO / ".cache" / "xdg")
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class CliRun:
    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    home: Path


def _base_env(home: Path) -> dict[str, str]:
    tmp = home / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    keep = ("PATH", "LANG", "LC_ALL", "TERM", "SYSTEMROOT")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["PATH"] = os.pathsep.join(
        [str(Path(sys.executable).parent), env.get("PATH", "/usr/bin:/bin")]
    )
    env.update(
        HOME=str(home),
        TMPDIR=str(tmp),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        NO_COLOR="1",
        CI="1",
    )
    return env


def prepare_cli(
    name: str, *, port: int, cwd: Path, home: Path, prompt: str, wire: str | None = None
) -> CliRun:
    """Config files, env and argv for one CLI pointed at a mock on 127.0.0.1:`port`.

    `wire` picks Copilot's provider type (`openai-chat`, `anthropic-messages` or
    `openai-responses`); the other CLIs speak exactly one wire each.
    """
    binary = str(cli_bin(name))
    home.mkdir(parents=True, exist_ok=True)
    env = _base_env(home)
    url = f"http://127.0.0.1:{port}"
    if name == "claude":
        env.update(
            ANTHROPIC_BASE_URL=url,
            ANTHROPIC_API_KEY="x",
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
            DISABLE_TELEMETRY="1",
            DISABLE_AUTOUPDATER="1",
            IS_SANDBOX="1",  # needed with --dangerously-skip-permissions when running as root
        )
        argv = [binary, "-p", prompt, "--dangerously-skip-permissions"]
    elif name == "codex":
        codex_home = home / ".codex"
        codex_home.mkdir(parents=True, exist_ok=True)
        (codex_home / "config.toml").write_text(
            'model_provider = "fake"\nmodel = "mock"\ncheck_for_update_on_startup = false\n'
            "[analytics]\nenabled = false\n"
            f'[model_providers.fake]\nname = "fake"\nbase_url = "{url}/v1"\n'
            'env_key = "FAKE_KEY"\nwire_api = "responses"\n',
            encoding="utf-8",
        )
        env.update(CODEX_HOME=str(codex_home), FAKE_KEY="x")
        argv = [
            binary,
            "exec",
            "--dangerously-bypass-approvals-and-sandbox",
            "--skip-git-repo-check",
            prompt,
        ]
    elif name == "gemini":
        settings = home / ".gemini" / "settings.json"
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text(
            json.dumps(
                {
                    "security": {"auth": {"selectedType": "gemini-api-key"}},
                    "privacy": {"usageStatisticsEnabled": False},
                    "general": {"enableAutoUpdate": False},
                }
            ),
            encoding="utf-8",
        )
        env.update(
            GOOGLE_GEMINI_BASE_URL=url, GEMINI_API_KEY="x", GEMINI_CLI_TRUST_WORKSPACE="true"
        )
        argv = [binary, "-p", prompt, "--yolo"]
    elif name == "copilot":
        kind = wire or "openai-chat"
        env.update(
            COPILOT_PROVIDER_API_KEY="x",
            COPILOT_MODEL="gpt-4.1",
            COPILOT_OFFLINE="true",
            COPILOT_AUTO_UPDATE="false",
            XDG_CACHE_HOME=str(shared_xdg_cache()),
        )
        if kind == "anthropic-messages":
            env.update(COPILOT_PROVIDER_TYPE="anthropic", COPILOT_PROVIDER_BASE_URL=url)
        else:
            env.update(COPILOT_PROVIDER_TYPE="openai", COPILOT_PROVIDER_BASE_URL=url + "/v1")
            if kind == "openai-responses":
                env["COPILOT_PROVIDER_WIRE_API"] = "responses"
        argv = [binary, "-p", prompt, "--allow-all-tools"]
    else:
        raise ValueError(f"unknown CLI {name!r}; known: {', '.join(CLI_NAMES)}")
    return CliRun(name=name, argv=argv, env=env, cwd=cwd, home=home)


def run_cli(cli: CliRun, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run the CLI to completion with stdin closed; the exit code is left to the test."""
    return subprocess.run(
        cli.argv,
        cwd=cli.cwd,
        env=cli.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def project_copy(dest: Path, source: Path = BUGGY_PROJECT) -> Path:
    """A git repository holding a copy of `source` (default: examples/buggy-project)."""
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__", "scenario.json"))
    git = ["git", "-C", str(dest), "-c", "user.email=t@example.com", "-c", "user.name=Test"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(dest)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "initial"], check=True)
    return dest


class MockProcess:
    """`python -m bridle mock serve` as a subprocess; `port` is read from its first line."""

    def __init__(
        self, scenario: Path, *, log: Path, workdir: Path | None = None, extra: tuple[str, ...] = ()
    ):
        self.argv = [
            sys.executable,
            "-m",
            "bridle",
            "mock",
            "serve",
            "--scenario",
            str(scenario),
            "--log",
            str(log),
        ]
        if workdir is not None:
            self.argv += ["--workdir", str(workdir)]
        self.argv += list(extra)
        self.log = log
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> MockProcess:
        self.proc = subprocess.Popen(
            self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline().strip()
        if not first.startswith("PORT="):
            self.proc.kill()
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise RuntimeError(f"mock server did not start: {first!r} {err}")
        self.port = int(first[len("PORT=") :])
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def requests(self) -> list[dict[str, object]]:
        """The mock's request log so far (one dict per request)."""
        deadline = time.monotonic() + 2
        while not self.log.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not self.log.exists():
            return []
        return [
            json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines() if line
        ]
