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
  :func:`gosplan.planning.multiyear.ascent.repair_prices` first lowers the few
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
from types import SimpleNamespace
from typing import Any

import numpy as np
import scipy.sparse as sp

from gosplan.planning.highs import INF
from gosplan.planning.multiyear.ascent import _chain, repair_prices
from gosplan.planning.multiyear.bound import (
    ROUNDING,
    BoundResult,
    _from_prices,
    _Parts,
    certified_result,
)
from gosplan.planning.multiyear.lp import terminal_need, year_targets
from gosplan.planning.multiyear.model import Model, Window
from gosplan.planning.multiyear.steady import leontief_solver

#: iterations of PDLP on the feasibility problem after the main run (the plan's side)
POLISH = 30
#: share of the time limit kept for them
POLISH_SHARE = 0.08

#: old capacity held back from PDLP's LP (first year, later years), so that the
#: investments of its approximate solution fit the true limits once balanced exactly
TIGHTEN = (0.01, 0.001)


@dataclass
class PrimalDualResult:
    """PDLP's approximate solution of a window LP, in the window's own units."""

    p: np.ndarray  # balance-row duals (years × products, objective units)
    g: np.ndarray  # capacity built each year (years × products)
    iterations: int
    polish_iterations: int
    seconds: float
    termination: str  # PDLP's termination reason
    objective: float  # PDLP's primal objective (of the held-back LP; not certified)
    x: np.ndarray | None = None  # the main run's primal (compact_lp's columns)


def pdlp_available() -> bool:
    """Whether OR-tools' PDLP can be imported."""
    try:
        from ortools.pdlp.python import pdlp  # noqa: F401
    except ImportError:  # pragma: no cover - ortools comes with pref-voting
        return False
    return True


@dataclass
class _CompactLP:
    cost: np.ndarray
    A: sp.csc_matrix
    rlo: np.ndarray
    rhi: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    per: int
    balance: list[int]  # first balance row of each year


