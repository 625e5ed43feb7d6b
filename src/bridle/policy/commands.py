"""What bridle knows about individual shell commands, for the built-in defaults.

`classify(cmd)` sorts one parsed `SimpleCommand` into `read` (clearly read-only:
ls, cat, grep, git status, find without -exec/-delete, ...), `edit` (changes
files and nothing else: mkdir, touch, cp, mv, tee, sed -i with a plain script)
or `other`, and lists the words that name files so the engine can check that
they stay inside the project roots. Any flag that turns a read-only command
into a writer or a launcher (`find -delete`, `sort -o`, `rg --pre`, `git diff
--output`, `sed` scripts with `w`/`e`) makes it `other`. This module never
decides allow/ask/deny and never touches the filesystem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from bridle.policy.shell import SimpleCommand, Word

Effect = Literal["read", "edit", "other"]


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Read-only commands whose arguments are never files.
_NO_PATHS = _names(
    "echo printf pwd true false : whoami id uname which type basename dirname seq "
    "sleep test [ printenv groups nproc arch tty locale cal expr yes"
)
# Read-only commands whose non-option arguments are files (or harmless values).
_PATH_ARGS = _names(
    "ls cat head tail wc file stat du tree nl cut diff cmp md5sum sha1sum sha256sum "
    "sha512sum cksum realpath readlink cd pushd od hexdump strings tac rev paste comm "
    "fold column tr base64 df jq sort uniq ps"
)
# The first non-option argument is a pattern, not a file.
_PATTERN_FIRST = frozenset({"grep", "egrep", "fgrep", "rg", "ag"})
# Options that take the next word as their value.
_VALUE_OPTS = {
    "head": {"-n", "-c"},
    "tail": {"-n", "-c"},
    "cut": {"-d", "-f", "-c", "-b"},
    "grep": {"-e", "-f", "-m", "-A", "-B", "-C", "-d", "-D", "--regexp", "--file"},
    "rg": _names(
        "-e -f -m -A -B -C -g -t -T -j -M --glob --type --type-not --regexp --file --max-count"
    ),
    "sort": {"-k", "-t", "-S", "-T"},
    "du": {"-d"},
    "tree": {"-L", "-I", "-P"},
    "jq": {"--arg", "--argjson"},
    "ps": {"-p", "-u", "-o"},
}
_WRITING_OPTS = {
    "sort": ("-o", "--output"),
    "rg": ("--pre", "--pre-glob"),
    "date": ("-s", "--set"),
    "tree": ("-o",),
    "base64": ("-o",),
}
_FIND_ACTIONS = ("-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0",
                 "-fprintf", "-fls")  # fmt: skip
_GIT_READ = _names(
    "status diff log show blame ls-files rev-parse describe shortlog grep reflog "
    "ls-tree cat-file rev-list merge-base"
)
_SED_PRINT = re.compile(r"^\s*(?:(?:\d+|\$)(?:\s*,\s*(?:\d+|\$))?\s*[pdq]|\s*p)\s*(?:;\s*|$)")
_SED_SUBST = re.compile(r"^s/(?:[^/\\]|\\.)*/(?:[^/\\]|\\.)*/[gpiI0-9]*$")
_EDITORS = frozenset({"mkdir", "touch", "cp", "mv", "tee"})


@dataclass
class Classification:
    """What one simple command does (read, edit or other), and the words naming the files it
    touches."""

    effect: Effect
    paths: list[Word] = field(default_factory=list)  # files read (read) or written (edit)


def classify(cmd: SimpleCommand) -> Classification:
    name, argv = cmd.name, list(cmd.argv)
    if not name:
        return Classification("other")
    args = argv[1:]
    texts = [w.text for w in args]
    if name in _NO_PATHS or (name == "hostname" and not args):
        return Classification("read")
    if name == "date":
        return Classification("other" if _has_opt(texts, _WRITING_OPTS["date"]) else "read")
    if name == "command" and texts[:1] in (["-v"], ["-V"]):
        return Classification("read")
    if name == "git":
        return Classification("read" if _git_read_only(texts) else "other")
    if name == "find":
        if any(t in _FIND_ACTIONS or t.startswith("-fprint") for t in texts):
            return Classification("other")
        roots = []
        for w in args:
            if w.text.startswith(("-", "(", "!", ")")):
                break
            roots.append(w)
        return Classification("read", roots or [Word(".", ".")])
    if name == "sed":
        return _sed(args)
    if name in _PATTERN_FIRST or name in _PATH_ARGS:
        if _has_opt(texts, _WRITING_OPTS.get(name, ())):
            return Classification("other")
        if name == "uniq" and len([t for t in texts if not t.startswith("-")]) > 1:
            return Classification("other")  # `uniq IN OUT` writes OUT
        paths = _operands(name, args)
        if name in _PATTERN_FIRST and not any(t in ("-e", "-f", "--regexp", "--file") or
                                              t.startswith(("--regexp=", "--file=")) for t in texts):  # fmt: skip
            paths = paths[1:]
        if name in ("jq",) and "-f" not in texts:
            paths = paths[1:]
        if name in ("tr", "ps"):
            paths = []
        return Classification("read", paths)
    if name in _EDITORS:
        return Classification("edit", _operands(name, args))
    return Classification("other")


def _has_opt(texts: list[str], opts: tuple[str, ...]) -> bool:
    for t in texts:
        for o in opts:
            if t == o or t.startswith(o + "=" if o.startswith("--") else o):
                return True
    return False


def _operands(name: str, args: list[Word]) -> list[Word]:
    values = _VALUE_OPTS.get(name, set()) | _VALUE_OPTS.get(
        "grep" if name in _PATTERN_FIRST else "", set()
    )
    out: list[Word] = []
    skip = False
    ended = False
    for w in args:
        if skip:
            skip = False
            continue
        if not ended and w.text == "--":
            ended = True
            continue
        if not ended and w.text.startswith("-") and len(w.text) > 1:
            skip = w.text in values
            continue
        out.append(w)
    return out


def _git_read_only(texts: list[str]) -> bool:
    while texts and texts[0] in ("--no-pager", "--no-optional-locks"):
        texts = texts[1:]
    if not texts or texts[0].startswith("-"):
        return False  # global options such as -c or -C change what git runs or where
    sub, rest = texts[0], texts[1:]
    if any(t.startswith(("--output", "--ext-diff", "--no-index", "--exec")) for t in rest):
        return False
    if sub in _GIT_READ:
        return True
    positional = [t for t in rest if not t.startswith("-")]
    if sub == "branch":
        listing = {"-a", "-r", "-v", "-vv", "--list", "--show-current", "--all", "--remotes",
                   "--merged", "--no-merged", "--contains"}  # fmt: skip
        return all(t in listing for t in rest if t.startswith("-")) and (
            not positional or "--list" in rest or "--contains" in rest or "--merged" in rest
        )
    if sub == "remote":
        return all(t in ("-v", "--verbose") for t in rest) or rest[:1] in (["show"], ["get-url"])
    if sub == "tag":
        return not positional or rest[:1] in (["-l"], ["--list"])
    if sub == "stash":
        return rest[:1] in (["list"], ["show"])
    if sub == "config":
        return bool(rest) and rest[0] in ("--get", "--list", "-l", "--get-all")
    return False


def _sed(args: list[Word]) -> Classification:
    in_place = False
    script: str | None = None
    files: list[Word] = []
    for w in args:
        t = w.text
        if (
            t in ("-i", "--in-place")
            or (t.startswith("-i") and len(t) > 2)
            or t.startswith("--in-place=")
        ):
            in_place = True
        elif t in ("-n", "--quiet", "--silent", "-E", "-r", "--regexp-extended"):
            continue
        elif t.startswith("-"):
            return Classification("other")  # -e/-f scripts, -s, ...: keep it simple and ask
        elif script is None:
            if w.dynamic:
                return Classification("other")
            script = t
        else:
            files.append(w)
    if script is None or not (_SED_SUBST.match(script) or _sed_prints_only(script)):
        return Classification("other")
    return Classification("edit" if in_place else "read", files)


def _sed_prints_only(script: str) -> bool:
    rest = script
    while rest.strip():
        m = _SED_PRINT.match(rest)
        if not m:
            return False
        rest = rest[m.end() :]
    return True
