"""The real Codex CLI, Gemini CLI and Copilot CLI (BYOK) under two bridle accounts,
against `bridle mock serve`, as `bridle launch` runs them.

For each CLI: a credential written (or, where the offline mode writes none, planted)
under account A never shows up under B nor in the shared store; the shared entries
are links into the shared store before and after the CLI ran; the session A writes
lands in the shared store and `bridle launch B <tool> --resume ID`, started from
another directory, continues that very session (same file, and the mock's scripted
turn carries on where A left off); MCP servers added and removed under A reach B.

What each CLI does here, found by running it:
- Codex keeps per-CODEX_HOME SQLite state (`state_5.sqlite`, ...), but resuming by id
  and `resume --last` find the thread from the shared `sessions/` rollouts, so B
  resumes A's thread. Non-interactive resume is `codex exec resume ID PROMPT`.
- Gemini CLI 0.61 replays every earlier tool result twice when it resumes a session
  (google-gemini/gemini-cli#29365; the same without bridle), which the Gemini API
  (and the mock) reject. A session without tool calls resumes fine from B; one with
  them fails in B exactly as it fails natively, which the test pins down. Resumed in
  a later minute than it began, Gemini also leaves an empty file of the session that
  makes its next start delete the session (natively too); bridle moves it aside.
- Copilot saves `mcp-config.json` by renaming a temp file over it, which replaces
  bridle's link; bridle carries the new file back into the store when the launch ends.
The bridle fixes these runs called for are pinned again, without a CLI, at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from realcli.harness import MockProcess, cli_bin, prepare_cli

from bridle.accounts.launch import command_line
from bridle.accounts.layout import (
    adopt_replaced_files,
    quarantined_entries,
    setup_tool,
    shared_file_states,
)
from bridle.accounts.manage import add_account
from bridle.accounts.runner import Accounts
from bridle.accounts.sessions import gemini_resume_stubs
from bridle.accounts.specs import TOOLS

TOOL_TURNS = [{"op": "bash", "command": "echo alpha", "say": "running"}, {"op": "final"}]


def scenario(tmp_path: Path, name: str, final: str, turns: list[dict[str, str]]) -> Path:
    path = tmp_path / f"{name}.json"
    body = {"name": name, "prompt": "say hi", "final": final, "turns": turns}
    path.write_text(json.dumps(body))
    return path


@dataclass
class Launcher:
    """`bridle launch ACCOUNT <tool> ARGS...` as a user types it, from `cwd`."""

    tool: str
    env: dict[str, str]
    cwd: Path

    def raw(
        self, account: str, *args: str, cwd: Path | None = None, stdin: str = ""
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bridle", "launch", account, self.tool, *args],
            env=self.env, cwd=cwd or self.cwd, input=stdin, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip

    def __call__(
        self, account: str, *args: str, cwd: Path | None = None, stdin: str = ""
    ) -> subprocess.CompletedProcess[str]:
        done = self.raw(account, *args, cwd=cwd, stdin=stdin)
        assert done.returncode == 0, (
            f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
        )
        return done


def launcher(tool: str, mock: MockProcess, home: Path, project: Path) -> Launcher:
    """The harness's settings for `tool` (its config files go into the primary dirs)."""
    cli = prepare_cli(tool, port=mock.port, cwd=project, home=home, prompt="say hi")
    env = {**os.environ, **cli.env, "BRIDLE_CLI_PATH": str(cli_bin(tool).parent)}
    env.pop("CODEX_HOME", None)  # bridle sets each account's own
    return Launcher(tool, env, project)


def scripted_turns(mock: MockProcess) -> list[int]:
    return [e["turn"] for e in mock.requests() if "turn" in e]


def last_session(home: Path, account: str, tool: str) -> dict[str, Any]:
    record = json.loads((home / ".bridle" / "last-sessions.json").read_text())
    entry: dict[str, Any] = record[f"{account}:{tool}"]
    return entry