def compact_lp(
    m: Model, t0: int, T: int, K0: np.ndarray, tighten: tuple[float, float] = (0.0, 0.0)
) -> _CompactLP:
    """The window LP of :func:`gosplan.planning.multiyear.lp.window_lp` (no margins)
    written with total output ``x_t = xo_t + xn_t`` and modern output ``xn_t`` as the
    columns, so that ``I - A`` appears once a year instead of twice (PDLP's cost is
    its passes over the matrix): columns per year ``x, xn, g, K_{t+1}`` [``I_t``];
    rows per year: balance ``(I - A) x - B g [- s I] >= y`` (its duals are the
    balance prices), [``I - κ·g = 0``], capacity dynamics, ``xn_t <= K_t``
    (``t > 0``), ``0 <= x - xn <= U_t`` (old output, held back by ``tighten``),
    [labour cap], [trade].  Same feasible plans and objective as the window LP.

    Long because it writes every row group of each year in one pass, into shared
    coordinate lists (one sparse matrix built once, not a stack of blocks)."""
    n = m.A.shape[0]
    agg = m.B is None
    per = 4 * n + (1 if agg else 0)
    ncol = per * T
    A = sp.coo_array(m.A)
    B = None if agg else sp.coo_array(m.B)
    s_vec = np.zeros(n) if m.s is None else m.s
    kap = np.zeros(n) if m.kappa is None else m.kappa
    idx = np.arange(n)
    keep = 1.0 - m.delta
    lab_new = (1.0 - m.pi) * m.labour
    rr: list[np.ndarray] = []
    cc: list[np.ndarray] = []
    vv: list[np.ndarray] = []
    rlo: list[np.ndarray] = []
    rhi: list[np.ndarray] = []
    cost = np.zeros(ncol)
    lo = np.zeros(ncol)
    hi = np.full(ncol, INF)
    balance: list[int] = []
    row = 0

    def put(r: np.ndarray, c: np.ndarray, v: np.ndarray | float) -> None:
        rr.append(np.asarray(r, dtype=np.int64))
        cc.append(np.asarray(c, dtype=np.int64))
        vv.append(np.broadcast_to(np.asarray(v, dtype=float), np.shape(r)).copy())

    for t in range(T):
        yr = t0 + t
        w = 1.0 / m.able[yr] if m.able is not None else 1.0
        cx, cn, cg, ck = per * t, per * t + n, per * t + 2 * n, per * t + 3 * n
        cost[cx : cx + n] = w * m.labour
        cost[cn : cn + n] = w * (lab_new - m.labour)
        if t == 0:
            hi[cn : cn + n] = K0
        # balance
        balance.append(row)
        put(row + idx, cx + idx, 1.0)
        put(row + A.row, cx + A.col, -A.data)
        if agg:
            put(row + idx, np.full(n, per * t + 4 * n), -s_vec)
        else:
            assert B is not None
            put(row + B.row, cg + B.col, -B.data)
        rlo.append(year_targets(m, yr, margin=0.0))
        rhi.append(np.full(n, INF))
        row += n
        if agg:
            put(np.array([row]), np.array([per * t + 4 * n]), 1.0)
            put(np.full(n, row), cg + idx, -kap)
            rlo.append(np.zeros(1))
            rhi.append(np.zeros(1))
            row += 1
        # K_{t+1} - (1-δ) K_t - g_t = 0
        put(row + idx, ck + idx, 1.0)
        put(row + idx, cg + idx, -1.0)
        if t > 0:
            put(row + idx, per * (t - 1) + 3 * n + idx, -keep)
            rhs = np.zeros(n)
        else:
            rhs = keep * np.asarray(K0, dtype=float)
        rlo.append(rhs)
        rhi.append(rhs)
        row += n
        if t > 0:  # xn_t <= K_t
            put(row + idx, cn + idx, 1.0)
            put(row + idx, per * (t - 1) + 3 * n + idx, -1.0)
            rlo.append(np.full(n, -INF))
            rhi.append(np.zeros(n))
            row += n
        # 0 <= x_t - xn_t <= U_t (held back)
        put(row + idx, cx + idx, 1.0)
        put(row + idx, cn + idx, -1.0)
        rlo.append(np.zeros(n))
        rhi.append(m.C0 * keep**yr * (1.0 - (tighten[0] if t == 0 else tighten[1])))
        row += n
        if m.max_labour is not None:
            put(np.full(n, row), cx + idx, m.labour)
            put(np.full(n, row), cn + idx, lab_new - m.labour)
            rlo.append(np.array([-INF]))
            rhi.append(np.array([m.max_labour[yr]]))
            row += 1
        if m.imports is not None:
            put(np.full(n, row), cx + idx, m.imports)
            rlo.append(np.array([-INF]))
            rhi.append(np.array([float(m.targets(yr)["exports"].sum())]))
            row += 1
    last = per * (T - 1) + 3 * n
    lo[last : last + n] = terminal_need(m, t0, T, margin=0.0)
    M = sp.csc_matrix(
        (np.concatenate(vv), (np.concatenate(rr), np.concatenate(cc))), shape=(row, ncol)
    )
    return _CompactLP(
        cost=cost,
        A=M,
        rlo=np.concatenate(rlo),
        rhi=np.concatenate(rhi),
        lo=lo,
        hi=hi,
        per=per,
        balance=balance,
    )


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
    params: dict[str, Any] | None = None,
    dual_start: np.ndarray | None = None,
    labour_prices: bool = True,
    polish: int = POLISH,
) -> PrimalDualResult:
    """PDLP on the LP of years ``t0 … t0+T-1`` (:func:`compact_lp`) for at most
    ``seconds`` (or ``iterations``, or to relative tolerance ``tol``), from the plan
    ``start`` and, for the dual, prices ``dual_start`` (years × products) or else
    :func:`modern_labour_prices`, completed by :func:`dual_rows`; then ``polish``
    iterations on the feasibility problem (:func:`_polish`) for the investments.
    ``params``: further fields of PDLP's parameters (:func:`_set`)."""
    from ortools.pdlp import solve_log_pb2
    from ortools.pdlp.python import pdlp

    t_start = time.perf_counter()
    n = m.A.shape[0]
    lp = compact_lp(m, t0, T, K0, tighten)
    per = lp.per
    scale = 1.0 / max(float(np.max(np.abs(lp.cost))), 1e-300)
    qp = pdlp.QuadraticProgram()
    qp.objective_vector = lp.cost * scale
    qp.constraint_matrix = lp.A
    qp.constraint_lower_bounds = lp.rlo
    qp.constraint_upper_bounds = lp.rhi
    qp.variable_lower_bounds = lp.lo
    qp.variable_upper_bounds = lp.hi
    left = max(seconds - (time.perf_counter() - t_start), 0.1)
    # the polishing run gets what the first leaves, at least its share
    prm = _params(left * (1.0 - POLISH_SHARE if polish else 1.0), iterations, tol, threads)
    _set(prm, params or {})
    init = None
    if start is not None and start.xo.shape == (T, n):
        init = pdlp.PrimalAndDualSolution()
        init.primal_solution = _primal_start(m, K0, lp, start)
        if dual_start is None and labour_prices:
            dual_start = modern_labour_prices(m, t0, T)
        init.dual_solution = (
            np.zeros(lp.A.shape[0])
            if dual_start is None
            else dual_rows(m, t0, T, K0, lp, dual_start) * scale
        )
    res = (
        pdlp.primal_dual_hybrid_gradient(qp, prm, initial_solution=init)
        if init is not None
        else pdlp.primal_dual_hybrid_gradient(qp, prm)
    )
    x = x_main = np.asarray(res.primal_solution, dtype=float)
    y = np.asarray(res.dual_solution, dtype=float) / scale
    extra = 0
    if polish:
        left = max(seconds - (time.perf_counter() - t_start), POLISH_SHARE * seconds)
        x, extra = _polish(qp, prm, x, lp.A.shape[0], int(polish), left)
    g = np.stack([np.maximum(x[per * t + 2 * n : per * t + 3 * n], 0.0) for t in range(T)])
    log = res.solve_log
    obj = float("nan")
    if log.solution_stats.convergence_information:
        obj = float(log.solution_stats.convergence_information[0].primal_objective) / scale
    return PrimalDualResult(
        p=np.stack([np.maximum(y[r : r + n], 0.0) for r in lp.balance]),
        g=g,
        iterations=int(log.iteration_count),
        polish_iterations=extra,
        seconds=time.perf_counter() - t_start,
        termination=solve_log_pb2.TerminationReason.Name(log.termination_reason),
        objective=obj,
        x=x_main,
    )


