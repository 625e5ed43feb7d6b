"""The Claude Agent SDK's control protocol, so SDK applications can run bridle.

`ClaudeAgentOptions(cli_path="bridle")` starts bridle with `--input-format
stream-json --output-format stream-json`, writes NDJSON on stdin (a
`control_request` `initialize`, user messages, `control_response`s) and reads
NDJSON on stdout. `StreamSession.serve` runs one turn per user message; with
`--permission-prompt-tool stdio` every permission the policy asks for becomes a
`can_use_tool` control request, and the run waits for its answer (allow, with
`updatedInput` applied and `updatedPermissions` kept for the session and saved
where their destination says (`sdk_permissions`), or deny, whose message the
model is told). The SDK's hook callbacks, named in `initialize`, become the
session's hooks and are called back with `hook_callback` requests (`sdk_hooks`). A reader
thread owns stdin: an `interrupt` takes effect at once, other lines are queued
and handled at the next event, user messages arriving mid-turn run after it.
Unknown control requests get an error response. `check_sdk_flags` and
`check_setting_sources` refuse flags bridle cannot honour. This module does not
render engine events (that is `render.py`) and does not open sessions.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from bridle.core.errors import BridleError, ConfigError, UsageError
from bridle.engine import events as ev

# Flags the SDK may pass that would change what a run does in ways bridle cannot
# provide: refused (exit 64) rather than silently ignored.
_REFUSED = {
    "resume_drops_turn": "--resume-drops-turn",
    "session_mirror": "--session-mirror (SessionStore mirroring)",
}
_INTERRUPTED = object()  # queued by the reader thread when an interrupt arrives


def check_sdk_flags(o: Mapping[str, Any]) -> None:
    """Usage errors for the SDK flags bridle accepts only in some forms."""
    for key, what in _REFUSED.items():
        if o.get(key):
            raise UsageError(f"{what} is not supported by bridle")
    tool = o.get("permission_prompt_tool")
    if tool is not None:
        if tool != "stdio":
            raise UsageError(
                f"--permission-prompt-tool {tool}: bridle only asks over the control "
                "protocol (--permission-prompt-tool stdio), not through an MCP tool"
            )
        if o.get("input_format") != "stream-json":
            raise UsageError("--permission-prompt-tool stdio needs --input-format stream-json")
    for raw in o.get("mcp_config") or []:
        _mcp_servers(raw)  # checked now: a bad flag is a usage error before any work


def _mcp_servers(raw: str) -> dict[str, Any]:
    if raw.lstrip().startswith("{"):
        text = raw
    else:
        try:
            text = Path(raw).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            raise UsageError(
                f"--mcp-config {raw}: cannot read it ({why}); pass a JSON file's path or "
                "the JSON itself, e.g. '{\"mcpServers\": {}}'"
            ) from e
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"--mcp-config: not valid JSON ({e})") from e
    servers = data.get("mcpServers", {}) if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        raise UsageError('--mcp-config: expected {"mcpServers": {...}}')
    return servers


def check_setting_sources(raw: str | None, project_root: Path, user_settings: Path) -> None:
    """`--setting-sources user,project,local`: bridle reads every settings layer,
    so a source left out is refused when one of its files exists (an empty list
    in a fresh directory, the SDK's isolation mode, is fine)."""
    if raw is None:
        return
    names = {n.strip() for n in raw.split(",") if n.strip()}
    unknown = names - {"user", "project", "local"}
    if unknown:
        raise UsageError(
            f"--setting-sources: unknown source {sorted(unknown)[0]!r}; use user, project, local"
        )
    files = {
        "user": [user_settings],
        "project": [project_root / ".bridle" / "settings.json", project_root / ".claude" / "settings.json"],
        "local": [project_root / ".bridle" / "settings.local.json"],
    }  # fmt: skip
    for name, paths in files.items():
        present = [p for p in paths if name not in names and p.is_file()]
        if present:
            raise UsageError(
                f"--setting-sources leaves out {name}, but bridle cannot skip {present[0]}; "
                f"add {name} to the sources or move the file"
            )


class LineWriter:
    """NDJSON to stdout from two threads: each `write` is whole and flushed."""

    def __init__(self, out: IO[str]):
        self._out = out
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._out.write(text)
            self._out.flush()
        return len(text)

    def flush(self) -> None:
        with self._lock:
            self._out.flush()

    def send(self, obj: dict[str, Any]) -> None:
        self.write(json.dumps(obj, ensure_ascii=False) + "\n")


def control_response(request_id: Any, response: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "control_response",
        "response": {"subtype": "success", "request_id": request_id, "response": response},
    }


def control_error(request_id: Any, error: str) -> dict[str, Any]:
    return {
        "type": "control_response",
        "response": {"subtype": "error", "request_id": request_id, "error": error},
    }


def user_turn(msg: dict[str, Any]) -> ev.UserTurn:
    """A stream-json user message: text content, or text and image blocks."""
    from bridle.core.messages import ImagePart

    content = (msg.get("message") or {}).get("content", "")
    if not isinstance(content, list):
        return ev.UserTurn(str(content))
    texts: list[str] = []
    images: list[ImagePart] = []
    for block in content:
        if not isinstance(block, dict):
            continue
        if block.get("type", "text") == "text":
            texts.append(str(block.get("text", "")))
        elif block.get("type") == "image":
            src = block.get("source") or {}
            if src.get("type") == "base64":
                images.append(ImagePart(str(src.get("media_type")), str(src.get("data"))))
    return ev.UserTurn("".join(texts), images)


def _brief(call: Any) -> str:
    args = call.input or {}
    for key in ("command", "file_path", "path", "pattern", "url"):
        if isinstance(args.get(key), str):
            return str(args[key])
    return call.name


class StreamSession:
    """One `--input-format stream-json` run over an open session."""

    def __init__(
        self, session: Any, renderer: Any, writer: LineWriter, stdin: IO[str], *, ask: bool
    ):
        self.session = session
        self.engine = session.engine
        self.renderer = renderer
        self.writer = writer
        self.stdin = stdin
        self.ask = ask  # --permission-prompt-tool stdio
        self.lines: queue.Queue[Any] = queue.Queue()
        self.deferred: list[dict[str, Any]] = []
        self.eof = False
        self.interrupted = False
        self._updates: Any = None  # sdk_permissions.PermissionUpdates, made when needed
        self.hook_channel: Any = None  # sdk_hooks.HookChannel once initialize sends hooks

    # ------------------------------------------------------------ reading
    def _read(self) -> None:
        """The reader thread: interrupts act now, everything else is queued."""
        for raw in self.stdin:
            line = raw.strip()
            if not line:
                continue
            try:
                msg = json.loads(line)
            except json.JSONDecodeError as e:
                self.lines.put(UsageError(f"--input-format stream-json: invalid JSON line: {e}"))
                return
            if not isinstance(msg, dict):
                self.lines.put(
                    UsageError("--input-format stream-json: each line must be an object")
                )
                return
            request = msg.get("request")
            if (
                msg.get("type") == "control_request"
                and isinstance(request, dict)
                and request.get("subtype") == "interrupt"
            ):
                self.interrupted = True
                self.engine.send(ev.Interrupt())
                if self.hook_channel is not None:
                    self.hook_channel.interrupt()
                self.writer.send(control_response(msg.get("request_id"), {}))
                self.lines.put(_INTERRUPTED)
                continue
            if self.hook_channel is not None and self.hook_channel.route(msg):
                continue  # a hook callback's answer: its hook is waiting on it
            self.lines.put(msg)
        if self.hook_channel is not None:
            self.hook_channel.close()
        self.lines.put(None)

    def _take(self, block: bool) -> Any:
        item = self.lines.get(block=block)
        if isinstance(item, UsageError):
            raise item
        if item is None:
            self.eof = True
        return item

    def _drain(self) -> None:
        """Between engine events: answer queued control requests, keep user
        messages for after the turn."""
        while not self.eof:
            try:
                item = self._take(block=False)
            except queue.Empty:
                return
            self._route(item)

    def _route(self, item: Any) -> None:
        if not isinstance(item, dict):
            return  # an interrupt marker or end of input
        kind = item.get("type")
        if kind == "control_request":
            self._answer(item)
        elif kind == "user":
            self.deferred.append(item)
        # Stray control_responses (to a cancelled request) and other types: ignored.

    # ------------------------------------------------------------ serving
    def serve(self) -> int:
        threading.Thread(target=self._read, name="bridle-stdin", daemon=True).start()
        code = 0
        while True:
            if self.deferred:
                msg: Any = self.deferred.pop(0)
            elif self.eof:
                return code
            else:
                msg = self._take(block=True)
            if not isinstance(msg, dict) or msg.get("type") != "user":
                self._route(msg)
                continue
            self.interrupted = False
            for event in self.engine.send(user_turn(msg)):
                self.renderer.handle(event)
                if isinstance(event, ev.PermissionRequest):
                    self._permission(event)
                elif isinstance(event, ev.TurnResult):
                    code = event.exit_code
                self._drain()

    def _permission(self, event: ev.PermissionRequest) -> None:
        call = event.call
        if not self.ask:
            return  # no answer: the engine denies (a headless run has nobody to ask)
        if self.interrupted:
            self.engine.send(ev.ApprovalDecision(call.id, False, message="the user interrupted"))
            return
        request_id = str(uuid.uuid4())
        self.writer.send(
            {
                "type": "control_request",
                "request_id": request_id,
                "request": {
                    "subtype": "can_use_tool",
                    "tool_name": call.name,
                    "display_name": call.name,
                    "input": call.input or {},
                    "description": _brief(call),
                    "decision_reason": event.reason,
                    "permission_suggestions": [],
                    "tool_use_id": call.id,
                },
            }
        )
        self.engine.send(self._wait_for_answer(request_id, call.id))

    def _wait_for_answer(self, request_id: str, tool_use_id: str) -> ev.ApprovalDecision:
        def deny(why: str) -> ev.ApprovalDecision:
            return ev.ApprovalDecision(tool_use_id, False, message=why)

        while True:
            if self.eof:
                return deny("the SDK closed its input before answering")
            item = self._take(block=True)
            if item is _INTERRUPTED:
                self.writer.send({"type": "control_cancel_request", "request_id": request_id})
                return deny("the user interrupted")
            response = item.get("response") if isinstance(item, dict) else None
            if (
                item is None
                or item.get("type") != "control_response"
                or not isinstance(response, dict)
                or response.get("request_id") != request_id
            ):
                self._route(item)
                continue
            if response.get("subtype") == "error":
                return deny(f"the permission callback failed: {response.get('error')}")
            answer = response.get("response") or {}
            if answer.get("behavior") == "allow":
                self._update_permissions(answer.get("updatedPermissions"))
                updated = answer.get("updatedInput")
                return ev.ApprovalDecision(
                    tool_use_id, True, updated_input=updated if isinstance(updated, dict) else None
                )
            if answer.get("behavior") == "deny":
                if answer.get("interrupt"):
                    self.interrupted = True
                    self.engine.send(ev.Interrupt())
                return deny(str(answer.get("message") or "the user denied it"))
            return deny(f"the permission callback answered {answer.get('behavior')!r}")

    def _update_permissions(self, raw: Any) -> None:
        """An allow's `updatedPermissions`: in effect for the next calls of this
        session, and saved to the settings file each destination names."""
        if not raw:
            return
        if self._updates is None:
            from bridle.headless.sdk_permissions import PermissionUpdates

            settings = getattr(self.session, "settings", None)
            root = getattr(settings, "project_root", None) or self.session.policy.root
            self._updates = PermissionUpdates(
                self.session.policy,
                Path(root),
                os.environ,
                set_mode=lambda mode: self._apply(ev.SetPermissionMode(mode)),
            )
        try:
            self._updates.apply(raw)
        except UsageError as e:
            sys.stderr.write(f"bridle: {e}; none of this answer's permission updates apply\n")
        except (OSError, ConfigError) as e:
            sys.stderr.write(f"bridle: a permission update could not be saved: {e}\n")

    # ----------------------------------------------------- control requests
    def _answer(self, msg: dict[str, Any]) -> None:
        rid = msg.get("request_id")
        request = msg.get("request") if isinstance(msg.get("request"), dict) else {}
        assert isinstance(request, dict)
        subtype = request.get("subtype")
        try:
            if subtype == "initialize":
                response = self._initialize(request)
            elif subtype == "set_permission_mode":
                self._apply(ev.SetPermissionMode(str(request.get("mode"))))
                response = {}
            elif subtype == "set_model":
                self._apply(ev.SetModel(str(request.get("model") or self.session.model_name)))
                response = {}
            elif subtype == "mcp_status":
                from bridle.mcp.status import sdk_statuses

                mcp = getattr(self.session, "mcp", None)
                response = {"mcpServers": sdk_statuses(getattr(mcp, "manager", None))}
            else:
                raise UsageError(f"bridle does not support the control request {subtype!r}")
        except BridleError as e:
            self.writer.send(control_error(rid, str(e)))
            return
        self.writer.send(control_response(rid, response))

    def _apply(self, op: ev.Op) -> None:
        for event in self.engine.send(op):
            self.renderer.handle(event)

    def _initialize(self, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("agents"):
            raise UsageError(
                "bridle has no subagents (Task tool); remove agents from ClaudeAgentOptions"
            )
        model = self.session.model_name
        hooks: dict[str, Any] = {}
        if request.get("hooks"):
            from bridle.headless.sdk_hooks import attach

            self.hook_channel = attach(self.session, request["hooks"], self.writer)
            # bridle honours a matcher's onFailure "block" (the SDK checks this).
            hooks = {"hook_on_failure_supported": True, "hooks_applied": True}
        return {
            "commands": [],
            "agents": [],
            "output_style": "default",
            "available_output_styles": ["default"],
            "models": [{"value": model, "displayName": model, "description": "bridle model"}],
            "pid": os.getpid(),
            **hooks,
        }
