"""The built-in tool set, lookup by name, and argument validation.

`validate_args` checks a model's arguments against a tool's JSON schema with a
small, fast subset of JSON Schema (type, required, properties,
additionalProperties: false, enum, items, minItems, minimum, maximum) and returns
messages written for the model, so bad arguments become an error tool result
instead of a crash; there is no jsonschema dependency. `coerce_args` first
repairs the common slips of weaker models (numbers and booleans sent as
strings, a JSON-encoded array sent as a string) where the schema leaves no doubt.
Which tools a session offers (plan mode, --allowedTools) is decided elsewhere.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from typing import Any

from bridle.tools.base import Tool
from bridle.tools.names import BUILTIN_TOOL_NAMES

__all__ = ["BUILTIN_TOOL_NAMES", "builtin_tools", "coerce_args", "find_tool", "validate_args"]

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def builtin_tools() -> list[Tool]:
    """Fresh instances of every built-in tool, in the order they are offered."""
    from bridle.tools.apply_patch import ApplyPatch
    from bridle.tools.bash import Bash
    from bridle.tools.edit import Edit
    from bridle.tools.glob import Glob
    from bridle.tools.grep import Grep
    from bridle.tools.ls import LS
    from bridle.tools.multi_edit import MultiEdit
    from bridle.tools.read import Read
    from bridle.tools.todo_write import TodoWrite
    from bridle.tools.web_fetch import WebFetch
    from bridle.tools.write import Write

    classes: list[type[Tool]] = [
        Bash,
        Read,
        Edit,
        MultiEdit,
        Write,
        Glob,
        Grep,
        LS,
        WebFetch,
        TodoWrite,
        ApplyPatch,
    ]
    by_name = {cls.name: cls for cls in classes}
    return [by_name[name]() for name in BUILTIN_TOOL_NAMES]


def find_tool(tools: Iterable[Tool], name: str) -> Tool | None:
    for tool in tools:
        if tool.name == name:
            return tool
    return None


def unknown_tool_message(name: str, tools: Iterable[Tool]) -> str:
    """What to tell a model that called a tool that does not exist."""
    names = [t.name for t in tools]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    by_case = [n for n in names if n.lower() == name.lower()]
    hint = f" Did you mean {(by_case or close)[0]}?" if by_case or close else ""
    return f"No tool named {name!r}.{hint} Available tools: {', '.join(names)}."


def _is(value: Any, type_name: str) -> bool:
    if type_name in ("integer", "number") and isinstance(value, bool):
        return False
    if type_name == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES.get(type_name, (object,)))


def _check(value: Any, schema: dict[str, Any], where: str, errors: list[str]) -> None:
    expected = schema.get("type")
    if expected is not None:
        allowed = expected if isinstance(expected, list) else [expected]
        if not any(_is(value, t) for t in allowed):
            got = "null" if value is None else type(value).__name__
            errors.append(f"{where}: expected {' or '.join(allowed)}, got {got}")
            return
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(json.dumps(c) for c in schema["enum"])
        errors.append(f"{where}: {json.dumps(value)} is not one of {choices}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{where}: must be at least {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{where}: must be at most {schema['maximum']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{where}: needs at least {schema['minItems']} item(s)")
        item_schema = schema.get("items")
        if isinstance(item_schema, dict):
            for i, item in enumerate(value):
                _check(item, item_schema, f"{where}[{i}]", errors)
    if isinstance(value, dict):
        props: dict[str, Any] = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                errors.append(
                    f"{where}.{key}: required but missing"
                    if where
                    else f"{key}: required but missing"
                )
        if schema.get("additionalProperties") is False:
            for key in value:
                if key not in props:
                    known = ", ".join(props) or "none"
                    errors.append(f"{_join(where, key)}: unknown parameter (allowed: {known})")
        for key, sub in props.items():
            if key in value:
                _check(value[key], sub, _join(where, key), errors)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def validate_args(tool: Tool, args: object) -> list[str]:
    """Problems with `args` for `tool`, as messages for the model ([] if valid)."""
    if not isinstance(args, dict):
        return [f"arguments must be a JSON object, got {type(args).__name__}"]
    errors: list[str] = []
    _check(args, tool.input_schema, "", errors)
    return errors


def coerce_args(tool: Tool, args: dict[str, Any]) -> dict[str, Any]:
    """A copy of `args` with unambiguous string-typed slips converted."""
    props: dict[str, Any] = tool.input_schema.get("properties", {})
    out = dict(args)
    for key, value in args.items():
        want = props.get(key, {}).get("type")
        if want == "integer" and isinstance(value, float) and value.is_integer():
            out[key] = int(value)
            continue
        if not isinstance(value, str) or want in (None, "string"):
            continue
        text = value.strip()
        if want == "integer" and text.lstrip("-").isdigit():
            out[key] = int(text)
        elif want == "number":
            try:
                out[key] = float(text) if "." in text else int(text)
            except ValueError:
                pass
        elif want == "boolean" and text.lower() in ("true", "false"):
            out[key] = text.lower() == "true"
        elif want in ("array", "object") and text[:1] in ("[", "{"):
            try:
                parsed = json.loads(text)
            except ValueError:
                continue
            if _is(parsed, want):
                out[key] = parsed
    return out