def _params(seconds: float, iterations: int, tol: float, threads: int | None) -> Any:
    """PDLP's parameters: limits, relative tolerance, threads (at most two)."""
    from ortools.pdlp import solvers_pb2

    prm = solvers_pb2.PrimalDualHybridGradientParams()
    prm.termination_criteria.time_sec_limit = seconds
    prm.termination_criteria.iteration_limit = int(iterations)
    prm.termination_criteria.simple_optimality_criteria.eps_optimal_relative = tol
    prm.termination_criteria.simple_optimality_criteria.eps_optimal_absolute = 0.0
    prm.num_threads = int(threads if threads is not None else min(2, os.cpu_count() or 1))
    return prm


def _set(prm: Any, params: dict[str, Any]) -> None:
    """Set fields of PDLP's parameters by name (dotted names for nested ones)."""
    for k, v in params.items():
        obj = prm
        *path, last = k.split(".")
        for q in path:
            obj = getattr(obj, q)
        setattr(obj, last, v)


def _polish(
    qp: Any, prm: Any, x: np.ndarray, rows: int, iterations: int, seconds: float
) -> tuple[np.ndarray, int]:
    """PDLP on the feasibility problem (objective zero) from primal ``x`` and a zero
    dual: a nearby point that meets the rows more closely, and its iteration count."""
    from ortools.pdlp.python import pdlp

    qp.objective_vector = np.zeros(len(x))
    init = pdlp.PrimalAndDualSolution()
    init.primal_solution = x
    init.dual_solution = np.zeros(rows)
    prm.termination_criteria.iteration_limit = iterations
    prm.termination_criteria.time_sec_limit = seconds
    res = pdlp.primal_dual_hybrid_gradient(qp, prm, initial_solution=init)
    return np.asarray(res.primal_solution, dtype=float), int(res.solve_log.iteration_count)