def files_named(root: Path, name: str) -> list[Path]:
    """Every real file called `name` under `root`, not following links."""
    return [Path(d) / name for d, _, files in os.walk(root) if name in files]


def assert_shared(ctx: Accounts, tool: str, *accounts: str) -> None:
    """Each shared entry that exists in the store is, in every account, a link to it."""
    spec = TOOLS[tool]
    for name in accounts:
        paths = ctx.paths(name)
        for entry in spec.shared_entries:
            src, dst = paths.primary_dir(spec) / entry, paths.tool_dir(spec) / entry
            if src.exists():
                assert dst.is_symlink() and dst.resolve() == src.resolve(), (name, entry)
        assert quarantined_entries(paths) == [], name


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    project, elsewhere = tmp_path / "proj", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    return project, elsewhere


@pytest.mark.realcli
@pytest.mark.slow
def test_codex_under_two_accounts(
    ctx: Accounts, home: Path, tmp_path: Path, dirs: tuple[Path, Path]
) -> None:
    project, elsewhere = dirs
    spec = TOOLS["codex"]
    script = scenario(tmp_path, "codex", "first done", TOOL_TURNS)
    with MockProcess(script, log=tmp_path / "mock.jsonl") as mock:
        codex = launcher("codex", mock, home, project)
        add_account(ctx, "a", ["codex"], "config-dir")
        add_account(ctx, "b", ["codex"], "config-dir")
        dir_a, dir_b = ctx.paths("a").tool_dir(spec), ctx.paths("b").tool_dir(spec)

        # Codex's own login writes the key into A's CODEX_HOME only.
        codex("a", "--", "login", "--with-api-key", stdin="sk-a\n")
        auth = {"auth_mode": "apikey", "OPENAI_API_KEY": "sk-a"}
        assert json.loads((dir_a / "auth.json").read_text()) == auth
        assert "API key configured" in codex("a", "--", "login", "status").stderr
        status_b = codex.raw("b", "--", "login", "status")
        assert (status_b.returncode, status_b.stderr.strip()) == (1, "Not logged in")

        exec_ = ("--", "exec", "--skip-git-repo-check")
        assert codex("a", "--yolo", *exec_, "say hi").stdout.strip() == "first done"
        last = last_session(home, "a", "codex")
        rollouts = list((home / ".codex" / "sessions").glob(f"*/*/*/rollout-*-{last['id']}.jsonl"))
        assert len(rollouts) == 1 and last["cwd"] == str(project)
        assert scripted_turns(mock) == [0, 1]

        # From B, elsewhere: bridle moves to the session's directory and Codex
        # continues the thread (the request carries A's tool call: turn 1 again).
        second = codex("b", "--yolo", "--resume", last["id"], *exec_, "again", cwd=elsewhere)
        assert f"resuming in the session's directory {project}" in second.stderr
        assert scripted_turns(mock) == [0, 1, 1]
        codex("b", "--yolo", "--continue", *exec_, "once more")
        assert scripted_turns(mock) == [0, 1, 1, 1]
        assert sorted((home / ".codex" / "sessions").rglob("rollout-*")) == rollouts
        assert codex_prompts(rollouts[0]) == ["say hi", "again", "once more"]
        assert last_session(home, "b", "codex")["id"] == last["id"]

        # MCP servers live in the shared config.toml, which Codex writes in place.
        codex("a", "--", "mcp", "add", "srv", "--", "echo", "hi")
        listed = json.loads(codex("b", "--", "mcp", "list", "--json").stdout)
        assert [(s["name"], s["transport"]["command"], s["transport"]["args"]) for s in listed] == [
            ("srv", "echo", ["hi"])
        ]
        codex("a", "--", "mcp", "remove", "srv")
        assert json.loads(codex("b", "--", "mcp", "list", "--json").stdout) == []

    assert files_named(dir_a, "auth.json") == [dir_a / "auth.json"]
    assert files_named(dir_b, "auth.json") == files_named(home / ".codex", "auth.json") == []
    assert (dir_a / "auth.json").stat().st_mode & 0o777 == 0o600
    assert_shared(ctx, "codex", "a", "b")
    # Codex installs its bundled skills into the (now shared) skills dir.
    assert (home / ".codex" / "skills" / ".system").is_dir()


