"""A tiny hand-written stdio MCP server for the cases the reference servers cannot
show on demand: `grow` adds a tool (`extra`, which answers "extra ran") and
sends `tools/list_changed`; `big` returns
a long text; `quit` (offered when started with `quit`) answers and then exits; started with `garbage` it answers every line with text that is not
JSON-RPC. It speaks newline-delimited JSON-RPC on stdin/stdout, nothing else."""

from __future__ import annotations

import json
import sys

MODE = sys.argv[1] if len(sys.argv) > 1 else "ok"
tools = [
    {
        "name": "grow",
        "description": "Add a tool named `extra`",
        "inputSchema": {"type": "object", "properties": {}},
    },
    {
        "name": "big",
        "description": "Return n characters",
        "inputSchema": {"type": "object", "properties": {"n": {"type": "integer"}}},
        "annotations": {"readOnlyHint": True},
    },
]


if MODE == "quit":
    tools.append({"name": "quit", "inputSchema": {"type": "object", "properties": {}}})


def send(msg: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    if MODE == "garbage":
        sys.stdout.write("hello, I am not JSON-RPC\n")
        sys.stdout.flush()
        continue
    msg = json.loads(line)
    method, mid = msg.get("method"), msg.get("id")
    if mid is None:
        continue
    if method == "initialize":
        result: dict[str, object] = {
            "protocolVersion": msg["params"]["protocolVersion"],
            "capabilities": {"tools": {"listChanged": True}},
            "serverInfo": {"name": "fake", "version": "1"},
        }
    elif method == "tools/list":
        result = {"tools": tools}
    elif method == "tools/call":
        name = msg["params"]["name"]
        if name == "grow":
            tools.append({"name": "extra", "inputSchema": {"type": "object", "properties": {}}})
            send({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
            result = {"content": [{"type": "text", "text": "grown"}]}
        elif name == "extra" and any(t["name"] == "extra" for t in tools):
            result = {"content": [{"type": "text", "text": "extra ran"}]}
        elif name == "quit":  # answers, then exits as if it crashed while idle
            send(
                {
                    "jsonrpc": "2.0",
                    "id": mid,
                    "result": {"content": [{"type": "text", "text": "bye"}]},
                }
            )
            sys.exit(3)
        elif name == "big":
            n = int(msg["params"].get("arguments", {}).get("n", 10))
            result = {"content": [{"type": "text", "text": ("0123456789" * (n // 10 + 1))[:n]}]}
        else:
            send(
                {
                    "jsonrpc": "2.0",
                    "id": mid,
                    "error": {"code": -32602, "message": f"no tool {name}"},
                }
            )
            continue
    else:
        send({"jsonrpc": "2.0", "id": mid, "error": {"code": -32601, "message": "unknown method"}})
        continue
    send({"jsonrpc": "2.0", "id": mid, "result": result})
