"""`bridle acp` with an editor client: every file tool on its buffers, its terminals' cwd.

The official SDK's client plays an editor (fs and terminal capabilities) whose
buffer of a.py holds an unsaved edit the disk does not have. Against the mock
model, over `python -m bridle acp`: Read and MultiEdit work on that buffer and
write it back through `fs/write_text_file`; an ApplyPatch whose second file does
not apply writes nothing at all; a good ApplyPatch updates one file, adds
another (both through the editor) and deletes a third; settings `verify` runs
on what was written once the editor saved it; a Write after the user changed the
buffer behind the session's back (while asked) is refused. Then the editor's
terminals keep a `cd` between commands inside the project and reset one that
leaves it, and a write the editor has not saved is named as not verified. A
patch whose write the editor refuses puts back what it already wrote.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from acp import text_block
from acp_client import EditorClient, agent, agent_env

DISK = "def add(a, b):\n    return a - b\n"
UNSAVED = "def add(a, b):\n    return a - b  # unsaved\n"
FIXED = "def add(a, b):\n    return a + b  # fixed\n"
EDITS = [
    {"old_string": "a - b", "new_string": "a + b"},
    {"old_string": "  # unsaved", "new_string": "  # fixed"},
]
PATCH_A = (
    "*** Update File: a.py\n@@\n def add(a, b):\n-    return a + b  # fixed\n+    return a + b\n"
)
BAD_PATCH = (
    f"*** Begin Patch\n{PATCH_A}*** Update File: b.py\n@@\n-VALUE = 2\n+VALUE = 3\n*** End Patch"
)
GOOD_PATCH = (
    f"*** Begin Patch\n{PATCH_A}*** Add File: new.py\n+def broken(:\n"
    "*** Delete File: old.txt\n*** End Patch"
)
USER_TEXT = "# the user typed this meanwhile\n"


def call(tool: str, **args: Any) -> dict[str, Any]:
    return {"op": "call", "tool": tool, "input": json.dumps(args)}


def write_scenario(tmp: Path, turns: list[dict[str, Any]]) -> Path:
    path = tmp / "scenario.json"
    path.write_text(json.dumps({"name": "acp-editor", "turns": turns}))
    return path


def results(client: EditorClient) -> list[tuple[str, str]]:
    """(status, result text) of each tool call, in call order."""
    calls = [u.tool_call_id for u in client.of("tool_call")]
    final = {u.tool_call_id: u for u in client.of("tool_call_update") if u.status}
    return [(final[c].status, final[c].content[-1].content.text) for c in calls]


def test_every_file_tool_works_on_the_editor_buffers(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".bridle").mkdir(parents=True)
    (repo / "a.py").write_text(DISK)
    (repo / "b.py").write_text("VALUE = 1\n")
    (repo / "old.txt").write_text("stale\n")
    check = f"{sys.executable} -m py_compile {{file}}"
    (repo / ".bridle" / "settings.json").write_text(json.dumps({"verify": {"*.py": check}}))
    turns = [
        {"op": "read", "path": "a.py"},
        call("MultiEdit", file_path=str(repo / "a.py"), edits=EDITS),
        call("ApplyPatch", input=BAD_PATCH),
        call("ApplyPatch", input=GOOD_PATCH),
        call("Write", file_path=str(repo / "a.py"), content="print('overwritten')\n"),
        {"op": "final", "text": "done"},
    ]
    a, b = str(repo / "a.py"), str(repo / "b.py")
    client = EditorClient(["allow_once"] * 4, editor=True)
    client.buffers[a] = UNSAVED
    writes_before_bad_patch: list[int] = []

    def on_ask(ask: Any) -> None:
        if ask.title == "Write a.py":  # the user edits the buffer while asked
            client.buffers[a] = USER_TEXT
        if ask.raw_input.get("input") == BAD_PATCH:
            writes_before_bad_patch.append(len(client.writes))

    client.on_ask = on_ask
    env = agent_env(tmp_path / "home", write_scenario(tmp_path, turns))

    async def run() -> Any:
        async with agent(client, env, "--model", "mock/anthropic") as (conn, _):
            new = await conn.new_session(cwd=str(repo), mcp_servers=[])
            return await conn.prompt(session_id=new.session_id, prompt=[text_block("go")])

    reply = asyncio.run(asyncio.wait_for(run(), 120))
    assert reply.stop_reason == "end_turn"
    (read, _), multi, bad, good, write = results(client)
    assert read == "completed"
    # MultiEdit edited the unsaved buffer, wrote it back, and verify ran on it.
    assert multi[0] == "completed" and "Applied 2 edits to a.py" in multi[1]
    assert f"Verify OK: a.py ({sys.executable})" in multi[1]
    # The bad patch read both buffers and wrote neither file.
    assert bad[0] == "failed" and "not found in b.py" in bad[1]
    assert writes_before_bad_patch == [1]
    assert client.writes[0] == (a, FIXED)
    assert client.reads.count(b) == 1
    # The good patch: a.py and new.py through the editor, old.txt deleted.
    assert good[0] == "completed" and "M a.py" in good[1] and "A new.py" in good[1]
    assert "D old.txt" in good[1] and "Verify failed for new.py" in good[1]
    assert [p for p, _ in client.writes] == [a, a, str(repo / "new.py")]
    assert (repo / "a.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert (repo / "new.py").read_text() == "def broken(:\n"
    assert not (repo / "old.txt").exists()
    # The Write saw the buffer had changed since the session last wrote it.
    assert write[0] == "failed" and "changed in the editor since it was last read" in write[1]
    assert client.buffers[a] == USER_TEXT and len(client.writes) == 3


def test_editor_terminals_keep_the_shell_directory(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    turns = [
        {"op": "bash", "command": "mkdir -p sub && cd sub"},
        {"op": "bash", "command": "pwd"},
        {"op": "bash", "command": "cd /"},
        {"op": "bash", "command": "pwd"},
        call("Write", file_path=str(repo / "notes.py"), content="x = 1\n"),
        {"op": "final", "text": "done"},
    ]
    client = EditorClient(editor=True, save=False)  # writes stay in the buffer
    env = agent_env(tmp_path / "home", write_scenario(tmp_path, turns))

    async def run() -> Any:
        async with agent(client, env, "--model", "mock/anthropic") as (conn, _):
            new = await conn.new_session(cwd=str(repo), mcp_servers=[])
            sid = new.session_id
            await conn.set_session_mode(session_id=sid, mode_id="bypassPermissions")
            return await conn.prompt(session_id=sid, prompt=[text_block("go")])

    reply = asyncio.run(asyncio.wait_for(run(), 120))
    assert reply.stop_reason == "end_turn"
    real = repo.resolve()
    (_, made), (_, pwd), (_, leave), (_, back), (_, wrote) = results(client)
    assert made == "(no output)"
    assert pwd == str(real / "sub")
    assert f"cwd / is outside the project; the shell was reset to {repo}" in leave
    assert back == str(real)
    assert client.cwds == [str(repo), str(repo / "sub"), str(repo / "sub"), str(repo)]
    assert [c[-1] for c in client.commands] == ["mkdir -p sub && cd sub", "pwd", "cd /", "pwd"]
    assert "Created notes.py" in wrote
    assert "Not verified: the editor has not saved notes.py to disk yet." in wrote
    assert not (repo / "notes.py").exists() and client.buffers[str(repo / "notes.py")] == "x = 1\n"


def test_a_patch_whose_write_fails_is_rolled_back_in_the_editor(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.py").write_text(DISK)
    (repo / "old.txt").write_text("stale\n")
    patch = (
        "*** Begin Patch\n*** Update File: a.py\n@@\n-    return a - b\n+    return a + b\n"
        "*** Add File: new.py\n+x = 1\n*** Delete File: old.txt\n*** End Patch"
    )
    turns = [call("ApplyPatch", input=patch), {"op": "final", "text": "done"}]
    client = EditorClient(editor=True)
    client.refuse.add(str(repo / "new.py"))  # the editor refuses this write
    env = agent_env(tmp_path / "home", write_scenario(tmp_path, turns))

    async def run() -> Any:
        async with agent(client, env, "--model", "mock/anthropic") as (conn, _):
            new = await conn.new_session(cwd=str(repo), mcp_servers=[])
            sid = new.session_id
            await conn.set_session_mode(session_id=sid, mode_id="bypassPermissions")
            return await conn.prompt(session_id=sid, prompt=[text_block("go")])

    assert asyncio.run(asyncio.wait_for(run(), 120)).stop_reason == "end_turn"
    [(status, text)] = results(client)
    assert status == "failed" and "the editor could not write new.py" in text
    assert "all changes were rolled back" in text
    a = str(repo / "a.py")
    assert client.writes == [(a, DISK.replace("a - b", "a + b")), (a, DISK)]
    assert (repo / "a.py").read_text() == DISK and (repo / "old.txt").exists()
    assert not (repo / "new.py").exists()
