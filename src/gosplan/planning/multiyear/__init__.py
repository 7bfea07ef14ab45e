"""Multi-year plans with investment in capacity, solved as one sparse LP (HiGHS).

The model (years ``t = 0 … T-1``, products ``j``)
-------------------------------------------------
Each sector produces on **old capacity** (what exists at the start) and on
**modern capacity** (built during the plan):

* output ``xo_t + xn_t``; old output is capped by the initial capacity
  ``C0 = output / utilisation`` worn down by depreciation:
  ``xo_t <= C0 (1 - δ)^t``;
* modern capacity ``K`` starts at zero and grows by new capacity ``g_t``
  built in year ``t`` and usable from ``t + 1``:
  ``K_{t+1} = (1 - δ) K_t + g_t``, ``xn_t <= K_t``;
* building a unit of capacity in sector ``j`` takes capital goods
  ``B[:, j]`` — the economy's capital coefficients (``Economy.capital``), or,
  when the table has none, a stated capital–output ratio ``κ_j`` times the
  composition ``s`` of the table's investment column, ``B = s κᵀ``, entered
  as one aggregate investment variable per year so that no column is dense;
* balance: ``(I - A)(xo_t + xn_t) - B g_t >= y_t``, where ``y_t`` is the sum
  of the target bundles of year ``t`` (each purpose grows at its own rate);
  investment is endogenous, so an ``investment`` purpose is not a target;
* **productivity growth is embodied**: modern capacity uses the best-practice
  technique, whose direct labour per unit is ``(1 - π)`` times today's
  (``π = modern_labour_saving``).  As old capacity wears out and is replaced,
  and as growth is met by new capacity, average labour per unit falls — so
  the working week falls where, and as fast as, investment renews the stock;
* labour ``l·xo_t + (1-π) l·xn_t`` (optionally capped per year by a maximum
  working week);
* optionally balanced trade: imports ``m·(xo_t + xn_t) <=`` exports ``e_t``;
* terminal condition: the capacity left at the end lets the economy go on
  growing at ``g``: ``C0 (1-δ)^T + K_T >= (1 + g) x_ss``, where ``x_ss``
  delivers the last year's targets while adding capacity at ``δ + g``
  (``x = A x + B diag(δ + g) x + y``), so the plan does not stop investing
  because its horizon ends (and receding windows do not run the stock down).

The objective minimises the sum over years of hours per able-bodied person
(total labour when no population is given).  Receding-horizon mode re-plans
every year with the next ``horizon`` years in view and carries out only the
first year (Hagberg & Zachariah's scheme).

Where each part lives: :mod:`.model` (the model and a solved window),
:mod:`.steady` (Leontief solves, the stationary output), :mod:`.lp` (a window
as one LP), :mod:`.forward` (the forward heuristic and investment re-timing),
:mod:`.bound` (the certified lower bound on the optimum), :mod:`.ascent`
(the smoothed dual ascent that raises it), :mod:`.recover` (the plan its
prices point to, ``method="dual"``), :mod:`.result`
(:class:`MultiYearPlanResult`), :mod:`.plan` (the entry points).
"""

from gosplan.planning.multiyear.forward import FORWARD_METHODS
from gosplan.planning.multiyear.lp import LP_METHODS
from gosplan.planning.multiyear.plan import METHODS, multi_year_plan, receding_horizon_plan
from gosplan.planning.multiyear.result import MultiYearPlanResult
from gosplan.planning.multiyear.steady import DIRECT_LIMIT

__all__ = [
    "DIRECT_LIMIT",
    "FORWARD_METHODS",
    "LP_METHODS",
    "METHODS",
    "MultiYearPlanResult",
    "multi_year_plan",
    "receding_horizon_plan",
]
