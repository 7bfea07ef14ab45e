"""A first-order primal–dual solve of a window's LP (OR-tools PDLP), for
``method="primal-dual"``: both a plan and a certified bound from one run.

PDLP (primal–dual hybrid gradient with restarts and diagonal preconditioning)
needs only products with the LP's matrix, so it reaches plans of 10⁴–10⁵
products where simplex and interior point do not finish (their factorisations
fill in).  It stops at a time or iteration limit with an *approximate* primal
and dual: neither is used as it stands.

* **The bound** comes from its balance-row duals ``p_t`` alone: the closed-form
  completion of :mod:`gosplan.planning.multiyear.bound` makes every other dual
  value (rents, value of capacity) exactly feasible, and
  :func:`gosplan.planning.multiyear.bound.repair_prices` first lowers the few
  prices whose rents would leave the value of terminal capacity below zero.
  Any non-negative prices give a true lower bound that way, so PDLP's tolerance
  only decides how good the bound is, never whether it holds.
* **The plan** comes from its investments ``g_t`` alone: every year is then
  balanced exactly and repaired by :func:`gosplan.planning.multiyear.recover.
  plan_from_investment`.  PDLP solves the LP with old capacity held back a
  little (``TIGHTEN``, as the smoothed ascent does), so that its small row
  violations leave room rather than shortages.

HiGHS ships a PDLP too (cuPDLP-C), but it returns no solution when it stops at
its limit, takes no starting point, and has no thread option; OR-tools' PDLP
does all three (OR-tools is already installed as a dependency of pref-voting).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from gosplan.planning.multiyear.lp import window_lp
from gosplan.planning.multiyear.model import Model, Window

#: old capacity held back from PDLP's LP (first year, later years), so that the
#: investments of its approximate solution fit the true limits once balanced exactly
TIGHTEN = (0.01, 0.003)


@dataclass
class PrimalDualResult:
    """PDLP's approximate solution of a window LP, in the window's own units."""

    p: np.ndarray  # balance-row duals (years × products, objective units)
    g: np.ndarray  # capacity built each year (years × products)
    iterations: int
    seconds: float
    termination: str  # PDLP's termination reason
    objective: float  # PDLP's primal objective (of the held-back LP; not certified)


def pdlp_available() -> bool:
    """Whether OR-tools' PDLP can be imported."""
    try:
        from ortools.pdlp.python import pdlp  # noqa: F401
    except ImportError:  # pragma: no cover - ortools comes with pref-voting
        return False
    return True


def pdlp_window(
    m: Model,
    t0: int,
    T: int,
    K0: np.ndarray,
    *,
    seconds: float,
    iterations: int = 100_000,
    start: Window | None = None,
    tighten: tuple[float, float] = TIGHTEN,
    threads: int | None = None,
    tol: float = 1e-7,
) -> PrimalDualResult:
    """Run PDLP on the LP of years ``t0 … t0+T-1`` for at most ``seconds`` seconds (or
    ``iterations`` iterations, or until it meets the relative tolerance ``tol``),
    warm-started from the plan ``start`` where one is given."""
    from ortools.pdlp import solve_log_pb2, solvers_pb2
    from ortools.pdlp.python import pdlp

    t_start = time.perf_counter()
    n = m.A.shape[0]
    lp = window_lp(m, t0, T, K0, margins=False)
    per = lp.per
    hi = lp.hi.copy()
    for t in range(T):
        hi[per * t : per * t + n] *= 1.0 - (tighten[0] if t == 0 else tighten[1])
    scale = 1.0 / max(float(np.max(np.abs(lp.cost))), 1e-300)
    qp = pdlp.QuadraticProgram()
    qp.objective_vector = lp.cost * scale
    qp.constraint_matrix = sp.csc_matrix(lp.A)
    qp.constraint_lower_bounds = lp.rlo
    qp.constraint_upper_bounds = lp.rhi
    qp.variable_lower_bounds = lp.lo
    qp.variable_upper_bounds = hi
    prm = solvers_pb2.PrimalDualHybridGradientParams()
    left = max(seconds - (time.perf_counter() - t_start), 0.1)
    prm.termination_criteria.time_sec_limit = left
    prm.termination_criteria.iteration_limit = int(iterations)
    prm.termination_criteria.simple_optimality_criteria.eps_optimal_relative = tol
    prm.termination_criteria.simple_optimality_criteria.eps_optimal_absolute = 0.0
    prm.num_threads = int(threads if threads is not None else min(2, os.cpu_count() or 1))
    init = None
    if start is not None and start.xo.shape == (T, n):
        x = np.zeros(lp.A.shape[1])
        keep = 1.0 - m.delta
        K = np.asarray(K0, dtype=float).copy()
        for t in range(T):
            K = keep * K + start.g[t]
            x[per * t : per * t + n] = start.xo[t]
            x[per * t + n : per * t + 2 * n] = start.xn[t]
            x[per * t + 2 * n : per * t + 3 * n] = start.g[t]
            x[per * t + 3 * n : per * t + 4 * n] = K
            if per > 4 * n:  # the aggregate investment total
                kap = m.kappa if m.kappa is not None else np.zeros(n)
                x[per * t + 4 * n] = float(kap @ start.g[t])
        init = pdlp.PrimalAndDualSolution()
        init.primal_solution = np.clip(x, lp.lo, hi)
        init.dual_solution = np.zeros(lp.A.shape[0])
    res = (
        pdlp.primal_dual_hybrid_gradient(qp, prm, initial_solution=init)
        if init is not None
        else pdlp.primal_dual_hybrid_gradient(qp, prm)
    )
    x = np.asarray(res.primal_solution, dtype=float)
    y = np.asarray(res.dual_solution, dtype=float) / scale
    groups = lp.row_groups(m, T)
    p = np.stack([np.maximum(y[g["balance"] : g["balance"] + n], 0.0) for g in groups])
    g = np.stack([np.maximum(x[per * t + 2 * n : per * t + 3 * n], 0.0) for t in range(T)])
    log = res.solve_log
    obj = float("nan")
    if log.solution_stats.convergence_information:
        obj = float(log.solution_stats.convergence_information[0].primal_objective) / scale
    return PrimalDualResult(
        p=p,
        g=g,
        iterations=int(log.iteration_count),
        seconds=time.perf_counter() - t_start,
        termination=solve_log_pb2.TerminationReason.Name(log.termination_reason),
        objective=obj,
    )
