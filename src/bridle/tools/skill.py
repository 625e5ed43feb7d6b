"""Skill: the model loads one of the session's skills by name (Claude Code's tool).

The system prompt lists only each skill's name and description; this tool
returns the skill's instructions, expanded with the arguments given, and names
the skill's folder so the model can read the files it bundles on demand. A
loaded skill's text stays in the conversation, so it is loaded once per
session: asking again says so instead of repeating it. Skills the user
reserved for themselves (`disable-model-invocation`) cannot be loaded here.
Permission rules apply as for any tool (`Skill(name)`), checked by the
dispatcher before this runs. `!` commands in a skill body run when it loads,
as in a `/name` command, through the `shell` the session passes in (the
permission rules widened by the skill's `allowed-tools`); a refused one fails
the load with the reason. Without a `shell` they are left as written.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any

from bridle.core.errors import ToolError
from bridle.extensions.expand import ExpansionDenied, RunShell
from bridle.extensions.skills import Skill as SkillDefinition
from bridle.tools.base import Tool, ToolContext, ToolOutput


class Skill(Tool):
    name = "Skill"
    description = (
        "Load a skill: its instructions for a kind of task, listed by name in the system "
        "prompt. Load it before doing the task it describes; pass `args` when the skill "
        "takes arguments."
    )
    input_schema = {
        "type": "object",
        "properties": {
            "skill": {"type": "string", "description": "The skill's name, e.g. pdf"},
            "args": {"type": "string", "description": "Arguments for the skill, if any"},
        },
        "required": ["skill"],
        "additionalProperties": False,
    }
    read_only = True
    concurrency_safe = True

    def __init__(
        self,
        skills: Mapping[str, SkillDefinition],
        shell: Callable[[SkillDefinition, ToolContext], RunShell] | None = None,
        activate: Callable[[SkillDefinition], None] | None = None,
    ):
        self.skills = {n: s for n, s in skills.items() if s.model_invocable}
        self.loaded: set[str] = set()
        self.shell = shell  # runs the body's `!` commands under the permission rules
        # Called once a skill is loaded: its `allowed-tools` apply from then on.
        self.activate = activate
        # The Agent tool's runner: a `context: fork` skill runs there, as a subagent
        # of its `agent` type, and only its answer comes back.
        self.fork: Callable[[dict[str, Any], ToolContext], ToolOutput] | None = None

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        wanted = str(args["skill"]).strip().lstrip("/")
        skill = self._find(wanted)
        arguments = str(args.get("args") or "")
        key = f"{skill.name}\0{arguments}"
        if key in self.loaded:
            return ToolOutput.text(
                f"The skill {skill.name} is already loaded in this conversation; follow its "
                "instructions above."
            )
        run_shell = self.shell(skill, ctx) if self.shell is not None else None
        try:
            expansion = skill.render(arguments, session_id=ctx.session_id, run_shell=run_shell)
        except ExpansionDenied as e:
            raise ToolError(f"The skill {skill.name} was not loaded: {e}") from e
        if skill.fork and self.fork is not None:
            return self.fork(
                {
                    "description": f"skill {skill.name}",
                    "prompt": expansion.text.strip(),
                    "subagent_type": skill.agent or "general-purpose",
                },
                ctx,
            )
        self.loaded.add(key)
        if self.activate is not None:
            self.activate(skill)
        body = expansion.text.strip()
        text = (
            f'<skill name="{skill.name}">\nBase directory for this skill: {skill.directory}\n'
            f"(read the files it mentions from there when you need them)\n\n{body}\n</skill>"
        )
        return ToolOutput.text(text, metadata={"skill": skill.name, "path": str(skill.path)})

    def _find(self, wanted: str) -> SkillDefinition:
        if wanted in self.skills:
            return self.skills[wanted]
        bare = [s for n, s in self.skills.items() if n.rpartition(":")[2] == wanted]
        if len(bare) == 1:
            return bare[0]
        if bare:
            raise ToolError(
                f"{wanted!r} names several skills: {', '.join(s.name for s in bare)}; use the "
                "full name."
            )
        close = difflib.get_close_matches(wanted, list(self.skills), n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ToolError(
            f"There is no skill named {wanted!r}.{hint} The skills are: "
            f"{', '.join(sorted(self.skills)) or 'none'}."
        )
