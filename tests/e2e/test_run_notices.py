"""What a headless run tells the user about its model (defect 17): the saved
transcript, the session export and the stream-json init line name the model
as `provider/model` once (never `mock/mock/claude`), and `--max-cost` with a
model whose prices are unknown says on stderr that the cap cannot be enforced."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bridle.mock.server import MockServer

ROOT = Path(__file__).resolve().parents[2]
ONE_TURN = ROOT / "bench" / "scenarios" / "one_turn.json"
UNENFORCEABLE = "cannot be enforced"


def bridle(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridle", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        input="",
        timeout=120,
    )


def test_transcript_export_and_init_name_the_provider_once(tmp_path: Path) -> None:
    env = {"BRIDLE_MOCK_SCENARIO": str(ONE_TURN), "BRIDLE_HISTORY_BACKGROUND": "0"}
    run = bridle(
        ["-p", "say hello", "--model", "mock/claude", "--output-format", "stream-json",
         "--save-transcript", "t.md"],
        tmp_path, env,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    init = json.loads(run.stdout.splitlines()[0])
    assert (init["type"], init["subtype"], init["model"]) == ("system", "init", "mock/claude")
    transcript = (tmp_path / "t.md").read_text()
    assert "| Model | mock/claude |" in transcript.splitlines()
    assert "mock/mock" not in transcript
    exported = bridle(["sessions", "export", init["session_id"]], tmp_path, env)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == transcript


def test_max_cost_with_unknown_prices_warns_on_stderr(tmp_path: Path) -> None:
    with MockServer(ONE_TURN) as srv:
        settings = {
            "providers": {
                "local": {"wire": "anthropic-messages", "base_url": srv.base_url, "api_key": "k"}
            }
        }
        args = ["-p", "say hello", "--settings", json.dumps(settings)]
        capped = bridle([*args, "--model", "local/llama", "--max-cost", "0.5"], tmp_path, {})
        assert capped.returncode == 0, capped.stderr
        assert capped.stdout == "Hello from the bridle mock.\n"
        assert capped.stderr == (
            "bridle: prices for local/llama are unknown; --max-cost $0.5 cannot be enforced "
            "(costs count as 0)\n"
        )
        # No cap, or a model the catalog prices: nothing to warn about.
        uncapped = bridle([*args, "--model", "local/llama"], tmp_path, {})
        assert uncapped.returncode == 0 and UNENFORCEABLE not in uncapped.stderr
        priced = bridle(
            ["-p", "say hello", "--model", "mock/anthropic", "--max-cost", "0.5"],
            tmp_path,
            {"BRIDLE_MOCK_BASE_URL": srv.base_url},
        )
        assert priced.returncode == 0 and UNENFORCEABLE not in priced.stderr, priced.stderr
