"""Mock scenarios: the JSON script a `bridle mock` server plays, parsed and validated.

A scenario is `{"name", "prompt", "final", "turns": [...]}`, each turn one canonical
operation (read, write, edit, bash, grep, glob, call, calls, final) with optional
`say`, `delay_ms` and `fault`. `"agents": {"MARKER": {"turns", "final"}}` scripts
the conversations whose prompt contains MARKER (a subagent's, or another CLI's run
by one) with their own turns. Unknown keys are ignored so scenarios can carry notes.
Validation errors name the file, the turn index and the fix. This module only
holds values and parsing; mapping ops onto a client's tools is `mock.vocab`'s job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridle.core.errors import ConfigError

# op -> (required string fields, optional string fields)
OPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "read": (("path",), ()),
    "write": (("path", "content"), ()),
    "edit": (("path", "old", "new"), ()),
    "bash": (("command",), ()),
    "grep": (("pattern",), ("path",)),
    "glob": (("pattern",), ()),
    "final": ((), ("text",)),
    # Any tool the client offers, by its exact name (`input`: a JSON object as text).
    "call": (("tool",), ("input",)),
    # Several calls of one tool in one response (`inputs`: a JSON list of objects as
    # text); such a turn counts as one turn per call.
    "calls": (("tool", "inputs"), ()),
}
FAULT_KINDS = ("429", "500", "529", "cut", "stall", "malformed")


@dataclass(frozen=True, slots=True)
class Fault:
    """An injected failure: the first `times` attempts at a turn fail this way."""

    kind: str
    times: int = 1
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Turn:
    """One scripted model turn: a canonical op plus what surrounds it."""

    op: str
    args: dict[str, str]
    say: str | None = None
    delay_ms: int = 0
    fault: Fault | None = None

    @property
    def width(self) -> int:
        """How many places of the call count the turn takes (one, as a turn's
        index is the number of calls before it; a `calls` turn one per call)."""
        if self.op == "calls":
            return len(json.loads(self.args["inputs"]))
        return 1


@dataclass(frozen=True, slots=True)
class Scenario:
    """A parsed, validated scenario: the turns the mock plays, then its final text."""

    name: str
    prompt: str
    final: str
    turns: tuple[Turn, ...] = field(default_factory=tuple)
    # (marker, scenario): conversations whose text contains the marker play these.
    agents: tuple[tuple[str, Scenario], ...] = ()

    def turn(self, index: int) -> Turn:
        """The turn reached after `index` tool calls (each turn takes one index, a
        `calls` turn one per call); past the end the scenario keeps giving its final
        text."""
        seen = 0
        for turn in self.turns:
            if seen >= index:
                return turn if seen == index else Turn(op="final", args={"text": self.final})
            seen += turn.width
        return Turn(op="final", args={"text": self.final})

    def for_texts(self, texts: list[str]) -> Scenario:
        """The agent scenario whose marker one of `texts` holds, else this one."""
        for marker, sub in self.agents:
            if any(marker in t for t in texts):
                return sub
        return self

    def final_text(self, turn: Turn) -> str:
        return turn.args.get("text") or self.final


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; errors name the file (line, column) and the fix."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            "scenario file not found; pass an existing JSON file", path=str(p)
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            "is a directory; pass the path of a scenario JSON file inside it", path=str(p)
        ) from None
    except OSError as e:
        raise ConfigError(
            f"cannot read the scenario ({e.strerror or e}); check the path and its permissions",
            path=str(p),
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - data.rfind(b"\n", 0, e.start)
        raise ConfigError(
            f"not UTF-8 text (line {line}, column {column}: byte 0x{data[e.start]:02x}); "
            "save the scenario as UTF-8",
            path=str(p),
        ) from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(
            f"not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})", path=str(p)
        ) from None
    return parse_scenario(raw, source=str(p))


def parse_scenario(raw: Any, *, source: str = "<scenario>") -> Scenario:
    """Validate a decoded scenario object."""
    if not isinstance(raw, dict):
        raise ConfigError("a scenario must be a JSON object with a `turns` list", path=source)
    turns_raw = raw.get("turns", [])
    if not isinstance(turns_raw, list):
        raise ConfigError("`turns` must be a list of {op: ...} objects", path=source, key="turns")
    for key in ("name", "prompt", "final"):
        if key in raw and not isinstance(raw[key], str):
            raise ConfigError("must be a string", path=source, key=key)
    turns = tuple(_parse_turn(t, i, source) for i, t in enumerate(turns_raw))
    final = raw.get("final")
    if final is None:
        last_final = [t for t in turns if t.op == "final" and t.args.get("text")]
        final = last_final[-1].args["text"] if last_final else "Done."
    agents_raw = raw.get("agents", {})
    if not isinstance(agents_raw, dict):
        raise ConfigError(
            'must be an object: {"MARKER": {"turns": [...], "final": "..."}}',
            path=source, key="agents",
        )  # fmt: skip
    agents = tuple(
        (str(marker), parse_scenario({"name": str(marker), **sub}, source=f"{source}#{marker}"))
        if isinstance(sub, dict)
        else (str(marker), parse_scenario(sub, source=f"{source}#{marker}"))
        for marker, sub in agents_raw.items()
    )
    return Scenario(
        name=raw.get("name") or Path(source).stem,
        prompt=raw.get("prompt") or "",
        final=final,
        turns=turns,
        agents=agents,
    )


def _parse_turn(raw: Any, index: int, source: str) -> Turn:
    where = f"turns[{index}]"

    def fail(msg: str) -> ConfigError:
        return ConfigError(msg, path=source, key=where)

    if not isinstance(raw, dict):
        raise fail('each turn must be an object like {"op": "read", "path": "x.py"}')
    op = raw.get("op")
    if op not in OPS:
        raise fail(f"unknown op {op!r}; use one of {', '.join(OPS)}")
    required, optional = OPS[op]
    args: dict[str, str] = {}
    for key in required + optional:
        if key not in raw:
            if key in required:
                raise fail(f"op {op!r} needs a string field {key!r}")
            continue
        if not isinstance(raw[key], str):
            raise fail(f"field {key!r} must be a string")
        args[key] = raw[key]
    if op in ("read", "write", "edit") and not args["path"]:
        raise fail("`path` must not be empty")
    if op == "call":
        try:
            parsed = json.loads(args.get("input") or "{}")
        except json.JSONDecodeError as e:
            raise fail(f"`input` must be a JSON object as text ({e.msg})") from e
        if not isinstance(parsed, dict):
            raise fail('`input` must be a JSON object as text, e.g. "{\\"skill\\": \\"pdf\\"}"')
    if op == "calls":
        try:
            many = json.loads(args["inputs"])
        except json.JSONDecodeError as e:
            raise fail(f"`inputs` must be a JSON list of objects as text ({e.msg})") from e
        if not isinstance(many, list) or not many or not all(isinstance(i, dict) for i in many):
            raise fail('`inputs` must be a non-empty JSON list of objects, e.g. "[{}, {}]"')
    if op == "edit" and not args["old"]:
        raise fail("`old` must not be empty: it is the text the edit replaces")
    say = raw.get("say")
    if say is not None and not isinstance(say, str):
        raise fail("`say` must be a string")
    delay = raw.get("delay_ms", 0)
    if not isinstance(delay, int) or isinstance(delay, bool) or delay < 0:
        raise fail("`delay_ms` must be a non-negative integer")
    return Turn(
        op=op, args=args, say=say, delay_ms=delay, fault=_parse_fault(raw.get("fault"), fail)
    )


def _parse_fault(raw: Any, fail: Any) -> Fault | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise fail('`fault` must be an object like {"kind": "429", "times": 1}')
    kind = str(raw.get("kind", ""))
    if kind not in FAULT_KINDS:
        raise fail(
            f"fault kind {raw.get('kind')!r} is unknown; use one of {', '.join(FAULT_KINDS)}"
        )
    times = raw.get("times", 1)
    if not isinstance(times, int) or isinstance(times, bool) or times < 1:
        raise fail("fault `times` must be a positive integer")
    retry_after = raw.get("retry_after")
    if retry_after is not None and (
        not isinstance(retry_after, int | float) or isinstance(retry_after, bool) or retry_after < 0
    ):
        raise fail("fault `retry_after` must be a non-negative number of seconds")
    return Fault(kind=kind, times=times, retry_after=retry_after)
