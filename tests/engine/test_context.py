"""The system prompt: environment block, instruction-file cascade with @imports
and a size cap, and the prompt-shaping flags (--file, --image, --prompt-file)."""

from __future__ import annotations

import base64
import datetime as dt
import subprocess
from pathlib import Path

import pytest

from bridle.core.errors import UsageError
from bridle.core.messages import ImagePart
from bridle.engine import context
from bridle.engine.context import GitInfo, build_system_prompt, git_info, load_instructions
from bridle.extensions import instructions
from bridle.headless.run import RunRequest, _full_prompt

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def env_for(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {"HOME": str(home), "BRIDLE_HOME": str(home / ".bridle")}


def test_cascade_root_to_cwd_with_imports(project: Path, tmp_path: Path) -> None:
    env = env_for(tmp_path)
    (Path(env["HOME"]) / ".claude").mkdir()
    (Path(env["HOME"]) / ".claude" / "CLAUDE.md").write_text("user level rule")
    (project / "CLAUDE.md").write_text("root rule\nsee @docs/style.md")
    (project / "docs").mkdir()
    (project / "docs" / "style.md").write_text("use tabs @../CLAUDE.md")  # a cycle: not re-imported
    sub = project / "pkg" / "inner"
    sub.mkdir(parents=True)
    (project / "pkg" / "AGENTS.md").write_text("pkg rule")
    (sub / "GEMINI.md").write_text("inner rule")
    text = load_instructions(sub, env, project)
    order = [
        text.index(s)
        for s in ("user level rule", "root rule", "use tabs", "pkg rule", "inner rule")
    ]
    assert order == sorted(order)
    assert text.count("root rule") == 1
    # Files outside the repo above it are not read.
    (project.parent / "AGENTS.md").write_text("outside rule")
    assert "outside rule" not in load_instructions(sub, env, project)


def test_instruction_size_cap(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(instructions, "TOTAL_CAP", 300)
    (project / "CLAUDE.md").write_text("x" * 500)
    (project / "AGENTS.md").write_text("second file")
    text = load_instructions(project, env_for(tmp_path), project)
    assert "x" * 500 not in text and "second file" in text
    assert f"(not loaded: {project / 'CLAUDE.md'}; instructions passed 300 chars)" in text


def test_environment_block_and_overrides(project: Path, tmp_path: Path) -> None:
    (project / "a.py").write_text("print(1)\n")
    subprocess.run(["git", "add", "a.py"], cwd=project, check=True)
    subprocess.run(["git", "commit", "-qm", "init"], cwd=project, check=True)
    (project / "a.py").write_text("print(2)\n")
    git = git_info(project)
    assert git == GitInfo(project, "main", " M a.py")
    prompt = build_system_prompt(project, env_for(tmp_path), now=NOW, git=git)
    assert f"Working directory: {project}" in prompt
    assert "Today's date: 2026-12-01" in prompt
    assert "branch main" in prompt and " M a.py" in prompt
    replaced = build_system_prompt(
        project, env_for(tmp_path), now=NOW, git=git, system_prompt="CUSTOM", append=["EXTRA"]
    )
    assert replaced.startswith("CUSTOM") and replaced.endswith("EXTRA")
    assert context.BASE_PROMPT not in replaced and "Working directory" in replaced


def test_outside_git(tmp_path: Path) -> None:
    d = tmp_path / "plain"
    d.mkdir()
    assert git_info(d).root is None
    assert "Git repository: no" in build_system_prompt(d, env_for(tmp_path), now=NOW)


def _request(tmp_path: Path, **opts: object) -> RunRequest:
    base = {
        "continue_": False, "resume": None, "fork_session": False, "prompt_each": None,
        "parallel": None, "retry": 0, "bail": False, "input_format": "text",
        "output_format": "text", "permission_mode": None, "dry_run": False,
        "dangerously_skip_permissions": False, "system_prompt": None, "system_file": None,
        "prompt_file": None, "commit": False, "commit_dirty": False, "print_config": False,
        "print_tools_list": False, "doctor": False, "cwd": str(tmp_path), "files": [], "images": [],
    }  # fmt: skip
    base.update(opts)
    prompt = base.pop("prompt", None)
    return RunRequest.from_cli(prompt, base)  # type: ignore[arg-type]


class TTY:
    def isatty(self) -> bool:
        return True

    def read(self) -> str:
        return ""


def test_files_are_fenced_and_images_attached(tmp_path: Path) -> None:
    code = tmp_path / "snippet.py"
    code.write_text("x = '```'\n")
    png = tmp_path / "shot.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\nfake")
    req = _request(tmp_path, prompt="explain", files=[str(code)], images=[str(png)])
    text, images = _full_prompt(req, "explain")
    assert text == f"explain\n\n{code}:\n````\nx = '```'\n````"
    assert images == [ImagePart("image/png", base64.b64encode(png.read_bytes()).decode())]
    bad = tmp_path / "notes.txt"
    bad.write_text("hi")
    with pytest.raises(UsageError, match="holds text; models accept PNG, JPEG, GIF or WebP"):
        _full_prompt(_request(tmp_path, prompt="x", images=[str(bad)]), "x")


def test_prompt_file_and_stdin(tmp_path: Path) -> None:
    pf = tmp_path / "prompt.md"
    pf.write_text("from a file")
    assert _request(tmp_path, prompt_file=str(pf)).prompt == "from a file"
    with pytest.raises(UsageError, match="cannot be combined"):
        _request(tmp_path, prompt="x", prompt_file=str(pf))

    class Pipe:
        def isatty(self) -> bool:
            return False

        def read(self) -> str:
            return "piped prompt"

    base = _request(tmp_path, prompt="unused")
    piped = RunRequest.from_cli(None, base.opts, stdin=Pipe())  # type: ignore[arg-type]
    assert piped.prompt == "piped prompt"
    with pytest.raises(UsageError, match="no prompt"):
        RunRequest.from_cli(None, base.opts, stdin=TTY())  # type: ignore[arg-type]
