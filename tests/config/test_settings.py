"""Layered settings: precedence, merging, sources, compatibility layer, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bridle.config.settings import Settings, find_project_root, load_settings
from bridle.core.errors import ConfigError


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Any]:
    """A project (git repo with a subdir), a user home and a managed path."""
    home = tmp_path / "home"
    project = tmp_path / "proj"
    (project / ".git").mkdir(parents=True)
    (project / "sub" / "deep").mkdir(parents=True)
    env = {
        "HOME": str(home),
        "BRIDLE_HOME": str(home / ".bridle"),
        "TOKEN": "sk-from-env-123456789",
    }
    return {
        "home": home,
        "project": project,
        "env": env,
        "user": home / ".bridle" / "settings.json",
        "shared": project / ".bridle" / "settings.json",
        "local": project / ".bridle" / "settings.local.json",
        "claude": project / ".claude" / "settings.json",
        "managed": tmp_path / "etc" / "managed-settings.json",
    }


def write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def load(
    world: dict[str, Any], cli: dict[str, Any] | None = None, cwd: Path | None = None
) -> Settings:
    return load_settings(
        cwd or world["project"] / "sub" / "deep", world["env"], cli, world["managed"]
    )


def test_no_files_gives_empty_settings(world: dict[str, Any]) -> None:
    s = load(world)
    assert (s.data, s.sources, s.warnings) == ({}, {}, ())
    assert s.project_root == world["project"].resolve()


def test_precedence_managed_cli_local_project_user(world: dict[str, Any]) -> None:
    write(world["user"], {"model": "user", "a": 1, "max_turns": 1})
    write(world["shared"], {"model": "project", "b": 2, "max_turns": 2})
    write(world["local"], {"model": "local", "c": 3, "max_turns": 3})
    write(world["managed"], {"model": "managed"})
    s = load(world, cli={"max_turns": 9})
    assert s.get("model") == "managed"
    assert s.get("max_turns") == 9
    assert s.sources == {
        "model": str(world["managed"]),
        "a": str(world["user"]),
        "b": str(world["shared"]),
        "c": str(world["local"]),
        "max_turns": "cli",
    }
    assert [layer.name for layer in s.layers] == ["managed", "cli", "local", "project", "user"]


def test_dicts_merge_lists_replace_permission_lists_concatenate(world: dict[str, Any]) -> None:
    write(
        world["user"],
        {
            "providers": {"deepseek": {"base_url": "https://u.example/v1", "max_retries": 2}},
            "permissions": {
                "allow": ["Read", "Bash(git *)"],
                "deny": ["Bash(rm *)"],
                "defaultMode": "plan",
            },
            "verify": {"*.py": "user"},
            "other": ["u1", "u2"],
        },
    )
    write(
        world["shared"],
        {
            "providers": {"deepseek": {"max_retries": 7}},
            "permissions": {"allow": ["Edit(src/**)", "Read"], "defaultMode": "acceptEdits"},
            "other": ["p1"],
        },
    )
    write(world["managed"], {"permissions": {"deny": ["WebFetch"]}})
    s = load(world)
    assert s.data == {
        "providers": {"deepseek": {"base_url": "https://u.example/v1", "max_retries": 7}},
        "permissions": {
            "allow": ["Edit(src/**)", "Read", "Bash(git *)"],
            "deny": ["WebFetch", "Bash(rm *)"],
            "defaultMode": "acceptEdits",
        },
        "verify": {"*.py": "user"},
        "other": ["p1"],
    }


def test_hooks_lists_concatenate_per_event(world: dict[str, Any]) -> None:
    user_hook = {"matcher": "Bash", "hooks": [{"type": "command", "command": "echo user $FILE"}]}
    proj_hook = {"matcher": "Edit", "hooks": [{"type": "command", "command": "lint"}]}
    write(world["user"], {"hooks": {"PreToolUse": [user_hook], "Stop": [user_hook]}})
    write(world["shared"], {"hooks": {"PreToolUse": [proj_hook]}})
    s = load(world)
    assert s.get("hooks") == {"PreToolUse": [proj_hook, user_hook], "Stop": [user_hook]}


def test_claude_settings_is_lowest_layer_and_only_three_keys(world: dict[str, Any]) -> None:
    write(
        world["claude"],
        {
            "permissions": {"allow": ["Bash(npm test)"], "deny": ["Read(.env)"]},
            "env": {"FOO": "claude"},
            "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "echo $X"}]}]},
            "model": "claude-model-ignored",
        },
    )
    write(world["user"], {"env": {"FOO": "bridle"}, "permissions": {"allow": ["Read"]}})
    s = load(world)
    assert s.get("model") is None
    assert s.get("env") == {"FOO": "bridle"}
    assert s.get("permissions") == {"allow": ["Read", "Bash(npm test)"], "deny": ["Read(.env)"]}
    assert s.get("hooks.Stop")[0]["hooks"][0]["command"] == "echo $X"
    assert s.sources["hooks"] == str(world["claude"])


def test_jsonc_and_variable_expansion_in_files(world: dict[str, Any]) -> None:
    write(
        world["shared"],
        """{
      // a comment
      "providers": {"acme": {"wire": "openai-chat", "base_url": "https://acme.example/v1",
                             "api_key": "${TOKEN}",}},  /* block */
      "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "echo $UNSET_AT_LOAD"}]}]},
      "permissions": {"allow": ["Bash(echo $HOME)"]},
    }""",
    )
    s = load(world)
    assert s.get("providers.acme.api_key") == "sk-from-env-123456789"
    assert s.get("hooks.Stop")[0]["hooks"][0]["command"] == "echo $UNSET_AT_LOAD"
    assert s.get("permissions.allow") == ["Bash(echo $HOME)"]


def test_cli_overrides_accept_dotted_keys_and_are_not_expanded(world: dict[str, Any]) -> None:
    write(
        world["user"], {"providers": {"deepseek": {"max_retries": 2, "base_url": "https://u/v1"}}}
    )
    s = load(world, cli={"providers.deepseek.max_retries": 5, "model": "$NOT_EXPANDED"})
    assert s.get("providers.deepseek") == {"max_retries": 5, "base_url": "https://u/v1"}
    assert s.get("model") == "$NOT_EXPANDED"


ERRORS = [
    ("undefined var", {"model": "$NOPE"}, "model", "$NOPE is not set"),
    ("wrong type", {"model": 3}, "model", "must be a string, got int"),
    (
        "permissions list",
        {"permissions": {"allow": "Read"}},
        "permissions.allow",
        "must be a list of strings",
    ),
    (
        "permissions item",
        {"permissions": {"deny": ["ok", 3]}},
        "permissions.deny[1]",
        "must be a string",
    ),
    (
        "mode",
        {"permissions": {"defaultMode": "yolo"}},
        "permissions.defaultMode",
        "unknown mode 'yolo'",
    ),
    (
        "provider key",
        {"providers": {"x": {"wire": "openai-chat", "url": "h"}}},
        "providers.x.url",
        "unknown key 'url'; valid keys are wire, base_url, api_key_env, api_key, headers, max_retries",
    ),
    (
        "provider wire",
        {"providers": {"x": {"wire": "grpc"}}},
        "providers.x.wire",
        "unknown wire 'grpc'; valid wires are anthropic-messages, openai-chat, openai-responses, gemini",
    ),
    (
        "base url scheme",
        {"providers": {"x": {"base_url": "api.x.com"}}},
        "providers.x.base_url",
        "must start with http:// or https://",
    ),
    (
        "retries",
        {"providers": {"x": {"max_retries": -1}}},
        "providers.x.max_retries",
        "must be a whole number from 0 to 100, got -1",
    ),
    (
        "headers",
        {"providers": {"x": {"headers": {"A": 1}}}},
        "providers.x.headers.A",
        "must be a string",
    ),
    (
        "hook shape",
        {"hooks": {"Stop": [{"matcher": "x"}]}},
        "hooks.Stop[0].hooks",
        "must be a list of hooks",
    ),
    ("env value", {"env": {"A": ["x"]}}, "env.A", "must be a string"),
    ("max cost", {"max_cost": 0}, "max_cost", "must be a positive number"),
]


@pytest.mark.parametrize(
    ("data", "key", "message"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_errors_name_file_and_key(world: dict[str, Any], data: Any, key: str, message: str) -> None:
    path = write(world["local"], data)
    with pytest.raises(ConfigError) as err:
        load(world)
    assert (err.value.path, err.value.key) == (str(path), key)
    assert str(err.value).startswith(f"{path}: {key}: {message}")


def test_invalid_json_names_file_and_line(world: dict[str, Any]) -> None:
    path = write(world["user"], '{\n "model": "x"\n "b": 1}')
    with pytest.raises(ConfigError) as err:
        load(world)
    assert str(err.value).startswith(f"{path}: invalid JSON at line 3 column 2")


def test_top_level_must_be_object(world: dict[str, Any]) -> None:
    path = write(world["managed"], "[1, 2]")
    with pytest.raises(ConfigError, match="must hold a JSON object"):
        load(world)
    assert path.exists()


def test_directory_in_place_of_file(world: dict[str, Any]) -> None:
    world["shared"].mkdir(parents=True)
    with pytest.raises(ConfigError, match="is a directory"):
        load(world)


def test_unknown_keys_warn_and_are_kept(world: dict[str, Any]) -> None:
    path = write(
        world["user"], {"frobnicate": 1, "$schema": "x", "statusLine": {"type": "command"}}
    )
    s = load(world)
    assert s.get("frobnicate") == 1
    assert s.warnings == (f"{path}: unknown key 'frobnicate' (ignored by bridle)",)


def test_project_at_home_does_not_read_user_file_twice(world: dict[str, Any]) -> None:
    write(world["user"], {"permissions": {"allow": ["Read"]}})
    s = load_settings(world["home"], world["env"], None, world["managed"])
    assert s.get("permissions.allow") == ["Read"]
    assert [layer.name for layer in s.layers] == ["user"]


def test_project_root_is_nearest_git_ancestor_else_cwd(tmp_path: Path) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "a" / "b").mkdir(parents=True)
    (tmp_path / "loose").mkdir()
    assert find_project_root(tmp_path / "repo" / "a" / "b") == (tmp_path / "repo").resolve()
    assert find_project_root(tmp_path / "loose") == (tmp_path / "loose").resolve()


def test_get_with_dotted_path_and_default() -> None:
    s = Settings({"a": {"b": {"c": 1}}, "x": 2})
    assert (s.get("a.b.c"), s.get("a.b"), s.get("a.z", "d"), s.get("x.y", 0)) == (
        1,
        {"c": 1},
        "d",
        0,
    )


def test_redacted_masks_keys_tokens_and_secret_env() -> None:
    s = Settings(
        {
            "providers": {
                "x": {
                    "api_key": "sk-abcdefghijklmnop1234",
                    "api_key_env": "X_KEY",
                    "headers": {"Authorization": "Bearer short", "X-Trace": "t"},
                }
            },
            "env": {
                "GITHUB_TOKEN": "ghp_abcdefghijklmnopqrst",
                "PATH_EXTRA": "/bin",
                "AWS_SECRET_ACCESS_KEY": "s",
            },
            "model": "m",
        }
    )
    assert s.redacted() == {
        "providers": {
            "x": {
                "api_key": "****1234",
                "api_key_env": "X_KEY",
                "headers": {"Authorization": "****", "X-Trace": "t"},
            }
        },
        "env": {"GITHUB_TOKEN": "****qrst", "PATH_EXTRA": "/bin", "AWS_SECRET_ACCESS_KEY": "****"},
        "model": "m",
    }
    assert s.data["providers"]["x"]["api_key"] == "sk-abcdefghijklmnop1234"
