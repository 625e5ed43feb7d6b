"""The information commands: `--print-config`, `--print-tools-list`, `--doctor`.

Each writes a report to an output stream and returns the exit code; none opens a
session. They ask the engine's pure helpers what a session with the same
options would see (`engine.setup.session_settings`, `session_policy`,
`offered_tools`, `engine.binding.bind_model`), so the report cannot disagree
with a run. This module does not run the agent.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from bridle.core.errors import UsageError
from bridle.engine.options import SessionOptions


def print_config(options: SessionOptions, cwd: Path, env: Mapping[str, str], out: IO[str]) -> int:
    from bridle.engine.setup import session_settings

    settings = session_settings(options, cwd, env)
    out.write(json.dumps(settings.redacted(), indent=2, sort_keys=True) + "\n")
    return 0


def print_tools(options: SessionOptions, cwd: Path, env: Mapping[str, str], out: IO[str]) -> int:
    from bridle.engine.setup import offered_tools, session_policy, session_settings

    settings = session_settings(options, cwd, env)
    for tool in offered_tools(options, session_policy(options, settings, cwd, env)):
        first = tool.description.strip().splitlines()[0]
        out.write(f"{tool.name}\t{first}\n")
    return 0


def doctor(options: SessionOptions, cwd: Path, env: Mapping[str, str], out: IO[str]) -> int:
    """Check Python, the database, helper programs and the model; 1 if any fails."""
    import shutil

    from bridle.config.paths import bridle_home, database_path
    from bridle.engine.binding import bind_model, default_model
    from bridle.engine.setup import session_settings
    from bridle.store.db import open_db

    settings = session_settings(options, cwd, env)
    problems = 0

    def line(ok: bool, what: str, fix: str = "") -> None:
        nonlocal problems
        problems += 0 if ok else 1
        out.write(f"{'ok ' if ok else 'FAIL'}  {what}{'  -> ' + fix if fix and not ok else ''}\n")

    line(
        sys.version_info >= (3, 11),
        f"python {sys.version.split()[0]}",
        "install Python 3.11 or newer",
    )
    home = bridle_home(env)
    try:
        home.mkdir(parents=True, exist_ok=True)
        open_db(database_path(env)).close()
        line(True, f"database {database_path(env)}")
    except Exception as e:
        line(False, f"database {database_path(env)}: {e}", "check BRIDLE_HOME permissions")
    for tool, why in (
        ("git", "diffs, commits, git status"),
        ("rg", "fast Grep (Python fallback otherwise)"),
    ):
        found = shutil.which(tool) or (Path(sys.executable).parent / tool).exists()
        out.write(f"{'ok ' if found else 'warn'}  {tool}: {why}\n")
    try:
        spec = options.model or default_model(settings, env)
        if spec.split("/", 1)[0] == "mock" and not env.get("BRIDLE_MOCK_BASE_URL"):
            # A run starts its own mock server from the scenario; check that instead.
            from bridle.mock.scenario import load_scenario

            path = env.get("BRIDLE_MOCK_SCENARIO") or settings.get("mock.scenario")
            if not path:
                raise UsageError("the mock model needs BRIDLE_MOCK_SCENARIO=path/to/scenario.json")
            load_scenario(Path(path))
            line(True, f"model {spec} (scenario {path})")
        else:
            bind_model(spec, settings, env, None)
            line(True, f"model {spec}")
    except Exception as e:
        line(False, f"model: {e}")
    return 0 if problems == 0 else 1
