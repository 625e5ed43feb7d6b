"""MCP server configuration: Claude Code's scopes and their precedence, `${VAR}`
expansion, clear warnings for bad entries, and `mcp add/remove` edits that keep
every other key of the files Claude Code shares with bridle."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bridle.core.errors import ConfigError
from bridle.mcp.config import (
    EntryError,
    build_entry,
    claude_json_path,
    expand_vars,
    load_servers,
    parse_header,
)
from bridle.mcp.scopes import add_server, remove_server, scope_entries


def write(path: Path, doc: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    d = tmp_path / "proj"
    d.mkdir()
    return d


@pytest.fixture
def home(tmp_path: Path) -> Path:
    d = tmp_path / "home"
    d.mkdir()
    return d


def stdio(cmd: str, *args: str) -> dict[str, object]:
    return {"command": cmd, "args": list(args)}


def test_precedence_local_project_user_plugin_winner_used_whole(proj: Path, home: Path) -> None:
    plugin = write(
        home / "plug" / ".mcp.json",
        {"mcpServers": {"a": stdio("plugin-a"), "p": stdio("${CLAUDE_PLUGIN_ROOT}/bin/p")}},
    )
    write(proj / ".mcp.json", {"mcpServers": {"a": stdio("project-a"), "b": stdio("project-b")}})
    write(
        home / ".claude.json",
        {
            "numStartups": 7,
            "mcpServers": {
                "a": stdio("user-a"),
                "b": {**stdio("user-b"), "env": {"ONLY_USER": "1"}},
                "c": stdio("user-c"),
            },
            "projects": {str(proj): {"mcpServers": {"a": stdio("local-a", "--x")}}},
        },
    )
    cfg = load_servers(proj, env={}, home=home, plugin_files=[plugin])
    assert cfg.warnings == []
    got = {n: (s.scope, s.command, s.args, dict(s.env)) for n, s in cfg.servers.items()}
    assert got == {
        "a": ("local", "local-a", ("--x",), {}),
        # The project entry wins whole: the user entry's env does not leak in.
        "b": ("project", "project-b", (), {}),
        "c": ("user", "user-c", (), {}),
        "p": ("plugin", f"{plugin.parent}/bin/p", (), {}),
    }
    assert cfg.servers["p"].cwd == str(plugin.parent)
    assert sorted((s.name, s.scope) for s in cfg.shadowed) == [
        ("a", "plugin"),
        ("a", "project"),
        ("a", "user"),
        ("b", "user"),
    ]


def test_settings_and_cli_scopes_and_strict(proj: Path, home: Path, tmp_path: Path) -> None:
    write(proj / ".mcp.json", {"mcpServers": {"a": stdio("project-a"), "s": stdio("project-s")}})
    cli_file = write(tmp_path / "extra.json", {"mcpServers": {"f": stdio("from-file")}})
    inline = json.dumps({"mcpServers": {"a": {"type": "http", "url": "http://127.0.0.1:9/mcp"}}})
    settings = {"s": stdio("settings-s")}
    cfg = load_servers(
        proj, env={}, home=home, settings_servers=settings, cli_configs=[str(cli_file), inline]
    )
    assert cfg.warnings == []
    assert {n: (s.scope, s.type) for n, s in cfg.servers.items()} == {
        "a": ("cli", "http"),
        "f": ("cli", "stdio"),
        "s": ("settings", "stdio"),
    }
    assert cfg.servers["f"].source == str(cli_file)
    strict = load_servers(
        proj, env={}, home=home, settings_servers=settings, cli_configs=[inline], strict=True
    )
    assert list(strict.servers) == ["a"]


def test_claude_config_dir_moves_the_user_file(tmp_path: Path, proj: Path) -> None:
    cfgdir = tmp_path / "acct"
    write(cfgdir / ".claude.json", {"mcpServers": {"u": stdio("u")}})
    assert claude_json_path({"CLAUDE_CONFIG_DIR": str(cfgdir)}) == cfgdir / ".claude.json"
    cfg = load_servers(proj, env={"CLAUDE_CONFIG_DIR": str(cfgdir)})
    assert list(cfg.servers) == ["u"]


def test_env_expansion_in_every_field(proj: Path, home: Path) -> None:
    env = {"TOKEN": "t0k", "BIN": "/opt/srv", "EMPTY": ""}
    write(
        proj / ".mcp.json",
        {
            "mcpServers": {
                "s": {
                    "command": "${BIN}/run",
                    "args": ["--port=${PORT:-8080}", "${EMPTY:-fallback}", "$NOT_EXPANDED"],
                    "env": {"API": "${TOKEN}", "MODE": "${MODE:-dev}"},
                },
                "h": {
                    "type": "http",
                    "url": "https://${HOST:-example.test}/mcp",
                    "headers": {"Authorization": "Bearer ${TOKEN}"},
                    "timeout": 1500,
                },
            }
        },
    )
    cfg = load_servers(proj, env=env, home=home)
    assert cfg.warnings == []
    s, h = cfg.servers["s"], cfg.servers["h"]
    assert (s.command, s.args, dict(s.env)) == (
        "/opt/srv/run",
        ("--port=8080", "fallback", "$NOT_EXPANDED"),
        {"API": "t0k", "MODE": "dev"},
    )
    assert (h.url, dict(h.headers), h.timeout) == (
        "https://example.test/mcp",
        {"Authorization": "Bearer t0k"},
        1500.0,
    )


def test_missing_variable_names_server_and_field() -> None:
    with pytest.raises(EntryError) as e:
        expand_vars("Bearer ${API_TOKEN}", {}, server="gh", where="headers.Authorization")
    msg = str(e.value)
    assert "headers.Authorization" in msg and "API_TOKEN" in msg and "'gh'" in msg
    assert "${API_TOKEN:-default}" in msg


BAD_ENTRIES = [
    ({"url": "http://x/mcp"}, 'add "type": "http"'),
    ({"type": "ws", "url": "ws://x"}, '"type" is "ws"'),
    ({"type": "http"}, 'needs "url"'),
    ({"type": "sse", "url": "ftp://x"}, "must start with http"),
    ({"args": ["x"]}, 'needs "command"'),
    ({"command": "x", "args": "not-a-list"}, '"args" must be a list of strings'),
    ({"command": "x", "env": {"N": 3}}, '"env.N" must be a string'),
    ({"command": "x", "timeout": -1}, '"timeout" must be a positive number'),
    ({"command": "x", "env": {"K": "${NOPE}"}}, "env.K uses ${NOPE}"),
    ("npx srv", "must be an object"),
]


@pytest.mark.parametrize(("entry", "expected"), BAD_ENTRIES)
def test_bad_entry_is_a_warning_naming_file_and_key(
    proj: Path, home: Path, entry: object, expected: str
) -> None:
    path = write(proj / ".mcp.json", {"mcpServers": {"bad": entry, "good": stdio("ok")}})
    cfg = load_servers(proj, env={}, home=home)
    assert list(cfg.servers) == ["good"]
    assert len(cfg.warnings) == 1
    warning = cfg.warnings[0]
    assert warning.startswith(f"{path}: mcpServers.bad: ")
    assert expected in warning and "(server skipped)" in warning


def test_bad_files_never_crash(proj: Path, home: Path, tmp_path: Path) -> None:
    (proj / ".mcp.json").write_text('{"mcpServers": {"a": ')
    (home / ".claude.json").write_bytes(b'{"mcpServers": {"\xff": 1}}')
    cfg = load_servers(
        proj,
        env={},
        home=home,
        cli_configs=["{not json", str(tmp_path / "missing.json"), '{"other": 1}'],
        plugin_files=[tmp_path / "gone" / ".mcp.json"],
        settings_servers={"x": []},
    )
    assert cfg.servers == {}
    text = "\n".join(cfg.warnings)
    assert f"{proj / '.mcp.json'}: not valid JSON at line 1" in text
    assert f"{home / '.claude.json'}: not UTF-8 at byte" in text
    assert "--mcp-config #1: not valid JSON" in text
    assert "missing.json: no such file" in text
    assert '--mcp-config #3: has no "mcpServers" object' in text
    assert "gone/.mcp.json: no such file" in text
    assert "settings: mcpServers.x: must be an object" in text
    assert len(cfg.warnings) == 7


def test_build_entry_and_headers() -> None:
    assert build_entry("stdio", "npx", ["-y", "srv"], env={"K": "V"}) == {
        "type": "stdio",
        "command": "npx",
        "args": ["-y", "srv"],
        "env": {"K": "V"},
    }
    assert build_entry("http", "https://h/mcp", headers={"A": "b"}) == {
        "type": "http",
        "url": "https://h/mcp",
        "headers": {"A": "b"},
    }
    assert parse_header("Authorization: Bearer x:y") == ("Authorization", "Bearer x:y")
    with pytest.raises(EntryError, match="Name: value"):
        parse_header("no-colon")


def test_add_and_remove_keep_other_keys(proj: Path, home: Path) -> None:
    claude = write(
        home / ".claude.json",
        {"numStartups": 3, "projects": {str(proj): {"allowedTools": ["Bash"]}}},
    )
    write(proj / ".mcp.json", {"mcpServers": {"keep": stdio("k")}, "x-note": "team"})
    entry = build_entry("stdio", "npx", ["srv"], env={"T": "${TOKEN}"})
    assert add_server("local", "loc", entry, proj, home=home) == claude
    add_server("user", "usr", build_entry("sse", "http://127.0.0.1:1/sse"), proj, home=home)
    add_server("project", "prj", entry, proj, home=home)
    doc = json.loads(claude.read_text())
    assert doc["numStartups"] == 3
    assert doc["projects"][str(proj)] == {"allowedTools": ["Bash"], "mcpServers": {"loc": entry}}
    assert doc["mcpServers"] == {"usr": {"type": "sse", "url": "http://127.0.0.1:1/sse"}}
    assert json.loads((proj / ".mcp.json").read_text()) == {
        "mcpServers": {"keep": stdio("k"), "prj": entry},
        "x-note": "team",
    }
    # What bridle wrote, bridle (and Claude Code) read back.
    cfg = load_servers(proj, env={"TOKEN": "s3"}, home=home)
    assert {n: s.scope for n, s in cfg.servers.items()} == {
        "loc": "local",
        "usr": "user",
        "keep": "project",
        "prj": "project",
    }
    assert dict(cfg.servers["loc"].env) == {"T": "s3"}

    with pytest.raises(ConfigError, match="already exists in local config"):
        add_server("local", "loc", entry, proj, home=home)
    with pytest.raises(ConfigError, match='add "type": "http"'):
        add_server("user", "u2", {"url": "http://h"}, proj, home=home)

    add_server("user", "prj", entry, proj, home=home)
    with pytest.raises(ConfigError, match=r"several scopes \(project, user\)"):
        remove_server("prj", proj, home=home)
    assert remove_server("prj", proj, scope="user", home=home) == ("user", claude)
    assert remove_server("loc", proj, home=home) == ("local", claude)
    with pytest.raises(ConfigError, match="no MCP server named 'loc'"):
        remove_server("loc", proj, home=home)
    doc = json.loads(claude.read_text())
    assert doc["projects"][str(proj)] == {"allowedTools": ["Bash"], "mcpServers": {}}
    assert scope_entries("user", proj, home=home) == {
        "usr": {"type": "sse", "url": "http://127.0.0.1:1/sse"}
    }


def test_edit_refuses_a_broken_file(proj: Path, home: Path) -> None:
    claude = home / ".claude.json"
    claude.write_text('{"numStartups": ')
    with pytest.raises(ConfigError, match=r"not valid JSON.*will not overwrite"):
        add_server("user", "a", stdio("a"), proj, home=home)
    assert claude.read_text() == '{"numStartups": '


def test_new_claude_json_is_private(proj: Path, home: Path) -> None:
    path = add_server("user", "a", stdio("a"), proj, home=home)
    assert path.stat().st_mode & 0o777 == 0o600


def test_importing_config_does_not_import_the_sdk() -> None:
    code = (
        "import sys, bridle.mcp.config, bridle.mcp.scopes, bridle.mcp.tools, bridle.mcp.client; "
        "bad = sorted(m for m in sys.modules if m == 'mcp' or m.startswith(('mcp.', 'mcp_types', "
        "'httpx2', 'anyio'))); print(bad); sys.exit(1 if bad else 0)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
