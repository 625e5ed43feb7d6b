"""Checks on what a client submits: repository URLs, branch names, pipelines.

A task names a repository the daemon will clone and a branch it will create and
push, so both are checked before anything is stored: a repository is an
http(s)/ssh/git/file URL, an scp-style `user@host:path`, or an absolute local
path to an existing directory; git's `transport::address` helpers (which can run
commands), option-like values and `..` path segments are refused. Branch names
follow `git check-ref-format` and may not contain `..` either. `agents` checks
which phases another coding CLI runs (a known CLI, an existing account that has
it). Every error is a `InvalidField` naming the field and the fix. This module
does no git calls.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from bridle.daemon.backend import PHASES, BackendError

_SCHEMES = ("https", "http", "ssh", "git", "file")
_SCP = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!//)(.+)$")
_BAD_REF = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


class InvalidField(BackendError):
    """A submitted field is wrong; the message names it."""

    status = 400
    type = "invalid_request"

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


def _no_traversal(field: str, path: str) -> None:
    if any(part == ".." for part in re.split(r"[/\\]", path)):
        raise InvalidField(field, f"{path!r} contains a '..' segment; give the path without it")


def repo_url(value: str) -> str:
    """The repository as the daemon stores it (local paths normalised)."""
    url = value.strip()
    if not url:
        raise InvalidField("repo_url", "is empty; give a git URL or an absolute local path")
    if url.startswith("-") or any(ord(c) < 32 for c in url):
        raise InvalidField("repo_url", f"{url!r} is not a repository URL or path")
    if "://" in url:
        parts = urlsplit(url)
        if parts.scheme not in _SCHEMES:
            raise InvalidField(
                "repo_url",
                f"scheme {parts.scheme!r} is not supported; use one of {', '.join(_SCHEMES)}",
            )
        _no_traversal("repo_url", unquote(parts.path))  # git decodes %2e%2e to ..
        if parts.scheme == "file":
            return _local("file://" + parts.path, parts.path)
        return url.rstrip("/")
    if "::" in url:
        raise InvalidField(
            "repo_url", "git remote helpers (`transport::address`) are not accepted; use a URL"
        )
    m = _SCP.match(url)
    if m:
        _no_traversal("repo_url", m.group(1))
        return url.rstrip("/")
    return _local(url, url)


def _local(url: str, path: str) -> str:
    if not os.path.isabs(path):
        raise InvalidField(
            "repo_url", f"{path!r} is a relative path; give an absolute path or a git URL"
        )
    _no_traversal("repo_url", path)
    if not os.path.isdir(path):
        raise InvalidField("repo_url", f"{path} is not a directory the daemon can read")
    return os.path.normpath(path)


def branch(value: str, field: str = "branch") -> str:
    name = value.strip()
    why = None
    if not name:
        why = "is empty"
    elif len(name) > 200:
        why = "is longer than 200 characters"
    elif name.startswith(("-", "/")) or name.endswith(("/", ".", ".lock")):
        why = "may not start with '-' or '/' nor end with '/', '.' or '.lock'"
    elif ".." in name or "//" in name or "@{" in name or name == "@":
        why = "may not contain '..', '//' or '@{'"
    elif name == "HEAD":
        why = "is git's name for the current commit, not a branch name"
    elif _BAD_REF.search(name):
        why = "may not contain spaces, control characters or any of ~ ^ : ? * [ \\"
    elif any(p.startswith(".") for p in name.split("/")):
        why = "has a component starting with '.'"
    if why:
        raise InvalidField(field, f"{value!r} {why}; use a name like feature/fix-login")
    return name


def pipeline(value: list[str] | None) -> tuple[str, ...]:
    if value is None:
        return PHASES
    if not value:
        raise InvalidField("pipeline", f"is empty; name phases from {', '.join(PHASES)}")
    for phase in value:
        if phase not in PHASES:
            raise InvalidField(
                "pipeline", f"unknown phase {phase!r}; the phases are {', '.join(PHASES)}"
            )
    if len(set(value)) != len(value):
        raise InvalidField("pipeline", "names a phase twice; name each phase once")
    return tuple(value)


AGENT_PHASES = ("lead", "implement", "review")


def agents(
    agent: str | None, per_phase: dict[str, str] | None, phases: tuple[str, ...],
    env: Mapping[str, str],
) -> dict[str, str]:  # fmt: skip
    """Phase → CLI for the phases another CLI runs: `agent` for every agent phase of
    the pipeline, `per_phase` overriding it; `bridle` means the engine."""
    from bridle.daemon.agent_cli import BRIDLE, check

    chosen = {p: agent for p in AGENT_PHASES if p in phases} if agent else {}
    if agent and (why := check(agent, env)):
        raise InvalidField("agent", why)
    for phase, name in (per_phase or {}).items():
        where = f"agents.{phase}"
        if phase not in AGENT_PHASES:
            raise InvalidField(
                where, f"{phase!r} is not an agent phase; name one of {', '.join(AGENT_PHASES)}"
            )
        if phase not in phases:
            raise InvalidField(where, f"the pipeline has no {phase} phase; add it or drop this")
        if why := check(name, env):
            raise InvalidField(where, why)
        chosen[phase] = name
    return {p: n for p, n in chosen.items() if n != BRIDLE}
