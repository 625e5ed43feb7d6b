"""`bridle models`: the catalog listing, key presence (never values), --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridle.cli.models import models


@pytest.fixture
def in_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(models, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_json_lists_every_model_with_prices_and_key_state(in_project: Path) -> None:
    code, out = run("--json", env={"DEEPSEEK_API_KEY": "sk-secret-value-123"})
    assert code == 0
    rows = json.loads(out)
    by_ref = {r["ref"]: r for r in rows}
    assert by_ref["deepseek/deepseek-chat"] == {
        "provider": "deepseek",
        "model": "deepseek-chat",
        "ref": "deepseek/deepseek-chat",
        "aliases": ["deepseek-v3", "deepseek-v3.2"],
        "snapshots": [],
        "wire": "openai-chat",
        "base_url": "https://api.deepseek.com/v1",
        "context_window": 1000000,
        "max_output": 384000,
        # DeepSeek bills no separate cache write: it costs what input costs.
        "prices": {"input": 0.28, "output": 1.12, "cache_read": 0.0056, "cache_write": 0.28},
        "key": {
            "needed": True,
            "present": True,
            "source": "env:DEEPSEEK_API_KEY",
            "env_vars": ["DEEPSEEK_API_KEY"],
        },
        "custom": False,
    }
    assert by_ref["anthropic/claude-sonnet-4-5"]["key"]["present"] is False
    assert by_ref["ollama/gpt-oss:20b"]["key"] == {
        "needed": False,
        "present": False,
        "source": None,
        "env_vars": ["OLLAMA_API_KEY"],
    }
    assert {r["provider"] for r in rows} >= {
        "anthropic",
        "openai",
        "altllm",
        "zhipu",
        "moonshot",
        "minimax",
        "qwen",
        "gemini",
        "mock",
    }
    assert "sk-secret-value-123" not in out


def test_provider_filter_accepts_aliases(in_project: Path) -> None:
    code, out = run("--json", "--provider", "kimi")
    assert code == 0
    assert {r["provider"] for r in json.loads(out)} == {"moonshot"}


def test_unknown_provider_is_a_usage_error(in_project: Path) -> None:
    result = CliRunner().invoke(models, ["--provider", "nope"])
    assert result.exit_code == 2  # click's own code; `bridle` maps UsageError to 64
    assert "unknown provider 'nope'; known: anthropic, openai" in result.output


def test_settings_custom_provider_and_override_show_up(in_project: Path) -> None:
    (in_project / ".bridle").mkdir()
    (in_project / ".bridle" / "settings.json").write_text(
        '{"providers": {"acme": {"wire": "gemini", "base_url": "https://acme.example", "api_key": "$ACME_SECRET"},'
        ' "zhipu": {"base_url": "https://open.bigmodel.cn/api/anthropic"}}}'
    )
    code, out = run("--json", env={"ACME_SECRET": "top-secret-acme-key"})
    assert code == 0
    rows = json.loads(out)
    acme = [r for r in rows if r["provider"] == "acme"]
    assert acme == [
        {
            "provider": "acme",
            "model": None,
            "ref": "acme",
            "aliases": [],
            "snapshots": [],
            "wire": "gemini",
            "base_url": "https://acme.example",
            "context_window": None,
            "max_output": None,
            "prices": None,
            "key": {
                "needed": True,
                "present": True,
                "source": "settings",
                "env_vars": ["ACME_API_KEY"],
            },
            "custom": True,
        }
    ]
    glm = next(r for r in rows if r["ref"] == "zhipu/glm-4.7")
    assert (glm["wire"], glm["base_url"]) == (
        "anthropic-messages",
        "https://open.bigmodel.cn/api/anthropic",
    )
    assert "top-secret-acme-key" not in out


def test_table_output(in_project: Path) -> None:
    code, out = run("--provider", "deepseek", env={"DEEPSEEK_API_KEY": "sk-hidden-1"})
    lines = out.splitlines()
    assert code == 0
    assert lines[0].split() == [
        "MODEL",
        "WIRE",
        "CONTEXT",
        "MAX",
        "OUT",
        "$IN",
        "$OUT",
        "$CACHE",
        "R",
        "$CACHE",
        "W",
        "KEY",
    ]
    row = next(line for line in lines if line.startswith("deepseek/deepseek-chat "))
    assert row.split() == [
        "deepseek/deepseek-chat",
        "openai-chat",
        "1M",
        "384k",
        "0.28",
        "1.12",
        "0.0056",
        "0.28",
        "yes",
        "(env:DEEPSEEK_API_KEY)",
    ]
    assert lines[-1] == "Prices: USD per million tokens. - = unknown. Keys are never printed."
    assert "sk-hidden-1" not in out
    code, out = run("--provider", "anthropic")
    assert "no (set ANTHROPIC_API_KEY)" in out


def test_bad_settings_file_reports_file_and_key(in_project: Path) -> None:
    (in_project / ".bridle").mkdir()
    path = in_project / ".bridle" / "settings.json"
    path.write_text('{"providers": {"deepseek": {"wire": "carrier-pigeon"}}}')
    result = CliRunner().invoke(models, ["--json"])
    assert result.exit_code != 0
    assert str(result.exception).startswith(
        f"{path}: providers.deepseek.wire: unknown wire 'carrier-pigeon'"
    )


def test_bridle_models_json_in_a_fresh_process_imports_no_httpx(in_project: Path) -> None:
    code = (
        "import sys; from bridle.cli.main import main\n"
        "try:\n    main(['models', '--json'])\nexcept SystemExit:\n    pass\n"
        "print('HEAVY', sorted(m for m in ('httpx', 'textual', 'fastapi', 'pydantic') if m in sys.modules), file=sys.stderr)\n"
    )
    env = {**os.environ, "GROQ_API_KEY": "gsk-xyz"}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=in_project,
        check=True,
    )
    rows = json.loads(proc.stdout)
    assert any(r["ref"] == "groq/llama-3.3-70b-versatile" and r["key"]["present"] for r in rows)
    assert "HEAVY []" in proc.stderr
