"""A small hand-written stdio MCP server with resources, prompts and many tools, for
`@server:uri` mentions, `/mcp__server__prompt` commands and tool search.

`python notes_server.py [N]` offers N filler tools (`filler_0`…, default 0) next
to `lookup_weather`; resources `notes://today` (text), `notes://logo` (a PNG)
and `notes://blob` (binary); prompts `greet` (arguments `name` required, `style`
optional) and `plain`. It speaks newline-delimited JSON-RPC on stdin/stdout."""

from __future__ import annotations

import json
import sys

FILLERS = int(sys.argv[1]) if len(sys.argv) > 1 else 0
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
TOOLS = [
    {
        "name": "lookup_weather",
        "description": "Look up the weather forecast for a city",
        "inputSchema": {"type": "object", "properties": {"city": {"type": "string"}}},
        "annotations": {"readOnlyHint": True},
    },
    *(
        {
            "name": f"filler_{i}",
            "description": f"Filler tool number {i} that does nothing useful " + "padding " * 40,
            "inputSchema": {"type": "object", "properties": {"x": {"type": "string"}}},
        }
        for i in range(FILLERS)
    ),
]
RESOURCES = {
    "notes://today": {"mimeType": "text/plain", "text": "Buy milk. Call Ada about the release."},
    "notes://logo": {"mimeType": "image/png", "blob": PNG},
    "notes://blob": {"mimeType": "application/octet-stream", "blob": "AAEC"},
}
PROMPTS = [
    {
        "name": "greet",
        "description": "Greet someone",
        "arguments": [
            {"name": "name", "required": True},
            {"name": "style", "required": False},
        ],
    },
    {"name": "plain", "description": "No arguments"},
]


def send(msg: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def answer(method: str, params: dict[str, object]) -> dict[str, object]:
    if method == "initialize":
        return {
            "protocolVersion": params["protocolVersion"],
            "capabilities": {"tools": {}, "resources": {}, "prompts": {}},
            "serverInfo": {"name": "notes", "version": "1"},
        }
    if method == "tools/list":
        return {"tools": TOOLS}
    if method == "tools/call":
        args = params.get("arguments") or {}
        assert isinstance(args, dict)
        text = f"{params['name']}: sunny in {args.get('city', '?')}"
        return {"content": [{"type": "text", "text": text}]}
    if method == "resources/list":
        return {"resources": [{"uri": u, "name": u, **{"mimeType": r["mimeType"]}}
                              for u, r in RESOURCES.items()]}  # fmt: skip
    if method == "resources/read":
        uri = str(params["uri"])
        if uri not in RESOURCES:
            raise KeyError(f"no resource {uri}")
        return {"contents": [{"uri": uri, **RESOURCES[uri]}]}
    if method == "prompts/list":
        return {"prompts": PROMPTS}
    if method == "prompts/get":
        args = params.get("arguments") or {}
        assert isinstance(args, dict)
        if params["name"] == "plain":
            text = "A plain prompt."
        else:
            text = f"Say hello to {args.get('name')} in a {args.get('style', 'friendly')} way."
        return {"messages": [{"role": "user", "content": {"type": "text", "text": text}}]}
    raise LookupError("unknown method")


for line in sys.stdin:
    msg = json.loads(line)
    mid = msg.get("id")
    if mid is None:
        continue
    try:
        result = answer(msg["method"], msg.get("params") or {})
    except (KeyError, LookupError) as e:
        send({"jsonrpc": "2.0", "id": mid, "error": {"code": -32602, "message": str(e)}})
        continue
    send({"jsonrpc": "2.0", "id": mid, "result": result})
