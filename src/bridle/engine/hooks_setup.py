"""Building a session's hooks: every source merged into one `HookBridge`, or none.

`open_hooks` reads hooks from the settings layers (bridle's and Claude Code's
`.claude/settings.json`, `.claude/settings.local.json`, `~/.claude/settings.json`,
managed), enabled plugins' `hooks/hooks.json`, the `hooks` of skill frontmatter
(active once the skill is loaded) and `--hook EVENT:COMMAND`; `disableAllHooks`
turns them off. Bad hooks come back as warnings naming the file and key. The
bridge gets a Claude Code-format transcript under `$BRIDLE_HOME/transcripts/`,
a judge for prompt hooks (the session's model, or the hook's `model`), the
session's MCP servers for mcp_tool hooks, and a way to hand SessionStart's
`CLAUDE_ENV_FILE` exports to later Bash calls. `add_hooks` adds hooks to an
open session (an Agent SDK application's callbacks), building its bridge then
if it had none. When nothing configures a hook
this returns None after a dictionary lookup per settings layer: no import, no
file, no cost.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bridle.engine.hooks_bridge import HookBridge

JUDGE_SYSTEM = (
    "You judge a condition for an automated hook. Read the request and answer with "
    'one JSON object and nothing else: {"ok": true} when the condition holds, or '
    '{"ok": false, "reason": "why not"} when it does not.'
)
_JSON = re.compile(r"\{.*\}", re.DOTALL)


def _configured(settings: Any, options: Any, ext: Any) -> bool:
    """Whether any source may hold a hook (cheap: no file read, no import)."""
    if options.hooks or getattr(ext, "plugins", None):
        return True
    if any("hooks" in layer.data for layer in settings.layers):
        return True
    skills = getattr(ext, "skills", None) or {}
    return any(getattr(s, "hooks", None) for s in skills.values())


def plugin_hooks(ext: Any, home: Path) -> list[Any]:
    """The hooks of the plugins in use (`engine.extensions.Extensions.plugins`, each an
    `extensions.plugins.Plugin`): its hook files and its manifest's inline hooks."""
    from bridle.hooks.config import PluginHooks

    out = []
    for plugin in getattr(ext, "plugins", None) or ():
        name, root = str(plugin.name), str(plugin.root)
        data = str(plugin.data_dir or home / "plugins" / "data" / name)
        out += [PluginHooks(name, root, data, hooks_file=str(f)) for f in plugin.hook_files]
        out += [PluginHooks(name, root, data, inline=h) for h in plugin.inline_hooks]
    return out


def open_hooks(
    options: Any,
    settings: Any,
    ext: Any,
    *,
    project_dir: Path,
    cwd: Path,
    env: Mapping[str, str],
    session_id: str,
    resumed: bool,
    git_branch: str | None,
    binding: Any,
    bind_model: Callable[[str], Any],
    mcp: Any,
    ctx: Any,
) -> tuple[HookBridge | None, list[str]]:
    """The session's bridge (None when no hook is configured) and load warnings."""
    if not _configured(settings, options, ext):
        return None, []
    from bridle.config.paths import bridle_home
    from bridle.hooks.config import FrontmatterHooks, load_hooks
    from bridle.hooks.runner import HookRunner

    home = bridle_home(env)
    layers = [(layer.source, layer.data, layer.name == "managed") for layer in settings.layers]
    config = load_hooks(
        list(reversed(layers)), plugins=plugin_hooks(ext, home), cli_hooks=options.hooks
    )
    warnings = [f"hooks: {w}" for w in config.warnings]
    skill_hooks: dict[str, Any] = {}
    skills = getattr(ext, "skills", None) or {}
    for skill in skills.values() if not config.disabled else ():
        if skill.hooks:
            found = load_hooks(
                [],
                frontmatter=[FrontmatterHooks("skill", skill.name, str(skill.path), skill.hooks)],
            )
            warnings += [f"hooks: {w}" for w in found.warnings]
            if found.entries:
                skill_hooks[skill.name] = found.entries
    if not config.entries and not skill_hooks:
        return None, warnings
    runner = HookRunner(
        config,
        project_dir=project_dir,
        session_id=session_id,
        spill_dir=home / "tool-output" / session_id,
        judge=_judge(binding, bind_model),
        mcp_call=_mcp_call(mcp.manager) if mcp is not None and mcp.manager is not None else None,
        base_env=env,
    )
    bridge = _bridge(
        runner, home, cwd=cwd, env=env, session_id=session_id, resumed=resumed,
        git_branch=git_branch, model=binding.name, ctx=ctx, skill_hooks=skill_hooks,
    )  # fmt: skip
    return bridge, warnings


