"""Child process for the crash and concurrency tests (run as a script, not collected).

`crash DB CWD SEED`: resume the latest session in CWD (or start one), print its
id, then write engine-shaped turns until killed: one transaction per model
response, tool results in one batch or one by one.
`writer DB SESSION NAME COUNT`: append COUNT numbered events to SESSION, half
singly and half in batches of 3.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from bridle.core.messages import (
    Message,
    ModelResponse,
    StopReason,
    TextPart,
    ToolResultPart,
    ToolUsePart,
    Usage,
)
from bridle.store.conversation import (
    response_event,
    system_event,
    tool_results_event,
    user_event,
)
from bridle.store.db import open_db
from bridle.store.sessions import SessionStore


def crash(db: str, cwd: str, seed: int) -> None:
    rng = random.Random(seed)
    store = SessionStore(open_db(Path(db)))
    latest = store.latest_for_cwd(cwd)
    if latest is not None and rng.random() < 0.5:
        sid = latest.id
        store.rebuild_messages(sid)  # what a resume reads before sending
    else:
        sid = store.create("mock-model", "mock", cwd).id
    print(sid, flush=True)
    store.append(sid, *user_event(Message("user", [TextPart(f"task {seed}")])))
    for turn in range(400):
        calls = [
            ToolUsePart(f"c{seed}_{turn}_{i}", "Bash", {"command": f"echo {i}"})
            for i in range(rng.randint(0, 3))
        ]
        stop = StopReason.TOOL_USE if calls else StopReason.END_TURN
        response = ModelResponse([TextPart(f"turn {turn}"), *calls], stop, Usage(10, 2))
        store.append_many(sid, [response_event(response)], usage=response.usage, turns=1)
        results = [ToolResultPart(c.id, [TextPart(f"out {c.id}")]) for c in calls]
        if not calls:
            store.append(sid, *user_event(Message("user", [TextPart(f"next {turn}")])))
        elif rng.random() < 0.5:
            store.append(sid, *tool_results_event(Message("user", results)))
        else:
            for r in results:
                store.append(sid, *tool_results_event(Message("user", [r])))
        if rng.random() < 0.1:
            store.append(sid, *system_event("model_switch", model=f"m{turn}"))


def writer(db: str, session_id: str, name: str, count: int) -> None:
    store = SessionStore(open_db(Path(db)))
    n = 0
    while n < count:
        if n % 2:
            store.append(session_id, "system", {"type": "mark", "writer": name, "n": n})
            n += 1
        else:
            batch = [("system", {"type": "mark", "writer": name, "n": n + i}) for i in range(3)]
            store.append_many(session_id, batch[: count - n])
            n += len(batch[: count - n])


if __name__ == "__main__":
    if sys.argv[1] == "crash":
        crash(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        writer(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
