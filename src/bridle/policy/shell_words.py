"""The values a parsed shell command line is made of: words, redirections,
simple commands, and the verdict for what cannot be parsed.

`policy.shell` builds them; `policy.commands` and `policy.engine` judge them.
They are plain frozen values: the text of each word after quote removal, where
it came from, and whether its value is only known at run time.
"""

from __future__ import annotations

from dataclasses import dataclass

_WRITE_OPS = frozenset({">", ">>", ">|", "&>", "&>>", "<>"})
_HARMLESS_TARGETS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"})


class ParseFailure(Exception):
    """Raised inside the parser for input it will not guess about."""


@dataclass(frozen=True)
class Word:
    """One shell word: `text` is its value after quote removal (expansions keep
    their source text), `raw` its source. `dynamic` marks words whose value is
    only known at run time (variables, substitutions, brace expansion)."""

    text: str
    raw: str
    dynamic: bool = False
    glob: bool = False
    tilde: bool = False


@dataclass(frozen=True)
class Redirect:
    """One redirection of a command (`>`, `>>`, `<`, `2>&1`, a here-document, ...)."""

    op: str
    target: Word | None  # None for here-documents
    fd: int | None = None

    @property
    def writes_file(self) -> bool:
        if self.target is None:
            return False
        if self.op == ">&" and (self.target.text.isdigit() or self.target.text == "-"):
            return False
        if self.op not in _WRITE_OPS and self.op != ">&":
            return False
        return self.target.text not in _HARMLESS_TARGETS and not self.target.text.startswith(
            "/dev/fd/"
        )

    @property
    def reads_file(self) -> bool:
        return self.op in ("<", "<>") and self.target is not None


@dataclass(frozen=True)
class SimpleCommand:
    """A command that would run: `argv` with wrappers stripped, the wrapper
    layers (outermost first), leading assignments, and its redirections. An
    empty argv carries only redirections (`> file`, `( ... ) > file`)."""

    argv: tuple[Word, ...]
    wrappers: tuple[tuple[Word, ...], ...] = ()
    assignments: tuple[str, ...] = ()
    redirects: tuple[Redirect, ...] = ()
    open_ended: bool = False  # xargs appends arguments at run time

    @property
    def name(self) -> str:
        if not self.argv or self.argv[0].dynamic:
            return ""
        return self.argv[0].text.rsplit("/", 1)[-1]

    @property
    def args(self) -> list[str]:
        return [w.text for w in self.argv]

    def layers(self) -> list[tuple[Word, ...]]:
        """The command as written, then with each wrapper peeled off in turn."""
        out = []
        for k in range(len(self.wrappers) + 1):
            words: tuple[Word, ...] = ()
            for layer in self.wrappers[k:]:
                words += layer
            out.append(words + self.argv)
        return out


@dataclass(frozen=True)
class Unparseable:
    """A command line the parser will not guess about; callers must never allow it."""

    reason: str
