"""No import cycle between harmony and the LP path: both build on planning.result."""

from __future__ import annotations

from pathlib import Path

import gosplan.planning
from tests.core.test_layers import _gosplan_imports

PLANNING = Path(gosplan.planning.__file__).parent


def test_harmony_and_solve_do_not_import_each_other_back() -> None:
    assert "gosplan.planning.solve" not in _gosplan_imports(PLANNING / "harmony.py")
    assert "gosplan.planning.harmony" not in _gosplan_imports(PLANNING / "result.py")
    assert "gosplan.planning.solve" not in _gosplan_imports(PLANNING / "result.py")
