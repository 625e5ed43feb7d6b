"""The mock's encoders are written independently of `bridle.wire`'s decoders, so a
misreading of a wire format cannot cancel itself out: neither package imports the
other (checked on the source, so a lazy import inside a function counts too)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "bridle"


def imported_modules(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted((SRC / package).glob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[path.name] = names
    return found


def offending(package: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    return {
        name: sorted(m for m in mods if m.startswith(forbidden))
        for name, mods in imported_modules(package).items()
        if any(m.startswith(forbidden) for m in mods)
    }


def test_mock_does_not_import_the_wire_or_provider_layers() -> None:
    assert offending("mock", ("bridle.wire", "bridle.providers")) == {}
    assert "encode.py" in imported_modules("mock")


def test_wire_does_not_import_the_mock() -> None:
    assert offending("wire", ("bridle.mock",)) == {}
