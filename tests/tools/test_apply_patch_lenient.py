"""ApplyPatch accepts the lenient forms Codex's own `apply_patch` accepts
(defect 16): markers and file headers padded with whitespace, a heredoc
wrapper (bare or after the `apply_patch` command), blank lines before an update's
first chunk, `@@` context lines (several in a row narrow the search), no `@@`
before the first chunk, CRLF patches and a patch without a final newline.

Each row is a file, a patch and the file it must become. The rows that fail
check that bridle stays deliberately stricter where Codex is unsafe: a failed
patch changes nothing at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridle.core.errors import ToolError
from bridle.tools.apply_patch import ApplyPatch
from bridle.tools.base import ToolContext

# The first blank line of this file comes *after* `return 1`, so a blank line
# that was wrongly taken for a context line moves the search past the change.
SOURCE = "import os\ndef f():\n    return 1\n\ndef g():\n    return 2\n"
F_CHANGED = SOURCE.replace("return 1", "return 0")
G_CHANGED = SOURCE.replace("return 2", "return 3")

UPDATE_F = "*** Update File: m.py\n@@ def f():\n-    return 1\n+    return 0\n"


def wrap(body: str) -> str:
    return f"*** Begin Patch\n{body}*** End Patch\n"


LENIENT: list[tuple[str, str, str]] = [
    ("plain", wrap(UPDATE_F), F_CHANGED),
    ("begin and end padded", f"  *** Begin Patch  \n{UPDATE_F}\t*** End Patch \n", F_CHANGED),
    ("whole patch indented by blank lines", f"\n\n{wrap(UPDATE_F)}\n\n", F_CHANGED),
    (
        "update header padded",
        wrap("   *** Update File: m.py   \n@@ def f():\n-    return 1\n+    return 0\n"),
        F_CHANGED,
    ),
    ("heredoc quoted", f"<<'EOF'\n{wrap(UPDATE_F)}EOF\n", F_CHANGED),
    ("heredoc double-quoted", f'<<"EOF"\n{wrap(UPDATE_F)}EOF', F_CHANGED),
    ("heredoc bare", f"<<EOF\n{wrap(UPDATE_F)}EOF\n", F_CHANGED),
    ("heredoc other delimiter", f"<<'PATCH'\n{wrap(UPDATE_F)}PATCH\n", F_CHANGED),
    ("heredoc after apply_patch", f"apply_patch <<'EOF'\n{wrap(UPDATE_F)}EOF\n", F_CHANGED),
    ("heredoc after applypatch", f"applypatch <<EOF\n{wrap(UPDATE_F)}EOF\n", F_CHANGED),
    (
        "heredoc with padded markers",
        f"<<'EOF'\n *** Begin Patch\n{UPDATE_F}*** End Patch \nEOF",
        F_CHANGED,
    ),
    ("no final newline", wrap(UPDATE_F).rstrip("\n"), F_CHANGED),
    ("crlf patch", wrap(UPDATE_F).replace("\n", "\r\n"), F_CHANGED),
    (
        "no @@ before the first chunk",
        wrap("*** Update File: m.py\n-    return 1\n+    return 0\n"),
        F_CHANGED,
    ),
    ("bare @@", wrap("*** Update File: m.py\n@@\n-    return 2\n+    return 3\n"), G_CHANGED),
    ("@@ padded", wrap("*** Update File: m.py\n@@   \n-    return 2\n+    return 3\n"), G_CHANGED),
    (
        "@@ context picks the second of two equal lines",
        wrap("*** Update File: m.py\n@@ def g():\n-    return 2\n+    return 3\n"),
        G_CHANGED,
    ),
    (
        "several @@ lines narrow the search",
        wrap("*** Update File: m.py\n@@ import os\n@@ def g():\n-    return 2\n+    return 3\n"),
        G_CHANGED,
    ),
    (
        "blank line before the first chunk",
        wrap("*** Update File: m.py\n\n@@ def f():\n-    return 1\n+    return 0\n"),
        F_CHANGED,
    ),
    (
        "whitespace-only line before the first chunk",
        wrap("*** Update File: m.py\n   \n-    return 1\n+    return 0\n"),
        F_CHANGED,
    ),
    (
        "blank line after Move to",
        wrap(
            "*** Update File: m.py\n*** Move to: m.py\n\n@@ def f():\n-    return 1\n+    return 0\n"
        ),
        F_CHANGED,
    ),
    (
        "blank lines after End of File",
        wrap("*** Update File: m.py\n@@\n-    return 2\n+    return 3\n*** End of File\n\n  \n"),
        G_CHANGED,
    ),
    (
        "trailing blank context line stands for the final newline",
        wrap("*** Update File: m.py\n@@ def g():\n-    return 2\n+    return 3\n\n"),
        G_CHANGED,
    ),
    (
        "context lines differing in trailing whitespace",
        wrap("*** Update File: m.py\n@@\n def f():   \n-    return 1\n+    return 0\n"),
        F_CHANGED,
    ),
    (
        "two chunks separated by a blank line",
        wrap(
            "*** Update File: m.py\n@@ def f():\n-    return 1\n+    return 0\n\n"
            "@@ def g():\n-    return 2\n+    return 3\n"
        ),
        F_CHANGED.replace("return 2", "return 3"),
    ),
]


@pytest.mark.parametrize(
    ("patch", "expected"), [r[1:] for r in LENIENT], ids=[r[0] for r in LENIENT]
)
def test_codex_lenient_forms_apply(patch: str, expected: str, tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(SOURCE)
    ApplyPatch().run({"input": patch}, ToolContext(cwd=tmp_path, verify={}))
    assert (tmp_path / "m.py").read_text() == expected


def test_padded_add_and_delete_headers(tmp_path: Path) -> None:
    (tmp_path / "gone.txt").write_text("bye\n")
    patch = wrap("  *** Add File: new.txt  \n+hello\n\n\t*** Delete File: gone.txt \n")
    ApplyPatch().run({"input": patch}, ToolContext(cwd=tmp_path, verify={}))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.txt"]
    assert (tmp_path / "new.txt").read_text() == "hello\n"


STRICT: list[tuple[str, str, str]] = [
    ("no begin marker", "*** Update File: m.py\n-a\n+b\n*** End Patch", "must start with"),
    (
        "no end marker",
        "*** Begin Patch\n*** Update File: m.py\n-    return 1\n+x\n",
        "must end with",
    ),
    (
        "heredoc after another command",
        f"cat <<'EOF'\n{wrap(UPDATE_F)}EOF\n",
        "must start with",
    ),
    ("heredoc not closed", f"<<'EOF'\n{wrap(UPDATE_F)}", "must start with"),
    ("unknown header", wrap("*** Patch File: m.py\n-a\n"), "not a valid hunk header"),
    ("update with no changes", wrap("*** Update File: m.py\n\n"), "has no changes"),
]


@pytest.mark.parametrize(("patch", "message"), [r[1:] for r in STRICT], ids=[r[0] for r in STRICT])
def test_malformed_patches_are_refused_and_change_nothing(
    patch: str, message: str, tmp_path: Path
) -> None:
    (tmp_path / "m.py").write_text(SOURCE)
    with pytest.raises(ToolError, match=message):
        ApplyPatch().run({"input": patch}, ToolContext(cwd=tmp_path, verify={}))
    assert (tmp_path / "m.py").read_text() == SOURCE
