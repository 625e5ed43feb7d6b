"""Changing one part of a settings file (bridle's or Claude Code's) without losing the rest.

`edit_settings(path, key, change)` reads the file (JSON, or JSONC with comments),
checks that it is a settings object whose `key` is an object or absent, lets
`change` modify that object in place, and writes the whole file back through
the atomic writer. Every other key stays as it was. JSON cannot keep comments,
so a file that had them is first kept beside it as `<name>.bak`. A file that
cannot be read, is not JSONC, or is not a settings object is a `ConfigError`
naming the file and the fix, and is left untouched. Enabling a plugin, saving an
"always allow" rule from the app and the Agent SDK's `updatedPermissions` all
edit settings through here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bridle.core.errors import ConfigError


def edit_settings(path: Path, key: str, change: Callable[[dict[str, Any]], None]) -> None:
    from bridle.config.jsonc import parse_jsonc
    from bridle.store.atomic import atomic_write, atomic_write_text

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise ConfigError(f"cannot be read ({why}); fix or move it", path=str(path)) from e
    try:
        data = json.loads(text) if text.strip() else {}
        commented = False
    except json.JSONDecodeError:
        data = parse_jsonc(text, str(path))  # a ConfigError if it is not JSONC either
        commented = True
    part = data.get(key) if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(part, dict | None):
        raise ConfigError(
            f"is not a settings object with a {key} object; fix it by hand", path=str(path)
        )
    change(data.setdefault(key, {}))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if commented:
            atomic_write(path.with_name(path.name + ".bak"), text.encode("utf-8"))
        atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    except OSError as e:
        why = e.strerror or str(e)
        raise ConfigError(f"cannot be written ({why})", path=str(path)) from e
