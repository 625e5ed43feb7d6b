"""`bridle recall`: the picker driven headless with Pilot, plus screen snapshots.

The app runs over the fixture sessions (tests/history/snapshot_apps/recall_app.py)
with a fixed clock, so what each key does can be checked on the whole visible
state: the rows in order, the status line, the preview text, the stars in the
database, and what the picker returns."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from bridle.history.search import Filters, list_sessions

from .snapshot_apps.recall_app import build_app

APP = Path(__file__).parent / "snapshot_apps" / "recall_app.py"
SIZE = (110, 30)


def titles(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [s.title if s else "--" for s in app.rows]  # type: ignore[misc]


def status(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.query_one("#status", Static).render())


def drive(keys: list[str], check):  # type: ignore[no-untyped-def]
    import tempfile

    app = build_app(Path(tempfile.mkdtemp(dir=os.environ["HOME"])))

    async def go() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            for key in keys:
                await pilot.press(key)
            await pilot.pause()
            check(app)

    asyncio.run(go())
    return app


def test_lists_sessions_newest_first() -> None:
    def check(app) -> None:  # type: ignore[no-untyped-def]
        assert titles(app) == [
            "Homebrew install docs",
            "Checkout 502 from payment gateway",
            "Login styling",
            "Fix flaky parser quoting test",
            "Rate limiter work",
            "What does the Makefile lint target run?",
            "List the cron jobs in deploy/",
            "Explain the legacy billing module",
        ]
        assert status(app) == "8 sessions  ·  tool: all  ·  account: all  ·  sort: time"

    drive([], check)


@pytest.mark.parametrize(
    ("keys", "title"),
    [
        (["enter"], "Homebrew install docs"),
        (["j", "j", "enter"], "Login styling"),
        (["down", "down", "k", "enter"], "Checkout 502 from payment gateway"),
        (["pagedown", "enter"], "Explain the legacy billing module"),
        (["pagedown", "pageup", "up", "enter"], "Homebrew install docs"),
    ],
)
def test_moving_and_enter_returns_the_session(keys: list[str], title: str) -> None:
    app = drive(keys, lambda app: None)
    assert app.return_value is not None and app.return_value.title == title


@pytest.mark.parametrize("key", ["q", "escape"])
def test_quit_returns_nothing(key: str) -> None:
    app = drive([key], lambda app: None)
    assert app.return_value is None


@pytest.mark.parametrize("key", ["p", "space", "tab"])
def test_preview_shows_first_and_last_messages(key: str) -> None:
    def check(app) -> None:  # type: ignore[no-untyped-def]
        preview = app.query_one("#preview", Static)
        assert preview.has_class("shown")
        assert str(preview.render()).splitlines() == [
            "Fix flaky parser quoting test  claude:7f3c2a10-5b6d-4e8f-9a01-23456789abcd",
            "/home/ada/src/parser  fix/quoting",
            "",
            "user: Fix the flaky quoting test in parser_test.py",
            "assistant: Let me run the test first.",
            "assistant: The quoting bug is fixed: parser.py now uses shlex.split.",
        ]

    drive(["j", "j", "j", key], check)
    drive(
        ["j", key, key],
        lambda app: not app.query_one("#preview").has_class("shown") or pytest.fail(),
    )


def test_slash_searches_the_full_text_not_only_titles() -> None:
    def check(app) -> None:  # type: ignore[no-untyped-def]
        assert titles(app) == ["Fix flaky parser quoting test"]  # the match is in a tool's output
        assert status(app).endswith("search: AssertionError")

    drive(["slash", *"AssertionError", "enter"], check)


def test_escape_closes_the_search_box_without_quitting() -> None:
    def check(app) -> None:  # type: ignore[no-untyped-def]
        assert not app.query_one("#search").has_class("shown")
        assert len(app.rows) == 8 and app.return_value is None

    drive(["slash", "q", "escape"], check)


def test_f_cycles_the_tool_filter() -> None:
    def check(app) -> None:  # type: ignore[no-untyped-def]
        assert titles(app) == ["Rate limiter work", "Explain the legacy billing module"]
        assert "tool: codex" in status(app)

    drive(["f", "f"], check)


def test_a_cycles_the_account_filter() -> None:
    drive(
        ["a"],
        lambda app: (
            (titles(app).__len__() == 8 and "account: default" in status(app))
            or pytest.fail(status(app))
        ),
    )
    drive(
        ["a", "a"],
        lambda app: (app.rows == [] and "account: work" in status(app)) or pytest.fail(status(app)),
    )


def test_s_cycles_the_sort() -> None:
    def by_project(app) -> None:  # type: ignore[no-untyped-def]
        assert [s.cwd for s in app.rows] == [
            None,
            None,
            "/home/ada/src/api",
            "/home/ada/src/cli",
            "/home/ada/src/legacy",
            "/home/ada/src/parser",
            "/home/ada/src/shop",
            "/home/ada/src/web",
        ]

    drive(["s"], by_project)
    drive(
        ["s", "s"],
        lambda app: [s.tool for s in app.rows] == sorted(s.tool for s in app.rows) or pytest.fail(),
    )


def test_g_groups_by_project_and_headers_cannot_be_picked() -> None:
    def check(app) -> None:  # type: ignore[no-untyped-def]
        assert titles(app)[:4] == [
            "--",
            "What does the Makefile lint target run?",
            "Explain the legacy billing module",
            "--",
        ]
        assert status(app).endswith("grouped")

    app = drive(["g", "enter"], check)
    assert app.return_value is None or app.return_value.title is not None
    picked = drive(["g", "enter", "j", "enter"], lambda app: None)
    assert (
        picked.return_value is not None
        and picked.return_value.title == "What does the Makefile lint target run?"
    )


def test_b_stars_and_asterisk_shows_starred_only() -> None:
    def check(app) -> None:  # type: ignore[no-untyped-def]
        assert titles(app) == ["Checkout 502 from payment gateway"]
        assert [s.id for s in list_sessions(app.db, Filters(starred=True))] == [
            "3f1c9b2e-8d7a-4c6b-9e5f-0a1b2c3d4e5f"
        ]
        table = app.query_one(DataTable)
        assert table.get_row_at(0)[0] == "★"

    drive(["j", "b", "asterisk"], check)


def test_t_cycles_the_theme() -> None:
    drive(["t"], lambda app: app.theme == "textual-light" or pytest.fail(app.theme))
    drive(["t", "t"], lambda app: app.theme == "nord" or pytest.fail(app.theme))


def test_snapshot_list(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(APP, terminal_size=SIZE)


def test_snapshot_preview_grouped(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(APP, press=["g", "j", "p"], terminal_size=SIZE)


def test_snapshot_search(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(APP, press=["slash", *"gateway", "enter", "p"], terminal_size=SIZE)


def test_a_picked_session_resumes_under_the_account_filter_in_force() -> None:
    from bridle.history.resume import plan_for_session

    app = drive(["a", "enter"], lambda app: None)
    assert app.account == "" and app.return_value is not None
    plan = plan_for_session(app.db, app.return_value, app.account)
    assert (plan.argv, plan.account) == (
        ["copilot", "--resume=c0ffee00-1234-4abc-8def-0123456789ab"],
        "",
    )
    assert drive(["enter"], lambda app: None).account is None
