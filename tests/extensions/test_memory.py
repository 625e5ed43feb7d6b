"""Auto memory (`extensions.memory` and `engine.context.load_context`): the
project's folder and slug, MEMORY.md cut at 200 lines or 25 KB, the switches
that turn it off, `autoMemoryDirectory` (not from checked-in settings), the
system prompt section, and the allow rules that let the model write there
without asking while deny rules, ask rules and plan mode still hold."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

from bridle.config.settings import Layer, Settings
from bridle.engine.context import build_system_prompt, load_context
from bridle.extensions import memory as mem
from bridle.policy.engine import PermissionPolicy


def env_for(tmp: Path) -> dict[str, str]:
    return {"HOME": str(tmp / "home"), "BRIDLE_HOME": str(tmp / "bh")}


def test_folder_is_per_project_under_bridle_home(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    repo = tmp_path / "my repo.x"
    repo.mkdir()
    folder = mem.memory_dir(repo, env)
    assert folder == tmp_path / "bh" / "projects" / mem.project_slug(repo.resolve()) / "memory"
    assert mem.project_slug(Path("/home/a/my repo.x")) == "-home-a-my-repo-x"
    long = mem.project_slug(Path("/" + "d" * 300))
    assert len(long) == 213 and long.startswith("-ddd")


def test_worktrees_share_the_main_repository_memory(tmp_path: Path) -> None:
    main = tmp_path / "main"
    subprocess.run(["git", "init", "-q", "-b", "main", str(main)], check=True)
    run = {"cwd": main, "check": True, "capture_output": True}
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q",
                    "--allow-empty", "-m", "x"], **run)  # type: ignore[call-overload]  # fmt: skip
    subprocess.run(["git", "worktree", "add", "-q", str(tmp_path / "wt")], **run)  # type: ignore[call-overload]
    env = env_for(tmp_path)
    assert mem.memory_dir(tmp_path / "wt", env) == mem.memory_dir(main, env)


def test_memory_md_is_cut_at_200_lines_or_25_kb(tmp_path: Path) -> None:
    folder = tmp_path / "memory"
    folder.mkdir()
    (folder / "MEMORY.md").write_text("".join(f"- line {i}\n" for i in range(1, 251)))
    loaded = mem.load_memory(folder)
    assert loaded.index.splitlines()[-1] == "- line 200" and loaded.truncated
    assert loaded.lines == 250
    prompt = mem.memory_prompt(loaded)
    assert "- line 200\n" in prompt and "- line 201" not in prompt
    assert "MEMORY.md has 250 lines; only the part above was loaded" in prompt
    (folder / "MEMORY.md").write_text(("x" * 999 + "\n") * 100)  # 100 KB in 100 lines
    wide = mem.load_memory(folder)
    assert len(wide.index.splitlines()) == 25 and wide.truncated
    (folder / "MEMORY.md").write_text("- [prefs](prefs.md): tabs\n")
    whole = mem.load_memory(folder)
    assert whole.index == "- [prefs](prefs.md): tabs" and not whole.truncated
    missing = mem.memory_prompt(mem.load_memory(tmp_path / "none"))
    assert "It does not exist yet" in missing


def test_switches(tmp_path: Path) -> None:
    off = Settings({"autoMemoryEnabled": False})
    assert mem.enabled({}, None) and mem.enabled({}, Settings())
    assert not mem.enabled({}, off)
    assert not mem.enabled({"CLAUDE_CODE_DISABLE_AUTO_MEMORY": "1"}, Settings())
    assert mem.enabled({"CLAUDE_CODE_DISABLE_AUTO_MEMORY": "0"}, off)  # the env wins
    repo = tmp_path / "repo"
    repo.mkdir()
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    env = env_for(tmp_path)
    on = build_system_prompt(repo, env, now=now)
    assert "# Memory\nYou have a persistent memory folder" in on
    env["CLAUDE_CODE_DISABLE_AUTO_MEMORY"] = "true"
    assert "# Memory" not in build_system_prompt(repo, env, now=now)


def test_auto_memory_directory_is_not_taken_from_checked_in_settings(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    repo = tmp_path / "repo"
    checked_in = Layer("claude", str(repo / ".claude/settings.json"), {"autoMemoryDirectory": "/x"})
    user = Layer("claude-user", "~/.claude/settings.json", {"autoMemoryDirectory": "~/notes"})
    assert mem.memory_dir(repo, env, Settings(layers=(checked_in,))) == mem.memory_dir(repo, env)
    moved = mem.memory_dir(repo, env, Settings(layers=(checked_in, user)))
    assert moved == tmp_path / "home" / "notes"


def test_the_folder_is_writable_without_asking(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    repo = tmp_path / "repo"
    repo.mkdir()
    policy = PermissionPolicy(project_root=repo, home=tmp_path / "home", headless=True)
    context = load_context(repo, env, None, Settings(), policy=policy)
    folder = mem.memory_dir(repo, env)
    assert context.memory is not None and context.memory.directory == folder
    for tool, args in [
        ("Write", {"file_path": str(folder / "MEMORY.md"), "content": "x"}),
        ("Edit", {"file_path": str(folder / "topic.md"), "old_string": "a", "new_string": "b"}),
        ("Read", {"file_path": str(folder / "topic.md")}),
        ("Grep", {"pattern": "x", "path": str(folder)}),
    ]:
        assert policy.evaluate(tool, args, cwd=repo).behavior == "allow", tool
    # Only that folder: its parent and a look-alike sibling still need approval.
    for path in (folder.parent / "other.md", Path(str(folder) + "-evil") / "x.md"):
        write = {"file_path": str(path), "content": "x"}
        assert policy.evaluate("Write", write, cwd=repo).behavior == "deny"
    # The user's own rules and plan mode still hold.
    strict = PermissionPolicy(project_root=repo, deny=["Edit(//**/memory/secret.md)"])
    load_context(repo, env, None, Settings(), policy=strict)
    secret = {"file_path": str(folder / "secret.md"), "content": "x"}
    assert strict.evaluate("Write", secret, cwd=repo).behavior == "deny"
    plan = PermissionPolicy(mode="plan", project_root=repo)
    load_context(repo, env, None, Settings(), policy=plan)
    assert plan.evaluate("Write", secret, cwd=repo).behavior == "deny"
    # Turned off, no rule is added.
    off = PermissionPolicy(project_root=repo, headless=True)
    load_context(repo, env, None, Settings({"autoMemoryEnabled": False}), policy=off)
    assert off.allow == []
