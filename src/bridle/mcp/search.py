"""Tool search: with many MCP tools, offer `ToolSearch` and send only the schemas found.

Claude Code's `ENABLE_TOOL_SEARCH` decides: `true` always defers the MCP server
tools, `false` never does, `auto` defers them when their definitions (name,
description, schema; about 4 characters a token) exceed 10% of the model's
context window, and `auto:N` at N%. Unset is `auto` in bridle (Claude Code
defers always, relying on its API's tool references; bridle runs models that
have no such feature, so it defers only when the schemas cost real context).
`defer_tools` returns the tools the dispatcher knows (every tool, plus
`ToolSearch`) and the list of specs the engine sends in each request, which
starts without the deferred ones; `ToolSearch` appends the specs it finds to
that same list, so from the next request on the model sees and calls them. Its
description names every deferred tool. A tool a resumed session already used is
loaded from the start. This module starts no server and never imports the SDK.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from bridle.core.messages import Message, ToolSpec, ToolUsePart
from bridle.tools.base import Tool, ToolContext, ToolOutput

DEFAULT_PERCENT = 10
DEFAULT_WINDOW = 200_000
CHARS_PER_TOKEN = 4
MAX_RESULTS = 5


def search_mode(env: Mapping[str, str]) -> tuple[str, int, str | None]:
    """(`on`, `off` or `auto`, the auto percentage, a warning for a bad value)."""
    raw = (env.get("ENABLE_TOOL_SEARCH") or "").strip().lower()
    if raw in ("", "auto"):
        return "auto", DEFAULT_PERCENT, None
    if raw in ("true", "1", "yes", "on"):
        return "on", 0, None
    if raw in ("false", "0", "no", "off"):
        return "off", 0, None
    m = re.fullmatch(r"auto:(\d{1,2})", raw)
    if m and 1 <= int(m.group(1)) <= 99:
        return "auto", int(m.group(1)), None
    return (
        "auto",
        DEFAULT_PERCENT,
        f"ENABLE_TOOL_SEARCH={raw!r} is not true, false, auto or auto:N (N from 1 to 99); "
        f"using auto ({DEFAULT_PERCENT}%)",
    )


def spec_tokens(specs: Iterable[ToolSpec]) -> int:
    chars = sum(len(s.name) + len(s.description) + len(json.dumps(s.input_schema)) for s in specs)
    return chars // CHARS_PER_TOKEN


def defer_tools(
    tools: list[Tool],
    env: Mapping[str, str],
    context_window: int | None,
    *,
    history: Iterable[Message] | None = None,
) -> tuple[list[Tool], list[ToolSpec], str | None]:
    """(the dispatcher's tools, the specs sent now, a warning) for `tools`, of
    which the `mcp__` ones may be deferred; those `history` called stay offered."""
    mode, percent, warning = search_mode(env)
    candidates = [t for t in tools if t.name.startswith("mcp__")]
    specs = [t.spec() for t in tools]
    if mode == "off" or not candidates:
        return tools, specs, warning
    if mode == "auto":
        window = context_window or DEFAULT_WINDOW
        if spec_tokens(t.spec() for t in candidates) <= window * percent / 100:
            return tools, specs, warning
    keep = {p.name for m in history or () for p in m.parts if isinstance(p, ToolUsePart)}
    deferred = {t.name: t.spec() for t in candidates if t.name not in keep}
    if not deferred:
        return tools, specs, warning
    search = ToolSearch(deferred)
    offered = [s for s in specs if s.name not in deferred]
    offered.append(search.spec())
    search.offered = offered
    return [*tools, search], offered, warning


class ToolSearch(Tool):
    name = "ToolSearch"
    description = "Search the deferred tools by keyword and load the ones found."
    input_schema = {
        "type": "object",
        "properties": {
            "query": {
                "type": "string",
                "description": (
                    'Keywords to look for in tool names and descriptions, or "select:NAME,NAME" '
                    "to load tools by exact name"
                ),
            },
            "max_results": {
                "type": "integer",
                "description": f"At most this many (default {MAX_RESULTS})",
            },
        },
        "required": ["query"],
        "additionalProperties": False,
    }
    read_only = True
    concurrency_safe = True

    def __init__(self, deferred: Mapping[str, ToolSpec]) -> None:
        self.deferred = dict(deferred)
        # The engine's request tool list: found tools are appended to it.
        self.offered: list[ToolSpec] = []

    def spec(self) -> ToolSpec:
        names = "\n".join(f"- {n}" for n in sorted(self.deferred))
        text = (
            "Load tools that are available but not yet offered to you. Their schemas are "
            "withheld to save context: search by keyword (or select:NAME) and the tools found "
            "can be called from your next step on. Deferred tools:\n" + names
        )
        return ToolSpec(self.name, text, self.input_schema)

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        query = str(args.get("query") or "").strip()
        limit = args.get("max_results") or MAX_RESULTS
        limit = limit if isinstance(limit, int) and limit > 0 else MAX_RESULTS
        found = self._find(query, limit)
        if not found:
            return ToolOutput.text(
                f"No deferred tool matches {query!r}. The deferred tools are: "
                + ", ".join(sorted(self.deferred))
            )
        have = {s.name for s in self.offered}
        for spec in found:
            if spec.name not in have:
                self.offered.append(spec)
        lines = [f"- {s.name}: {s.description.strip().splitlines()[0] if s.description else ''}"
                 for s in found]  # fmt: skip
        return ToolOutput.text(
            f"Loaded {len(found)} tool(s); call them directly from now on:\n" + "\n".join(lines)
        )

    def _find(self, query: str, limit: int) -> list[ToolSpec]:
        if query.lower().startswith("select:"):
            names = [n.strip() for n in query[len("select:") :].split(",") if n.strip()]
            return [self.deferred[n] for n in names if n in self.deferred]
        words = [w for w in re.split(r"[^a-z0-9]+", query.lower()) if w]
        if not words:
            return []
        scored: list[tuple[int, str]] = []
        for name, spec in self.deferred.items():
            name_l, desc = name.lower(), spec.description.lower()
            score = sum(3 * (w in name_l) + (w in desc) for w in words)
            if score:
                scored.append((-score, name))
        return [self.deferred[n] for _, n in sorted(scored)[:limit]]
