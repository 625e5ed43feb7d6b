"""Run limits the loop consults: the loop guard, the turn cap and the cost budget.

`LoopGuard` stops a model that repeats itself: a call identical to three earlier
ones gets a synthetic result instead of running, and eight consecutive tool errors
end the run. `Budget` checks `--max-cost` before each request (from an estimate of
the prompt's size) and after each response (from real usage). Neither does I/O.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

REPEAT_LIMIT = 3
ERROR_LIMIT = 8


def _signature(name: str, args: dict[str, Any] | None) -> str:
    try:
        return name + "\0" + json.dumps(args, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return name + "\0" + repr(args)


@dataclass
class LoopGuard:
    """Stops repeated identical calls and ends a run after too many tool errors in a row."""

    repeat_limit: int = REPEAT_LIMIT
    error_limit: int = ERROR_LIMIT
    _seen: Counter[str] = field(default_factory=Counter)
    consecutive_errors: int = 0

    def check(self, name: str, args: dict[str, Any] | None) -> str | None:
        """Record a call; returns the synthetic result text if it must not run."""
        sig = _signature(name, args)
        earlier = self._seen[sig]
        self._seen[sig] += 1
        if earlier >= self.repeat_limit:
            return (
                f"loop guard: this exact {name} call was already made {earlier} times "
                "with the same arguments and was not run again. Use the earlier results, "
                "or try a different approach."
            )
        return None

    def record(self, is_error: bool) -> None:
        self.consecutive_errors = self.consecutive_errors + 1 if is_error else 0

    @property
    def tripped(self) -> bool:
        return self.consecutive_errors >= self.error_limit


def estimate_tokens(chars: int) -> int:
    """A deliberately high estimate (3 chars/token) so the pre-check errs safe."""
    return chars // 3 + 1


@dataclass
class Budget:
    """The session's spend against `--max-cost` (no limit when `max_cost_usd` is None)."""

    max_cost_usd: float | None
    spent_usd: float = 0.0

    def would_exceed(self, estimated_cost: float) -> bool:
        if self.max_cost_usd is None:
            return False
        return self.spent_usd + estimated_cost > self.max_cost_usd

    def charge(self, cost: float) -> None:
        self.spent_usd += cost

    @property
    def exceeded(self) -> bool:
        return self.max_cost_usd is not None and self.spent_usd >= self.max_cost_usd
