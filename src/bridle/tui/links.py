"""File links and diffs in the transcript: OSC 8 links on `file:line` paths, coloured diffs.

`linked(text, cwd, env)` styles every `path` or `path:line[:column]` in `text`
that names an existing file (relative to `cwd` or absolute) with a link, which
Textual writes as an OSC 8 hyperlink: a terminal that supports them opens it on
a click (Ctrl/Cmd+click in most). The link is `file://` unless the editor is
one that has its own scheme (`$VISUAL`/`$EDITOR` is code, cursor, windsurf or
zed: `code://file/PATH:LINE`, which opens the file at the line), or
`BRIDLE_EDITOR_URL` gives a template such as `idea://open?file={path}&line={line}`.
Only tokens that look like paths are checked, at most `MAX_CHECKED` a text, so a
long answer costs a few `stat` calls. `DiffNote` shows a unified diff (`/diff`)
with added lines green, removed red, hunks cyan and file headers linked.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

# A path-like token: has a slash or a dotted file name, then optional :line[:col].
PATH_TOKEN = re.compile(
    r"(?<![\w/.~-])((?:~|\.{1,2})?/?(?:[\w.@+-]+/)*[\w@+-][\w.@+-]*\.[A-Za-z0-9]{1,8}"
    r"|(?:~|\.{1,2})?/(?:[\w.@+-]+/)*[\w.@+-]+)(?::(\d+)(?::(\d+))?)?"
)
MAX_CHECKED = 40
EDITOR_SCHEMES = {"code": "vscode", "cursor": "cursor", "windsurf": "windsurf", "zed": "zed"}


def editor_url(path: Path, line: int | None, env: Mapping[str, str]) -> str:
    template = env.get("BRIDLE_EDITOR_URL", "")
    if template:
        return template.replace("{path}", str(path)).replace("{line}", str(line or 1))
    editor = (env.get("VISUAL") or env.get("EDITOR") or "").split()
    scheme = EDITOR_SCHEMES.get(os.path.basename(editor[0])) if editor else None
    if scheme is not None:
        return f"{scheme}://file{path}" + (f":{line}" if line else "")
    return path.as_uri()


def linked(text: str | Text, cwd: Path, env: Mapping[str, str]) -> Text:
    """`text` with its existing files' paths linked (OSC 8 once on screen)."""
    out = Text(text) if isinstance(text, str) else text.copy()
    plain = out.plain
    checked = 0
    for match in PATH_TOKEN.finditer(plain):
        if checked >= MAX_CHECKED:
            break
        checked += 1
        name = match.group(1)
        path = Path(os.path.expanduser(name))
        path = path if path.is_absolute() else cwd / path
        try:
            if not path.is_file():
                continue
        except OSError:  # a name too long, a bad byte: not a file
            continue
        line = int(match.group(2)) if match.group(2) else None
        url = editor_url(path.resolve(), line, env)
        out.stylize(Style(link=url), match.start(), match.end())
    return out


def diff_text(diff: str, cwd: Path, env: Mapping[str, str]) -> Text:
    out = Text()
    for line in diff.splitlines():
        if line.startswith(("+++ ", "--- ")):
            name = line[4:]
            name = name[2:] if name.startswith(("a/", "b/")) else name
            out.append(line[:4], "bold")
            out.append_text(linked(Text(name, "bold"), cwd, env))
        elif line.startswith("+"):
            out.append(line, "green")
        elif line.startswith("-"):
            out.append(line, "red")
        elif line.startswith("@@"):
            out.append(line, "cyan")
        elif line.startswith("diff "):
            out.append(line, "bold")
        else:
            out.append(line)
        out.append("\n")
    out.rstrip()
    return out


class DiffNote(Static):
    DEFAULT_CSS = "DiffNote { margin: 0 0 0 1; }"

    def __init__(self, diff: str, cwd: Path, env: Mapping[str, str]) -> None:
        super().__init__(diff_text(diff, cwd, env), markup=False)
        self.diff = diff
