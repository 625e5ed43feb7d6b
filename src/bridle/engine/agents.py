"""Subagents: the runner behind the `Agent` tool.

A session's `AgentHost` holds what its subagents inherit (settings, tools, rules,
model, instructions, the parent engine) and turns each Agent call into a child:
a built-in type (`general-purpose`; `Explore` with read-only tools; `Plan`,
read-only, answering with a plan), an agent definition (its prompt, tools,
model, permission mode and turn limit), or another coding CLI under an account
(`engine.agents_external`). A bridle child is the same engine with its own
history, tools, policy (the parent's rules with its own mode: deny rules always
hold; bypass only under a bypassing parent), model and limits; its session is
stored as a child of the parent's, its cost and tokens are charged to the
parent (and its budget share is what the parent has left), and it may nest up
to `agents.max_depth` (3) deep. An ask inside a child reaches the parent's front
end through the parent's dispatcher (`Relay`), as do one-line progress notices
(headless runs get the notices too, on stderr); in a headless run, or in a
background child, asks are denied and reported in the child's answer. At most `agents.max_parallel` (4) children run at once; a background
child returns an id at once and its result reaches the parent's conversation
when it is done. SubagentStart/SubagentStop hooks fire around each child. This
module never prints; the child's events are consumed here, not shown.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from bridle.core.errors import ToolError
from bridle.core.messages import Usage
from bridle.engine import events as ev
from bridle.tools.base import ToolContext, ToolOutput

if TYPE_CHECKING:
    import queue

MAX_DEPTH = 3
MAX_PARALLEL = 4
_CLIS = ("claude", "codex", "gemini", "copilot")
_PLAN_PROMPT = (
    "You are a planning agent. Explore the code with your read-only tools, then answer "
    "with a concrete, numbered implementation plan: the files to change, what to change "
    "in each, the order, and how to verify it. Do not change anything."
)
_EXPLORE_PROMPT = (
    "You are a fast, read-only exploration agent. Search and read the code to answer the "
    "question you are given; report findings with file paths and line numbers. You cannot "
    "change files."
)
_GENERAL_PROMPT = (
    "You are a subagent of bridle, working on one task for the main agent. Do the task "
    "completely with your tools, then answer with a concise report of what you found or "
    "changed: only your final answer reaches the main agent."
)
BUILTIN_TYPES = (
    ("general-purpose", "researches, searches and changes code; every tool (the default)"),
    ("Explore", "fast read-only search of the codebase; answers questions with paths"),
    ("Plan", "read-only; explores and answers with an implementation plan"),
)


class ChildSpec:
    """What a bridle child runs as (its system prompt, tools, model, mode, limits)."""

    def __init__(
        self, agent_type: str, prompt: str, tools: list[Any], model: str, mode: str,
        max_turns: int | None = None, may_delegate: bool = True,
    ) -> None:  # fmt: skip
        self.agent_type, self.prompt, self.tools = agent_type, prompt, tools
        self.model, self.mode, self.max_turns = model, mode, max_turns
        self.may_delegate = may_delegate  # offered the Agent tool itself


class Background:
    """Background children: running threads and finished reports not yet
    delivered; `listing` and `stop` serve the engine's `Tasks` op (`/tasks`)."""

    def __init__(self) -> None:
        self.running: dict[str, threading.Thread] = {}
        self.done: list[str] = []
        self.lock = threading.Lock()
        # id -> {"description", "agent_type", "started", "status", "stop", "engine"}
        self.jobs: dict[str, dict[str, Any]] = {}

    def listing(self) -> list[dict[str, Any]]:
        """Each background agent: id, description, agent_type, status (running,
        finished, failed or stopped) and seconds since it started."""
        import time

        now = time.monotonic()
        out = []
        for agent_id, job in list(self.jobs.items()):
            thread = self.running.get(agent_id)
            alive = thread is not None and thread.is_alive()
            status = ("stopping" if job["stop"].is_set() else "running") if alive else job["status"]
            out.append({
                "id": agent_id, "description": job["description"],
                "agent_type": job["agent_type"], "status": status,
                "seconds": round(now - job["started"], 1),
            })  # fmt: skip
        return out

    def stop(self, agent_id: str) -> bool:
        """Stop a running background agent (its turn ends as interrupted and its
        report says so); False when no such agent is running."""
        job, thread = self.jobs.get(agent_id), self.running.get(agent_id)
        if job is None or thread is None or not thread.is_alive():
            return False
        job["stop"].set()
        engine = job.get("engine")
        if engine is not None:
            engine.dispatcher.interrupt()  # a running Bash is killed now
        return True

    def drain(self) -> list[str]:
        """Reports of the children that finished since the last call."""
        with self.lock:
            out, self.done = self.done, []
        return out

    def wait(self) -> list[str]:
        """Wait for every running child; their reports (and earlier ones)."""
        for thread in list(self.running.values()):
            thread.join()
        return self.drain()

    @property
    def pending(self) -> bool:
        return any(t.is_alive() for t in self.running.values()) or bool(self.done)


