"""The permission corpus: every case in cases.json is one tool call against a
real project tree (with real symlinks pointing out of it) and the decision the
policy must reach. Placeholders {root}, {outside}, {extra} and {home} in rules
and inputs are replaced by the temp directories."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from bridle.policy.engine import PermissionPolicy

CASES = json.loads((Path(__file__).parent / "cases.json").read_text())


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("policy")
    root, outside, extra, home = (base / n for n in ("project", "outside", "extra", "home"))
    for d in (root / "src", root / "docs", root / ".git", outside, extra, home / ".ssh"):
        d.mkdir(parents=True)
    files = {
        root / "src" / "main.py": "print('hi')\n",
        root / "src" / "secrets.txt": "s\n",
        root / "docs" / "readme.md": "# docs\n",
        root / ".env": "KEY=1\n",
        root / ".env.local": "KEY=2\n",
        root / ".git" / "config": "[core]\n",
        outside / "secret.txt": "secret\n",
        extra / "notes.md": "notes\n",
        home / ".ssh" / "id_rsa": "key\n",
    }
    for path, text in files.items():
        path.write_text(text)
    os.symlink("../outside", root / "link_out")
    os.symlink("../outside/secret.txt", root / "secret_link")
    os.symlink("src", root / "src_link")
    return {"root": str(root), "outside": str(outside), "extra": str(extra), "home": str(home)}


def _fill(value: Any, places: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, path in places.items():
            value = value.replace("{" + key + "}", path)
        return value
    if isinstance(value, list):
        return [_fill(v, places) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, places) for k, v in value.items()}
    return value


def test_corpus_is_large_and_covers_every_outcome() -> None:
    assert len(CASES) >= 100
    assert len({c["id"] for c in CASES}) == len(CASES)
    assert {c["expect"] for c in CASES} == {"allow", "ask", "deny"}


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case: dict[str, Any], tree: dict[str, str]) -> None:
    case = _fill(case, tree)
    policy = PermissionPolicy(
        case["mode"],
        case.get("allow", []),
        case.get("ask", []),
        case.get("deny", []),
        project_root=tree["root"],
        extra_roots=[tree["extra"]] if case.get("extra_root") else [],
        home=tree["home"],
        headless=case.get("headless", False),
    )
    cwd = os.path.join(tree["root"], case.get("cwd", "."))
    decision = policy.evaluate(case["tool"], case["input"], cwd=cwd)
    assert decision.behavior == case["expect"], decision.reason
    assert decision.reason
