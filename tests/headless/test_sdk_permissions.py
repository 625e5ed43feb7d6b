"""`headless.sdk_permissions`: the Agent SDK's permission updates against a real
policy and real settings files (the end-to-end runs are in
tests/e2e/test_agent_sdk.py). Files are merged key by key, a file with comments
is backed up before it is rewritten, a file that is not a settings object is
refused untouched, and one malformed update applies none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bridle.core.errors import ConfigError, UsageError
from bridle.headless.sdk_permissions import PermissionUpdates
from bridle.policy.engine import PermissionPolicy


def rules(
    behavior: str, *texts: str, destination: str = "session", kind: str = "addRules"
) -> dict[str, Any]:
    out = []
    for t in texts:
        tool, _, rest = t.partition("(")
        out.append({"toolName": tool, "ruleContent": rest[:-1]} if rest else {"toolName": tool})
    return {"type": kind, "rules": out, "behavior": behavior, "destination": destination}


class World:
    def __init__(self, tmp: Path):
        self.root = tmp / "proj"
        self.root.mkdir()
        self.home = tmp / "home"
        self.policy = PermissionPolicy(project_root=self.root, home=self.home)
        self.modes: list[str] = []
        self.updates = PermissionUpdates(
            self.policy, self.root, {"HOME": str(self.home)}, set_mode=self.modes.append
        )

    def verdict(self, command: str) -> str:
        return self.policy.evaluate("Bash", {"command": command}, cwd=self.root).behavior

    @property
    def local(self) -> Path:
        return self.root / ".claude" / "settings.local.json"


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_session_rules_apply_at_once_and_only_their_own_can_be_removed(world: World) -> None:
    world.policy.add_rule("allow", "Bash(make:*)")  # as if from a settings file
    assert world.verdict("npm publish") == "ask"
    assert world.updates.apply([rules("allow", "Bash(npm publish)")]) == []
    assert world.verdict("npm publish") == "allow"
    world.updates.apply([rules("deny", "Bash(git push:*)")])
    assert world.verdict("git push origin") == "deny"
    world.updates.apply([rules("allow", "Bash(npm publish)", "Bash(make:*)", kind="removeRules")])
    assert world.verdict("npm publish") == "ask"
    assert world.verdict("make test") == "allow"  # a session update leaves settings alone
    world.updates.apply([rules("deny", "Bash(git commit:*)", kind="replaceRules")])
    assert (world.verdict("git push origin"), world.verdict("git commit -m x")) == ("ask", "deny")
    assert not (world.root / ".claude").exists() and not world.home.exists()


def test_file_updates_merge_and_apply(world: World) -> None:
    world.local.parent.mkdir()
    world.local.write_text(json.dumps({"permissions": {"allow": ["Read"], "ask": ["Bash(ls)"]},
                                       "hooks": {"Stop": []}}))  # fmt: skip
    written = world.updates.apply([
        rules("allow", "Bash(npm publish)", "Read", destination="localSettings"),
        rules("ask", "Bash(ls)", destination="localSettings", kind="removeRules"),
        {"type": "setMode", "mode": "acceptEdits", "destination": "localSettings"},
        {"type": "addDirectories", "directories": ["../shared"], "destination": "localSettings"},
        rules("deny", "WebFetch", destination="userSettings"),
    ])  # fmt: skip
    user = world.home / ".claude" / "settings.json"
    assert written == [world.local] * 4 + [user]
    assert json.loads(world.local.read_text()) == {
        "permissions": {
            "allow": ["Read", "Bash(npm publish)"],
            "ask": [],
            "defaultMode": "acceptEdits",
            "additionalDirectories": ["../shared"],
        },
        "hooks": {"Stop": []},
    }
    assert json.loads(user.read_text()) == {"permissions": {"deny": ["WebFetch"]}}
    assert world.verdict("npm publish") == "allow" and world.modes == ["acceptEdits"]
    assert str(world.root.parent / "shared") in world.policy.roots
    assert not world.local.with_name("settings.local.json.bak").exists()


def test_a_commented_file_is_kept_as_bak(world: World) -> None:
    world.local.parent.mkdir()
    original = '{\n  // mine\n  "permissions": {"allow": ["Read",]},\n}\n'
    world.local.write_text(original)
    world.updates.apply([rules("allow", "Glob", destination="localSettings")])
    assert json.loads(world.local.read_text()) == {"permissions": {"allow": ["Read", "Glob"]}}
    assert world.local.with_name("settings.local.json.bak").read_text() == original


@pytest.mark.parametrize("content", ["[1, 2]", '{"permissions": ["Read"]}', "{not json"])
def test_a_file_that_is_not_a_settings_object_is_left_alone(world: World, content: str) -> None:
    world.local.parent.mkdir()
    world.local.write_text(content)
    with pytest.raises(ConfigError, match=r"settings\.local\.json"):
        world.updates.apply([rules("allow", "Glob", destination="localSettings")])
    assert world.local.read_text() == content
    assert sorted(p.name for p in world.local.parent.iterdir()) == ["settings.local.json"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"type": "addRules", "rules": [{"toolName": "Bash"}], "behavior": "allow",
          "destination": "everywhere"}, "unknown destination 'everywhere'"),
        ({"type": "addRules", "rules": [{"ruleContent": "x"}], "behavior": "allow"}, "toolName"),
        ({"type": "setMode", "mode": "yolo"}, "yolo"),
        ({"type": "addDirectories", "directories": "/tmp"}, "list of directory paths"),
        ({"type": "grantEverything"}, "unknown type 'grantEverything'"),
        ("addRules", "each update must be an object"),
    ],
)  # fmt: skip
def test_one_malformed_update_applies_none(world: World, bad: Any, message: str) -> None:
    good = rules("allow", "Bash(npm publish)", destination="localSettings")
    with pytest.raises(UsageError, match=r"updatedPermissions\[1\]: .*" + message):
        world.updates.apply([good, bad])
    assert world.verdict("npm publish") == "ask"
    assert not world.local.exists() and world.modes == []