def codex_prompts(rollout: Path) -> list[str]:
    prompts = []
    for line in rollout.read_text().splitlines():
        item = json.loads(line)
        payload = item.get("payload") or {}
        if item["type"] == "response_item" and payload.get("role") == "user":
            text = payload["content"][0].get("text", "")
            if not text.startswith("<"):
                prompts.append(text)
    return prompts


GEMINI_SETTINGS = {
    "security": {"auth": {"selectedType": "gemini-api-key"}},
    "privacy": {"usageStatisticsEnabled": False},
    "general": {"enableAutoUpdate": False, "checkpointing": {"enabled": True}},
}
GEMINI_CREDS = {
    "oauth_creds.json": '{"access_token": "ya29.only-a", "refresh_token": "1//only-a"}',
    "google_accounts.json": '{"active": "a@example.com", "old": []}',
}
# What google-gemini/gemini-cli#29365 makes Gemini CLI 0.61 send when it resumes a
# session that used a tool: the tool's result twice, answering one call.
GEMINI_DOUBLED_RESULT = (
    "contents[2]: functionResponse parts ['write_file', 'write_file'] "
    "do not answer the functionCall parts ['write_file']"
)


@pytest.mark.realcli
@pytest.mark.slow
def test_gemini_under_two_accounts(
    ctx: Accounts, home: Path, tmp_path: Path, dirs: tuple[Path, Path]
) -> None:
    project, elsewhere = dirs
    spec = TOOLS["gemini"]
    plain = scenario(tmp_path, "plain", "first done", [{"op": "final"}])
    edit = [{"op": "write", "path": "note.txt", "content": "hello\n"}, {"op": "final"}]
    with (
        MockProcess(plain, log=tmp_path / "plain.jsonl") as mock,
        MockProcess(scenario(tmp_path, "edit", "written", edit), log=tmp_path / "edit.jsonl") as
        mock_edit,
    ):  # fmt: skip
        gemini = launcher("gemini", mock, home, project)
        gemini_edit = launcher("gemini", mock_edit, home, project)
        (home / ".gemini" / "settings.json").write_text(json.dumps(GEMINI_SETTINGS))
        add_account(ctx, "a", ["gemini"], "config-dir")
        add_account(ctx, "b", ["gemini"], "config-dir")
        dir_a, dir_b = ctx.paths("a").tool_dir(spec), ctx.paths("b").tool_dir(spec)
        # With an API key Gemini CLI writes no credential file: plant A's OAuth ones.
        for name, text in GEMINI_CREDS.items():
            (dir_a / name).write_text(text)

        assert gemini("a", "--yolo", "--", "-p", "say hi").stdout.strip() == "first done"
        last = last_session(home, "a", "gemini")
        chats = home / ".gemini" / "tmp" / "proj" / "chats"
        (started,) = chats.glob("session-*.jsonl")
        assert last["cwd"] == str(project) and Path(last["path"]).resolve() == started
        # Name the file as if A had started the session in an earlier minute, as
        # users do: Gemini names its files after the minute it starts in.
        session = started.rename(chats / f"session-2026-01-01T09-00-{last['id'][:8]}.jsonl")
        before = session.read_text().splitlines()

        second = gemini("b", "--yolo", "--resume", last["id"], "--", "-p", "again", cwd=elsewhere)
        assert f"resuming in the session's directory {project}" in second.stderr
        after = session.read_text().splitlines()
        assert after[: len(before)] == before
        assert gemini_prompts(before) == ["say hi"]
        # B's run reloaded A's conversation into the session, then added its turn.
        assert gemini_prompts(after[len(before) :]) == ["say hi", "again"]
        assert last_session(home, "b", "gemini")["id"] == last["id"]
        # The file Gemini opened for this minute holds no prompt; left there, the
        # next Gemini start would delete it and, with the same short id, the session.
        assert list(chats.glob("session-*.jsonl")) == [session]
        (stub,) = (home / ".bridle" / "backups" / "gemini-stubs").iterdir()
        assert stub.name.endswith(f"-{last['id'][:8]}.jsonl") and stub.name != session.name
        assert gemini_prompts(stub.read_text().splitlines()) == []

        # A session that used a tool: the edit was checkpointed in the shared
        # history dir, and Gemini CLI's own resume bug shows the same from B.
        assert gemini_edit("a", "--yolo", "--", "-p", "edit").stdout.strip() == "written"
        assert (project / "note.txt").read_text() == "hello\n"
        assert (home / ".gemini" / "history" / "proj" / ".git").is_dir()
        edited = last_session(home, "a", "gemini")["id"]
        assert edited != last["id"]
        assert gemini_prompts(session.read_text().splitlines()) == ["say hi", "again"]
        resumed = gemini_edit.raw("b", "--yolo", "--resume", edited, "--", "-p", "more")
        assert resumed.returncode != 0
        assert scripted_turns(mock_edit) == [0, 1]  # only A's run reached the script
        rejected = {e.get("violation") for e in mock_edit.requests() if e.get("status") == 400}
        assert rejected == {GEMINI_DOUBLED_RESULT}

        # MCP servers live in the shared settings.json, which Gemini writes in place.
        gemini("a", "--", "mcp", "add", "-s", "user", "srv", "echo", "hi")
        settings_b = json.loads((dir_b / "settings.json").read_text())
        assert settings_b["mcpServers"] == {"srv": {"command": "echo", "args": ["hi"]}}

    for name, text in GEMINI_CREDS.items():
        assert (dir_a / name).read_text() == text
        assert files_named(dir_b, name) == files_named(home / ".gemini", name) == []
    assert_shared(ctx, "gemini", "a", "b")