class Relay:
    """What running subagents need from the top session's front end. The
    dispatcher running their Agent calls yields each queued event and answers
    asks (see `engine.dispatch.Dispatcher._relayed`)."""

    def __init__(self, asks: bool = True) -> None:
        self.asks = asks  # False (headless): nobody answers, asks are denied
        self._queue: queue.Queue[tuple[Any, Callable[[Any], None]]] | None = None
        self._made = threading.Lock()

    @property
    def queue(self) -> queue.Queue[tuple[Any, Callable[[Any], None]]]:
        """Made when the first Agent call runs (`queue` is imported only then)."""
        with self._made:
            if self._queue is None:
                import queue

                self._queue = queue.Queue()
            return self._queue

    def ask(self, request: ev.PermissionRequest) -> ev.ApprovalDecision | None:
        """Block until the front end answered (None: it did not, or cannot)."""
        if not self.asks:
            return None
        answered = threading.Event()
        box: list[ev.ApprovalDecision | None] = []

        def reply(decision: ev.ApprovalDecision | None) -> None:
            box.append(decision)
            answered.set()

        self.queue.put((request, reply))
        answered.wait()
        return box[0]

    def tell(self, event: Any) -> None:
        self.queue.put((event, lambda _decision: None))


class AgentHost:
    """What a session's subagents inherit; `run` is the Agent tool's runner.
    (Plain classes here, not dataclasses: this module loads with every session.)"""

    hooks: Any = None
    stop: Any = None  # a background job's entry (`Background.jobs`): its stop event
    depth: int = 0
    engine: Any = None  # the parent Engine, set once it exists
    relay: Relay | None = None  # None: asks are denied (headless, background)

    def __init__(
        self, *, cwd: Path, env: dict[str, str], settings: Any, options: Any, ext: Any,
        tools: list[Any], policy: Any, model: str, provider: str,
        bind_model: Callable[[str], Any], system_for: Callable[[Path, str], str],
        instructions: str, session_id: str, account: str | None = None,
        relay: Relay | None = None,
    ) -> None:  # fmt: skip
        self.cwd, self.env, self.settings = cwd, env, settings
        self.options = options  # engine.options.SessionOptions
        self.ext = ext  # engine.extensions.Extensions
        self.tools = tools  # the parent's tools, the Agent tool left out
        self.policy, self.model, self.provider = policy, model, provider
        self.bind_model = bind_model
        self.system_for = system_for  # (cwd, base prompt) -> system prompt
        self.instructions = instructions  # rendered instruction files
        self.session_id, self.account, self.relay = session_id, account, relay
        self.background = Background()
        limit = settings.get("agents.max_parallel") if settings else None
        self.slots = threading.BoundedSemaphore(int(limit or MAX_PARALLEL))

    def derive(self, **changes: Any) -> AgentHost:
        """A copy with `changes` (a child's host, or one without a relay)."""
        new = copy.copy(self)
        new.__dict__.update(changes)
        return new

    @property
    def max_depth(self) -> int:
        return int((self.settings.get("agents.max_depth") if self.settings else None) or MAX_DEPTH)

    def tool(self) -> Any:
        from bridle.tools.agent import AgentTool

        types = list(BUILTIN_TYPES)
        defs = self.ext.agents.by_name if self.ext is not None and self.ext.agents else {}
        types += [(name, d.description) for name, d in defs.items()]
        types += [
            (f"{cli}[@account]", f"the {cli} CLI run headless in this project") for cli in _CLIS
        ]
        return AgentTool(self.run, types)

    # ------------------------------------------------------------------ calls
    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        kind = str(args.get("subagent_type") or "general-purpose").strip()
        description = str(args.get("description") or kind)
        if self.depth >= self.max_depth:
            raise ToolError(
                f"subagents may nest only {self.max_depth} deep (agents.max_depth) and this "
                "agent is at that depth: do the task yourself instead"
            )
        target = self._resolve(kind, args.get("model"))
        job = _Job(self, target, kind, description, str(args.get("prompt") or ""))
        job.isolated = args.get("isolation") == "worktree"
        if args.get("run_in_background"):  # nobody is there to answer its asks
            import time

            agent_id = "agent-" + uuid.uuid4().hex[:8]
            entry = {
                "description": description, "agent_type": kind, "started": time.monotonic(),
                "status": "running", "stop": threading.Event(), "engine": None,
            }  # fmt: skip
            job.host = self.derive(relay=None, stop=entry)
            thread = threading.Thread(target=job.background, args=(agent_id,), daemon=True)
            self.background.jobs[agent_id] = entry
            self.background.running[agent_id] = thread
            thread.start()
            return ToolOutput.text(
                f"Agent {agent_id} ({description}) started in the background; its result "
                "will arrive in the conversation when it finishes."
            )
        report, failed = job.run()
        return ToolOutput.text(report, is_error=failed)

    def _resolve(self, kind: str, model: Any) -> ChildSpec | tuple[str, str | None]:
        name, _, account = kind.partition("@")
        if name in _CLIS:
            return name, account or None
        if account:
            raise ToolError(f"{kind!r}: only the CLIs {', '.join(_CLIS)} run under an account")
        readonly = [t for t in self.tools if getattr(t, "read_only", False)]
        mode = self.policy.mode
        if kind in ("general-purpose", "Explore", "Plan"):
            prompt = {"Explore": _EXPLORE_PROMPT, "Plan": _PLAN_PROMPT}.get(kind, _GENERAL_PROMPT)
            general = kind == "general-purpose"
            tools = self.tools if general else readonly
            return ChildSpec(
                kind, prompt, tools, self._model(model or "inherit"), mode, None, general
            )
        defs = self.ext.agents.by_name if self.ext is not None and self.ext.agents else {}
        found = defs.get(kind) or next(
            (d for n, d in defs.items() if n.rpartition(":")[2] == kind), None
        )
        if found is None:
            known = ", ".join([*(t for t, _ in BUILTIN_TYPES), *defs, *_CLIS])
            raise ToolError(f"no agent type {kind!r}; the types are: {known}")
        tools = _definition_tools(found, self.tools)
        wanted = found.permission_mode
        if wanted in ("bypassPermissions", "auto") and mode != "bypassPermissions":
            wanted = None  # only a bypassing parent may hand bypass down
        if mode in ("plan", "bypassPermissions"):
            wanted = mode  # plan stays plan; bypass is already the widest
        delegates = "Agent" in {
            t.name for t in _definition_tools(found, [SimpleNamespace(name="Agent")])
        }
        return ChildSpec(
            found.name, found.prompt, tools, self._model(model or found.model),
            wanted or mode, found.max_turns, delegates,
        )  # fmt: skip

    def _model(self, model: str) -> str:
        from bridle.extensions.agents import resolve_model
        from bridle.providers.resolve import catalog_for

        aliases = {
            k: v
            for k, v in catalog_for(self.settings).aliases.items()
            if v.split("/", 1)[0] == self.provider
        }
        return resolve_model(str(model), self.model, aliases)

    def charge(self, usage: Usage, cost: float) -> None:
        if self.engine is not None:
            self.engine.charge_child(usage, cost)

    def remaining_budget(self) -> float | None:
        if self.engine is None or self.engine.limits.max_cost_usd is None:
            return None
        return max(0.0, self.engine.limits.max_cost_usd - self.engine.budget.spent_usd)


