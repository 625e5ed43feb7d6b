"""MCP tools and resources as bridle `Tool`s, named as Claude Code names them.

Each server tool becomes `mcp__<server>__<tool>` (characters outside
`[A-Za-z0-9_-]` become `_`), with the server's description and input schema; it
is read-only (and concurrency-safe) only when the server marks it
`readOnlyHint`, otherwise mutating. A result's text, images (`ImagePart`),
embedded resources and structured content go back to the model; text over
`MAX_MCP_OUTPUT_TOKENS` (default 25,000 tokens, about 4 characters each) keeps
its head and tail and the whole of it is saved to a file the model can Read,
`mcp-<server>-<tool>-<n>.txt` in the session's tool-output folder (n counts up).
`ListMcpResourcesTool` and `ReadMcpResourceTool` list and read servers'
resources. Calls go through a `client.McpManager`; this module never imports the
`mcp` SDK and does not decide permissions (rules like `mcp__server__*` are
policy's).
"""

from __future__ import annotations

import base64
import json
import os
import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bridle.core.messages import ImagePart, TextPart
from bridle.mcp.client import McpManager
from bridle.tools.base import Tool, ToolContext, ToolOutput
from bridle.tools.output import cap_text, output_dir

if TYPE_CHECKING:
    from bridle.mcp.connection import McpTool

DEFAULT_MAX_TOKENS = 25_000
CHARS_PER_TOKEN = 4
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def tool_name(server: str, tool: str) -> str:
    """The name the model calls: `mcp__<server>__<tool>`."""
    return f"mcp__{_UNSAFE.sub('_', server)}__{_UNSAFE.sub('_', tool)}"


def max_output_chars(ctx: ToolContext) -> int:
    env = ctx.env if ctx.env is not None else os.environ
    try:
        tokens = int(env.get("MAX_MCP_OUTPUT_TOKENS", ""))
    except ValueError:
        tokens = DEFAULT_MAX_TOKENS
    return (tokens if tokens > 0 else DEFAULT_MAX_TOKENS) * CHARS_PER_TOKEN


class McpServerTool(Tool):
    """One server tool; `adapt` makes a subclass per tool with its name and schema."""

    manager: McpManager
    server: str
    remote_name: str

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        result = self.manager.call_tool(self.server, self.remote_name, args)
        parts = content_parts(result.content, ctx, self.server)
        structured = result.structured
        if structured is not None and not _already_shown(structured, parts):
            parts.append(TextPart(json.dumps(structured, ensure_ascii=False, indent=2)))
        if not parts:
            parts = [TextPart("(the tool returned no content)")]
        label = f"mcp-{_UNSAFE.sub('_', self.server)}-{_UNSAFE.sub('_', self.remote_name)}"
        return ToolOutput(_cap(parts, ctx, label), is_error=result.is_error)


def adapt(manager: McpManager, tool: McpTool) -> Tool:
    """A bridle `Tool` that calls `tool` on its server."""
    attrs = {
        "name": tool_name(tool.server, tool.name),
        "description": tool.description or f"{tool.title or tool.name} (MCP server {tool.server})",
        "input_schema": tool.input_schema,
        "read_only": tool.read_only,
        "concurrency_safe": tool.read_only,
        "manager": manager,
        "server": tool.server,
        "remote_name": tool.name,
    }
    cls = type(f"McpServerTool_{attrs['name']}", (McpServerTool,), attrs)
    return cls()


class ListMcpResourcesTool(Tool):
    name = "ListMcpResourcesTool"
    description = (
        "List the resources MCP servers offer (files, documents, records), with their "
        "server and URI. Pass server to list one server's. Read one with ReadMcpResourceTool."
    )
    input_schema = {
        "type": "object",
        "properties": {"server": {"type": "string", "description": "Only this server"}},
        "additionalProperties": False,
    }
    read_only = True
    concurrency_safe = True

    def __init__(self, manager: McpManager) -> None:
        self.manager = manager

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        server = args.get("server")
        items = self.manager.list_resources(server)
        if not items:
            where = f"MCP server {server!r}" if server else "the connected MCP servers"
            return ToolOutput.text(f"No resources found on {where}.")
        rows = [
            {
                k: v
                for k, v in (
                    ("server", r["server"]),
                    ("uri", r.get("uri")),
                    ("name", r.get("name")),
                    ("mimeType", r.get("mime_type")),
                    ("description", r.get("description")),
                )
                if v is not None
            }
            for r in items
        ]
        text = json.dumps(rows, ensure_ascii=False, indent=2)
        return ToolOutput.text(
            cap_text(text, ctx, label="mcp-resources", limit=max_output_chars(ctx))
        )


