"""The tool contract: what every built-in tool declares and receives.

A tool declares its name, description, JSON schema, and whether it is read-only
and safe to run concurrently with other concurrency-safe tools (when in doubt a
tool declares itself mutating). It receives validated input and a `ToolContext`
carrying the session's state (cwd, project roots, files read so far, settings),
and returns a `ToolOutput`. Expected failures raise `core.errors.ToolError` with a
message written for the model. Tools never check permissions and never print.
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from bridle.core.messages import ImagePart, TextPart, ToolSpec


@dataclass
class ToolContext:
    """Per-session state shared by tools. Passed in, never global."""

    cwd: Path  # the project root the session started in
    session_id: str = ""
    # Extra roots the user granted (--add-dir).
    extra_roots: list[Path] = field(default_factory=list)
    # Absolute path -> mtime_ns when this session last read (or wrote) it. Write and
    # Edit refuse files that were not read first or changed on disk since.
    read_files: dict[str, int] = field(default_factory=dict)
    # The Bash tool's current directory, kept between calls inside the project.
    shell_cwd: Path | None = None
    # Environment for child processes (already scrubbed by the caller if desired).
    env: Mapping[str, str] | None = None
    # Names of env vars allowed through the Bash secret scrubber.
    env_allow: list[str] = field(default_factory=list)
    # Where full outputs of capped tool results are saved.
    output_dir: Path | None = None
    # Settings `verify`: glob -> command with {file}; None means built-in defaults.
    verify: dict[str, str] | None = None
    # Allow WebFetch to reach loopback/private addresses.
    allow_private_network: bool = False
    todos: list[dict[str, Any]] = field(default_factory=list)
    # Set by the engine on interrupt; long-running tools (Bash) poll it and stop.
    cancel: threading.Event | None = None
    # The OS sandbox shell commands run in (`policy.sandbox.Sandbox`); None: unsandboxed.
    sandbox: Any = None

    @property
    def roots(self) -> list[Path]:
        return [self.cwd, *self.extra_roots]

    def resolve(self, path: str) -> Path:
        """An absolute, normalised path; relative paths are taken from `cwd`."""
        p = Path(path).expanduser()
        return Path(os.path.normpath(p if p.is_absolute() else self.cwd / p))

    def display(self, path: Path) -> str:
        """`path` relative to `cwd` when inside it (shorter for the model), else absolute."""
        try:
            return str(path.relative_to(self.cwd)) or "."
        except ValueError:
            return str(path)


@dataclass
class ToolOutput:
    """What a tool returns: content for the model, plus optional metadata for
    front ends (e.g. the files it changed, for `--output-format diff`)."""

    content: list[TextPart | ImagePart]
    is_error: bool = False
    changed_files: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def text(cls, text: str, **kw: Any) -> ToolOutput:
        return cls([TextPart(text)], **kw)


class Tool(ABC):
    """Base class for built-in tools. Subclasses set the class attributes and
    implement `run` (synchronous; the engine runs it in a worker thread)."""

    name: ClassVar[str]
    description: ClassVar[str]
    input_schema: ClassVar[dict[str, Any]]
    read_only: ClassVar[bool] = False
    concurrency_safe: ClassVar[bool] = False

    def spec(self) -> ToolSpec:
        return ToolSpec(self.name, self.description, self.input_schema)

    @abstractmethod
    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutput:
        """Do the work; raise `ToolError` for failures the model should see."""