def gemini_prompts(lines: list[str]) -> list[str]:
    """User prompts in the order a part of a session file holds them, including
    those in a `$set` of the whole message list (written when a session is loaded)."""
    seen: dict[str, str] = {}
    for line in lines:
        record = json.loads(line)
        messages = record.get("$set", {}).get("messages", [record])
        for m in messages:
            content = m.get("content")
            if m.get("type") != "user" or not isinstance(content, list):
                continue
            text = content[0].get("text")
            if text is not None and not text.startswith("<session_context>"):
                seen.setdefault(m["id"], text)
    return list(seen.values())


COPILOT_SRV = {"tools": ["*"], "type": "local", "command": "echo", "args": ["hi"]}
COPILOT_LOGIN = {
    "loggedInUsers": [{"host": "https://github.com", "login": "only-a"}],
    "lastLoggedInUser": {"host": "https://github.com", "login": "only-a"},
    "copilotTokens": {"https://github.com:only-a": "gho_only_a"},
}


@pytest.mark.realcli
@pytest.mark.slow
def test_copilot_under_two_accounts(
    ctx: Accounts, home: Path, tmp_path: Path, dirs: tuple[Path, Path]
) -> None:
    project, elsewhere = dirs
    spec = TOOLS["copilot"]
    script = scenario(tmp_path, "copilot", "first done", TOOL_TURNS)
    with MockProcess(script, log=tmp_path / "mock.jsonl") as mock:
        copilot = launcher("copilot", mock, home, project)
        add_account(ctx, "a", ["copilot"], "config-dir")
        add_account(ctx, "b", ["copilot"], "config-dir")
        dir_a, dir_b = ctx.paths("a").tool_dir(spec), ctx.paths("b").tool_dir(spec)
        # BYOK needs no login; plant the login Copilot keeps without a keychain.
        (dir_a / "config.json").write_text(json.dumps(COPILOT_LOGIN))

        assert "first done" in copilot("a", "--yolo", "--", "-p", "say hi").stdout
        last = last_session(home, "a", "copilot")
        state = home / ".copilot" / "session-state"
        assert last["cwd"] == str(project)
        assert scripted_turns(mock) == [0, 1]

        second = copilot("b", "--yolo", "--resume", last["id"], "--", "-p", "again", cwd=elsewhere)
        assert f"resuming in the session's directory {project}" in second.stderr
        assert scripted_turns(mock) == [0, 1, 1]
        copilot("b", "--yolo", "--continue", "--", "-p", "once more")
        assert scripted_turns(mock) == [0, 1, 1, 1]
        assert [p.name for p in state.iterdir() if not p.name.startswith(".")] == [last["id"]]
        events = (state / last["id"] / "events.jsonl").read_text().splitlines()
        prompts = [
            e["data"]["content"] for e in map(json.loads, events) if e["type"] == "user.message"
        ]
        assert prompts == ["say hi", "again", "once more"]

        # Settings (written in place) and MCP servers (saved over bridle's link,
        # carried back by bridle) reach B.
        copilot("a", "--", "config", "footer.showQuota", "off")
        assert copilot("b", "--", "config", "footer.showQuota").stdout.strip() == "false"
        copilot("a", "--", "mcp", "add", "srv", "--", "echo", "hi")
        listed = json.loads(copilot("b", "--", "mcp", "list", "--json").stdout)
        assert listed == {"mcpServers": {"srv": COPILOT_SRV | {"source": "user", "enabled": True}}}
        copilot("a", "--", "mcp", "remove", "srv")
        listed = json.loads(copilot("b", "--", "mcp", "list", "--json").stdout)
        assert listed == {"mcpServers": {}}
        # The shared copy the removal replaced is kept.
        backup = ctx.paths("a").root / "backups" / "copilot" / "mcp-config.json"
        assert json.loads(backup.read_text()) == {"mcpServers": {"srv": COPILOT_SRV}}

    login_a = copilot_json(dir_a / "config.json")
    assert {k: login_a[k] for k in COPILOT_LOGIN} == COPILOT_LOGIN
    assert "only-a" not in (dir_b / "config.json").read_text()
    assert files_named(home / ".copilot", "config.json") == []
    assert_shared(ctx, "copilot", "a", "b")