def _bridge(
    runner: Any,
    home: Path,
    *,
    cwd: Path,
    env: Mapping[str, str],
    session_id: str,
    resumed: bool,
    git_branch: str | None,
    model: str,
    ctx: Any,
    skill_hooks: Mapping[str, Any],
) -> HookBridge:
    from bridle import __version__
    from bridle.engine.hooks_bridge import HookBridge
    from bridle.hooks.transcript import TranscriptWriter

    path = home / "transcripts" / f"{session_id}.jsonl"
    path.unlink(missing_ok=True)  # a resumed session is written again from its history
    transcript = TranscriptWriter(
        path, session_id=session_id, cwd=str(cwd), version=f"bridle {__version__}",
        git_branch=git_branch or "", model=model,
    )  # fmt: skip

    def take_env(exported: dict[str, str]) -> None:
        # The hook wrote them on purpose: they pass the Bash secret scrubber too.
        ctx.env = {**(ctx.env if ctx.env is not None else env), **exported}
        ctx.env_allow = [*ctx.env_allow, *exported]

    return HookBridge(
        runner, transcript, cwd=str(cwd), session_id=session_id,
        source="resume" if resumed else "startup", model=model,
        skill_hooks=skill_hooks, on_env=take_env, end_budget=_end_budget(env),
    )  # fmt: skip


def add_hooks(session: Any, entries: Sequence[Any], *, sdk_call: Any = None) -> Any:
    """Hooks that arrive once a session is open (an Agent SDK application's
    callbacks, sent with its `initialize` request), in effect from the next event.
    `session` is an `engine.setup.OpenSession`; a session that had no hooks gets
    its bridge now (SessionStart still fires on its first turn). Returns the bridge."""
    import os

    from bridle.config.paths import bridle_home
    from bridle.hooks.config import HookConfig
    from bridle.hooks.runner import HookRunner

    engine = session.engine
    bridge = session.hooks
    if bridge is None:
        ctx = engine.dispatcher.ctx
        env = dict(ctx.env if ctx.env is not None else os.environ)
        home = bridle_home(env)
        started = session.started_event
        root = getattr(session.settings, "project_root", None) or started.cwd
        runner = HookRunner(
            HookConfig(), project_dir=root, session_id=started.session_id,
            spill_dir=home / "tool-output" / started.session_id, base_env=env,
        )  # fmt: skip
        bridge = _bridge(
            runner, home, cwd=Path(started.cwd), env=env, session_id=started.session_id,
            resumed=started.resumed, git_branch=getattr(session.record, "git_branch", None),
            model=session.model_name, ctx=ctx, skill_hooks={},
        )  # fmt: skip
        bridge.bind(lambda: engine.messages, lambda: engine.dispatcher.mode)
        bridge.watch_instructions(engine.dispatcher.instructions)
        session.hooks = engine.hooks = engine.dispatcher.hooks = bridge
    bridge.runner.add(entries)
    if sdk_call is not None:
        bridge.runner.sdk_call = sdk_call
    return bridge


def _end_budget(env: Mapping[str, str]) -> float:
    raw = env.get("CLAUDE_CODE_SESSIONEND_HOOKS_TIMEOUT_MS", "")
    try:
        return max(0.1, int(raw) / 1000) if raw else 1.5
    except ValueError:
        return 1.5


def _mcp_call(manager: Any) -> Callable[[str, str, dict[str, Any]], Any]:
    def call(server: str, tool: str, args: dict[str, Any]) -> Any:
        result = manager.call_tool(server, tool, args)
        return {"content": result.content, "isError": result.is_error}

    return call


def _judge(binding: Any, bind_model: Callable[[str], Any]) -> Callable[[str, str | None], Any]:
    """Prompt hooks' yes/no: one request to the session's model (or the hook's)."""

    def judge(prompt: str, model: str | None) -> tuple[bool, str]:
        from bridle.core.messages import Message, ModelRequest, TextPart
        from bridle.core.stream import RetryScheduled
        from bridle.wire import Assembler

        b = bind_model(model) if model else binding
        request = ModelRequest(
            model=b.model,
            messages=[Message("user", [TextPart(prompt)])],
            system=JUDGE_SYSTEM,
            tools=[],
            max_tokens=1024,
        )
        request = b.prepare(request) if b.prepare else request
        assembler = Assembler(b.wire, b.provider)
        for event in b.client.stream(request):
            if isinstance(event, RetryScheduled):
                assembler.reset()
            else:
                assembler.feed(event)
        text = assembler.result().text
        found = _JSON.search(text)
        try:
            answer = json.loads(found.group(0)) if found else None
        except json.JSONDecodeError:
            answer = None
        if not isinstance(answer, dict) or not isinstance(answer.get("ok"), bool):
            raise ValueError(f'the model did not answer {{"ok": ...}}: {text[:200]!r}')
        return answer["ok"], str(answer.get("reason") or "")

    return judge
