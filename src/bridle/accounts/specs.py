"""What bridle knows about each external coding CLI, as data: one `CliSpec` each for
Claude Code, Codex CLI, Gemini CLI and Copilot CLI, plus the catalog of other
CLI-tool credentials a `home`-isolated account can share with the real HOME.

A spec names the binary and how to find it, the CLI's own config-dir variable, its
credential files (never shared between accounts), the entries shared with the
primary config dir (altergo's lists), the yolo flag, the resume syntax by id and by
"latest", and the inherited variables that would stop a child from saving its
sessions. It holds no paths of a particular machine and does no I/O beyond
`find_binary`'s lookup; laying out directories is `layout.py`'s job.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field

from bridle.core.errors import UsageError

# Variables a coding CLI sets for its own children. Inherited by a CLI we launch
# (say, from a shell a Claude Code session opened) they make it refuse to start
# ("cannot be launched inside another session"), skip writing its transcript
# (CLAUDE_CODE_CHILD_SESSION, CLAUDE_CODE_SKIP_PROMPT_HISTORY, a `bg` session kind),
# reuse the parent's session id, or attach to the parent's IDE port.
_CLAUDE_CHILD_VARS = (
    "CLAUDECODE",
    "CLAUDE_CODE_ENTRYPOINT",
    "CLAUDE_CODE_CHILD_SESSION",
    "CLAUDE_CODE_SKIP_PROMPT_HISTORY",
    "CLAUDE_CODE_SESSION_ID",
    "CLAUDE_CODE_SESSION_KIND",
    "CLAUDE_CODE_SESSION_NAME",
    "CLAUDE_CODE_EXECPATH",
    "CLAUDE_CODE_SSE_PORT",
    "CLAUDE_CODE_REMOTE_SESSION_ID",
    "CLAUDE_CODE_RESUME_FROM_SESSION",
    "AI_AGENT",
)
_CODEX_CHILD_VARS = ("CODEX_SANDBOX", "CODEX_SANDBOX_NETWORK_DISABLED", "CODEX_THREAD_ID")
_GEMINI_CHILD_VARS = ("GEMINI_CLI", "GEMINI_CLI_SESSION_ID", "GEMINI_CLI_NO_RELAUNCH")
_COPILOT_CHILD_VARS = ("COPILOT_CLI", "COPILOT_AGENT_SESSION_ID")


@dataclass(frozen=True)
class ResumeSyntax:
    """How a CLI resumes: `by_id` holds `{id}`; `prefix` says the words go first
    (Codex's `resume` is a subcommand, so user arguments must follow it).
    `within` names subcommands that take the resume words after them instead:
    Codex's non-interactive `exec` resumes as `codex exec resume ID PROMPT`."""

    by_id: tuple[str, ...]
    latest: tuple[str, ...]
    prefix: bool = False
    within: tuple[str, ...] = ()


@dataclass(frozen=True)
class CliSpec:
    """Everything bridle needs to know to run, isolate and resume one external coding CLI."""

    name: str
    display: str
    binary: str
    config_env: str
    dot_dir: str
    # True when `config_env` names the directory that *holds* `dot_dir` (Gemini's
    # GEMINI_CLI_HOME) rather than the config dir itself.
    config_env_is_home: bool
    credential_files: tuple[str, ...]
    shared_dirs: tuple[str, ...]
    shared_files: tuple[str, ...]
    yolo: tuple[str, ...]
    resume: ResumeSyntax
    child_vars: tuple[str, ...] = field(default=())

    @property
    def shared_entries(self) -> tuple[str, ...]:
        return self.shared_dirs + self.shared_files

    def is_shared(self, entry: str) -> bool:
        return entry in self.shared_entries

    def resume_args(self, session_id: str | None) -> list[str]:
        if session_id is None:
            return list(self.resume.latest)
        return [a.replace("{id}", session_id) for a in self.resume.by_id]


TOOLS: dict[str, CliSpec] = {
    "claude": CliSpec(
        name="claude",
        display="Claude Code",
        binary="claude",
        config_env="CLAUDE_CONFIG_DIR",
        dot_dir=".claude",
        config_env_is_home=False,
        # `.claude.json` holds `oauthAccount`; its `mcpServers` are merged by mcp_sync.
        credential_files=(".credentials.json", ".claude.json"),
        shared_dirs=(
            "projects",
            "tasks",
            "todos",
            "file-history",
            "shell-snapshots",
            "agents",
            "commands",
            "skills",
            "plans",
        ),
        shared_files=("settings.json", "CLAUDE.md", "keybindings.json"),
        yolo=("--dangerously-skip-permissions",),
        resume=ResumeSyntax(by_id=("--resume", "{id}"), latest=("--continue",)),
        child_vars=_CLAUDE_CHILD_VARS,
    ),
    "codex": CliSpec(
        name="codex",
        display="Codex CLI",
        binary="codex",
        config_env="CODEX_HOME",
        dot_dir=".codex",
        config_env_is_home=False,
        credential_files=("auth.json",),
        # Codex looks for user skills in `$CODEX_HOME/skills`.
        shared_dirs=("sessions", "rules", "skills"),
        shared_files=("config.toml", "AGENTS.md"),
        yolo=("--dangerously-bypass-approvals-and-sandbox",),
        resume=ResumeSyntax(
            by_id=("resume", "{id}"), latest=("resume", "--last"), prefix=True, within=("exec",)
        ),
        child_vars=_CODEX_CHILD_VARS,
    ),
    "gemini": CliSpec(
        name="gemini",
        display="Gemini CLI",
        binary="gemini",
        config_env="GEMINI_CLI_HOME",
        dot_dir=".gemini",
        config_env_is_home=True,
        credential_files=("oauth_creds.json", "google_accounts.json", "mcp-oauth-tokens.json"),
        # `history/<project>` holds the checkpoint repos `/restore` needs for the
        # checkpoints saved under `tmp/<project>`, so it goes wherever `tmp` goes.
        shared_dirs=("tmp", "commands", "history"),
        shared_files=("settings.json", "GEMINI.md"),
        yolo=("--yolo",),
        resume=ResumeSyntax(by_id=("--resume", "{id}"), latest=("--resume", "latest")),
        child_vars=_GEMINI_CHILD_VARS,
    ),
    "copilot": CliSpec(
        name="copilot",
        display="Copilot CLI",
        binary="copilot",
        config_env="COPILOT_HOME",
        dot_dir=".copilot",
        config_env_is_home=False,
        # `config.json` keeps the logged-in users and, without a keychain, their tokens.
        credential_files=("config.json",),
        shared_dirs=("session-state", "agents", "skills", "hooks"),
        # User settings live in `settings.json` (Copilot 1.x moved them out of config.json).
        shared_files=("mcp-config.json", "settings.json"),
        yolo=("--allow-all-tools",),
        resume=ResumeSyntax(by_id=("--resume={id}",), latest=("--continue",)),
        child_vars=_COPILOT_CHILD_VARS,
    ),
}

TOOL_NAMES = tuple(TOOLS)

# Every variable any CLI sets for its children: stripped from every launch, since a
# Claude Code shell may well start Codex and vice versa.
ALL_CHILD_VARS = tuple(v for spec in TOOLS.values() for v in spec.child_vars)


def tool(name: str) -> CliSpec:
    try:
        return TOOLS[name]
    except KeyError:
        raise UsageError(f"unknown tool {name!r}: choose one of {', '.join(TOOL_NAMES)}.") from None


def find_binary(spec: CliSpec, env: Mapping[str, str]) -> str | None:
    """The CLI's executable: `$BRIDLE_CLI_PATH` (a directory) first, then `$PATH`."""
    override = env.get("BRIDLE_CLI_PATH")
    if override:
        found = shutil.which(spec.binary, path=override)
        if found:
            return found
    return shutil.which(spec.binary, path=env.get("PATH", os.defpath))


@dataclass(frozen=True)
class CatalogEntry:
    """A CLI tool's config under HOME that a `home` account can share (symlink to the
    real one) or keep isolated. `shared` is the default; accounts override per id."""

    id: str
    name: str
    paths: tuple[str, ...]
    shared: bool


# altergo's catalog. Cloud and container tools are shared by default (one identity
# per machine is the common case); identities and package-registry tokens are not.
CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("aws", "AWS CLI", (".aws",), True),
    CatalogEntry("gcloud", "Google Cloud", (".config/gcloud",), True),
    CatalogEntry("azure", "Azure CLI", (".azure", ".config/azure"), True),
    CatalogEntry("docker", "Docker", (".docker",), True),
    CatalogEntry("kube", "Kubernetes", (".kube",), True),
    CatalogEntry("terraform", "Terraform", (".terraform.d",), True),
    CatalogEntry("gh", "GitHub CLI", (".config/gh",), True),
    CatalogEntry("glab", "GitLab CLI", (".config/glab",), False),
    CatalogEntry("npm", "npm", (".npmrc",), False),
    CatalogEntry("pip", "pip", (".pip", ".config/pip", ".pypirc"), False),
    CatalogEntry("cargo", "cargo", (".cargo",), False),
    CatalogEntry("gem", "RubyGems", (".gem", ".gemrc"), False),
    CatalogEntry("yarn", "yarn", (".yarnrc", ".yarnrc.yml"), False),
    CatalogEntry("pnpm", "pnpm", (".pnpmrc",), False),
    CatalogEntry("composer", "Composer", (".composer",), False),
    CatalogEntry("go", "Go", (".config/go",), False),
    CatalogEntry("maven", "Maven", (".m2",), False),
    CatalogEntry("gradle", "Gradle", (".gradle",), False),
    CatalogEntry("bundler", "Bundler", (".bundle",), False),
    CatalogEntry("ssh", "SSH keys", (".ssh",), False),
    CatalogEntry("gitconfig", "Git identity", (".gitconfig",), False),
    CatalogEntry("gnupg", "GPG keys", (".gnupg",), False),
)

CATALOG_IDS = tuple(e.id for e in CATALOG)


def catalog_entry(entry_id: str) -> CatalogEntry:
    for entry in CATALOG:
        if entry.id == entry_id:
            return entry
    raise UsageError(f"unknown shared entry {entry_id!r}: choose one of {', '.join(CATALOG_IDS)}.")