def _definition_tools(agent: Any, tools: list[Any]) -> list[Any]:
    def names(entries: Any) -> set[str]:
        bare = {str(e).split("(", 1)[0].strip() for e in entries}
        return bare | ({"Agent"} if "Task" in bare else set())

    allowed = None if agent.tools is None else names(agent.tools)
    denied = names(agent.disallowed_tools)
    return [t for t in tools if (allowed is None or t.name in allowed) and t.name not in denied]


class _Job:
    """One Agent call: run it (in a worktree when asked) and write its report."""

    def __init__(
        self, host: AgentHost, target: Any, kind: str, description: str, prompt: str
    ) -> None:
        self.host, self.target, self.kind = host, target, kind
        self.description, self.prompt = description, prompt
        self.isolated = False

    def background(self, agent_id: str) -> None:
        try:
            report, failed = self.run()
        except Exception as e:  # a thread must not die silently; the model is told
            report, failed = f"{type(e).__name__}: {e}", True
        stopped = self.host.stop is not None and self.host.stop["stop"].is_set()
        state = "stopped" if stopped else "failed" if failed else "finished"
        if self.host.stop is not None:
            self.host.stop["status"], self.host.stop["engine"] = state, None
        with self.host.background.lock:
            self.host.background.done.append(
                f"<background-agent id={agent_id!r} description={self.description!r} "
                f"status={state!r}>\n{report}\n</background-agent>"
            )

    def run(self) -> tuple[str, bool]:
        assert self.host.slots is not None
        with self.host.slots, contextlib.ExitStack() as stack:
            cwd = self.host.cwd
            tree = None
            if self.isolated:
                from bridle.engine.worktrees import AgentWorktree

                tree = AgentWorktree.create(self.host.cwd, self.host.env, self.description)
                stack.callback(tree.finish_quietly)
                cwd = tree.path
            if isinstance(self.target, tuple):
                from bridle.engine.agents_external import run_cli

                tool_name, account = self.target
                report, failed = run_cli(
                    self.host, tool_name, account, self.prompt, cwd, self.description
                )
            else:
                report, failed = run_child(
                    self.host, self.target, self.description, self.prompt, cwd
                )
            if tree is not None:
                report += "\n\n" + tree.finish()
            return report, failed


