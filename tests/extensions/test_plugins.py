"""Plugins as Claude Code's manifest reference describes them: strict manifest
checks (table-driven: each bad manifest is a problem naming the file and key),
which component paths replace and which add to the default folders, the
installed_plugins.json formats and enabledPlugins, enabling through the settings
file without losing its other keys, marketplaces, and the loaders namespacing a
plugin's skills, commands, agents and styles with their variables expanded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bridle.core.errors import ConfigError, UsageError
from bridle.engine.extensions import load_extensions
from bridle.extensions.frontmatter import Problem
from bridle.extensions.plugin_registry import (
    add_marketplace,
    install,
    installed,
    known_marketplaces,
    read_marketplace,
    resolve_key,
    set_enabled,
)
from bridle.extensions.plugins import Plugin, find_plugins, load_plugin


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def manifest(root: Path, data: Any) -> Path:
    text = data if isinstance(data, str) else json.dumps(data)
    write(root / ".claude-plugin/plugin.json", text)
    return root


def load(root: Path) -> Plugin | Problem:
    return load_plugin(root, source="--plugin-dir", data_home=root.parent / "data")


@pytest.mark.parametrize(
    ("data", "key", "words"),
    [
        ("{not json", None, "is not valid JSON"),
        ([], None, "must hold a JSON object"),
        ({"version": "1"}, "name", "is required"),
        ({"name": "Has Spaces"}, "name", "must be kebab-case"),
        ({"name": "p", "version": 1}, "version", "must be a string, not int"),
        ({"name": "p", "keywords": "a, b"}, "keywords", "must be a list of strings"),
        ({"name": "p", "author": "Me"}, "author", "must be an object"),
        ({"name": "p", "commands": 3}, "commands", 'must be a "./path"'),
        ({"name": "p", "agents": "agents/"}, "agents", "must start with ./"),
        ({"name": "p", "skills": "./"}, "skills", "inside the plugin"),
        ({"name": "p", "outputStyles": "./../x"}, "outputStyles", "inside the plugin"),
        ({"name": "p", "hooks": [1]}, "hooks", "must be a path, a list of paths or an object"),
    ],
)
def test_a_bad_manifest_is_a_problem_naming_file_and_key(
    tmp_path: Path, data: Any, key: str | None, words: str
) -> None:
    root = manifest(tmp_path / "p", data)
    got = load(root)
    assert isinstance(got, Problem)
    assert got.path == str(root / ".claude-plugin/plugin.json")
    assert got.field == key
    assert words in got.message


def test_unknown_keys_are_ignored_and_no_manifest_takes_the_folder_name(tmp_path: Path) -> None:
    ok = load(manifest(tmp_path / "p", {"name": "p", "x-extra": {"any": 1}, "version": "2.0"}))
    assert isinstance(ok, Plugin) and ok.version == "2.0"
    bare = tmp_path / "my-tools"
    write(bare / "commands/hi.md", "Hi")
    plugin = load(bare)
    assert isinstance(plugin, Plugin) and plugin.name == "my-tools"
    assert plugin.commands == (bare / "commands",)
    assert plugin.data_dir == tmp_path / "data" / "my-tools"


def test_declared_paths_replace_or_add_as_the_reference_says(tmp_path: Path) -> None:
    root = manifest(
        tmp_path / "p",
        {
            "name": "p",
            "commands": ["./extra/deploy.md"],
            "agents": "./team/",
            "skills": "./more-skills/",
            "outputStyles": "./styles/",
            "hooks": ["./hooks/hooks.json", "./config/more-hooks.json", {"hooks": {}}],
            "mcpServers": {"mcpServers": {}},
        },
    )
    plugin = load(root)
    assert isinstance(plugin, Plugin)
    assert plugin.commands == (root / "extra/deploy.md",)  # replaces commands/
    assert plugin.agents == (root / "team",)
    assert plugin.output_styles == (root / "styles",)
    assert plugin.skills == (root / "skills", root / "more-skills")  # adds to skills/
    # The default hooks file is read once even when the manifest lists it too.
    assert plugin.hook_files == (root / "hooks/hooks.json", root / "config/more-hooks.json")
    assert plugin.inline_hooks == ({"hooks": {}},)
    assert plugin.mcp_files == (root / ".mcp.json",)
    assert plugin.inline_mcp == ({"mcpServers": {}},)


def installed_file(path: Path, plugins: dict[str, Any], version: int = 2) -> None:
    write(path, json.dumps({"version": version, "plugins": plugins}))


def test_installed_plugins_v1_and_v2_and_enabled_plugins(tmp_path: Path) -> None:
    home, project = tmp_path / "home", tmp_path / "proj"
    project.mkdir()
    env = {"HOME": str(home), "BRIDLE_HOME": str(tmp_path / "bh")}
    a = manifest(tmp_path / "cache/a", {"name": "a"})
    b_user = manifest(tmp_path / "cache/b-user", {"name": "b"})
    b_here = manifest(tmp_path / "cache/b-here", {"name": "b"})
    other = manifest(tmp_path / "cache/c", {"name": "c"})
    installed_file(
        home / ".claude/plugins/installed_plugins.json",
        {
            "a@mkt": [{"scope": "user", "installPath": str(a), "version": "1.0.0"}],
            "b@mkt": [
                {"scope": "user", "installPath": str(b_user)},
                {"scope": "project", "projectPath": str(project), "installPath": str(b_here)},
            ],
            "c@mkt": [{"scope": "local", "projectPath": "/elsewhere", "installPath": str(other)}],
            "broken@mkt": [{"scope": "user"}],
        },
    )
    items, warnings = installed(env, project)
    assert {i.key: i.path for i in items} == {"a@mkt": a, "b@mkt": b_here}
    assert warnings == [
        f"{home}/.claude/plugins/installed_plugins.json: plugins.broken@mkt: has no "
        "installPath; skipped"
    ]
    found = find_plugins(
        dirs=[], installed=items, enabled={"b@mkt": True, "a@mkt": False}, data_home=tmp_path
    )
    assert [(p.name, p.root, p.key) for p in found.plugins] == [("b", b_here, "b@mkt")]

    # Version 1 mapped each key to one install.
    installed_file(
        home / ".claude/plugins/installed_plugins.json",
        {"a@mkt": {"installPath": str(a), "version": "0.9"}},
        version=1,
    )
    items, _ = installed(env, project)
    assert [(i.key, i.version) for i in items] == [("a@mkt", "0.9")]
    assert resolve_key("a", items).key == "a@mkt"
    with pytest.raises(UsageError, match="no installed plugin named 'zz'"):
        resolve_key("zz", items)


def test_set_enabled_merges_into_the_settings_file(tmp_path: Path) -> None:
    path = write(tmp_path / "settings.json", json.dumps({"model": "x", "enabledPlugins": {}}))
    set_enabled(path, "a@m", True)
    set_enabled(path, "b@m", False)
    assert json.loads(path.read_text()) == {
        "model": "x",
        "enabledPlugins": {"a@m": True, "b@m": False},
    }
    commented = write(tmp_path / "c.json", '{\n  // mine\n  "hooks": {}\n}\n')
    set_enabled(commented, "a@m", True)
    assert json.loads(commented.read_text()) == {"hooks": {}, "enabledPlugins": {"a@m": True}}
    assert "// mine" in (tmp_path / "c.json.bak").read_text()
    wrong = write(tmp_path / "w.json", "[1, 2]")
    with pytest.raises(ConfigError, match="fix it by hand"):
        set_enabled(wrong, "a@m", True)
    assert wrong.read_text() == "[1, 2]"


def marketplace(root: Path) -> Path:
    manifest(root / "plugins/tidy", {"name": "tidy", "version": "1.2.0"})
    write(root / "plugins/tidy/commands/fix.md", "Fix $ARGUMENTS")
    doc = {
        "name": "team-tools",
        "owner": {"name": "Team"},
        "metadata": {"pluginRoot": "./plugins"},
        "plugins": [
            {"name": "tidy", "source": "./tidy", "description": "Tidies"},
            {"name": "remote", "source": {"source": "github", "repo": "o/r"}},
        ],
    }
    write(root / ".claude-plugin/marketplace.json", json.dumps(doc))
    return root


def test_marketplace_add_list_and_install_an_entry(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path / "home"), "BRIDLE_HOME": str(tmp_path / "bh")}
    market = marketplace(tmp_path / "market")
    added = add_marketplace(market, env)
    assert [(e.name, e.path) for e in added.plugins] == [
        ("tidy", market / "plugins/tidy"),
        ("remote", None),
    ]
    markets, warnings = known_marketplaces(env)
    assert [m.name for m in markets] == ["team-tools"] and warnings == []
    done = install("tidy@team-tools", env)
    assert done.key == "tidy@team-tools"
    assert done.path == tmp_path / "bh/plugins/cache/team-tools/tidy/1.2.0"
    assert (done.path / "commands/fix.md").read_text() == "Fix $ARGUMENTS"
    items, _ = installed(env, tmp_path)
    assert [(i.key, i.source) for i in items] == [("tidy@team-tools", "bridle")]
    with pytest.raises(UsageError, match="installs from folders only"):
        install("remote@team-tools", env)
    with pytest.raises(UsageError, match="is a marketplace, not a plugin"):
        install(str(tmp_path / "market"), env)
    with pytest.raises(UsageError, match="no marketplace named 'nope'"):
        install("tidy@nope", env)


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        ({"owner": {"name": "x"}, "plugins": []}, "name: is required"),
        ({"name": "m", "plugins": []}, "owner: must be an object"),
        ({"name": "m", "owner": {"name": "x"}, "plugins": {}}, "plugins: must be a list"),
        ({"name": "m", "owner": {"name": "x"}, "plugins": [{"source": "./a"}]}, "plugins[0]"),
    ],
)
def test_a_bad_marketplace_names_its_key(tmp_path: Path, doc: Any, words: str) -> None:
    write(tmp_path / ".claude-plugin/marketplace.json", json.dumps(doc))
    with pytest.raises(UsageError, match=words.replace("[", r"\[").replace("]", r"\]")):
        read_marketplace(tmp_path)


def test_a_plugins_components_load_namespaced_with_its_variables(tmp_path: Path) -> None:
    root = manifest(tmp_path / "kit", {"name": "kit", "commands": ["./cmds/ship.md"]})
    write(root / "cmds/ship.md", "Ship $ARGUMENTS with ${CLAUDE_PLUGIN_ROOT}/bin/ship")
    write(root / "commands/ignored.md", "replaced by the manifest's commands")
    write(
        root / "skills/lint/SKILL.md",
        "---\nname: lint\ndescription: Lints\n---\nRun ${CLAUDE_PLUGIN_ROOT}/lint "
        "into ${CLAUDE_PLUGIN_DATA}",
    )
    write(root / "agents/checker.md", "---\nname: checker\ndescription: Checks\n---\nCheck it.")
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {"HOME": str(tmp_path / "home"), "BRIDLE_HOME": str(tmp_path / "bh")}
    ext = load_extensions(repo, repo, env, None, plugin_dirs=[root])
    assert [p.name for p in ext.plugins] == ["kit"]
    assert set(ext.commands.by_name) == {"kit:ship", "kit:lint"}
    assert ext.commands.resolve("ship").body == f"Ship $ARGUMENTS with {root}/bin/ship"
    data = tmp_path / "bh/plugins/data/kit"
    assert ext.skills["kit:lint"].body == f"Run {root}/lint into {data}"
    assert list(ext.agents.by_name) == ["kit:checker"]
    with pytest.raises(UsageError, match=r"--plugin-dir .*no such folder"):
        load_extensions(repo, repo, env, None, plugin_dirs=[tmp_path / "missing"])


def test_a_plugins_mcp_files_and_inline_servers_get_its_folders(tmp_path: Path) -> None:
    from bridle.mcp.config import load_servers

    server = {"command": "${CLAUDE_PLUGIN_ROOT}/bin/srv", "env": {"D": "${CLAUDE_PLUGIN_DATA}"}}
    root = manifest(
        tmp_path / "kit",
        {
            "name": "kit",
            "mcpServers": ["./config/more.json", {"mcpServers": {"inline": server}}],
        },
    )
    write(root / ".mcp.json", json.dumps({"mcpServers": {"main": server}}))
    write(root / "config/more.json", json.dumps({"mcpServers": {"more": server}}))
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {"HOME": str(tmp_path / "home"), "BRIDLE_HOME": str(tmp_path / "bh")}
    ext = load_extensions(repo, repo, env, None, plugin_dirs=[root])
    found = load_servers(repo, env=env, plugin_files=ext.plugin_mcp_files())
    data = str(tmp_path / "bh/plugins/data/kit")
    assert found.warnings == []
    assert {n: (c.scope, c.command, dict(c.env), c.cwd) for n, c in found.servers.items()} == {
        name: ("plugin", f"{root}/bin/srv", {"D": data}, str(root))
        for name in ("main", "more", "inline")
    }
    assert found.servers["inline"].source == str(root / ".claude-plugin/plugin.json")