def _primal_start(m: Model, K0: np.ndarray, lp: _CompactLP, start: Window) -> np.ndarray:
    """The plan ``start`` in :func:`compact_lp`'s columns, within their bounds."""
    T, n = start.xo.shape
    per = lp.per
    x = np.zeros(lp.A.shape[1])
    keep = 1.0 - m.delta
    K = np.asarray(K0, dtype=float).copy()
    for t in range(T):
        K = keep * K + start.g[t]
        x[per * t : per * t + n] = start.xo[t] + start.xn[t]
        x[per * t + n : per * t + 2 * n] = start.xn[t]
        x[per * t + 2 * n : per * t + 3 * n] = start.g[t]
        x[per * t + 3 * n : per * t + 4 * n] = K
        if per > 4 * n:  # the aggregate investment total
            kap = m.kappa if m.kappa is not None else np.zeros(n)
            x[per * t + 4 * n] = float(kap @ start.g[t])
    return np.clip(x, lp.lo, lp.hi)


def modern_labour_prices(m: Model, t0: int, T: int) -> np.ndarray:
    """Balance prices ``w_t (1 - π) (I - A)⁻ᵀ l`` (years × products, objective units):
    the labour values of the modern technique, weighted like the objective."""
    v = np.asarray(leontief_solver(m.A, transpose=True)(m.labour, 1e-9))
    w = [1.0 / m.able[t0 + t] if m.able is not None else 1.0 for t in range(T)]
    return np.stack([w[t] * (1.0 - m.pi) * v for t in range(T)])


def dual_rows(
    m: Model, t0: int, T: int, K0: np.ndarray, lp: _CompactLP, p: np.ndarray
) -> np.ndarray:
    """Row duals of :func:`compact_lp` completed from balance prices ``p`` (years ×
    products, objective units) as the certified bound completes them: rents of modern
    capacity, value of capacity, rent of old capacity (a start for PDLP's dual)."""
    n = m.A.shape[0]
    # what the chain of rents and capacity values needs of the bound's parts (not the
    # terminal need, a sparse solve)
    w = np.array([1.0 / m.able[t0 + t] if m.able is not None else 1.0 for t in range(T)])
    parts = SimpleNamespace(
        m=m, T=T, l=m.labour, w=w, keep=1.0 - m.delta, ln=(1.0 - m.pi) * m.labour
    )
    P = np.maximum(np.asarray(p, dtype=float), 0.0)
    r, kappa, _ = _chain(parts, P)
    kappa = np.maximum(kappa, 0.0)
    y = np.zeros(lp.A.shape[0])
    agg = m.B is None
    for t in range(T):
        row = lp.balance[t]
        y[row : row + n] = P[t]
        row += n
        if agg:
            s_vec = m.s if m.s is not None else np.zeros(n)
            y[row] = float(s_vec @ P[t])
            row += 1
        y[row : row + n] = -kappa[t]
        row += n
        if t > 0:
            y[row : row + n] = -r[t]
            row += n
        c = P[t] - np.asarray(m.A.T @ P[t])
        y[row : row + n] = np.minimum(0.0, parts.w[t] * m.labour - c)
    return y


def prices_bound(
    m: Model,
    w: Window,
    t0: int,
    T: int,
    K0: np.ndarray,
    p: np.ndarray,
    name: str = "PDLP duals",
) -> BoundResult | None:
    """The certified bound of balance prices ``p`` alone (repaired where the value of
    terminal capacity would end below zero, completed exactly) and the proven gap of
    plan ``w``: what :func:`gosplan.planning.multiyear.bound.certified_bound` gives
    for them without searching its price families (a few sparse products, where the
    families cost a dozen sparse solves).  ``None`` where the completion fails (the
    caller then runs the full search)."""
    t_start = time.perf_counter()
    parts = _Parts(m, t0, T, K0)
    q = repair_prices(parts, p)
    value, r, kappa, ok, mag = _from_prices(parts, q)
    if not ok:
        return None
    bound = value - ROUNDING * mag
    return certified_result(parts, w, q, r, kappa, bound, name, t_start, {name: value})
