"""Plans: from society's targets to gross outputs, optimal plans, multi-year growth.

* :class:`Technique`, :class:`PlanProblem`, :func:`solve` — optimal plans
  (Kantorovich) as sparse linear programmes solved by HiGHS, PDLP, or the
  harmony iteration.
* :func:`leontief_plan` — gross outputs, labour and the working week that
  deliver target bundles by purpose.
* :func:`multi_year_plan`, :func:`receding_horizon_plan` — plans over years
  with investment in capacity.

See ``docs/planning.md``.
"""

from gosplan.planning.harmony import harmony, harmony_function
from gosplan.planning.problem import OBJECTIVES, PlanProblem, Technique
from gosplan.planning.solve import (
    METHODS,
    Diagnosis,
    PlanResult,
    diagnose_infeasible,
    gap,
    solve,
)

__all__ = [
    "METHODS",
    "OBJECTIVES",
    "Diagnosis",
    "PlanProblem",
    "PlanResult",
    "Technique",
    "diagnose_infeasible",
    "gap",
    "harmony",
    "harmony_function",
    "solve",
]
