"""The core imports nothing above it: only ``gosplan.core.*`` and ``gosplan.errors``."""

from __future__ import annotations

import ast
from pathlib import Path

import gosplan.core

CORE = Path(gosplan.core.__file__).parent
ALLOWED = ("gosplan.core", "gosplan.errors")


def _gosplan_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):  # includes imports hidden inside functions
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return [n for n in names if n == "gosplan" or n.startswith("gosplan.")]


def test_core_imports_nothing_above_it() -> None:
    bad = {
        p.name: [
            n
            for n in _gosplan_imports(p)
            if not any(n == a or n.startswith(a + ".") for a in ALLOWED)
        ]
        for p in sorted(CORE.glob("*.py"))
    }
    bad = {k: v for k, v in bad.items() if v}
    assert not bad, f"core modules import from above the core: {bad}"


def test_solver_dispatch_lives_in_core() -> None:
    names = _gosplan_imports(CORE / "linsolve.py")
    assert "gosplan.core.kernels" in names and "gosplan.core.gpu" in names
