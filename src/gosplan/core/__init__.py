"""The numerical core: no storage, no web, no screen."""

from gosplan.core.economy import PURPOSES, Economy, EconomyMeta
from gosplan.core.result import SolveResult, Status
from gosplan.core.values import LabourValues, embodied_labour, gross_output, labour_values

__all__ = [
    "PURPOSES",
    "Economy",
    "EconomyMeta",
    "LabourValues",
    "SolveResult",
    "Status",
    "embodied_labour",
    "gross_output",
    "labour_values",
]
