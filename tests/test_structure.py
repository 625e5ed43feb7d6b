"""The project's structural rules, checked on every module of `src/bridle`.

Every module opens with a docstring and stays under 600 lines, every dataclass
has a docstring (without one, Python 3.11's `dataclasses` computes a signature for
`__doc__` at import, a cost every run pays), and no package imports another
package's private (`_name`) modules. The layers themselves are
held by the import-linter contract in pyproject.toml, which the test command runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "bridle"
MODULES = sorted(SRC.rglob("*.py"))
MAX_LINES = 600


def _rel(path: Path) -> str:
    return str(path.relative_to(SRC.parent))


def _package(path: Path) -> str:
    parts = path.relative_to(SRC).parts
    return parts[0] if len(parts) > 1 else ""


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_module_has_docstring_and_fits(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    assert ast.get_docstring(tree), f"{_rel(path)} must open with a one-paragraph docstring"
    lines = source.count("\n")
    assert lines < MAX_LINES, f"{_rel(path)} has {lines} lines; split it (limit {MAX_LINES})"


def _is_dataclass(node: ast.ClassDef) -> bool:
    for d in node.decorator_list:
        target = d.func if isinstance(d, ast.Call) else d
        if isinstance(target, ast.Name) and target.id == "dataclass":
            return True
    return False


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_every_dataclass_has_a_docstring(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bare = [
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and _is_dataclass(node) and not ast.get_docstring(node)
    ]
    assert not bare, f"{_rel(path)}: dataclasses without a docstring: {bare}"


def _imported_modules(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_no_private_module_of_another_package(path: Path) -> None:
    own = _package(path)
    bad = []
    for name in _imported_modules(ast.parse(path.read_text(encoding="utf-8"))):
        parts = name.split(".")
        if len(parts) < 3 or parts[0] != "bridle" or parts[1] == own:
            continue
        module = parts[2]
        # `from bridle.pkg import _helper` names a private module only if it is one.
        is_module = (SRC / parts[1] / f"{module}.py").exists() or (SRC / parts[1] / module).is_dir()
        if module.startswith("_") and not module.startswith("__") and is_module:
            bad.append(name)
    assert not bad, f"{_rel(path)} imports private modules of other packages: {bad}"


def test_the_rules_see_every_package() -> None:
    packages = {_package(p) for p in MODULES} - {""}
    assert {"core", "engine", "wire", "providers", "tools", "cli", "headless"} <= packages
