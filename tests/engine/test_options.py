"""`SessionOptions`, the typed door into the engine, and the flags that build it.

A front end builds the value in Python (the app, daemon and ACP agent will),
so defaults must make a complete request, sequences must end up as tuples and
bad combinations must be usage errors naming the field. `headless.flags` maps
the root command's flags onto it; after that no engine or service code reads a
flag name (checked by scanning the source).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from bridle.core.errors import UsageError
from bridle.engine.options import SessionOptions
from bridle.headless.flags import session_options

SRC = Path(__file__).resolve().parents[2] / "src" / "bridle"


def test_defaults_make_a_complete_request() -> None:
    o = SessionOptions()
    assert o.model is None and o.accounts == () and o.tools is None
    assert o.headless is True and not o.resuming
    assert dict(o.settings) == {}


def test_sequences_become_tuples_and_the_value_is_frozen() -> None:
    o = SessionOptions(
        accounts=["work", "home"],
        allow_rules=["Bash(npm test:*)", "Read"],
        add_dirs=["/tmp"],
        tools=["Read", "Grep"],
        settings={"model": "sonnet"},
    )
    assert o.accounts == ("work", "home")
    assert o.allow_rules == ("Bash(npm test:*)", "Read")
    assert o.add_dirs == (Path("/tmp"),)
    assert o.tools == ("Read", "Grep")
    with pytest.raises(dataclasses.FrozenInstanceError):
        o.model = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        o.settings["model"] = "other"  # type: ignore[index]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"continue_latest": True, "resume": "abc"}, "not both"),
        ({"fork": True}, "forking needs a session"),
        ({"resume": "  "}, "resume needs a session id"),
        ({"max_turns": 0}, "max_turns"),
        ({"max_cost_usd": 0.0}, "max_cost_usd"),
        ({"permission_mode": "yolo"}, "unknown permission mode"),
        ({"dry_run": True, "permission_mode": "acceptEdits"}, "plan mode"),
        ({"allow_rules": ["Bash(git commit"]}, "unbalanced"),
        ({"accounts": ["work", " "]}, "account name is empty"),
    ],
)
def test_bad_values_are_usage_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        SessionOptions(**kwargs)


def test_permission_config_carries_rules_mode_and_dirs(tmp_path: Path) -> None:
    o = SessionOptions(
        allow_rules=["Bash(git *),Read"],
        deny_rules=["WebFetch"],
        dry_run=True,
        add_dirs=[tmp_path],
    )
    config = o.permission_config()
    assert (config.mode, config.allow, config.deny) == (
        "plan",
        ["Bash(git *)", "Read"],
        ["WebFetch"],
    )
    assert config.additional_directories == [str(tmp_path.resolve())]


def _flags(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "model": None, "account": None, "permission_mode": None,
        "dangerously_skip_permissions": False, "dry_run": False,
        "allowed_tools": [], "disallowed_tools": [], "allow_tool": [], "deny_tool": [],
        "add_dir": [], "tools": None, "max_turns": None, "max_cost": None,
        "system_prompt": None, "append_system_prompt": [], "system_file": None,
        "continue_": False, "resume": None, "fork_session": False, "settings_json": None,
        "permission_prompt_tool": None,
    }  # fmt: skip
    base.update(over)
    return base


def test_flags_map_onto_typed_fields(tmp_path: Path) -> None:
    system = tmp_path / "system.md"
    system.write_text("You are terse.")
    settings = tmp_path / "extra.jsonc"
    settings.write_text('{"max_turns": 3, // a comment\n}')
    o = session_options(
        _flags(
            model="mock/default", account="work, home", dangerously_skip_permissions=True,
            allowed_tools=["Bash(npm test:*)"], allow_tool=["Read"], disallowed_tools=["WebFetch"],
            tools="Read,Grep", max_turns=4, max_cost=0.5, system_file=str(system),
            append_system_prompt=["Be kind."], continue_=True, fork_session=True,
            settings_json=str(settings), permission_prompt_tool="stdio",
        ),
        tmp_path,
    )  # fmt: skip
    assert o == SessionOptions(
        model="mock/default",
        accounts=("work", "home"),
        permission_mode="bypassPermissions",
        allow_rules=("Bash(npm test:*)", "Read"),
        deny_rules=("WebFetch",),
        tools=("Read", "Grep"),
        max_turns=4,
        max_cost_usd=0.5,
        system_prompt="You are terse.",
        append_system_prompt=("Be kind.",),
        continue_latest=True,
        fork=True,
        settings={"max_turns": 3},
        headless=False,
    )


@pytest.mark.parametrize(
    ("spec", "tools"), [("default", None), ("", ()), (" Read , Bash", ("Read", "Bash"))]
)
def test_tools_flag(spec: str, tools: tuple[str, ...] | None, tmp_path: Path) -> None:
    assert session_options(_flags(tools=spec), tmp_path).tools == tools


def test_settings_flag_that_is_no_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"nofile\.json: no such file"):
        session_options(_flags(settings_json="nofile.json"), tmp_path)
    with pytest.raises(UsageError, match="not valid JSON"):
        session_options(_flags(settings_json="{nope"), tmp_path)
    (tmp_path / "list.json").write_text("[1]")
    with pytest.raises(UsageError, match="must be a JSON object"):
        session_options(_flags(settings_json="list.json"), tmp_path)


def test_no_engine_or_service_code_reads_flag_names() -> None:
    readers = re.compile(r"\bopts(\.get\(|\[)")
    offenders = [
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if p.relative_to(SRC).parts[0] not in ("cli", "headless")
        and readers.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
