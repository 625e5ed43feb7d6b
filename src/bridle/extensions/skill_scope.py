"""Skills that join a session as it works: path-scoped skills and nested folders.

A skill whose frontmatter has `paths:` is left out of the system prompt's
listing and offered once a file tool touches a file one of its globs covers
(globs are taken from the folder holding the skill's `.claude/` or `.agents/`,
or from the project root for personal, bridle and plugin skills). And when a
file below the working directory is touched, the `.claude/skills` and
`.agents/skills` folders of the directories in between are searched, as Claude
Code finds a monorepo package's skills while it works there. What joins is
added to the session's skills, the Skill tool's and the `/name` commands, and
announced in the result of the tool call that touched the file, as a system
reminder with each name and description; a session without the Skill tool is
told the `SKILL.md` to read instead. A name already taken keeps its skill (the
one found first wins, as at start-up). Each directory is searched once, a file
with bad frontmatter is recorded in `problems`, and nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bridle.extensions.instructions import new_folders, touched_files

if TYPE_CHECKING:  # these load only when there is a skill to scope
    from bridle.extensions.globs import PathGlobs
    from bridle.extensions.skills import Skill

NESTED = (".claude/skills", ".agents/skills")


class SkillScope:
    def __init__(
        self,
        skills: MutableMapping[str, Skill],  # the session's, shared with the front end
        cwd: Path,
        project_root: Path,
        *,
        tool: Any = None,  # tools.skill.Skill, when the session has it
        # Called with the `/name` command a user-invocable skill that joined makes.
        add_command: Callable[[Any], None] | None = None,
    ) -> None:
        self.skills, self.cwd, self.project_root = skills, cwd, project_root
        self.tool, self.add_command = tool, add_command
        self.problems: list[str] = []
        self._waiting: list[tuple[Skill, PathGlobs]] = []
        self._scanned: set[Path] = set()
        for skill in skills.values():
            self._wait(skill)

    def touched(self, file: Path) -> list[Skill]:
        """The skills reading or writing `file` (absolute) newly offers."""
        out: list[Skill] = []
        for d in new_folders(self.cwd, file, self._scanned):
            out += self._nested(d)
        still: list[tuple[Skill, PathGlobs]] = []
        for skill, globs in self._waiting:
            (out.append(skill) if globs.matches(file) else still.append((skill, globs)))
        self._waiting = still
        return out

    def attach(self, calls: Sequence[Any], results: Sequence[Any]) -> list[Skill]:
        """Append the skills each successful file tool call brought in to its result
        (core.messages ToolUsePart/ToolResultPart)."""
        from bridle.core.messages import TextPart

        brought: list[Skill] = []
        for result, files in touched_files(calls, results, self.cwd):
            new = [s for file in files for s in self.touched(file)]
            if new:
                result.content.append(TextPart(self.reminder(new)))
                brought += new
        return brought

    def reminder(self, skills: Sequence[Skill]) -> str:
        if self.tool is not None:
            head = "Skills that apply to the file just used (load one with the Skill tool"
            head += " when the task calls for it):"
            lines = [f"- {s.name}: {s.description}" for s in skills]
        else:
            head = "Skills that apply to the file just used (read a skill's file for its"
            head += " instructions when the task calls for it):"
            lines = [f"- {s.name}: {s.description} ({s.path})" for s in skills]
        return "\n<system-reminder>\n" + "\n".join([head, *lines]) + "\n</system-reminder>"

    def _nested(self, directory: Path) -> list[Skill]:
        """The skills of `directory`'s skill folders that are new to the session and
        offered now (a path-scoped one waits for its files)."""
        folders = [directory / sub for sub in NESTED]
        if not any(f.is_dir() for f in folders):
            return []
        from bridle.extensions.skills import Source, find_skills

        found = find_skills([Source(f, "project") for f in folders])
        self.problems += [f"skipped {p}" for p in found.problems]
        out: list[Skill] = []
        for name, skill in found.skills.items():
            if name in self.skills:
                continue
            self.skills[name] = skill
            if skill.model_invocable and self.tool is not None:
                self.tool.skills[name] = skill
            if skill.user_invocable and self.add_command is not None:
                from bridle.extensions.commands import from_skill

                self.add_command(from_skill(skill))
            if skill.model_invocable and not self._wait(skill):
                out.append(skill)
        return out

    def _wait(self, skill: Skill) -> bool:
        """Hold back a model-invocable skill with `paths` until a file matches."""
        if not skill.paths or not skill.model_invocable:
            return False
        from bridle.extensions.globs import PathGlobs

        self._waiting.append((skill, PathGlobs(self._base(skill), skill.paths)))
        return True

    def _base(self, skill: Skill) -> Path:
        """Where a skill's globs start: the folder holding its `.claude/skills`."""
        parents = skill.path.parents
        if skill.scope == "project" and len(parents) > 3 and parents[1].name == "skills":
            return parents[3]
        return self.project_root