def run_child(
    host: AgentHost, spec: ChildSpec, description: str, prompt: str, cwd: Path
) -> tuple[str, bool]:
    """Open the child session, run its one turn, close it; (report, failed)."""
    from bridle.config.paths import database_path
    from bridle.store.db import open_db
    from bridle.store.sessions import SessionStore

    conn = open_db(database_path(host.env))
    child = None
    try:
        child = open_child(host, spec, description, SessionStore(conn), cwd)
        agent_id = child.session_id
        _fire(host, "SubagentStart", agent_id=agent_id, agent_type=spec.agent_type)
        result: ev.TurnResult | None = None
        denied: list[str] = []
        relay = host.relay
        stop = host.stop["stop"] if host.stop is not None else None
        if host.stop is not None:  # `Background.stop` interrupts it
            host.stop["engine"] = child
        for event in child.send(ev.UserTurn(prompt)):
            if stop is not None and stop.is_set() and not child.dispatcher.interrupted:
                child.dispatcher.interrupt()  # stopped before its turn began
            if isinstance(event, ev.PermissionRequest):
                asked = ev.PermissionRequest(event.call, f"{description} agent: {event.reason}")
                decision = relay.ask(asked) if relay is not None else None
                if decision is not None:
                    child.send(decision)
            elif isinstance(event, ev.ToolStarted) and relay is not None:
                relay.tell(ev.Notice(f"{description} agent: {event.call.name}", "subagent"))
            elif isinstance(event, ev.PermissionDenied):
                denied.append(f"{event.call.name}: {event.reason}")
            elif isinstance(event, ev.TurnResult):
                result = event
        assert result is not None
        host.charge(result.usage, result.cost_usd)
        if host.engine is not None:  # the run's permission_denials name them too
            host.engine.dispatcher.denials.extend(child.dispatcher.denials)
        _fire(
            host, "SubagentStop", agent_id=agent_id, agent_type=spec.agent_type,
            agent_transcript_path=_transcript(child), last_assistant_message=result.result,
        )  # fmt: skip
    finally:
        conn.close()
        if child is not None:
            getattr(child, "release_sandbox", lambda: None)()
    report = result.result or "(the agent gave no answer)"
    if denied:
        report += "\n\nPermission denied inside the agent:\n" + "\n".join(f"- {d}" for d in denied)
    if result.errors:
        report += "\n\nThe agent stopped: " + "; ".join(result.errors)
    return report + f"\n\n(agent session {agent_id})", bool(result.errors)


