"""The numerical core: no storage, no web, no screen."""

from gosplan.core.economy import PURPOSES, Economy, EconomyMeta
from gosplan.core.methods import DIRECT_LIMIT, METHODS
from gosplan.core.result import Result, SolveResult, Status
from gosplan.core.values import LabourValues, embodied_labour, gross_output, labour_values

__all__ = [
    "DIRECT_LIMIT",
    "METHODS",
    "PURPOSES",
    "Economy",
    "EconomyMeta",
    "LabourValues",
    "Result",
    "SolveResult",
    "Status",
    "embodied_labour",
    "gross_output",
    "labour_values",
]
