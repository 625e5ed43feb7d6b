"""Command wrappers a shell line may put around the command that really runs.

`env`, `sudo`, `doas`, `timeout`, `nice`, `nohup`, `time`, `stdbuf`, `command`,
`exec` and `xargs` run another command; `wrapper_length` says how many leading
words are the wrapper and its options, so the parser can check the wrapped
command as well. `shell_script` finds the script of `sh -c SCRIPT`. Options
that change what a wrapper does (`sudo -e`, `command -v`, `env -C`) are not
treated as wrapping.
"""

from __future__ import annotations

import re

from bridle.policy.shell_words import ParseFailure, Word


def shell_script(argv: list[Word]) -> int | None:
    """Index of the script argument of `sh -c SCRIPT`, or None without -c."""
    has_c = False
    k = 1
    while k < len(argv):
        w = argv[k].text
        if w == "--":
            k += 1
            break
        if w in ("-o", "+o", "-O", "+O"):
            k += 2
            continue
        if len(w) > 1 and w[0] in "-+" and not w.startswith("--"):
            has_c = has_c or "c" in w[1:]
            k += 1
            continue
        if w.startswith("--"):
            k += 1
            continue
        break
    if has_c and k < len(argv):
        return k
    return None


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


_VALUE_FLAGS = {
    "env": {"-u", "--unset", "-C", "--chdir", "-S", "--split-string"},
    "sudo": {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "-R", "--user", "--group"},
    "doas": {"-u", "-C"},
    "timeout": {"-s", "-k", "--signal", "--kill-after"},
    "nice": {"-n", "--adjustment"},
    "stdbuf": {"-i", "-o", "-e", "--input", "--output", "--error"},
    "xargs": _names(
        "-I -L -l -n -P -s -d -E -e -a --arg-file --delimiter --max-args --max-procs "
        "--max-chars --replace"
    ),
    "exec": {"-a"},
    "command": set(),
    "nohup": set(),
    "time": set(),
}
# Flags that make the wrapper do something other than run the wrapped command.
_NOT_WRAPPING = {
    "sudo": {"-e", "-l", "-v", "-k", "-K", "-V", "--edit", "--list", "--validate"},
    "command": {"-v", "-V"},
    "env": {"-C", "--chdir", "-S", "--split-string"},
}


def wrapper_length(name: str, argv: list[Word], assignments: tuple[str, ...]) -> int | None:
    """How many leading words of argv are the wrapper `name` and its options, or
    None if `name` is not a wrapper here (or wraps nothing)."""
    if name not in _VALUE_FLAGS:
        return None
    values = _VALUE_FLAGS[name]
    k = 1
    while k < len(argv):
        w = argv[k]
        t = w.text
        if w.dynamic and t.startswith("$"):
            return None  # an option only known at run time: keep the whole thing
        if t == "--":
            k += 1
            break
        flag = t.split("=", 1)[0]
        if flag in _NOT_WRAPPING.get(name, ()):
            if name == "env":
                raise ParseFailure(f"env {flag} is not supported")
            return None
        if name in ("env", "sudo") and not t.startswith("-") and "=" in t:
            k += 1  # VAR=value
            continue
        if name == "nice" and re.match(r"^-\d+$", t):
            k += 1
            continue
        if t.startswith("-") and len(t) > 1:
            if flag in values and "=" not in t:
                k += 2
            elif name in ("stdbuf", "xargs") and len(t) > 2 and t[:2] in values:
                k += 1  # -oL, -n1
            else:
                k += 1
            continue
        break
    if name == "timeout":
        k += 1  # the duration
    if k >= len(argv):
        return k if name == "xargs" else None
    return k
