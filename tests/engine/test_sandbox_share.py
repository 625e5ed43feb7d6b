"""A subagent's shell commands stay in the sandbox: `share_sandbox` hands it the
parent's sandbox when the roots are the same, a sandbox of its own (same
settings) for a worktree, and nothing when the parent has none."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from bridle.engine.sandbox_setup import attach_sandbox, share_sandbox
from bridle.policy.engine import PermissionPolicy
from bridle.policy.sandbox import probe
from bridle.tools.base import ToolContext

WHY = probe("linux", shutil.which("bwrap"))


class Settings:
    def __init__(self, data: dict[str, Any]):
        self.data = data

    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node


@pytest.mark.skipif(WHY is not None, reason=f"no sandbox here: {WHY}")
def test_subagents_share_or_get_their_own_sandbox(tmp_path: Path) -> None:
    proj, tree = tmp_path / "proj", tmp_path / "worktree"
    proj.mkdir()
    tree.mkdir()
    env = dict(os.environ, HOME=str(tmp_path), BRIDLE_HOME=str(tmp_path / "bh"))
    settings = Settings({"sandbox": {"enabled": True}})
    parent_ctx, parent_policy = ToolContext(cwd=proj), PermissionPolicy(project_root=proj)
    with contextlib.ExitStack() as undo:
        assert attach_sandbox(settings, parent_policy, parent_ctx, env, undo) == []
        child_ctx, child_policy = ToolContext(cwd=proj), PermissionPolicy(project_root=proj)
        done = share_sandbox(parent_ctx, child_ctx, child_policy, settings, env)
        assert child_ctx.sandbox is parent_ctx.sandbox
        assert child_policy.evaluate("Bash", {"command": "make"}, cwd=proj).behavior == "allow"
        done()
        assert Path(parent_ctx.sandbox.layout.tmp).is_dir()  # still the parent's

        wt_ctx, wt_policy = ToolContext(cwd=tree), PermissionPolicy(project_root=tree)
        done = share_sandbox(parent_ctx, wt_ctx, wt_policy, settings, env)
        assert wt_ctx.sandbox is not None and wt_ctx.sandbox is not parent_ctx.sandbox
        assert wt_ctx.sandbox.layout.writable == [os.path.realpath(tree)]
        own_tmp = Path(wt_ctx.sandbox.layout.tmp)
        done()
        assert not own_tmp.exists()


def test_no_parent_sandbox_means_none(tmp_path: Path) -> None:
    ctx, policy = ToolContext(cwd=tmp_path), PermissionPolicy(project_root=tmp_path)
    done = share_sandbox(ToolContext(cwd=tmp_path), ctx, policy, Settings({}), {})
    done()
    assert ctx.sandbox is None and policy.sandbox is None
