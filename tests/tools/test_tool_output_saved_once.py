"""A long tool output is saved once: the capped text a tool returns (with its
note and Bash's exit code) fits the engine's cap, so the dispatcher does not cap
and save it a second time."""

from __future__ import annotations

from pathlib import Path

from bridle.tools.base import ToolContext
from bridle.tools.bash import Bash
from bridle.tools.output import MAX_CHARS, cap_output, cap_text


def test_bash_output_is_saved_once(tmp_path: Path) -> None:
    ctx = ToolContext(cwd=tmp_path, output_dir=tmp_path / "out", env={"PATH": "/usr/bin:/bin"})
    out = Bash().run({"command": "seq 1 40000; exit 3"}, ctx)
    capped = cap_output(out, ctx)  # what the dispatcher does with every result
    text = "".join(p.text for p in capped.content if hasattr(p, "text"))
    assert len(text) <= MAX_CHARS
    assert "saved to" in text
    saved = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    spooled = [p for p in tmp_path.rglob("bridle-out-*")]
    assert len(saved) + len([p for p in spooled if p not in saved]) == 1, (saved, spooled)


def test_capped_text_fits_the_cap(tmp_path: Path) -> None:
    ctx = ToolContext(cwd=tmp_path, output_dir=tmp_path / "out")
    text = "".join(f"line {i}\n" for i in range(20_000))
    capped = cap_text(text, ctx)
    assert len(capped) <= MAX_CHARS - 500
    assert capped.startswith("line 0\n") and capped.endswith("line 19999\n")
