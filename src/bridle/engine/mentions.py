"""MCP in a prompt: `/mcp__server__prompt args` commands and `@server:uri` mentions.

`expand_mcp(session, text, images)` runs where a front end prepares a prompt,
before `/command` expansion. A prompt that starts with `/mcp__<server>__<prompt>`
becomes the text of that server's prompt (`prompts/get`), its space-separated
arguments (shell quoting honoured) given to the prompt's declared arguments in
order, the last one taking the rest, as Claude Code passes them; a missing
required argument is a `UsageError` naming it. Then each `@server:uri` mention of
a running server attaches the resource (`resources/read`): text is appended to
the prompt under a `[resource server:uri]` header, an image becomes an image of
the turn, other binary content is named with a pointer to ReadMcpResourceTool.
A mention of a name that is not a running server (an e-mail address, an `@file`)
is left alone; a resource that cannot be read is a `UsageError` with the
server's reason. Nothing here prints, and a session without MCP servers pays one
`startswith` and one regex search.
"""

from __future__ import annotations

import re
from typing import Any

from bridle.core.errors import ToolError, UsageError
from bridle.core.messages import ImagePart

# `@server:uri`: not inside a word or an e-mail address; the URI runs to whitespace.
MENTION = re.compile(r"(?<![\w@/.])@([A-Za-z0-9_.-]+):(\S+)")
_TRAILING = ".,;:!?)]}'\""
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def expand_mcp(session: Any, text: str, images: list[Any]) -> tuple[str, list[Any]]:
    """The prompt with its MCP prompt command and resource mentions expanded."""
    mcp = getattr(session, "mcp", None)
    manager = getattr(mcp, "manager", None)
    if text.startswith("/mcp__"):
        if manager is None:
            raise UsageError(
                f"{text.split()[0]}: no MCP server is running in this session; add one with "
                "`bridle mcp add` (see `bridle mcp list`)"
            )
        text, images = _prompt_command(manager, text, images)
    if manager is None or "@" not in text or not MENTION.search(text):
        return text, images
    return _attach_mentions(manager, text, images)


def _sanitize(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)


def _prompt_command(manager: Any, text: str, images: list[Any]) -> tuple[str, list[Any]]:
    head = text.split(None, 1)[0]
    rest = text[len(head) :].strip()
    servers = sorted(manager.names, key=len, reverse=True)  # the longest name wins
    server = next((s for s in servers if head.startswith(f"/mcp__{_sanitize(s)}__")), None)
    if server is None:
        running = ", ".join(manager.names)
        raise UsageError(f"{head}: no MCP server of that name is running (running: {running})")
    wanted = head[len(f"/mcp__{_sanitize(server)}__") :]
    try:
        prompts = manager.list_prompts(server)
    except ToolError as e:
        raise UsageError(f"{head}: {e}") from e
    prompt = next((p for p in prompts if _sanitize(p["name"]) == wanted), None)
    if prompt is None:
        have = ", ".join(f"/mcp__{_sanitize(server)}__{_sanitize(p['name'])}" for p in prompts)
        raise UsageError(f"{head}: server {server!r} has no prompt {wanted!r} ({have or 'none'})")
    declared = prompt.get("arguments") or []
    import shlex  # only for a prompt command: a plain -p run does not pay for it

    try:
        words = shlex.split(rest)
    except ValueError:
        words = rest.split()
    if declared and len(words) > len(declared):
        words = [*words[: len(declared) - 1], " ".join(words[len(declared) - 1 :])]
    args = {a["name"]: w for a, w in zip(declared, words, strict=False)}
    missing = [a["name"] for a in declared if a.get("required") and a["name"] not in args]
    if missing:
        usage = " ".join(
            f"<{a['name']}>" if a.get("required") else f"[{a['name']}]" for a in declared
        )
        raise UsageError(f"{head} needs {', '.join(missing)}: {head} {usage}")
    try:
        got = manager.get_prompt(server, prompt["name"], args)
    except ToolError as e:
        raise UsageError(f"{head}: {e}") from e
    texts: list[str] = []
    images = list(images)
    for message in got.get("messages") or []:
        content = message.get("content") or {}
        for block in content if isinstance(content, list) else [content]:
            kind = block.get("type")
            if kind == "text":
                texts.append(str(block.get("text", "")))
            elif kind == "image" and block.get("mime_type") in IMAGE_TYPES:
                images.append(ImagePart(block["mime_type"], str(block.get("data", ""))))
            elif kind == "resource":
                res = block.get("resource") or {}
                if "text" in res:
                    texts.append(f"[resource {res.get('uri', '')}]\n{res['text']}")
    return "\n\n".join(texts), images


def _attach_mentions(manager: Any, text: str, images: list[Any]) -> tuple[str, list[Any]]:
    names = set(manager.names)
    attached: list[str] = []
    seen: set[tuple[str, str]] = set()
    images = list(images)
    for m in MENTION.finditer(text):
        server, uri = m.group(1), m.group(2).rstrip(_TRAILING)
        if server not in names or not uri or (server, uri) in seen:
            continue
        seen.add((server, uri))
        try:
            contents = manager.read_resource(server, uri)
        except ToolError as e:
            raise UsageError(
                f"@{server}:{uri}: the resource could not be read ({e}); check the URI "
                "(the model can list them with ListMcpResourcesTool)"
            ) from e
        for c in contents:
            where = f"{server}:{c.get('uri', uri)}"
            mime = c.get("mime_type")
            if "text" in c:
                attached.append(f"[resource {where}]\n{c['text']}")
            elif mime in IMAGE_TYPES:
                images.append(ImagePart(mime, str(c.get("blob", ""))))
                attached.append(f"[resource {where}: the image is attached]")
            else:
                attached.append(
                    f"[resource {where} is binary ({mime or 'unknown type'}); read it with "
                    f"ReadMcpResourceTool server={server!r} uri={c.get('uri', uri)!r}]"
                )
    if not attached:
        return text, images
    return text + "\n\n" + "\n\n".join(attached), images
