"""`bridle plugins` end to end: a marketplace folder is added and listed, its
plugin installed into bridle's folder and enabled in the project's
.claude/settings.json without losing the file's other keys, listed, disabled;
a plugin Claude Code installed (its installed_plugins.json and enabledPlugins in
~/.claude/settings.json) works in a run without a second install; bad input
exits 64 naming the fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bridle.mock.server import MockServer


def bridle(repo: Path, home: Path, *args: str, base_url: str | None = None) -> Any:
    env = dict(os.environ)
    env.pop("BRIDLE_MOCK_SCENARIO", None)
    env.update(BRIDLE_HOME=str(home / "bridle"), HOME=str(home))
    if base_url:
        env["BRIDLE_MOCK_BASE_URL"] = base_url
    return subprocess.run(
        [sys.executable, "-m", "bridle", *args],
        cwd=repo, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def marketplace(root: Path) -> Path:
    write(root / "plugins/tidy/.claude-plugin/plugin.json", '{"name": "tidy", "version": "1.0.0"}')
    write(root / "plugins/tidy/commands/fix.md", "---\ndescription: Fix\n---\nFix $ARGUMENTS\n")
    doc = {
        "name": "team-tools",
        "owner": {"name": "Team"},
        "plugins": [
            {
                "name": "tidy",
                "source": "./plugins/tidy",
                "description": "Tidies code",
                "version": "1.0.0",
            }
        ],
    }
    write(root / ".claude-plugin/marketplace.json", json.dumps(doc))
    return root


def project(tmp: Path) -> Path:
    repo = tmp / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    write(repo / ".claude/settings.json", '{\n  "outputStyle": "default"\n}\n')
    return repo


def test_marketplace_install_enable_list_disable(tmp_path: Path) -> None:
    repo, home = project(tmp_path), tmp_path / "home"
    market = marketplace(tmp_path / "market")
    added = bridle(repo, home, "plugins", "marketplace", "add", str(market))
    assert added.returncode == 0, added.stderr
    assert f"Added marketplace team-tools (1 plugins) from {market}" in added.stdout
    listed = bridle(repo, home, "plugins", "marketplace", "list")
    assert listed.stdout.splitlines() == [
        f"team-tools  {market}",
        "  tidy@team-tools 1.0.0  Tidies code",
    ]
    done = bridle(repo, home, "plugins", "install", "tidy@team-tools", "--scope", "project")
    assert done.returncode == 0, done.stderr
    settings = json.loads((repo / ".claude/settings.json").read_text())
    assert settings == {"outputStyle": "default", "enabledPlugins": {"tidy@team-tools": True}}
    rows = bridle(repo, home, "plugins", "list")
    assert rows.stdout.strip() == "tidy@team-tools  enabled  bridle (user)  1 commands"
    off = bridle(repo, home, "plugins", "disable", "tidy", "--scope", "project")
    assert off.returncode == 0, off.stderr
    assert json.loads((repo / ".claude/settings.json").read_text())["enabledPlugins"] == {
        "tidy@team-tools": False
    }
    assert "tidy@team-tools  disabled" in bridle(repo, home, "plugins", "list").stdout


def test_bad_input_names_the_fix(tmp_path: Path) -> None:
    repo, home = project(tmp_path), tmp_path / "home"
    unknown = bridle(repo, home, "plugins", "enable", "ghost")
    assert unknown.returncode == 64
    assert "no installed plugin named 'ghost'; see `bridle plugins list`" in unknown.stderr
    not_market = bridle(repo, home, "plugins", "marketplace", "add", str(repo))
    assert not_market.returncode == 64
    assert "is not a marketplace: it has no .claude-plugin/marketplace.json" in not_market.stderr
    no_folder = bridle(repo, home, "plugins", "install", str(tmp_path / "nothing"))
    assert no_folder.returncode == 64 and "no such folder" in no_folder.stderr
    assert bridle(repo, home, "plugins", "list").stdout.startswith("No plugins installed.")


def test_a_plugin_claude_code_installed_works_without_a_second_install(tmp_path: Path) -> None:
    repo, home = project(tmp_path), tmp_path / "home"
    cache = home / ".claude/plugins/cache/team-tools/tidy/1.0.0"
    write(cache / ".claude-plugin/plugin.json", '{"name": "tidy", "version": "1.0.0"}')
    write(cache / "commands/fix.md", "Fix $ARGUMENTS carefully.\n")
    record = {"scope": "user", "installPath": str(cache), "version": "1.0.0"}
    write(
        home / ".claude/plugins/installed_plugins.json",
        json.dumps({"version": 2, "plugins": {"tidy@team-tools": [record]}}),
    )
    write(home / ".claude/settings.json", json.dumps({"enabledPlugins": {"tidy@team-tools": True}}))
    rows = bridle(repo, home, "plugins", "list")
    assert rows.stdout.strip() == "tidy@team-tools  enabled  claude (user)  1 commands"
    scenario = write(
        tmp_path / "s.json", json.dumps({"name": "s", "turns": [{"op": "final", "text": "ok"}]})
    )
    with MockServer(scenario, workdir=repo, keep_bodies=True) as srv:
        proc = bridle(
            repo, home, "-p", "/tidy:fix calc.py", "--model", "mock/anthropic",
            base_url=srv.base_url,
        )  # fmt: skip
        bodies = [r["body"] for r in srv.requests if "body" in r]
    assert proc.returncode == 0, proc.stderr
    first = bodies[0]["messages"][0]["content"]
    text = first if isinstance(first, str) else "".join(b.get("text", "") for b in first)
    assert text.strip() == "Fix calc.py carefully."
