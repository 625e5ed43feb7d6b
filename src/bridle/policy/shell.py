"""Parse a shell command line into the simple commands it would run.

`parse_command(source)` tokenises with POSIX/bash quoting rules (single quotes,
double quotes with escapes, `$'..'`, backslashes), splits on `&&`, `||`, `;`,
`|`, `|&`, `&` and newlines, descends into subshells `( )`, groups `{ }`,
`if`/`while`/`until`/`for` bodies, `$( )`, backticks, process substitutions
`<( )`/`>( )` and `bash -c`/`sh -c` strings, and strips the wrappers `env`,
`sudo`, `timeout`, `nice`, `nohup`, `time`, `stdbuf`, `command`, `exec` and
`xargs` (the command xargs runs is the one checked). Redirections, including
here-documents, are parsed and kept on the command they belong to.

It deliberately does not evaluate anything: variables, globs and substitutions
stay unexpanded and the words holding them are marked `dynamic`. Whatever it
cannot parse with confidence (unbalanced quotes, `eval`, `case`, function
definitions, arithmetic commands, substitutions inside unquoted here-documents)
yields `Unparseable(reason)` rather than a guess; callers must never allow it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bridle.policy.shell_words import ParseFailure as _Fail
from bridle.policy.shell_words import Redirect, SimpleCommand, Unparseable, Word
from bridle.policy.shell_wrappers import shell_script, wrapper_length

__all__ = ["Redirect", "SimpleCommand", "Unparseable", "Word", "parse_command"]

_MAX_DEPTH = 16
_META = frozenset(" \t\n;&|()<>")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "ash"})
_UNSUPPORTED_KEYWORDS = {
    "case": "case statements are not supported",
    "select": "select loops are not supported",
    "function": "function definitions are not supported",
    "coproc": "coprocesses are not supported",
    "eval": "eval runs a string that cannot be checked",
}


@dataclass
class _Builder:
    """The simple command being parsed: its words, redirections and assignments so far."""

    words: list[Word] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)
    assignments: list[str] = field(default_factory=list)
    closed: bool = False  # after `)`, `}`, `done`, `fi`: only redirections may follow
    for_header: bool = False  # the words of `for NAME in ...` run nothing


def parse_command(source: str) -> list[SimpleCommand] | Unparseable:
    """Every simple command `source` would run, or `Unparseable(reason)`."""
    out: list[SimpleCommand] = []
    try:
        _Parser(source, out, 0, ()).parse_list(in_subst=False)
    except _Fail as e:
        return Unparseable(str(e))
    except RecursionError:
        return Unparseable("nested too deeply")
    return out


class _Parser:
    def __init__(
        self, s: str, out: list[SimpleCommand], depth: int, prefix: tuple[tuple[Word, ...], ...]
    ):
        if depth > _MAX_DEPTH:
            raise _Fail("nested too deeply")
        self.s = s
        self.i = 0
        self.out = out
        self.prefix = prefix  # wrapper layers of an enclosing `bash -c`
        self.heredocs: list[tuple[str, bool, bool]] = []  # (delimiter, quoted, strip tabs)
        self.nesting = depth

    def _nested(self) -> None:
        """Parse a `$( )` or `<( )` body in place, counting how deep we are."""
        self.nesting += 1
        if self.nesting > _MAX_DEPTH:
            raise _Fail("nested too deeply")
        self.parse_list(in_subst=True)
        self.nesting -= 1

    # -- lexer ---------------------------------------------------------------

    def _skip_blanks(self) -> None:
        s = self.s
        while self.i < len(s):
            c = s[self.i]
            if c in " \t":
                self.i += 1
            elif s.startswith("\\\n", self.i):
                self.i += 2
            elif c == "#":
                while self.i < len(s) and s[self.i] != "\n":
                    self.i += 1
            else:
                return

    def _token(self) -> tuple[str, str | Word]:
        """The next token: ("eof"|"newline"|"op", text) or ("word", Word)."""
        self._skip_blanks()
        s, i = self.s, self.i
        if i >= len(s):
            return "eof", ""
        c = s[i]
        if c == "\n":
            self.i += 1
            self._read_heredocs()
            return "newline", "\n"
        if s.startswith(("<(", ">("), i):
            return "word", self._word()
        for op in (
            "&&",
            "||",
            ";;",
            "|&",
            "&>>",
            "&>",
            "<<<",
            "<<-",
            "<<",
            "<>",
            "<&",
            ">>",
            ">|",
            ">&",
        ):
            if s.startswith(op, i):
                self.i += len(op)
                return "op", op
        if c in ";&|()<>":
            self.i += 1
            return "op", c
        word = self._word()
        if word.raw.isdigit() and self.s.startswith(("<", ">"), self.i):
            return "fd", word  # `2>file`: the digits name a file descriptor
        return "word", word

    def _word(self) -> Word:
        s = self.s
        start = self.i
        text: list[str] = []
        dynamic = glob = False
        tilde = s.startswith("~", start)
        brace = False
        if tilde:
            end = start + 1
            while end < len(s) and s[end] not in _META and s[end] != "/":
                end += 1
            if end > start + 1:  # ~user: someone else's home, only known at run time
                dynamic = True
        while self.i < len(s):
            c = s[self.i]
            if self.i == start and c in "<>" and s.startswith("(", self.i + 1):
                self.i += 2
                self._nested()
                text.append(s[start : self.i])
                dynamic = True
                continue
            if c in _META:
                break
            if c == "\\":
                if self.i + 1 >= len(s):
                    raise _Fail("a trailing backslash escapes nothing")
                if s[self.i + 1] != "\n":
                    text.append(s[self.i + 1])
                self.i += 2
            elif c == "'":
                end = s.find("'", self.i + 1)
                if end < 0:
                    raise _Fail("unterminated single quote")
                text.append(s[self.i + 1 : end])
                self.i = end + 1
            elif s.startswith("$'", self.i):
                text.append(self._ansi_c())
            elif c == '"' or s.startswith('$"', self.i):
                self.i += 1 if c == '"' else 2
                part, dyn = self._double_quoted()
                text.append(part)
                dynamic |= dyn
            elif c == "$" or c == "`":
                text.append(self._expansion())
                dynamic = True
            else:
                if c in "*?[":
                    glob = True
                elif c == "{" and "}" in s[self.i : self._word_end_guess()]:
                    brace = True
                text.append(c)
                self.i += 1
        raw = s[start : self.i]
        return Word("".join(text), raw, dynamic or brace, glob, tilde and not dynamic)

    def _word_end_guess(self) -> int:
        j = self.i
        while j < len(self.s) and self.s[j] not in _META:
            j += 1
        return j

    def _ansi_c(self) -> str:
        s = self.s
        j = self.i + 2
        out: list[str] = []
        simple = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b",
                  "f": "\f", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}  # fmt: skip
        while j < len(s):
            c = s[j]
            if c == "'":
                self.i = j + 1
                return "".join(out)
            if c == "\\" and j + 1 < len(s):
                n = s[j + 1]
                if n in simple:
                    out.append(simple[n])
                    j += 2
                    continue
                m = re.match(r"x([0-9A-Fa-f]{1,2})|([0-7]{1,3})|u([0-9A-Fa-f]{1,4})", s[j + 1 :])
                if m:
                    digits = m.group(1) or m.group(3)
                    out.append(chr(int(digits, 16)) if digits else chr(int(m.group(2), 8)))
                    j += 1 + m.end()
                    continue
                out.append(c + n)
                j += 2
                continue
            out.append(c)
            j += 1
        raise _Fail("unterminated $'...' quote")

    def _double_quoted(self) -> tuple[str, bool]:
        s = self.s
        out: list[str] = []
        dynamic = False
        while self.i < len(s):
            c = s[self.i]
            if c == '"':
                self.i += 1
                return "".join(out), dynamic
            if c == "\\" and self.i + 1 < len(s):
                n = s[self.i + 1]
                if n in '$`"\\':
                    out.append(n)
                elif n != "\n":
                    out.append(c + n)
                self.i += 2
            elif c in "$`":
                out.append(self._expansion())
                dynamic = True
            else:
                out.append(c)
                self.i += 1
        raise _Fail("unterminated double quote")

    def _expansion(self) -> str:
        """Consume one `$...` or backtick expansion, parsing any command inside;
        returns its source text."""
        s, start = self.s, self.i
        if s.startswith("$((", start):
            end = self._balanced(start + 3, "(", ")", 2)
            body = s[start + 3 : end - 2]
            if "$(" in body or "`" in body:
                raise _Fail("command substitution inside arithmetic is not supported")
            self.i = end
        elif s.startswith("$(", start):
            self.i = start + 2
            self._nested()
        elif s.startswith("${", start):
            end = self._balanced(start + 2, "{", "}", 1)
            body = s[start + 2 : end - 1]
            if "$(" in body or "`" in body or "$((" in body:
                raise _Fail("command substitution inside ${...} is not supported")
            self.i = end
        elif s.startswith("`", start):
            j = start + 1
            inner: list[str] = []
            while j < len(s) and s[j] != "`":
                if s[j] == "\\" and j + 1 < len(s) and s[j + 1] in "`\\$":
                    inner.append(s[j + 1])
                    j += 2
                    continue
                inner.append(s[j])
                j += 1
            if j >= len(s):
                raise _Fail("unterminated backtick substitution")
            _Parser("".join(inner), self.out, self.nesting + 1, self.prefix).parse_list(False)
            self.i = j + 1
        else:
            m = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])", s[start:])
            if not m:  # a lone `$` is literal
                self.i = start + 1
                return "$"
            self.i = start + m.end()
        return s[start : self.i]

    def _balanced(self, j: int, opener: str, closer: str, closers: int) -> int:
        depth = closers
        s = self.s
        while j < len(s):
            if s[j] == "\\":
                j += 2
                continue
            if s[j] == opener:
                depth += 1
            elif s[j] == closer:
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1
        raise _Fail(f"unbalanced {opener!r}")

    def _read_heredocs(self) -> None:
        for delimiter, quoted, strip in self.heredocs:
            body: list[str] = []
            while True:
                if self.i >= len(self.s):
                    raise _Fail(f"unterminated here-document (no {delimiter!r} line)")
                end = self.s.find("\n", self.i)
                end = len(self.s) if end < 0 else end
                line = self.s[self.i : end]
                self.i = min(end + 1, len(self.s))
                if (line.lstrip("\t") if strip else line) == delimiter:
                    break
                body.append(line)
            text = "\n".join(body)
            if not quoted and ("$(" in text or "`" in text):
                raise _Fail("command substitution inside an unquoted here-document")
        self.heredocs = []

    # -- grammar -------------------------------------------------------------

    def parse_list(self, in_subst: bool) -> None:
        """Parse until end of input, or the `)` closing a substitution."""
        stack: list[str] = []
        cur = _Builder()
        while True:
            at_start = not cur.words and not cur.closed and not cur.for_header
            if at_start and not cur.redirects and self.s.startswith("((", self._peek()):
                raise _Fail("arithmetic commands are not supported")
            kind, tok = self._token()
            if kind == "eof":
                self._finish(cur)
                if self.heredocs:
                    raise _Fail("unterminated here-document")
                if stack or in_subst:
                    raise _Fail("unbalanced " + (stack[-1] if stack else "$("))
                return
            if kind == "newline" or (kind == "op" and tok in (";", "&", "&&", "||", "|", "|&")):
                if tok in ("|", "|&", "&&", "||") and not (
                    cur.words or cur.closed or cur.redirects
                ):
                    raise _Fail(f"{tok!r} without a command before it")
                self._finish(cur)
                cur = _Builder()
                continue
            if kind == "op":
                assert isinstance(tok, str)
                if tok == ";;":
                    raise _Fail("case statements are not supported")
                if tok == "(":
                    if cur.words:
                        raise _Fail("function definitions are not supported")
                    if not at_start or cur.redirects or cur.assignments:
                        raise _Fail("unexpected '('")
                    stack.append("(")
                    continue
                if tok == ")":
                    self._finish(cur)
                    cur = _Builder(closed=True)
                    if stack and stack[-1] == "(":
                        stack.pop()
                        continue
                    if not stack and in_subst:
                        return
                    raise _Fail("unbalanced ')'")
                cur.redirects.append(self._redirect(tok, None))
                continue
            if kind == "fd":
                assert isinstance(tok, Word)
                op_kind, op = self._token()
                assert op_kind == "op" and isinstance(op, str)
                cur.redirects.append(self._redirect(op, int(tok.text)))
                continue
            assert isinstance(tok, Word)
            if cur.for_header:
                continue
            if cur.closed:
                raise _Fail(f"unexpected word {tok.raw!r} after a closing keyword")
            plain = at_start and tok.raw == tok.text and not cur.assignments
            if plain and self._keyword(tok.text, stack, cur):
                if tok.text in ("}", "fi", "done"):
                    self._finish(cur)
                    cur = _Builder(closed=True)
                continue
            if not cur.words and _ASSIGNMENT.match(tok.text) and _ASSIGNMENT.match(tok.raw):
                cur.assignments.append(tok.text)
                continue
            cur.words.append(tok)

    def _peek(self) -> int:
        save = self.i
        self._skip_blanks()
        pos, self.i = self.i, save
        return pos

    def _keyword(self, word: str, stack: list[str], cur: _Builder) -> bool:
        """Handle a reserved word at command position; False if `word` is not one."""
        if word in _UNSUPPORTED_KEYWORDS:
            raise _Fail(_UNSUPPORTED_KEYWORDS[word])
        top = stack[-1] if stack else ""
        if word in ("{", "if", "while", "until"):
            stack.append({"{": "{", "if": "if"}.get(word, "loop"))
        elif word == "for":
            stack.append("for")
            cur.for_header = True
            _kind, name = self._token()
            if not isinstance(name, Word) or not _NAME.match(name.raw):
                raise _Fail("only `for NAME in WORDS` loops are supported")
        elif word == "!":
            pass
        elif word in ("then", "elif", "else"):
            if top != "if":
                raise _Fail(f"{word!r} outside an if statement")
        elif word == "do":
            if top not in ("loop", "for"):
                raise _Fail("'do' outside a loop")
            stack[-1] = "do"
        elif word in ("}", "fi", "done"):
            want = {"}": "{", "fi": "if", "done": "do"}[word]
            if top != want:
                raise _Fail(f"unbalanced {word!r}")
            stack.pop()
        else:
            return False
        return True

    def _redirect(self, op: str, fd: int | None) -> Redirect:
        _kind, target = self._token()
        if not isinstance(target, Word):
            raise _Fail(f"redirection {op!r} has no target")
        if op in ("<<", "<<-"):
            quoted = target.raw != target.text or any(q in target.raw for q in "'\"\\")
            self.heredocs.append((target.text, quoted, op == "<<-"))
            return Redirect(op, None, fd)
        return Redirect(op, target, fd)

    # -- commands ------------------------------------------------------------

    def _finish(self, cur: _Builder) -> None:
        fd_redirects = cur.redirects
        if cur.for_header:
            return
        if not cur.words:
            if fd_redirects:
                self.out.append(
                    SimpleCommand((), self.prefix, tuple(cur.assignments), tuple(fd_redirects))
                )
            return
        self._emit(
            list(cur.words), list(self.prefix), tuple(cur.assignments), tuple(fd_redirects), False
        )

    def _emit(
        self,
        argv: list[Word],
        wrappers: list[tuple[Word, ...]],
        assignments: tuple[str, ...],
        redirects: tuple[Redirect, ...],
        open_ended: bool,
    ) -> None:
        while argv and not argv[0].dynamic:
            name = argv[0].text.rsplit("/", 1)[-1]
            if name == "eval":
                raise _Fail("eval runs a string that cannot be checked")
            if name in _SHELLS:
                script = shell_script(argv)
                if script is None:
                    break
                if argv[script].dynamic:
                    raise _Fail(f"{name} -c runs a string only known at run time")
                layer = (*tuple(wrappers), tuple(argv[:script]))
                if redirects:
                    self.out.append(SimpleCommand((), layer, assignments, redirects))
                sub = _Parser(argv[script].text, self.out, self.nesting + 1, layer)
                sub.parse_list(in_subst=False)
                return
            skip = wrapper_length(name, argv, assignments)
            if skip is None:
                break
            if name == "env":
                assignments += tuple(
                    w.text for w in argv[1:skip] if "=" in w.text and not w.text.startswith("-")
                )
            wrappers.append(tuple(argv[:skip]))
            open_ended = open_ended or name == "xargs"
            argv = argv[skip:]
            if not argv and name == "xargs":
                argv = [Word("echo", "echo")]
        self.out.append(
            SimpleCommand(tuple(argv), tuple(wrappers), assignments, redirects, open_ended)
        )