def open_child(host: AgentHost, spec: ChildSpec, description: str, store: Any, cwd: Path) -> Any:
    """The child's ready `Engine`, its session stored under the parent's."""
    from bridle.engine.compactor import compactor_for
    from bridle.engine.context import git_info
    from bridle.engine.dispatch import Dispatcher
    from bridle.engine.loop import Engine, EngineLimits
    from bridle.engine.sandbox_setup import share_sandbox
    from bridle.engine.setup import StoreSink, _tool_context, session_policy

    binding = host.bind_model(spec.model)
    headless = host.relay is None or bool(host.options.headless)
    options = replace(host.options, permission_mode=spec.mode, headless=headless, tools=None)
    policy = session_policy(options, host.settings, cwd, host.env)
    tools = list(spec.tools)
    if policy.mode == "plan":
        visible = set(policy.visible_tools([t.name for t in tools]))
        tools = [t for t in tools if t.name in visible]
    git = git_info(cwd)
    record = store.create(
        binding.name, binding.provider, str(cwd), title=f"[{spec.agent_type}] {description}",
        git_branch=git.branch, parent_id=host.session_id, account=host.account,
    )  # fmt: skip
    store.update(record.id, status="subagent")
    ctx = _tool_context(
        cwd, host.env, host.settings, record.id, [Path(r) for r in policy.roots[1:]]
    )
    if host.engine is not None and host.relay is not None:  # the parent's interrupt stops it
        ctx.cancel = host.engine.dispatcher.ctx.cancel
    parent_ctx = host.engine.dispatcher.ctx if host.engine is not None else None
    # The parent's OS sandbox holds for the child's shell commands too.
    release_sandbox = share_sandbox(parent_ctx, ctx, policy, host.settings, host.env)
    child_host = host.derive(
        cwd=cwd, policy=policy, session_id=record.id, depth=host.depth + 1,
        model=binding.name, provider=binding.provider, hooks=None, engine=None,
        background=Background(), slots=host.slots,
    )  # fmt: skip
    tools = [*tools, child_host.tool()] if spec.may_delegate else tools
    dispatcher = Dispatcher({t.name: t for t in tools}, ctx, policy)
    budget = host.remaining_budget()
    engine = Engine(
        binding=binding,
        dispatcher=dispatcher,
        system=host.system_for(cwd, spec.prompt),
        tool_specs=[t.spec() for t in tools],
        session_id=record.id,
        sink=StoreSink(store, record.id),
        limits=EngineLimits(
            max_turns=int(spec.max_turns or host.settings.get("max_turns") or 50),
            max_cost_usd=budget if budget else None,
        ),
        bind_model=host.bind_model,
        compactor=compactor_for(binding, host.settings, ctx.output_dir, host.instructions),
    )
    child_host.engine = engine
    engine.background = child_host.background
    engine.release_sandbox = release_sandbox  # type: ignore[attr-defined]
    if host.hooks is not None:  # the parent's PreToolUse/PostToolUse run for its calls
        dispatcher.hooks = _child_hooks(host.hooks, engine, spec.agent_type, cwd)
    return engine


