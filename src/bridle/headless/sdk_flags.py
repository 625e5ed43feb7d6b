"""The Agent SDK's session flags: `--session-id`, `--json-schema`, `--include-partial-messages`.

`with_sdk_flags(options, flags)` checks them the way Claude Code does, before
any work (a `UsageError`, exit 64, that says how to fix the value), and returns
the `SessionOptions` with them in: `--session-id UUID` names the new session
(with `-c`/`-r` it names the fork, so it needs `--fork-session`; an id already
in use is refused when the session opens), `--json-schema` takes a JSON Schema
as JSON text or a file path (see `engine.structured` for what the model is
asked), and `--include-partial-messages` needs `--output-format stream-json`,
the only output that carries stream events. The flags' effects live elsewhere:
the store takes the id, the engine the schema, `headless.partial` the events.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bridle.core.errors import UsageError
from bridle.engine.options import SessionOptions


def with_sdk_flags(options: SessionOptions, o: Mapping[str, Any]) -> SessionOptions:
    """`options` with `--session-id` and `--json-schema` applied (checked first)."""
    if o.get("include_partial_messages") and o.get("output_format") != "stream-json":
        raise UsageError(
            "--include-partial-messages needs --output-format stream-json (stream events "
            "are stream-json lines)"
        )
    changes: dict[str, Any] = {}
    if o.get("session_id"):
        if o.get("prompt_each"):
            raise UsageError(
                "--session-id names one session; a --prompt-each batch makes one per line"
            )
        changes["session_id"] = str(o["session_id"]).strip()
    if o.get("json_schema"):
        from bridle.engine.structured import check_schema

        changes["json_schema"] = check_schema(read_schema(str(o["json_schema"])))
    return dataclasses.replace(options, **changes) if changes else options


def read_schema(raw: str) -> Any:
    """The schema from `--json-schema`: JSON text, or the path of a JSON file."""
    text = raw
    if not raw.lstrip().startswith(("{", "[", '"')) and Path(raw).is_file():
        try:
            text = Path(raw).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise UsageError(f"--json-schema {raw}: cannot read it ({e})") from e
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(
            f"--json-schema is not valid JSON ({e}); pass a JSON Schema object such as "
            '\'{"type": "object", "properties": {"answer": {"type": "string"}}}\' or a '
            "file holding one"
        ) from e
