"""Plans: from society's targets to gross outputs, optimal plans, multi-year growth.

* :class:`Technique`, :class:`PlanProblem`, :func:`solve` — optimal plans
  (Kantorovich) as sparse linear programmes solved by HiGHS, PDLP, or the
  harmony iteration.
* :func:`leontief_plan` — gross outputs, labour and the working week that
  deliver target bundles by purpose.
* :func:`multi_year_plan`, :func:`receding_horizon_plan` — plans over years
  with investment in capacity.
* :func:`validate_config`, :func:`plan_from_config` — plan configurations
  (the TOML files are read by :mod:`gosplan.services.plan_runs`, which also
  runs the default five-year plan).

See ``docs/planning.md``.
"""

from gosplan.core.methods import METHODS
from gosplan.planning.harmony import harmony, harmony_function
from gosplan.planning.leontief import LeontiefPlanResult, deduction_shares, leontief_plan
from gosplan.planning.multiyear import (
    MultiYearPlanResult,
    multi_year_plan,
    receding_horizon_plan,
)
from gosplan.planning.plan_config import (
    PlanConfig,
    PlanRun,
    default_plan_config,
    plan_from_config,
    validate_config,
)
from gosplan.planning.problem import OBJECTIVES, PlanProblem, Technique
from gosplan.planning.solve import (
    Diagnosis,
    PlanResult,
    diagnose_infeasible,
    gap,
    solve,
)
from gosplan.planning.targets import PLAN_PURPOSES, purpose_bundles

__all__ = [
    "METHODS",
    "OBJECTIVES",
    "PLAN_PURPOSES",
    "Diagnosis",
    "LeontiefPlanResult",
    "MultiYearPlanResult",
    "PlanConfig",
    "PlanProblem",
    "PlanResult",
    "PlanRun",
    "Technique",
    "deduction_shares",
    "default_plan_config",
    "diagnose_infeasible",
    "gap",
    "harmony",
    "harmony_function",
    "leontief_plan",
    "multi_year_plan",
    "plan_from_config",
    "purpose_bundles",
    "receding_horizon_plan",
    "solve",
    "validate_config",
]