def _child_hooks(parent: Any, engine: Any, agent_type: str, cwd: Path) -> Any:
    """A bridge over the parent's hooks for a child's tool calls: the payloads
    name the main session (its id and transcript) and the agent (agent_id,
    agent_type); the child's own transcript is written next to the parent's
    (SubagentStop's `agent_transcript_path`)."""
    from bridle.engine.hooks_bridge import HookBridge
    from bridle.hooks.transcript import TranscriptWriter

    agent_id = engine.session_id
    writer = TranscriptWriter(
        Path(parent.transcript.path).parent / f"{agent_id}.jsonl", session_id=agent_id,
        cwd=str(cwd), version=parent.transcript.version, model=engine.binding.name,
    )  # fmt: skip
    bridge = HookBridge(
        parent.runner, writer, cwd=str(cwd), session_id=parent.session_id, model=parent.model
    )
    bridge.agent_id, bridge.agent_type = agent_id, agent_type
    bridge.transcript_path = str(parent.transcript.path)
    bridge.bind(lambda: engine.messages, lambda: engine.dispatcher.mode)
    return bridge


def _transcript(child: Any) -> str:
    """The child's whole conversation written as a Claude Code transcript; its
    path ("" when the session has no hooks, and so no transcripts)."""
    bridge = child.dispatcher.hooks
    if bridge is None:
        return ""
    bridge.transcript.sync(child.messages)
    return str(bridge.transcript.path)


def _fire(host: AgentHost, event: str, **fields: Any) -> None:
    """Run the parent's SubagentStart/SubagentStop hooks (their output is not shown)."""
    bridge = host.hooks
    if bridge is None or not bridge.has(event):
        return
    from bridle.hooks import events as hev

    build = hev.subagent_start if event == "SubagentStart" else hev.subagent_stop
    for _ in bridge._fire(event, lambda c: build(c, **fields)):
        pass


def host_for(
    options: Any,
    cwd: Path,
    env: dict[str, str],
    settings: Any,
    ext: Any,
    tools: list[Any],
    policy: Any,
    binding: Any,
    context: Any,
    session_id: str,
    account: str | None,
    *,
    bind: Callable[[str], Any],
) -> AgentHost:
    """The host of a top-level session (`engine.setup` calls this)."""
    import datetime as dt

    from bridle.engine.context import build_system_prompt, git_info

    def system_for(where: Path, base: str) -> str:
        return build_system_prompt(
            where, env, now=dt.datetime.now().astimezone(), git=git_info(where),
            system_prompt=base, context=context,
        )  # fmt: skip

    return AgentHost(
        relay=Relay(asks=not options.headless),  # headless: progress only
        cwd=cwd, env=env, settings=settings, options=options, ext=ext,
        tools=[t for t in tools if t.name != "Agent"], policy=policy, model=binding.name,
        provider=binding.provider, bind_model=bind, system_for=system_for,
        instructions=context.instructions.render(), session_id=session_id, account=account,
    )  # fmt: skip
