"""The loop's compactor: when and how a session's conversation is compacted.

`Compactor.before_request` runs before every model request: when the request
would cross the window's threshold it compacts (`engine.compaction` holds the
steps), and `after_context_error` does the same, once, when the provider
refuses a request as too long. A compaction fires PreCompact (which may block
an automatic one), clears old tool outputs, asks the model for a hand-off
summary only when that is not enough, puts back what must survive (loaded
skills, the todo list, SessionStart `compact` context; anchored facts and the
instruction files are in the system prompt, which compaction never touches), saves
the new conversation as a compaction event (the store keeps everything before
it) and emits `events.Compacted`; PostCompact follows. Two compactions with no
model answer in between raise `CompactionFailed` instead of looping.
`compact_now` is the `Compact` op (`/compact [focus]`: always a summary, and a
PreCompact hook's block is a notice), `clear_conversation` the `Clear` op.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bridle.core.messages import Message, ModelRequest, TextPart, Usage
from bridle.engine import events as ev
from bridle.engine.compaction import (
    KEEP_TOOL_TOKENS,
    CompactionFailed,
    Window,
    check_freed,
    clear_tool_outputs,
    message_tokens,
    rebuild,
    request_tokens,
    summary_request,
)

if TYPE_CHECKING:
    from bridle.engine.loop import Engine, TurnState


@dataclass
class Compactor:
    """Decides when one session's conversation is compacted, and compacts it; keeps the count
    and the last known request size between requests."""

    window: Window
    # Writes a cleared tool output where the model can Read it; returns the path.
    save: Callable[[str, str], Path]
    # The "Compact Instructions" section of the instruction files, if any.
    instructions: str | None = None
    # Newest tool exchanges kept verbatim after a summary; 0 as Claude Code does
    # (the summary covers them, and the model reads again what it needs).
    keep_tail_tokens: int = 0
    count: int = 0  # compactions so far in this session
    _waiting: bool = False  # compacted, and no model answer since
    # (tokens of the last answered request plus its answer, messages it covered)
    _known: tuple[int, int] | None = None

    def answered(self, usage: Usage | None = None, messages: int = 0) -> None:
        """A model answer arrived: the next compaction is not back to back. With
        its `usage` and the number of messages it answered, the size of the next
        request is that answer's input and output plus what was added since, so
        checking costs nothing per request however long the session."""
        self._waiting = False
        if usage is not None:
            total = usage.total_input_tokens + usage.output_tokens
            self._known = (total, messages + 1) if total > 0 else None

    def before_request(
        self, engine: Engine, st: TurnState, focus: str | None = None
    ) -> Generator[ev.Event, None, None]:
        known = self._known
        if known is not None and known[1] <= len(engine.messages):
            total, counted = known
            tokens = total + sum(message_tokens(m) for m in engine.messages[counted:])
        else:
            tokens = self._tokens(engine, engine.messages)
        if tokens <= self.window.threshold:
            return
        # The provider's count can be below bridle's estimate: decide on the estimate.
        tokens = max(tokens, self._tokens(engine, engine.messages))
        if tokens <= self.window.threshold:
            return
        yield from self.compact(engine, st, "auto", tokens, focus=focus)

    def after_context_error(self, engine: Engine, st: TurnState) -> Generator[ev.Event, None, None]:
        """The provider said the request is too long: compact now (raises
        `CompactionFailed` when that already happened without an answer since)."""
        tokens = max(self._tokens(engine, engine.messages), self.window.threshold + 1)
        yield from self.compact(engine, st, "context_error", tokens)

    def compact(
        self,
        engine: Engine,
        st: TurnState,
        trigger: str,
        before: int,
        focus: str | None = None,
        force: bool = False,
    ) -> Generator[ev.Event, None, None]:
        """Compact `engine`'s conversation; `force` (a manual compaction) always
        summarises and does not check what it freed."""
        if self._waiting and not force:
            check_freed(before, before, self.window, repeated=True)
        hooks = engine.hooks
        if hooks is not None:
            blocked = yield from hooks.pre_compact(
                "manual" if focus or force else "auto", focus or self.instructions
            )
            if blocked is not None:
                if force or (trigger == "auto" and before < self.window.context_window):
                    yield ev.Notice(f"a PreCompact hook held off compaction: {blocked}", "hook")
                    return
                raise CompactionFailed(
                    f"the conversation is over the context window and a PreCompact hook "
                    f"blocked compaction: {blocked}"
                )
        # The newest outputs kept: ~40k tokens, or a quarter of a small window.
        keep = min(KEEP_TOOL_TOKENS, self.window.threshold // 4)
        cleared = clear_tool_outputs(engine.messages, self.save, keep_tokens=keep)
        messages, step, summary = cleared.messages, "clear", ""
        after = self._tokens(engine, messages)
        if force or after > self.window.threshold * 0.9:
            summary = self._summarize(engine, st, messages, focus)
            survivors = self._survivors(engine, messages)
            messages = rebuild(
                messages, summary, budget_tokens=self.keep_tail_tokens, keep=survivors
            )
            step = "summary"
            after = self._tokens(engine, messages)
        if not force:
            check_freed(before, after, self.window, repeated=False)
        if hooks is not None:
            extra = yield from hooks.post_compact("manual" if focus or force else "auto", summary)
            if extra and messages and messages[0].role == "user":
                head = messages[0]
                messages[0] = Message("user", [*head.parts, *(TextPart(t) for t in extra)])
        from bridle.store.conversation import cleared_event, compaction_event

        engine.messages = messages
        info = dict(trigger=trigger, step=step, pre_tokens=before, post_tokens=after)
        if step == "clear":  # only the stubs are stored, not the whole conversation again
            engine.sink.save(*cleared_event(cleared.stubs, cleared=cleared.cleared, **info))
        else:
            engine.sink.save(*compaction_event(messages, cleared=cleared.cleared, **info))
        engine.sink.commit()
        self.count += 1
        self._waiting = True
        self._known = None
        yield ev.Compacted(trigger, step, before, after, cleared.cleared)

    # ---------------------------------------------------------------- helpers
    def _tokens(self, engine: Engine, messages: Sequence[Message]) -> int:
        return request_tokens(messages, engine.system, engine.tool_specs)

    def _summarize(
        self, engine: Engine, st: TurnState, messages: list[Message], focus: str | None
    ) -> str:
        request = ModelRequest(
            model=engine.binding.model,
            messages=messages,
            system=engine.system,
            tools=engine.tool_specs,
            max_tokens=engine.binding.max_output_tokens,
        )
        ask = summary_request(request, focus=focus, instructions=self.instructions)
        if engine.binding.prepare is not None:
            ask = engine.binding.prepare(ask)
        from bridle.core.stream import RetryScheduled
        from bridle.wire import Assembler

        fold = Assembler(engine.binding.wire, engine.binding.provider)
        for event in engine.binding.client.stream(ask):
            if isinstance(event, RetryScheduled):
                fold.reset()  # the client sends the request again
            else:
                fold.feed(event)
        response = fold.result()
        cost = engine.binding.cost(response.usage)
        st.usage = st.usage + response.usage
        st.cost += cost
        engine.usage = engine.usage + response.usage
        engine.budget.charge(cost)
        engine.sink.commit(response.usage, cost, 1)
        text = response.text.strip()
        if not text:
            raise CompactionFailed("the model returned an empty summary; nothing was compacted")
        return text

    def _survivors(self, engine: Engine, messages: Sequence[Message]) -> list[str]:
        """What must be in the conversation again after a summary."""
        out: list[str] = []
        skills = _loaded_skills(messages)
        if skills:
            out.append("Skills loaded in this session (still active):\n\n" + "\n\n".join(skills))
        todos = getattr(engine.dispatcher.ctx, "todos", None) or []
        if todos:
            marks = {"pending": "[ ]", "in_progress": "[>]", "completed": "[x]"}
            lines = [f"{marks.get(t.get('status'), '[ ]')} {t.get('content')}" for t in todos]
            out.append("The todo list (TodoWrite) so far:\n" + "\n".join(lines))
        return out


def compact_now(engine: Engine, focus: str = "") -> Generator[ev.Event, None, None]:
    """The `Compact` op: a summary now, whatever the size; a failure is a notice."""
    import time

    from bridle.core.errors import BridleError
    from bridle.engine.loop import TurnState

    compactor = engine.compactor
    if compactor is None:
        yield ev.Notice(
            "compaction is off for this session (autoCompactEnabled is false, or the "
            "model's context window is unknown: set context_window in settings)",
            "error",
        )
        return
    if not any(m.role == "assistant" for m in engine.messages):
        yield ev.Notice("nothing to compact yet", "compact")
        return
    st = TurnState(started=time.monotonic())
    before = compactor._tokens(engine, engine.messages)
    try:
        yield from compactor.compact(engine, st, "manual", before, focus=focus or None, force=True)
    except BridleError as e:
        yield ev.Notice(f"compaction failed: {e}", "error")


def clear_conversation(engine: Engine, keep: int = 0) -> Generator[ev.Event, None, None]:
    """The `Clear` op: the conversation starts again empty, or from its first
    `keep` messages (a rewind); saved as a compaction, so `-c` resumes from
    there too. Clearing it all clears the todo list too."""
    from bridle.store.conversation import compaction_event

    keep = max(0, min(keep, len(engine.messages)))
    before = request_tokens(engine.messages, engine.system, engine.tool_specs)
    engine.messages = engine.messages[:keep]
    after = request_tokens(engine.messages, engine.system, engine.tool_specs) if keep else 0
    ctx = engine.dispatcher.ctx
    if not keep and getattr(ctx, "todos", None):
        ctx.todos = []
    trigger = "rewind" if keep else "clear"
    engine.sink.save(
        *compaction_event(
            engine.messages, trigger=trigger, step="clear", pre_tokens=before, post_tokens=after
        )
    )
    engine.sink.commit()
    if keep:
        yield ev.Notice(f"conversation rewound to its first {keep} messages", "rewind")
    else:
        yield ev.Notice("conversation cleared", "clear")


def _loaded_skills(messages: Sequence[Message]) -> list[str]:
    calls = {p.id for m in messages for p in m.tool_uses if p.name == "Skill"}
    texts: list[str] = []
    for m in messages:
        for r in m.tool_results:
            ok = r.tool_use_id in calls and not r.is_error and r.text.startswith("<skill")
            if ok and r.text not in texts:
                texts.append(r.text)
    return texts


def saver(output_dir: Path) -> Callable[[str, str], Path]:
    """Saves a cleared tool output as `compacted-<tool_use_id>.txt` (kept once)."""

    def save(tool_use_id: str, text: str) -> Path:
        from bridle.store.atomic import atomic_write_text

        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in tool_use_id)[:80]
        path = output_dir / f"compacted-{safe}.txt"
        if not path.exists():
            output_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, text)
        return path

    return save


def compactor_for(
    binding: object, settings: object, output_dir: Path, instructions: str
) -> Compactor | None:
    """The session's compactor: None when the window is unknown or compaction is
    off (`"autoCompactEnabled": false`). The threshold comes from
    `compact_threshold` (tokens) or `autoCompactPct`, else the default margin."""
    from bridle.engine.compaction import compact_instructions

    window = getattr(binding, "context_window", None)
    get = getattr(settings, "get", None)
    if not window or (get is not None and get("autoCompactEnabled") is False):
        return None
    threshold = get("compact_threshold") if get is not None else None
    percent = get("autoCompactPct") if get is not None else None
    return Compactor(
        Window.for_model(
            int(window),
            int(getattr(binding, "max_output_tokens", 8192)),
            threshold=int(threshold) if threshold else None,
            percent=float(percent) if percent else None,
        ),
        saver(output_dir),
        instructions=compact_instructions(instructions),
    )
