"""gosplan: the information system of a socially owned, planned economy."""

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
from gosplan.errors import (
    GosplanError,
    Infeasible,
    NotConverged,
    NotProductive,
    ReaderError,
    Unbounded,
    ValidationError,
)

__version__ = "0.1.0"

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
