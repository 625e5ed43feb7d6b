"""The HUD line: every part at a wide width, one line within 80 columns with the
least useful parts dropped first (the model, the turn timer and the queue stay),
the context bar's warning colours, and the line as the app draws it at 80×24.
Also the `a` key's settings writer: merged into `.bridle/settings.local.json`,
other keys kept, a commented file backed up, a broken one refused untouched."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import app_over, buggy_project, scenario_file, wait_for

from bridle.core.errors import ConfigError
from bridle.tui.hud import HudState, context_part, render_hud
from bridle.tui.permission import save_allow_rule

NOW = 1000.0


def full_state(**changes: Any) -> HudState:
    state = HudState(
        model="anthropic/claude-sonnet-4-5",
        account="work",
        project="buggy-project",
        branch="feature/long-branch-name",
        dirty=True,
        mode="acceptEdits",
        context_used=150_000,
        context_window=200_000,
        tokens_in=123_456,
        tokens_out=7_890,
        cost_usd=0.4321,
        turn_started=NOW - 75,
        queued=2,
    )
    for key, value in changes.items():
        setattr(state, key, value)
    return state


def test_a_wide_hud_shows_every_part() -> None:
    line = render_hud(full_state(), 200, NOW).plain
    assert line == (
        "anthropic/claude-sonnet-4-5 · @work · buggy-project (feature/long-branch-name*) · "
        "⏵⏵ acceptEdits · ▰▰▰▰▰▰▱▱ 75% · ↑123.5k ↓7.9k · $0.4321 · ⟳ 1m15s · ▶ 2 queued"
    )


@pytest.mark.parametrize("width", [78, 60, 40])
def test_the_hud_fits_by_dropping_the_least_useful_parts(width: int) -> None:
    line = render_hud(full_state(), width, NOW)
    assert line.cell_len <= width
    assert "\n" not in line.plain
    assert "claude-sonnet-4-5" in line.plain
    assert "⟳ 1m15s" in line.plain and "▶ 2 queued" in line.plain
    if width == 78:
        # Account, tokens and cost go first, then the project (the branch first)
        # and the model's provider; the mode and the context bar stay.
        assert (
            line.plain == "claude-sonnet-4-5 · ⏵⏵ acceptEdits · ▰▰▰▰▰▰▱▱ 75% · ⟳ 1m15s · ▶ 2 queued"
        )


def test_an_idle_hud_at_80_columns_keeps_project_and_branch() -> None:
    idle = full_state(
        account="", mode="default", branch="main", turn_started=None, idle_since=NOW, queued=0
    )
    line = render_hud(idle, 78, NOW).plain
    assert line == "anthropic/claude-sonnet-4-5 · buggy-project (main*) · ▰▰▰▰▰▰▱▱ 75% · $0.4321"


def test_the_idle_clock_and_a_notice() -> None:
    idle = full_state(turn_started=None, idle_since=NOW - 5, queued=0)
    assert render_hud(idle, 200, NOW).plain.endswith("· ⏱ 5s")
    hint = full_state(turn_started=None, idle_since=NOW, notice="Ctrl+C again to quit")
    assert "Ctrl+C again to quit" in render_hud(hint, 78, NOW).plain


@pytest.mark.parametrize(
    ("used", "style"), [(10_000, "green"), (140_000, "yellow"), (180_000, "red")]
)
def test_the_context_bar_warns_at_70_and_90_percent(used: int, style: str) -> None:
    bar = context_part(used, 200_000)
    assert {span.style for span in bar.spans} >= {style}


def test_the_app_draws_the_hud_on_one_line_at_80_columns(tmp_path: Path) -> None:
    repo = buggy_project(tmp_path)
    scenario = scenario_file(tmp_path, [{"op": "final", "text": "ok", "delay_ms": 1500}])

    async def drive(app: Any, srv: Any) -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            app.hud.account = "a-rather-long-account-name"
            app.hud.branch, app.hud.dirty = "main", True
            await wait_for(pilot, lambda: app.running, "the turn")
            await pilot.press(*"next", "enter")
            app.refresh_hud()
            await pilot.pause()
            hud = app.hud_line
            assert hud.region.height == 1 and hud.region.width == 80
            text = hud.render().plain  # type: ignore[attr-defined]
            assert len(text) <= 78
            assert text.startswith("mock/anthropic")
            assert "buggy (main*)" in text and "▶ 1 queued" in text and "⟳ " in text
            assert "a-rather-long-account-name" not in text

    with app_over(repo, scenario, first_prompt="go") as (app, srv):
        asyncio.run(drive(app, srv))


def test_always_rules_merge_into_the_local_settings(tmp_path: Path) -> None:
    path = tmp_path / ".bridle" / "settings.local.json"
    assert save_allow_rule(tmp_path, "Bash(make test)") == path
    assert json.loads(path.read_text()) == {"permissions": {"allow": ["Bash(make test)"]}}

    path.write_text(
        json.dumps({"model": "x/y", "permissions": {"allow": ["Read"], "deny": ["Bash(rm *)"]}})
    )
    save_allow_rule(tmp_path, "Edit(src/**)")
    save_allow_rule(tmp_path, "Edit(src/**)")  # once only
    assert json.loads(path.read_text()) == {
        "model": "x/y",
        "permissions": {"allow": ["Read", "Edit(src/**)"], "deny": ["Bash(rm *)"]},
    }


def test_a_commented_settings_file_is_backed_up_and_a_broken_one_kept(tmp_path: Path) -> None:
    path = tmp_path / ".bridle" / "settings.local.json"
    path.parent.mkdir()
    commented = '{\n  // mine\n  "permissions": {"allow": ["Read"]}\n}\n'
    path.write_text(commented)
    save_allow_rule(tmp_path, "Write")
    assert json.loads(path.read_text()) == {"permissions": {"allow": ["Read", "Write"]}}
    assert path.with_name("settings.local.json.bak").read_text() == commented

    path.write_text('{"permissions": {"allow": "Read"}}')
    with pytest.raises(ConfigError, match="fix it by hand"):
        save_allow_rule(tmp_path, "Write")
    assert path.read_text() == '{"permissions": {"allow": "Read"}}'


def test_the_counts_show_when_there_is_room_and_go_first() -> None:
    from bridle.tui.hud import HudState, render_hud

    state = HudState(model="mock/anthropic", project="p", instruction_files=2, hooks=1)
    wide = render_hud(state, 200, 0.0).plain
    assert wide.endswith("2 md 1 hook")
    state.mcp_servers, state.hooks = 1, 3
    assert render_hud(state, 200, 0.0).plain.endswith("2 md 1 mcp 3 hooks")
    narrow = render_hud(state, 60, 0.0).plain
    assert "md" not in narrow and "mock/anthropic" in narrow