class ReadMcpResourceTool(Tool):
    name = "ReadMcpResourceTool"
    description = (
        "Read a resource from an MCP server by its URI (see ListMcpResourcesTool). "
        "Text comes back as text, images as images; other binary data is saved to a file."
    )
    input_schema = {
        "type": "object",
        "properties": {
            "server": {"type": "string", "description": "The MCP server's name"},
            "uri": {"type": "string", "description": "The resource URI"},
        },
        "required": ["server", "uri"],
        "additionalProperties": False,
    }
    read_only = True
    concurrency_safe = True

    def __init__(self, manager: McpManager) -> None:
        self.manager = manager

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        server, uri = args["server"], args["uri"]
        contents = self.manager.read_resource(server, uri)
        parts = content_parts([{"type": "resource", "resource": c} for c in contents], ctx, server)
        if not parts:
            parts = [TextPart(f"(resource {uri} is empty)")]
        return ToolOutput(_cap(parts, ctx, "mcp-resource"))


def mcp_tools(manager: McpManager) -> list[Tool]:
    """The session's MCP tools: every server tool, plus the resource tools."""
    if not manager.names:
        return []
    adapted = [adapt(manager, t) for t in manager.list_tools()]
    return [*adapted, ListMcpResourcesTool(manager), ReadMcpResourceTool(manager)]


def content_parts(
    blocks: list[dict[str, Any]], ctx: ToolContext, server: str
) -> list[TextPart | ImagePart]:
    """MCP content blocks (as dicts) as parts the model can see."""
    parts: list[TextPart | ImagePart] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "text":
            parts.append(TextPart(str(block.get("text", ""))))
        elif kind == "image" and block.get("mime_type") in IMAGE_TYPES:
            parts.append(ImagePart(block["mime_type"], str(block.get("data", ""))))
        elif kind in ("image", "audio"):
            path = _save_blob(str(block.get("data", "")), ctx, f"mcp-{kind}")
            parts.append(TextPart(f"[{kind} ({block.get('mime_type')}) saved to {path}]"))
        elif kind == "resource":
            res = block.get("resource") or {}
            uri, mime = res.get("uri", ""), res.get("mime_type")
            if "text" in res:
                parts.append(TextPart(f"[resource {uri}]\n{res['text']}"))
            elif mime in IMAGE_TYPES:
                parts.append(ImagePart(mime, str(res.get("blob", ""))))
            else:
                path = _save_blob(str(res.get("blob", "")), ctx, "mcp-resource")
                parts.append(TextPart(f"[resource {uri} ({mime or 'binary'}) saved to {path}]"))
        elif kind == "resource_link":
            what = " ".join(str(block[k]) for k in ("name", "uri") if block.get(k))
            mime = f" ({block['mime_type']})" if block.get("mime_type") else ""
            parts.append(
                TextPart(
                    f"[resource link: {what}{mime}; read it with ReadMcpResourceTool "
                    f"server={server!r}]"
                )
            )
        else:
            parts.append(TextPart(json.dumps(block, ensure_ascii=False)))
    return parts


def _cap(
    parts: list[TextPart | ImagePart], ctx: ToolContext, label: str
) -> list[TextPart | ImagePart]:
    limit = max_output_chars(ctx)
    texts = [p.text for p in parts if isinstance(p, TextPart)]
    total = sum(len(t) for t in texts)
    if total <= limit:
        return parts
    full = "\n".join(texts)
    capped = cap_text(full, ctx, label=label, limit=limit, saved=_spill(full, ctx, label))
    note = (
        f"[MCP output is {total} characters, over MAX_MCP_OUTPUT_TOKENS "
        f"({limit // CHARS_PER_TOKEN} tokens); raise it to see more at once]\n"
    )
    images = [p for p in parts if isinstance(p, ImagePart)]
    return [TextPart(note + capped), *images]


def _spill(text: str, ctx: ToolContext, label: str) -> Path:
    """Save `text` as `<label>-<n>.txt` (the first free n) in the output folder."""
    d = output_dir(ctx)
    d.mkdir(parents=True, exist_ok=True)
    for n in range(1, 100_000):
        path = d / f"{label}-{n}.txt"
        try:
            with open(path, "x", encoding="utf-8", errors="surrogateescape") as f:
                f.write(text)
            return path
        except FileExistsError:
            continue
    raise OSError(f"no free file name for {label} in {d}")


def _already_shown(structured: Any, parts: list[TextPart | ImagePart]) -> bool:
    for part in parts:
        if isinstance(part, TextPart):
            try:
                if json.loads(part.text) == structured:
                    return True
            except ValueError:
                continue
    return False


def _save_blob(data: str, ctx: ToolContext, label: str) -> str:
    d = output_dir(ctx)
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{label}-{uuid.uuid4().hex[:8]}.bin"
    try:
        path.write_bytes(base64.b64decode(data, validate=False))
    except (ValueError, OSError) as e:
        return f"(not saved: {e})"
    return str(path)
