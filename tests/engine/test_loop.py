"""The agent loop against in-process fake models, with real tools, policy and store."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from bridle.core.messages import (
    ModelRequest,
    ModelResponse,
    StopReason,
    TextPart,
    ToolResultPart,
    ToolUsePart,
    Usage,
)
from bridle.engine import events as ev
from bridle.engine.dispatch import Dispatcher
from bridle.engine.loop import Engine, EngineLimits, ModelBinding
from bridle.engine.setup import StoreSink
from bridle.mock.function_model import FunctionModel, ScriptedModel, final, tool_call
from bridle.policy.engine import PermissionPolicy
from bridle.store.db import open_db
from bridle.store.sessions import SessionStore
from bridle.tools.base import ToolContext
from bridle.tools.registry import builtin_tools

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "buggy-project"


def make_engine(
    cwd: Path,
    model: Any,
    *,
    mode: str = "bypassPermissions",
    limits: EngineLimits | None = None,
    price: float = 0.0,
    input_price: float | None = None,
    headless: bool = True,
) -> tuple[Engine, SessionStore]:
    store = SessionStore(open_db(cwd.parent / "bridle.db"))
    record = store.create("fake/model", "fake", str(cwd))
    tools = builtin_tools()
    policy = PermissionPolicy(
        mode=mode, allow=[], ask=[], deny=[], project_root=cwd, extra_roots=[],
        home=cwd.parent, headless=headless,
    )  # fmt: skip
    ctx = ToolContext(cwd=cwd, session_id=record.id, output_dir=cwd.parent / "out")
    binding = ModelBinding(
        name="fake/model", provider="fake", model="model", wire="fake", client=model,
        cost=lambda u: price * u.output_tokens + (input_price or 0.0) * u.input_tokens,
    )  # fmt: skip
    engine = Engine(
        binding=binding,
        dispatcher=Dispatcher({t.name: t for t in tools}, ctx, policy),
        system="test",
        tool_specs=[t.spec() for t in tools],
        session_id=record.id,
        sink=StoreSink(store, record.id),
        limits=limits,
    )
    return engine, store


def run(engine: Engine, prompt: str = "go") -> tuple[list[ev.Event], ev.TurnResult]:
    events = list(engine.send(ev.UserTurn(prompt)))
    result = events[-1]
    assert isinstance(result, ev.TurnResult)
    return events, result


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    dst = tmp_path / "repo"
    shutil.copytree(EXAMPLE, dst)
    return dst


def test_fixes_the_example_project(repo: Path) -> None:
    path = str(repo / "stats.py")
    model = ScriptedModel(
        [
            tool_call("Read", {"file_path": path}, "c1"),
            tool_call(
                "Edit",
                {
                    "file_path": path,
                    "old_string": "return sum(values) / (len(values) + 1)",
                    "new_string": "return sum(values) / len(values)",
                },
                "c2",
            ),
            tool_call("Bash", {"command": "python -m unittest -q"}, "c3"),
            final("fixed"),
        ]
    )
    engine, store = make_engine(repo, model)
    events, result = run(engine)
    assert result.subtype == "success" and result.result == "fixed" and result.num_turns == 4
    assert "return sum(values) / len(values)" in (repo / "stats.py").read_text()
    bash = next(e for e in events if isinstance(e, ev.ToolFinished) and e.call.name == "Bash")
    assert not bash.result.is_error and "OK" in bash.result.text
    # The saved history rebuilds into exactly what the model saw, plus the final answer.
    history = store.rebuild_messages(engine.session_id)
    assert [m.role for m in history] == ["user", "assistant"] * 4
    assert history[-1].text == "fixed"
    assert store.get(engine.session_id).title == "go"


def test_max_turns_stops_with_error_max_turns(repo: Path) -> None:
    model = ScriptedModel([tool_call("LS", {"path": str(repo)}, "same")])
    # Distinct ids each time so the loop guard is not what stops it.
    counter = {"n": 0}

    def fn(req: ModelRequest) -> ModelResponse:
        counter["n"] += 1
        return tool_call("Glob", {"pattern": f"*{counter['n']}"}, f"c{counter['n']}")

    engine, _ = make_engine(repo, FunctionModel(fn), limits=EngineLimits(max_turns=3))
    _, result = run(engine)
    assert (result.subtype, result.num_turns, result.is_error, result.exit_code) == (
        "error_max_turns",
        3,
        True,
        1,
    )
    assert result.errors == ["Reached maximum number of turns (3)"]
    del model


def test_loop_guard_replaces_the_fourth_identical_call(repo: Path) -> None:
    n = {"i": 0}

    def fn(req: ModelRequest) -> ModelResponse:
        n["i"] += 1
        if n["i"] <= 4:
            return tool_call("Glob", {"pattern": "*.py"}, f"c{n['i']}")
        return final("done")

    engine, _ = make_engine(repo, FunctionModel(fn))
    events, result = run(engine)
    finished = [e for e in events if isinstance(e, ev.ToolFinished)]
    assert [f.result.is_error for f in finished] == [False, False, False, True]
    assert finished[3].result.text.startswith("loop guard:")
    assert result.subtype == "success"


def test_eight_consecutive_tool_errors_stop_the_run(repo: Path) -> None:
    n = {"i": 0}

    def fn(req: ModelRequest) -> ModelResponse:
        n["i"] += 1
        return tool_call("Read", {"file_path": str(repo / f"missing{n['i']}.py")}, f"c{n['i']}")

    engine, _ = make_engine(repo, FunctionModel(fn))
    _, result = run(engine)
    assert result.subtype == "error_during_execution"
    assert "8 consecutive tool errors" in result.errors[0]
    assert result.num_turns == 8


def test_cut_off_tool_call_is_reported_not_run(repo: Path) -> None:
    model = ScriptedModel([tool_call("Write", None, "cut"), final("ok")])
    engine, _ = make_engine(repo, model)
    events, result = run(engine)
    finished = [e for e in events if isinstance(e, ev.ToolFinished)]
    assert finished[0].result.is_error
    assert "cut off" in finished[0].result.text
    assert result.subtype == "success"
    # The model saw the error as the result of its call.
    second = model.requests[1].messages[-1].parts[0]
    assert isinstance(second, ToolResultPart) and second.tool_use_id == "cut"


def test_max_tokens_text_is_continued_and_counts_as_turns(repo: Path) -> None:
    model = ScriptedModel([final("part one", StopReason.MAX_TOKENS), final("part two")])
    engine, _ = make_engine(repo, model)
    events, result = run(engine)
    assert result.num_turns == 2 and result.result == "part two"
    cont = model.requests[1].messages[-1]
    assert cont.role == "user" and "cut off" in cont.text
    assert any(isinstance(e, ev.Notice) and e.code == "continue" for e in events)


def test_budget_stops_after_real_usage(repo: Path) -> None:
    n = {"i": 0}

    def fn(req: ModelRequest) -> ModelResponse:
        n["i"] += 1
        return tool_call("Glob", {"pattern": f"x{n['i']}"}, f"c{n['i']}")

    # 20 output tokens per response at $0.005 each: $0.10 per turn; budget $0.25.
    engine, store = make_engine(
        repo, FunctionModel(fn), limits=EngineLimits(max_cost_usd=0.25), price=0.005
    )
    _, result = run(engine)
    assert result.subtype == "error_max_budget_usd" and result.is_error
    assert result.num_turns == 3 and round(result.cost_usd, 6) == 0.3
    # Calls that were not run are answered so the history stays valid.
    history = store.rebuild_messages(engine.session_id)
    last_calls = {p.id for p in history[-2].parts if isinstance(p, ToolUsePart)}
    answered = {p.tool_use_id for p in history[-1].parts if isinstance(p, ToolResultPart)}
    assert last_calls <= answered


def test_unknown_tool_and_bad_arguments_are_reported_to_the_model(repo: Path) -> None:
    model = ScriptedModel(
        [
            ModelResponse(
                [
                    ToolUsePart("u1", "NoSuchTool", {}),
                    ToolUsePart("u2", "Read", {"offset": 3}),
                ],
                StopReason.TOOL_USE,
                Usage(1, 1),
            ),
            final("ok"),
        ]
    )
    engine, _ = make_engine(repo, model)
    events, result = run(engine)
    finished = [e for e in events if isinstance(e, ev.ToolFinished)]
    assert "No tool named 'NoSuchTool'" in finished[0].result.text
    assert finished[1].result.is_error and "file_path" in finished[1].result.text
    assert result.subtype == "success"


def test_concurrency_safe_calls_run_in_parallel_and_keep_order(repo: Path) -> None:
    for i in range(4):
        (repo / f"f{i}.txt").write_text(f"file {i}\n")
    threads: set[str] = set()
    from bridle.tools import registry

    read_tool = registry.builtin_tools()[0].__class__
    del read_tool
    calls = [ToolUsePart(f"r{i}", "Read", {"file_path": str(repo / f"f{i}.txt")}) for i in range(4)]
    model = ScriptedModel(
        [ModelResponse(list(calls), StopReason.TOOL_USE, Usage(1, 1)), final("ok")]
    )
    engine, _ = make_engine(repo, model)
    original = engine.dispatcher._execute
    # All four calls must be running at once to pass this barrier; run one after
    # another, the first would wait for the others and break it.
    together = threading.Barrier(4, timeout=10)

    def spy(p: Any) -> Any:
        threads.add(threading.current_thread().name)
        together.wait()
        return original(p)

    engine.dispatcher._execute = spy  # type: ignore[method-assign]
    events, _ = run(engine)
    finished = [e for e in events if isinstance(e, ev.ToolFinished)]
    assert [f.call.id for f in finished] == ["r0", "r1", "r2", "r3"]
    assert [f"file {i}" in f.result.text for i, f in enumerate(finished)] == [True] * 4
    assert len(threads) == 4


def test_headless_default_mode_denies_and_reports(repo: Path) -> None:
    path = str(repo / "stats.py")
    model = ScriptedModel(
        [
            tool_call("Bash", {"command": "rm -rf build && make"}, "b1"),
            final("could not"),
        ]
    )
    engine, _ = make_engine(repo, model, mode="default")
    events, result = run(engine)
    assert result.subtype == "success"
    assert result.permission_denials == [
        {
            "tool_name": "Bash",
            "tool_use_id": "b1",
            "tool_input": {"command": "rm -rf build && make"},
        }
    ]
    assert any(isinstance(e, ev.PermissionDenied) for e in events)
    assert Path(path).exists()


def test_interactive_ask_is_answered_by_an_approval_op(repo: Path) -> None:
    model = ScriptedModel([tool_call("Bash", {"command": "touch made-by-bash"}, "b1"), final("ok")])
    engine, _ = make_engine(repo, model, mode="default", headless=False)
    seen = []
    for event in engine.send(ev.UserTurn("go")):
        seen.append(event)
        if isinstance(event, ev.PermissionRequest):
            list(engine.send(ev.ApprovalDecision(event.call.id, allow=True)))
    assert (repo / "made-by-bash").exists()
    assert isinstance(seen[-1], ev.TurnResult) and seen[-1].permission_denials == []


def test_steer_is_delivered_with_the_next_tool_results(repo: Path) -> None:
    model = ScriptedModel([tool_call("Glob", {"pattern": "*.py"}, "g1"), final("ok")])
    engine, _ = make_engine(repo, model)
    for event in engine.send(ev.UserTurn("go")):
        if isinstance(event, ev.ToolStarted):
            list(engine.send(ev.Steer("also check the README")))
    parts = model.requests[1].messages[-1].parts
    assert isinstance(parts[0], ToolResultPart)
    assert isinstance(parts[-1], TextPart) and parts[-1].text == "also check the README"


def test_steer_sent_during_the_final_answer_continues_the_turn(repo: Path) -> None:
    model = ScriptedModel([final("the mean is fixed"), final("README checked too")])
    engine, _ = make_engine(repo, model)
    events = []
    for event in engine.send(ev.UserTurn("go")):
        events.append(event)
        if isinstance(event, ev.TextChunk) and len(model.requests) == 1:
            list(engine.send(ev.Steer("also check the README")))
    result = events[-1]
    assert isinstance(result, ev.TurnResult)
    assert (result.num_turns, result.result) == (2, "README checked too")
    steered = model.requests[1].messages[-1]
    assert steered.role == "user" and steered.text == "also check the README"
    # Nothing is left over for the next prompt.
    model2 = ScriptedModel([final("ok")])
    engine.binding = ModelBinding(
        name="fake/model", provider="fake", model="model", wire="fake", client=model2,
        cost=lambda u: 0.0,
    )  # fmt: skip
    list(engine.send(ev.UserTurn("next")))
    assert model2.requests[0].messages[-1].text == "next"


def test_steer_sent_between_turns_goes_with_the_next_prompt(repo: Path) -> None:
    model = ScriptedModel([final("one"), final("two")])
    engine, _ = make_engine(repo, model)
    list(engine.send(ev.UserTurn("first")))
    list(engine.send(ev.Steer("late guidance")))
    list(engine.send(ev.UserTurn("second")))
    assert len(model.requests) == 2
    texts = [p.text for p in model.requests[1].messages[-1].parts if isinstance(p, TextPart)]
    assert texts == ["second", "late guidance"]


def test_set_account_binds_the_model_again_with_the_accounts_keys(repo: Path) -> None:
    model = ScriptedModel([final("ok")])
    engine, store = make_engine(repo, model)
    refused = list(engine.send(ev.SetAccount("work")))
    assert [(n.text, n.code) for n in refused] == [  # type: ignore[union-attr]
        ("this session cannot switch accounts", "error")
    ]
    bound: list[tuple[str, str]] = []

    def bind(spec: str, account: str) -> ModelBinding:
        bound.append((spec, account))
        return ModelBinding(
            name=spec, provider="fake", model=spec, wire="fake", client=model, cost=lambda u: 0.0
        )

    engine.bind_account = bind
    (notice,) = engine.send(ev.SetAccount("work"))
    assert isinstance(notice, ev.Notice) and notice.code == "account_switch"
    assert notice.text.endswith("continuing under account work")
    list(engine.send(ev.SetModel("fake/other")))  # later switches keep the account's keys
    assert bound == [("fake/model", "work"), ("fake/other", "work")]
    assert engine.binding.name == "fake/other"
    list(engine.send(ev.UserTurn("go")))
    saved = [e.payload for e in store.events(engine.session_id) if e.kind == "system"]
    assert {"type": "account_switch", "account": "work", "reason": "switched by hand"} in saved
    # The record follows the switches, so `-c` resumes with the model and account last used.
    record = store.get(engine.session_id)
    assert (record.model, record.provider, record.account) == ("fake/other", "fake", "work")


def test_budget_pre_check_stops_before_an_expensive_request(repo: Path) -> None:
    model = ScriptedModel([final("never")])
    # The estimate of the first request's input alone is over budget.
    engine, _ = make_engine(repo, model, limits=EngineLimits(max_cost_usd=0.01), input_price=0.001)
    _, result = run(engine)
    assert (result.subtype, result.num_turns) == ("error_max_budget_usd", 0)
    assert model.requests == []


def test_always_allow_adds_a_session_rule(repo: Path) -> None:
    model = ScriptedModel(
        [
            tool_call("Bash", {"command": "touch one"}, "b1"),
            tool_call("Bash", {"command": "touch two"}, "b2"),
            tool_call("Bash", {"command": "touch one"}, "b3"),
            final("ok"),
        ]
    )
    engine, _ = make_engine(repo, model, mode="default", headless=False)
    asked = []
    for event in engine.send(ev.UserTurn("go")):
        if isinstance(event, ev.PermissionRequest):
            asked.append(event.call.id)
            list(engine.send(ev.ApprovalDecision(event.call.id, allow=True, always=True)))
    # The third call repeats the first command exactly: it is not asked again.
    assert asked == ["b1", "b2"]
    assert (repo / "one").exists() and (repo / "two").exists()
