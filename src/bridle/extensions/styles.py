"""Output styles: Claude Code's `outputStyle` setting and its style files.

A style is markdown whose body is added to the system prompt; its frontmatter
gives `name` (default: the file name), `description` and
`keep-coding-instructions` (default false: the style replaces bridle's coding
instructions, as Claude Code's custom styles do); a plugin's style with
`force-for-plugin: true` applies while its plugin is on, unless `outputStyle`
names another. Files come from, highest
precedence first, the project's `.claude/output-styles/`, `~/.claude/output-styles/`
and plugins' `output-styles/`. `default` is no style. Names match without regard
to case, as Claude Code's picker does; an unknown name is an error that lists
the styles there are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bridle.core.errors import ConfigError
from bridle.extensions.frontmatter import (
    FieldError,
    Problem,
    bool_field,
    read_document,
    text_field,
)
from bridle.extensions.skills import Source


@dataclass(frozen=True)
class OutputStyle:
    """One output style; its `prompt` goes into the system prompt."""

    name: str
    description: str
    prompt: str
    source: str
    keep_coding_instructions: bool = False
    force_for_plugin: bool = False  # a plugin's style applied while the plugin is on


@dataclass
class Styles:
    """The output styles a session can select, keyed by lower-cased name, and the files skipped."""

    by_name: dict[str, OutputStyle] = field(default_factory=dict)  # lower-cased keys
    problems: list[Problem] = field(default_factory=list)

    def select(self, name: str | None, setting_source: str = "outputStyle") -> OutputStyle | None:
        """The style `name` names; None for no name or `default`."""
        if not name or name.strip().lower() == "default":
            return None
        style = self.by_name.get(name.strip().lower())
        if style is None:
            there = ", ".join(["default", *(s.name for s in self.by_name.values())])
            raise ConfigError(
                f"no output style named {name!r}; the styles are: {there} (style files go in "
                ".claude/output-styles/ or ~/.claude/output-styles/)",
                key=setting_source,
            )
        return style


def style_sources(
    project_root: Path, home: Path, plugins: Sequence[tuple[str, Path]] = ()
) -> list[Source]:
    sources = [
        Source(project_root / ".claude" / "output-styles", "project"),
        Source(home / ".claude" / "output-styles", "user"),
    ]
    sources += [Source(root / "output-styles", "plugin", name) for name, root in plugins]
    return sources


def find_styles(sources: Iterable[Source]) -> Styles:
    found = Styles()
    for source in sources:
        if source.root.is_file():  # a plugin may name single style files
            paths = [source.root]
        elif source.root.is_dir():
            paths = sorted(source.root.glob("*.md"))
        else:
            continue
        for path in paths:
            doc = read_document(path)
            if isinstance(doc, Problem):
                found.problems.append(doc)
                continue
            try:
                name = text_field(doc.fields, "name") or path.stem
                style = OutputStyle(
                    name=f"{source.plugin}:{name}" if source.plugin else name,
                    description=text_field(doc.fields, "description") or "",
                    prompt=doc.body.strip(),
                    source=str(path),
                    keep_coding_instructions=bool_field(
                        doc.fields, "keep-coding-instructions", False
                    ),
                    force_for_plugin=bool(source.plugin)
                    and bool_field(doc.fields, "force-for-plugin", False),
                )
            except FieldError as e:
                found.problems.append(Problem(str(path), str(e), e.field))
                continue
            found.by_name.setdefault(style.name.lower(), style)
    return found
