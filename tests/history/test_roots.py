"""Which session stores are indexed: each tool's own variable for its config dir,
every account's own dirs, and the same answer from inside an account's context."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bridle.history.resume import plan_resume
from bridle.history.roots import MARKERS, Root, all_roots, real_home
from bridle.history.search import list_sessions

from .helpers import FIXTURES, index, install


def make(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.parametrize(
    ("tool", "var", "value", "config_dir"),
    [
        ("claude", "CLAUDE_CONFIG_DIR", "cfg/claude", "cfg/claude"),
        ("codex", "CODEX_HOME", "cfg/codex", "cfg/codex"),
        ("gemini", "GEMINI_CLI_HOME", "cfg/ghome", "cfg/ghome/.gemini"),
        ("copilot", "COPILOT_HOME", "cfg/copilot", "cfg/copilot"),
    ],
)
def test_each_tools_own_variable_moves_its_primary_dir(
    tmp_path: Path, tool: str, var: str, value: str, config_dir: str
) -> None:
    home = tmp_path / "home"
    make(home / f".{tool}" / MARKERS[tool])  # the default place, not used when the variable is set
    make(tmp_path / config_dir / MARKERS[tool])
    env = {"HOME": str(home), "BRIDLE_HOME": str(tmp_path / "b"), var: str(tmp_path / value)}
    assert all_roots(env, (tool,)) == [Root(tool, tmp_path / config_dir, "")]
    del env[var]
    assert all_roots(env, (tool,)) == [Root(tool, home / f".{tool}", "")]


def test_every_accounts_own_dirs_are_indexed_for_every_tool(tmp_path: Path) -> None:
    accounts = tmp_path / "b" / "accounts"
    for name in ("ci", "work"):
        for tool in ("claude", "codex", "gemini", "copilot"):
            make(accounts / name / "home" / f".{tool}" / MARKERS[tool])
    env = {"HOME": str(tmp_path / "nohome"), "BRIDLE_HOME": str(tmp_path / "b")}
    assert all_roots(env) == [
        Root(tool, accounts / name / "home" / f".{tool}", name)
        for name in ("ci", "work")
        for tool in ("claude", "codex", "gemini", "copilot")
    ]


def test_inside_an_account_context_the_primary_dirs_stay_the_users_own(tmp_path: Path) -> None:
    """`bridle shell work` exports the account's config dirs (and, in home isolation,
    its HOME); a search run there must index the same sessions, not lose the user's."""
    real = tmp_path / "home"
    install(FIXTURES / "claude" / "basic", real)
    install(FIXTURES / "gemini" / "basic", real)
    bridle_home = Path(os.environ["BRIDLE_HOME"])
    work_home = bridle_home / "accounts" / "work" / "home"
    own = make(work_home / ".claude" / "projects" / "-home-ada-src-web")
    src = real / ".claude" / "projects" / "-home-ada-src-web"
    (own / "22222222-2222-4333-8444-555555555555.jsonl").write_text(
        next(src.glob("*.jsonl"))
        .read_text()
        .replace("11111111-2222-4333-8444-555555555555", "22222222-2222-4333-8444-555555555555")
    )
    outside = {"HOME": str(real), "BRIDLE_HOME": str(bridle_home)}
    inside = {
        **outside,
        "HOME": str(work_home),
        "BRIDLE_REAL_HOME": str(real),
        "CLAUDE_CONFIG_DIR": str(work_home / ".claude"),
        "GEMINI_CLI_HOME": str(work_home),
    }
    assert real_home(inside) == real
    assert (
        all_roots(inside)
        == all_roots(outside)
        == [
            Root("claude", real / ".claude", ""),
            Root("gemini", real / ".gemini", ""),
            Root("claude", work_home / ".claude", "work"),
        ]
    )
    ix, _ = index(real)
    seen = {s.id[:8]: s.accounts for s in list_sessions(ix.db)}
    ix.refresh(all_roots(inside))
    assert (
        {s.id[:8]: s.accounts for s in list_sessions(ix.db)}
        == seen
        == {
            "3f1c9b2e": [""],
            "aaaabbbb": [""],
            "11111111": [""],
            "7f3c2a10": [""],
            "22222222": ["work"],
        }
    )


@pytest.mark.parametrize(
    ("tool", "config_dir", "env", "unset"),
    [
        ("claude", "/r/.claude", {"HOME": "/r"}, "CLAUDE_CONFIG_DIR"),
        ("gemini", "/r/.gemini", {"HOME": "/r"}, "GEMINI_CLI_HOME"),
        ("codex", "/elsewhere/codex", {"HOME": "/r", "CODEX_HOME": "/elsewhere/codex"}, None),
    ],
)
def test_resuming_the_users_own_session_undoes_an_account_context(
    tool: str, config_dir: str, env: dict[str, str], unset: str | None
) -> None:
    plan = plan_resume(tool, "S1", "/p", {"": config_dir}, home="/r", is_dir=lambda p: True)
    assert plan.env == env
    assert (unset in plan.unset) if unset else ("CODEX_HOME" not in plan.unset)
