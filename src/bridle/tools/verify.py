"""Auto-verify after edits: a quick check of each file an edit tool changed.

Settings `verify` maps globs to shell commands with `{file}` (quoted for the
shell), e.g. `{"*.py": "python -m py_compile {file}"}`; a glob without `/`
matches the file name, otherwise the path relative to the project. Without
settings, defaults apply when the toolchain is present: Python and JSON are
checked in-process (no subprocess, no `__pycache__` left in the user's tree),
`*.sh` with `bash -n`, `*.js`/`*.mjs`/`*.cjs` with `node --check`; TypeScript has
no cheap single-file check and gets none. The result is one short line when all
checks pass, or the failing check's output, to append to the edit's tool result.
It never blocks or reverts the edit.
"""

from __future__ import annotations

import json
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path

from bridle.tools._listing import glob_regex
from bridle.tools._process import child_env, run_group
from bridle.tools.base import ToolContext

TIMEOUT_SECONDS = 60.0
MAX_REPORT = 2_000

Check = Callable[[Path], str | None]  # in-process: error text or None


def _check_python(path: Path) -> str | None:
    try:
        compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
    except SyntaxError as e:
        where = f"line {e.lineno}" + (f", column {e.offset}" if e.offset else "")
        text = (e.text or "").rstrip()
        return f"SyntaxError: {e.msg} ({where})" + (f"\n    {text}" if text else "")
    except ValueError as e:  # e.g. null bytes
        return str(e)
    return None


def _check_json(path: Path) -> str | None:
    try:
        json.loads(path.read_bytes())
    except ValueError as e:
        return f"invalid JSON: {e}"
    return None


BUILTIN_CHECKS: dict[str, tuple[str, Check]] = {
    "builtin:python": ("python syntax", _check_python),
    "builtin:json": ("json", _check_json),
}


def default_rules() -> dict[str, str]:
    """The built-in glob -> command table for toolchains found on PATH."""
    rules = {"*.py": "builtin:python", "*.json": "builtin:json"}
    if shutil.which("bash"):
        rules["*.sh"] = "bash -n {file}"
    if shutil.which("node"):
        rules["*.{js,mjs,cjs}"] = "node --check {file}"
    return rules


def _rule_for(path: Path, ctx: ToolContext, rules: dict[str, str]) -> str | None:
    try:
        rel = path.relative_to(ctx.cwd).as_posix()
    except ValueError:
        rel = path.as_posix()
    for glob, command in rules.items():
        subject = rel if "/" in glob else path.name
        if glob_regex(glob).match(subject):
            return command
    return None


def verify_files(paths: list[str], ctx: ToolContext) -> str:
    """Check each changed file; return the text to append ("" if nothing applied)."""
    rules = ctx.verify if ctx.verify is not None else default_rules()
    passed: list[str] = []
    failed: list[str] = []
    for p in paths:
        path = Path(p)
        command = _rule_for(path, ctx, rules)
        if not command or not path.is_file():
            continue
        shown = ctx.display(path)
        if command in BUILTIN_CHECKS:
            label, check = BUILTIN_CHECKS[command]
            error = check(path)
        else:
            label = command.split()[0] if command.split() else command
            error = _run_command(command, path, ctx)
        if error is None:
            passed.append(f"{shown} ({label})")
        else:
            failed.append(f"Verify failed for {shown} ({label}):\n{error[:MAX_REPORT]}")
    if failed:
        return "\n".join(failed)
    if passed:
        return "Verify OK: " + ", ".join(passed)
    return ""


def _run_command(command: str, path: Path, ctx: ToolContext) -> str | None:
    cmd = command.replace("{file}", shlex.quote(str(path)))
    done = run_group(
        ["bash", "-c", cmd],
        cwd=ctx.cwd,
        env=child_env(ctx),
        timeout=TIMEOUT_SECONDS,
        cancel=ctx.cancel,
    )
    done.spool.unlink(missing_ok=True)
    if done.timed_out:
        return f"`{cmd}` timed out after {TIMEOUT_SECONDS:.0f}s"
    if done.cancelled:
        return f"`{cmd}` was interrupted"
    if done.exit_code != 0:
        out = done.output.strip()
        return f"`{cmd}` exited with {done.exit_code}" + (f":\n{out}" if out else "")
    return None


def append_verify(text: str, paths: list[str], ctx: ToolContext) -> str:
    """`text` plus the verification report for `paths`, if any."""
    report = verify_files(paths, ctx)
    return f"{text}\n{report}" if report else text