def copilot_json(path: Path) -> dict[str, Any]:
    """Copilot's config.json opens with `//` comment lines."""
    lines = path.read_text().splitlines()
    value: dict[str, Any] = json.loads("\n".join(x for x in lines if not x.startswith("//")))
    return value


# The fixes these runs called for, pinned without a CLI.


@pytest.mark.parametrize(
    ("kwargs", "argv"),
    [
        (
            {"resume_id": "S1", "yolo": True, "args": ["exec", "--json", "go on"]},
            ["codex", "exec", "resume", "S1", "--dangerously-bypass-approvals-and-sandbox",
             "--json", "go on"],
        ),
        ({"resume_latest": True, "args": ["exec", "go"]}, ["codex", "exec", "resume", "--last", "go"]),
        ({"args": ["exec", "go"]}, ["codex", "exec", "go"]),
    ],
)  # fmt: skip
def test_codex_exec_resumes_inside_exec(kwargs: dict[str, Any], argv: list[str]) -> None:
    assert command_line(TOOLS["codex"], "codex", **kwargs) == argv


def _replace_link(path: Path, text: str) -> None:
    """What Copilot does to save mcp-config.json: a temp file renamed over the path."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def test_a_file_saved_over_its_link_is_carried_back(ctx: Accounts, home: Path) -> None:
    add_account(ctx, "a", ["copilot"], "config-dir")
    spec, paths = TOOLS["copilot"], ctx.paths("a")
    shared = home / ".copilot" / "mcp-config.json"
    shared.write_text("old")
    setup_tool(paths, spec)
    before = shared_file_states(paths, spec)
    _replace_link(paths.tool_dir(spec) / "mcp-config.json", "new")

    changes = adopt_replaced_files(paths, spec, before)
    assert [(c.kind, c.path) for c in changes] == [("promoted", shared)]
    assert shared.read_text() == "new"
    assert os.readlink(paths.tool_dir(spec) / "mcp-config.json") == str(shared)
    assert (paths.root / "backups" / "copilot" / "mcp-config.json").read_text() == "old"


def test_a_file_saved_over_its_link_never_clobbers_a_newer_shared_copy(
    ctx: Accounts, home: Path
) -> None:
    add_account(ctx, "a", ["copilot"], "config-dir")
    spec, paths = TOOLS["copilot"], ctx.paths("a")
    shared = home / ".copilot" / "mcp-config.json"
    shared.write_text("old")
    setup_tool(paths, spec)
    before = shared_file_states(paths, spec)
    _replace_link(paths.tool_dir(spec) / "mcp-config.json", "from a")
    _replace_link(shared, "from b")  # another account saved first

    assert adopt_replaced_files(paths, spec, before) == []
    changes = setup_tool(paths, spec)
    assert shared.read_text() == "from b"
    (kept,) = quarantined_entries(paths)
    assert kept.read_text() == "from a"
    assert [c.kind for c in changes] == ["quarantined", "linked"]


def test_merging_an_account_dir_drops_only_byte_identical_copies(ctx: Accounts, home: Path) -> None:
    add_account(ctx, "a", ["codex"], "config-dir")
    spec, paths = TOOLS["codex"], ctx.paths("a")
    skills = paths.tool_dir(spec) / "skills"
    skills.unlink()
    (skills / "s").mkdir(parents=True)
    (skills / "s" / "SKILL.md").write_text("same")
    (skills / "s" / "notes.md").write_text("mine")
    (home / ".codex" / "skills" / "s").mkdir(parents=True)
    (home / ".codex" / "skills" / "s" / "SKILL.md").write_text("same")
    (home / ".codex" / "skills" / "s" / "notes.md").write_text("theirs")

    setup_tool(paths, spec)
    assert os.readlink(skills) == str(home / ".codex" / "skills")
    (kept,) = quarantined_entries(paths)
    assert sorted(str(p.relative_to(kept)) for p in kept.rglob("*")) == ["s", "s/notes.md"]
    assert (kept / "s" / "notes.md").read_text() == "mine"
    assert (home / ".codex" / "skills" / "s" / "notes.md").read_text() == "theirs"


def test_only_empty_gemini_files_of_a_live_session_are_stubs(tmp_path: Path) -> None:
    sid = "0123abcd-0000-4000-8000-000000000000"
    meta = {"sessionId": sid, "projectHash": "h", "startTime": "t", "kind": "main"}
    context = {"id": "c", "type": "user", "content": [{"text": "<session_context>\n"}]}
    prompt = {"id": "u", "type": "user", "content": [{"text": "hi"}]}

    def write(name: str, *records: dict[str, Any]) -> Path:
        path = tmp_path / name
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        return path

    main = write(
        "session-2026-01-01T09-00-0123abcd.jsonl", meta, {"$set": {"messages": [context]}}, prompt
    )
    stub = write("session-2026-01-01T10-00-0123abcd.jsonl", meta, {"$set": {"messages": [context]}})
    write("session-2026-01-01T11-00-0123abcd.json", {**meta, "messages": []})
    write("session-2026-01-01T12-00-0123abcd.jsonl", {"$set": {"messages": [context]}})
    write("session-2026-01-01T13-00-99999999.jsonl", meta, {"$set": {"messages": [context]}})

    assert gemini_resume_stubs(tmp_path, sid) == [stub]
    main.unlink()  # never the last file of a session
    assert gemini_resume_stubs(tmp_path, sid) == []
