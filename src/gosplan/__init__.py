"""gosplan: the information system of a socially owned, planned economy.

The names below are imported when first used (PEP 562), so ``import gosplan``
(and ``gosplan --help``) do not pay for numpy, pandas and scipy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gosplan.errors import (
    GosplanError,
    Infeasible,
    NotConverged,
    NotProductive,
    ReaderError,
    Unbounded,
    ValidationError,
)

if TYPE_CHECKING:
    from gosplan import read, write
    from gosplan.core import (
        Economy,
        LabourValues,
        SolveResult,
        Status,
        embodied_labour,
        gross_output,
        labour_values,
    )

__version__ = "0.1.0"

_LAZY = {
    "Economy": "gosplan.core",
    "LabourValues": "gosplan.core",
    "SolveResult": "gosplan.core",
    "Status": "gosplan.core",
    "embodied_labour": "gosplan.core",
    "gross_output": "gosplan.core",
    "labour_values": "gosplan.core",
}


def __getattr__(name: str) -> Any:
    if name in ("read", "write"):
        return importlib.import_module(f"gosplan.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gosplan' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY, "read", "write"])


__all__ = [
    "Economy",
    "GosplanError",
    "Infeasible",
    "LabourValues",
    "NotConverged",
    "NotProductive",
    "ReaderError",
    "SolveResult",
    "Status",
    "Unbounded",
    "ValidationError",
    "embodied_labour",
    "gross_output",
    "labour_values",
    "read",
    "write",
]
