"""Mock-server throughput: requests per second for a 2-turn scenario, per wire.

Starts `python -m bridle mock serve` as a subprocess (so client and server do not
share a GIL), then runs C concurrent keep-alive clients that each play N
conversations of two requests (a tool call, then the final answer), whole and
streamed. The client is raw asyncio sockets, so it measures the server rather than
an HTTP library. Prints a small table. Run with the venv python:

    .cache/venv/bin/python bench/mock_throughput.py [--clients 8] [--conversations 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCENARIO = {
    "name": "bench",
    "prompt": "go",
    "final": "done",
    "turns": [{"op": "bash", "command": "true"}],
}
WIRES = ["anthropic-messages", "openai-chat", "openai-responses", "gemini"]


def bodies(wire: str, stream: bool) -> tuple[str, bytes, bytes]:
    """(path, first request, second request with the tool call answered)."""
    call_id = "call_bench"
    if wire == "anthropic-messages":
        tools = [{"name": "Bash", "input_schema": {"type": "object"}}]
        first = [{"role": "user", "content": "go"}]
        use = {"type": "tool_use", "id": call_id, "name": "Bash", "input": {"command": "true"}}
        second = [
            *first,
            {"role": "assistant", "content": [use]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": call_id, "content": "ok"}],
            },
        ]
        path, make = (
            "/v1/messages",
            lambda m: {"model": "m", "messages": m, "tools": tools, "stream": stream},
        )
    elif wire == "openai-chat":
        tools = [{"type": "function", "function": {"name": "Bash", "parameters": {}}}]
        first = [{"role": "user", "content": "go"}]
        fn = {"name": "Bash", "arguments": '{"command":"true"}'}
        second = [
            *first,
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": call_id, "type": "function", "function": fn}],
            },
            {"role": "tool", "tool_call_id": call_id, "content": "ok"},
        ]
        path, make = (
            "/v1/chat/completions",
            lambda m: {"model": "m", "messages": m, "tools": tools, "stream": stream},
        )
    elif wire == "openai-responses":
        tools = [{"type": "function", "name": "Bash", "parameters": {}}]
        first = [{"role": "user", "content": "go"}]
        second = [
            *first,
            {"type": "function_call", "call_id": call_id, "name": "Bash", "arguments": "{}"},
            {"type": "function_call_output", "call_id": call_id, "output": "ok"},
        ]
        path, make = (
            "/v1/responses",
            lambda m: {"model": "m", "input": m, "tools": tools, "stream": stream},
        )
    else:
        tools = [{"functionDeclarations": [{"name": "Bash", "parameters": {}}]}]
        first = [{"role": "user", "parts": [{"text": "go"}]}]
        second = [
            *first,
            {"role": "model", "parts": [{"functionCall": {"name": "Bash", "args": {}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "Bash", "response": {}}}]},
        ]
        path = "/v1beta/models/m:" + (
            "streamGenerateContent?alt=sse" if stream else "generateContent"
        )
        make = lambda m: {"contents": m, "tools": tools}  # noqa: E731
    return path, json.dumps(make(first)).encode(), json.dumps(make(second)).encode()


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    headers = head.lower()
    if b"transfer-encoding: chunked" in headers:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        length = int(headers.split(b"content-length:")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
    return status


async def client(port: int, path: str, first: bytes, second: bytes, conversations: int) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    try:
        for _ in range(conversations):
            for body in (first, second):
                head = f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
                writer.write(head.encode() + body)
                if await read_response(reader) != 200:
                    raise RuntimeError(f"{path}: unexpected status")
                done += 1
    finally:
        writer.close()
    return done


async def measure(
    port: int, wire: str, stream: bool, clients: int, conversations: int
) -> tuple[int, float]:
    path, first, second = bodies(wire, stream)
    start = time.perf_counter()
    counts = await asyncio.gather(
        *(client(port, path, first, second, conversations) for _ in range(clients))
    )
    return sum(counts), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--conversations", type=int, default=200, help="per client")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "bench.json"
        scenario.write_text(json.dumps(SCENARIO))
        argv = [sys.executable, "-m", "bridle", "mock", "serve", "--scenario", str(scenario)]
        server = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            port = int(server.stdout.readline().strip().removeprefix("PORT="))
            asyncio.run(measure(port, "openai-chat", False, 2, 20))  # warm up
            print(
                f"mock throughput: {args.clients} clients x {args.conversations} two-turn conversations"
            )
            print(f"{'wire':<20}{'mode':<8}{'requests':>10}{'seconds':>10}{'req/s':>10}")
            for wire in WIRES:
                for stream in (False, True):
                    n, secs = asyncio.run(
                        measure(port, wire, stream, args.clients, args.conversations)
                    )
                    mode = "stream" if stream else "whole"
                    print(f"{wire:<20}{mode:<8}{n:>10}{secs:>10.2f}{n / secs:>10.0f}")
        finally:
            server.terminate()
            server.wait(timeout=15)


if __name__ == "__main__":
    main()
